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

/// One line of a line-oriented input.
pub(crate) enum Line<'a> {
    /// A line with content (blank lines are skipped), trimmed of ASCII whitespace.
    Body(&'a [u8], BodyLocation),
    /// A line over the limit: its length and the first `max_line` bytes, which were all that
    /// was held.
    TooLong {
        len: usize,
        head: &'a [u8],
        at: BodyLocation,
    },
}

/// Splits an input into lines, holding at most `max_line` bytes of one, and keeps each line's
/// byte offset and 1-based number: the loop every JSON Lines reader shares.
pub(crate) struct Lines<R> {
    input: R,
    line: Vec<u8>,
    line_no: u64,
    offset: u64,
    max_line: usize,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(input: R) -> Self {
        Self {
            input,
            line: Vec::new(),
            line_no: 0,
            offset: 0,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    pub(crate) fn set_max_line(&mut self, bytes: usize) {
        self.max_line = bytes;
    }

    pub(crate) fn max_line(&self) -> usize {
        self.max_line
    }

    /// The input starts `offset` bytes and `lines` lines into the file.
    pub(crate) fn resume_at(&mut self, offset: u64, lines: u64) {
        self.offset = offset;
        self.line_no = lines;
    }

    /// The next non-blank line, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        loop {
            let start = self.offset;
            let Some(len) = self.read_line()? else {
                return Ok(None);
            };
            self.line_no += 1;
            self.offset += len as u64;
            let at = BodyLocation {
                offset: Some(start),
                line: Some(self.line_no),
            };
            if len > self.max_line {
                return Ok(Some(Line::TooLong {
                    len,
                    head: &self.line,
                    at,
                }));
            }
            if self.line.trim_ascii().is_empty() {
                continue;
            }
            return Ok(Some(Line::Body(self.line.trim_ascii(), at)));
        }
    }

    /// Read the next line into `self.line`, keeping at most `max_line` bytes of it. Returns the
    /// line's full length, or `None` at the end of the input.
    fn read_line(&mut self) -> std::io::Result<Option<usize>> {
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
                // The newline counts towards the next line's offset, not this line's length.
                self.offset += 1;
                return Ok(Some(total));
            }
        }
    }
}

/// Yields the items of every line of `input`, read by `read` one line at a time. Blank lines
/// are skipped; a line over the limit is quarantined without being held.
pub struct LineReader<R> {
    lines: Lines<R>,
    origin: String,
    format: &'static str,
    read: BodyFn,
    pending: VecDeque<Item>,
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
            lines: Lines::new(input),
            origin: origin.into(),
            format,
            read: Box::new(read),
            pending: VecDeque::new(),
            stats: ReadStats::default(),
            error: None,
            done: false,
        }
    }

    pub fn max_line(mut self, bytes: usize) -> Self {
        self.lines.set_max_line(bytes);
        self
    }

    /// The input starts `offset` bytes and `lines` lines into the file (the caller has already
    /// skipped them), so raw pointers keep the places of a read from the start: how an
    /// interrupted ingest resumes. State carried from line to line (a CSV header, trace keys)
    /// is not rebuilt from the skipped part.
    pub fn resume_at(mut self, offset: u64, lines: u64) -> Self {
        self.lines.resume_at(offset, lines);
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
            let max_line = self.lines.max_line();
            let (items, stats) = match self.lines.next_line() {
                Ok(None) => {
                    self.done = true;
                    continue;
                }
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                    continue;
                }
                Ok(Some(Line::TooLong { len, head, at })) => {
                    let doc = Doc {
                        origin: &self.origin,
                        system: "",
                        format: self.format,
                        at,
                    };
                    let mut out = Out::default();
                    out.stats.bodies = 1;
                    let reason = format!("line of {len} bytes exceeds the {max_line} byte limit");
                    out.body_failed(&doc, reason, head);
                    out.finish()
                }
                Ok(Some(Line::Body(text, at))) => (self.read)(&self.origin, text, at),
            };
            merge(&mut self.stats, stats);
            self.pending.extend(items);
        }
    }
}
