//! OpenTelemetry OTLP traces and logs, JSON and protobuf, to evidence events.
//!
//! * [`OtlpReader::read_body`] reads one export request body (an HTTP request, a file).
//! * [`JsonLinesReader`] reads a JSON Lines file of bodies (the collector's file exporter) one
//!   line at a time, so memory stays bounded by the largest line whatever the file's size.
//!
//! Conversation and customer keys propagate down the span tree within a body. Across bodies a
//! bounded memory of spans already seen lets a later child (or a log record of a seen span)
//! inherit; a child that arrives *before* its ancestor (the usual order with one export per span)
//! does not, and the correlation step joins it by trace id. See `docs/evidence-model.md`.

mod convention;
mod json;
mod keys;
mod map;
mod messages;
mod model;
mod proto;

use std::collections::VecDeque;
use std::io::BufRead;

use serde_json::Value;

use crate::quarantine::{Item, Quarantined, ReadStats};
use keys::Carry;
use map::Ctx;

fn ctx<'a>(origin: &'a str, format: &'static str, at: BodyLocation) -> Ctx<'a> {
    Ctx {
        origin,
        format,
        offset: at.offset,
        line: at.line,
    }
}

/// How a body is encoded and which signal it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// OTLP/JSON; traces or logs told apart by `resourceSpans` / `resourceLogs`.
    Json,
    JsonTraces,
    JsonLogs,
    ProtobufTraces,
    ProtobufLogs,
}

/// Where a body sits in its input, for the events' raw pointers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyLocation {
    /// Byte offset of the body in the input.
    pub offset: Option<u64>,
    /// 1-based line, for line-oriented inputs.
    pub line: Option<u64>,
}

/// How many spans' keys are remembered across bodies (about 200 bytes each).
pub const DEFAULT_CARRY_SPANS: usize = 100_000;

/// Reads OTLP request bodies into evidence events. Keep one per input stream so conversation
/// keys carry from body to body.
pub struct OtlpReader {
    origin: String,
    carry: Carry,
    stats: ReadStats,
}

impl OtlpReader {
    /// `origin` names the input in every raw pointer (a path, a request id).
    pub fn new(origin: impl Into<String>) -> Self {
        Self::with_carry(origin, DEFAULT_CARRY_SPANS)
    }

    /// As [`OtlpReader::new`], remembering at most `spans` spans across bodies (0: none).
    pub fn with_carry(origin: impl Into<String>, spans: usize) -> Self {
        Self {
            origin: origin.into(),
            carry: Carry::new(spans),
            stats: ReadStats::default(),
        }
    }

    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Name the input the next bodies come from (a receiver names each request by its body's
    /// digest), keeping the conversation keys carried so far.
    pub fn set_origin(&mut self, origin: impl Into<String>) {
        self.origin = origin.into();
    }

    /// Read one body. Every span and log record in it comes back as events or as a quarantined
    /// item, in body order; a body that cannot be read at all comes back as one quarantined item.
    pub fn read_body(&mut self, body: &[u8], format: BodyFormat, at: BodyLocation) -> Vec<Item> {
        self.stats.bodies += 1;
        let before = self.stats.quarantined;
        let items = self.read_body_inner(body, format, at);
        if self.stats.quarantined > before && items.iter().all(|i| i.event().is_none()) {
            self.stats.bodies_quarantined += 1;
        }
        items
    }

    fn read_body_inner(&mut self, body: &[u8], format: BodyFormat, at: BodyLocation) -> Vec<Item> {
        match format {
            BodyFormat::ProtobufTraces => {
                let ctx = ctx(&self.origin, "otlp-protobuf-traces", at);
                let decoded = proto::decode_traces(body);
                map::map_traces(decoded, &ctx, &mut self.carry, &mut self.stats)
            }
            BodyFormat::ProtobufLogs => {
                let ctx = ctx(&self.origin, "otlp-protobuf-logs", at);
                let decoded = proto::decode_logs(body);
                map::map_logs(decoded, &ctx, &mut self.carry, &mut self.stats)
            }
            BodyFormat::Json | BodyFormat::JsonTraces | BodyFormat::JsonLogs => {
                let label = match format {
                    BodyFormat::JsonTraces => "otlp-json-traces",
                    BodyFormat::JsonLogs => "otlp-json-logs",
                    _ => "otlp-json",
                };
                // Files saved by some Windows tools start with a byte-order mark JSON forbids.
                let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
                let value: Value = match serde_json::from_slice(text) {
                    Ok(v) => v,
                    Err(e) => {
                        let reason = format!("not JSON: {e}");
                        return vec![self.body_quarantine(label, at, reason, body)];
                    }
                };
                let Value::Object(obj) = value else {
                    let reason =
                        "not an OTLP export request: the body is not a JSON object".to_owned();
                    return vec![self.body_quarantine(label, at, reason, body)];
                };
                let traces =
                    obj.contains_key("resourceSpans") || obj.contains_key("resource_spans");
                let logs = obj.contains_key("resourceLogs") || obj.contains_key("resource_logs");
                let as_traces = match format {
                    BodyFormat::JsonTraces => true,
                    BodyFormat::JsonLogs => false,
                    _ if traces => true,
                    _ if logs => false,
                    // `{}` is a valid, empty export request.
                    _ if obj.is_empty() => return Vec::new(),
                    _ => {
                        let reason = "not an OTLP export request: no resourceSpans or resourceLogs"
                            .to_owned();
                        return vec![self.body_quarantine(label, at, reason, body)];
                    }
                };
                if as_traces {
                    let ctx = ctx(&self.origin, "otlp-json-traces", at);
                    let decoded = json::decode_traces(&obj);
                    map::map_traces(decoded, &ctx, &mut self.carry, &mut self.stats)
                } else {
                    let ctx = ctx(&self.origin, "otlp-json-logs", at);
                    let decoded = json::decode_logs(&obj);
                    map::map_logs(decoded, &ctx, &mut self.carry, &mut self.stats)
                }
            }
        }
    }

    fn body_quarantine(
        &mut self,
        format: &'static str,
        at: BodyLocation,
        reason: String,
        body: &[u8],
    ) -> Item {
        self.stats.quarantined += 1;
        let ctx = ctx(&self.origin, format, at);
        ctx.quarantine("", reason, Quarantined::text_excerpt(body))
    }
}

/// The default longest line a [`JsonLinesReader`] holds (64 MiB, above the OTLP exporters'
/// default request sizes); a longer line is quarantined without being held in memory.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {origin}: {source}")]
    Io {
        origin: String,
        source: std::io::Error,
    },
}

