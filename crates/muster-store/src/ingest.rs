//! Ingested evidence: the backend-independent types of the ingest side of the store.

use muster_evidence::{Digest, VerifyReport};
use muster_ingest::{EvidenceEvent, Quarantined};

/// The drill id ingested sources are chained under (each source is one stream of it).
pub const EVIDENCE_CHAIN: &str = "evidence";

/// One batch for [`crate::EvidenceStore::ingest_batch`]: events and quarantined records read from
/// one input of one source, and how far into the input the batch reaches.
#[derive(Clone, Debug, Default)]
pub struct IngestBatch {
    /// The source's name: its chain, and the scope of idempotence.
    pub source: String,
    /// The input's name (a canonical path, a request id).
    pub input: String,
    pub events: Vec<EvidenceEvent>,
    pub quarantined: Vec<Quarantined>,
    /// Every body of the input that starts before this byte offset is in this batch or an earlier
    /// one: where an interrupted ingest can resume.
    pub offset_reached: Option<u64>,
    /// The input has been read to its end.
    pub complete: bool,
    /// For an API pull: where the next pull starts (the vendor's cursor or a watermark),
    /// committed with this batch.
    pub cursor: Option<String>,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReceipt {
    /// Events newly stored.
    pub stored: u64,
    /// Events already in the store (same source, raw pointer and content digest): not stored again.
    pub duplicates: u64,
    /// Quarantined records newly stored.
    pub quarantined: u64,
    /// The source's chain after the batch.
    pub chain_length: u64,
    pub head: Option<Digest>,
}

/// How far an input of a source has been ingested.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestProgress {
    pub offset_reached: Option<u64>,
    pub complete: bool,
    /// The cursor of the last batch that carried one (API pulls).
    pub cursor: Option<String>,
}

/// Which events a timeline collects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimelineKey {
    /// A conversation's events, and those of the traces they belong to (a child span exported
    /// before its root has no conversation id of its own).
    Conversation(String),
    /// A customer's events, and those of every conversation they appear in.
    Customer(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineQuery {
    pub key: TimelineKey,
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    /// At most this many events (the earliest).
    pub limit: Option<u64>,
}

/// Correlation keys: events carrying any of them are wanted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeySet {
    pub conversations: std::collections::BTreeSet<String>,
    pub customers: std::collections::BTreeSet<String>,
    pub traces: std::collections::BTreeSet<String>,
    pub tickets: std::collections::BTreeSet<String>,
    pub cases: std::collections::BTreeSet<String>,
}

impl KeySet {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.customers.is_empty()
            && self.traces.is_empty()
            && self.tickets.is_empty()
            && self.cases.is_empty()
    }

    pub fn len(&self) -> usize {
        self.conversations.len()
            + self.customers.len()
            + self.traces.len()
            + self.tickets.len()
            + self.cases.len()
    }

    /// Keys in `self` that `other` lacks.
    pub fn minus(&self, other: &KeySet) -> KeySet {
        let diff = |a: &std::collections::BTreeSet<String>,
                    b: &std::collections::BTreeSet<String>| {
            a.difference(b).cloned().collect()
        };
        KeySet {
            conversations: diff(&self.conversations, &other.conversations),
            customers: diff(&self.customers, &other.customers),
            traces: diff(&self.traces, &other.traces),
            tickets: diff(&self.tickets, &other.tickets),
            cases: diff(&self.cases, &other.cases),
        }
    }

    pub fn extend(&mut self, other: &KeySet) {
        self.conversations
            .extend(other.conversations.iter().cloned());
        self.customers.extend(other.customers.iter().cloned());
        self.traces.extend(other.traces.iter().cloned());
        self.tickets.extend(other.tickets.iter().cloned());
        self.cases.extend(other.cases.iter().cloned());
    }
}

/// What one ingested source holds of one kind of event: how the evidence-chain audit measures
/// presence, timestamps, retention and searchability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindProfile {
    pub source: String,
    /// The kind's dotted name, e.g. `tool.call`.
    pub kind: String,
    pub events: u64,
    pub oldest_ns: i64,
    pub newest_ns: i64,
    /// Events with their own event time (not only the time the source recorded them).
    pub own_time: u64,
    /// Events with content (what full-text search indexes).
    pub with_content: u64,
    /// The content of the newest event that has some, to probe the index with.
    pub sample: Option<String>,
}

/// A time range, both ends inclusive and optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
}

/// Filters for full-text search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchFilters {
    /// A kind name, e.g. `agent.message`.
    pub kind: Option<String>,
    pub source: Option<String>,
    pub conversation: Option<String>,
    pub limit: Option<u64>,
}

/// An ingested event as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvidence {
    pub source: String,
    pub seq: u64,
    pub event: EvidenceEvent,
    pub digest: Digest,
}

/// A quarantined record as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredQuarantine {
    pub source: String,
    pub record: Quarantined,
    pub recorded_ns: i64,
}

/// One row of the access audit: who read evidence unredacted, when, what and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRecord {
    pub at_ns: i64,
    pub who: String,
    /// The command, e.g. `reconstruct`.
    pub command: String,
    /// What was read (the query), as the command describes it.
    pub what: String,
    pub why: String,
}

/// A source's size and chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRecord {
    pub name: String,
    pub events: u64,
    pub head: Digest,
    pub quarantined: u64,
}

/// A source's chain, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceVerify {
    pub source: String,
    pub report: VerifyReport,
}
