//! What a reader yields: an event, or a record it could not read, kept with the reason.

use serde::{Deserialize, Serialize};

use crate::event::{EvidenceEvent, RawPointer};

/// How much of a bad record is kept for a person to look at. Enough to recognise it, small
/// enough that a quarantine of a huge malformed body stays small.
pub const EXCERPT_BYTES: usize = 512;

/// A record that could not be read. Nothing a reader is given disappears: it becomes events or
/// one of these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{source_format}: {reason} (at {})", describe(pointer))]
pub struct Quarantined {
    /// The format the reader expected, e.g. `otlp-json-traces`.
    pub source_format: String,
    pub pointer: RawPointer,
    pub reason: String,
    /// The start of the record as text (lossy UTF-8) or, for binary input, as hex.
    pub raw_excerpt: String,
}

fn describe(p: &RawPointer) -> String {
    let mut s = p.origin.clone();
    if let Some(line) = p.line {
        s.push_str(&format!(":{line}"));
    } else if let Some(offset) = p.offset {
        s.push_str(&format!("@{offset}"));
    }
    if let Some(record) = &p.record {
        s.push_str(&format!(" {record}"));
    }
    s
}

impl Quarantined {
    pub(crate) fn text_excerpt(raw: &[u8]) -> String {
        let cut = &raw[..raw.len().min(EXCERPT_BYTES)];
        String::from_utf8_lossy(cut).into_owned()
    }

    pub(crate) fn binary_excerpt(raw: &[u8]) -> String {
        let cut = &raw[..raw.len().min(EXCERPT_BYTES / 2)];
        let mut s = String::with_capacity(cut.len() * 2);
        for b in cut {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// One item of a reader's output.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Event(Box<EvidenceEvent>),
    Quarantined(Box<Quarantined>),
}

impl Item {
    pub fn event(&self) -> Option<&EvidenceEvent> {
        match self {
            Item::Event(e) => Some(e),
            Item::Quarantined(_) => None,
        }
    }

    pub fn quarantined(&self) -> Option<&Quarantined> {
        match self {
            Item::Event(_) => None,
            Item::Quarantined(q) => Some(q),
        }
    }

    pub fn into_result(self) -> Result<EvidenceEvent, Box<Quarantined>> {
        match self {
            Item::Event(e) => Ok(*e),
            Item::Quarantined(q) => Err(q),
        }
    }
}

/// What a reader has seen so far. `records == records_mapped + records_quarantined` once a body
/// has been read: every record is accounted for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadStats {
    /// Request bodies (lines of a JSON Lines file, files, HTTP requests) read.
    pub bodies: u64,
    /// Bodies from which nothing could be read: every item they gave is quarantined. (A body
    /// read in part, such as a truncated protobuf body, shows in `quarantined` instead.)
    pub bodies_quarantined: u64,
    /// Spans and log records found.
    pub records: u64,
    pub records_mapped: u64,
    pub records_quarantined: u64,
    /// Events produced (a record can give several).
    pub events: u64,
    /// Quarantined items produced (bodies and records).
    pub quarantined: u64,
}
