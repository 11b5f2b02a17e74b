//! Line-at-a-time reading for the native readers whose files hold one body (or record) per line:
//! model request/response logs, Splunk HEC, Datadog log exports, Agents SDK and LangSmith dumps.
//! Memory is bounded by the longest line, whatever the file's size.

use std::collections::VecDeque;
use std::io::BufRead;

use crate::common::{Doc, Out, merge};
use crate::otlp::{BodyLocation, DEFAULT_MAX_LINE, ReadError};
use crate::quarantine::{Item, ReadStats};

/// Reads one body: the origin, the body's bytes and where it sits. May keep state from line to
/// line (a CSV header).
pub type BodyFn = Box<dyn FnMut(&str, &[u8], BodyLocation) -> (Vec<Item>, ReadStats) + Send>;

/// Yields the items of every line of `input`, read by `read` one line at a time. Blank lines
/// are skipped; a line over the limit is quarantined without being held.
pub struct LineReader<R> {
    input: R,
    origin: String,
    format: &'static str,
    read: BodyFn,
    pending: VecDeque<Item>,
    line: Vec<u8>,
    line_no: u64,
    offset: u64,
    max_line: usize,
    stats: ReadStats,
    error: Option<std::io::Error>,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(
        input: R,
        origin: impl Into<String>,
        format: &'static str,
        read: impl FnMut(&str, &[u8], BodyLocation) -> (Vec<Item>, ReadStats) + Send + 'static,
    ) -> Self {
        Self {
            input,
            origin: origin.into(),
            format,
            read: Box::new(read),
            pending: VecDeque::new(),
            line: Vec::new(),
            line_no: 0,
            offset: 0,
            max_line: DEFAULT_MAX_LINE,
            stats: ReadStats::default(),
            error: None,
            done: false,
        }
    }

    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// The input starts `offset` bytes and `lines` lines into the file (the caller has already
    /// skipped them), so raw pointers keep the places of a read from the start: how an
    /// interrupted ingest resumes. State carried from line to line (a CSV header, trace keys)
    /// is not rebuilt from the skipped part.
    pub fn resume_at(mut self, offset: u64, lines: u64) -> Self {
        self.offset = offset;
        self.line_no = lines;
        self
    }

    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// The counts, or the read error that stopped the input early.
    pub fn finish(self) -> Result<ReadStats, ReadError> {
        match self.error {
            Some(source) => Err(ReadError::Io {
                origin: self.origin,
                source,
            }),
            None => Ok(self.stats),
        }
    }

    fn next_line(&mut self) -> std::io::Result<Option<usize>> {
        self.line.clear();
        let mut total = 0usize;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok((total > 0).then_some(total));
            }
            let (chunk, found) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            let room = self.max_line.saturating_sub(self.line.len());
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            total += chunk.len();
            let used = found.unwrap_or(buf.len());
            self.input.consume(used);
            if found.is_some() {
                self.offset += 1;
                return Ok(Some(total));
            }
        }
    }
}

/// Points the items of a reader that reads whole bodies at the line they came from, so a body
/// read from a line of a JSON Lines file is found again (and recognised on re-ingest) by its line.
pub fn at_line(items: Vec<Item>, at: BodyLocation) -> Vec<Item> {
    items
        .into_iter()
        .map(|item| match item {
            Item::Event(mut e) => {
                e.raw.line = at.line;
                e.raw.offset = at.offset;
                Item::Event(e)
            }
            Item::Quarantined(mut q) => {
                q.pointer.line = at.line;
                q.pointer.offset = at.offset;
                Item::Quarantined(q)
            }
        })
        .collect()
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let start = self.offset;
            let len = match self.next_line() {
                Ok(Some(len)) => len,
                Ok(None) => {
                    self.done = true;
                    continue;
                }
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                    continue;
                }
            };
            self.line_no += 1;
            self.offset += len as u64;
            let at = BodyLocation {
                offset: Some(start),
                line: Some(self.line_no),
            };
            if len > self.max_line {
                let doc = Doc {
                    origin: &self.origin,
                    system: "",
                    format: self.format,
                    at,
                };
                let mut out = Out::default();
                out.stats.bodies = 1;
                let reason = format!(
                    "line of {len} bytes exceeds the {} byte limit",
                    self.max_line
                );
                out.body_failed(&doc, reason, &self.line);
                let (items, stats) = out.finish();
                merge(&mut self.stats, stats);
                self.pending.extend(items);
                continue;
            }
            let text = self.line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let (items, stats) = (self.read)(&self.origin, text, at);
            merge(&mut self.stats, stats);
            self.pending.extend(items);
        }
    }
}