/// A JSON Lines file of OTLP/JSON export requests, one per line, read one line at a time.
/// Blank lines are skipped. Yields [`Item`]s; call [`JsonLinesReader::finish`] at the end for
/// the counts and any read error (which ends the iteration).
pub struct JsonLinesReader<R> {
    lines: crate::lines::Lines<R>,
    reader: OtlpReader,
    pending: VecDeque<Item>,
    error: Option<std::io::Error>,
    done: bool,
}

impl<R: BufRead> JsonLinesReader<R> {
    pub fn new(input: R, origin: impl Into<String>) -> Self {
        Self {
            lines: crate::lines::Lines::new(input),
            reader: OtlpReader::new(origin),
            pending: VecDeque::new(),
            error: None,
            done: false,
        }
    }

    /// The input starts `offset` bytes and `lines` lines into the file (the caller has already
    /// skipped them), so raw pointers keep the offsets and line numbers of a read from the start:
    /// how an interrupted ingest resumes. Keys of spans in the skipped part are not carried.
    pub fn resume_at(mut self, offset: u64, lines: u64) -> Self {
        self.lines.resume_at(offset, lines);
        self
    }

    /// Lines longer than `bytes` are quarantined unread.
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.lines.set_max_line(bytes);
        self
    }

    pub fn stats(&self) -> ReadStats {
        self.reader.stats()
    }

    /// The counts, or the read error that stopped the input early.
    pub fn finish(self) -> Result<ReadStats, ReadError> {
        match self.error {
            Some(source) => Err(ReadError::Io {
                origin: self.reader.origin,
                source,
            }),
            None => Ok(self.reader.stats),
        }
    }
}

impl<R: BufRead> Iterator for JsonLinesReader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let max_line = self.lines.max_line();
            match self.lines.next_line() {
                Ok(None) => self.done = true,
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                }
                Ok(Some(crate::lines::Line::TooLong { len, head, at })) => {
                    self.reader.stats.bodies += 1;
                    self.reader.stats.bodies_quarantined += 1;
                    let reason = format!("line of {len} bytes exceeds the {max_line} byte limit");
                    let item = self.reader.body_quarantine("otlp-json", at, reason, head);
                    self.pending.push_back(item);
                }
                Ok(Some(crate::lines::Line::Body(text, at))) => {
                    let items = self.reader.read_body(text, BodyFormat::Json, at);
                    self.pending.extend(items);
                }
            }
        }
    }
}

/// Read one body with a fresh reader: for a single request or file.
pub fn read_body(origin: &str, body: &[u8], format: BodyFormat) -> (Vec<Item>, ReadStats) {
    let mut reader = OtlpReader::new(origin);
    let items = reader.read_body(body, format, BodyLocation::default());
    (items, reader.stats())
}
