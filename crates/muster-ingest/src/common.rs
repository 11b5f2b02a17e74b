//! Plumbing shared by the readers of native (non-OTLP) formats: counting, quarantine, raw
//! pointers and the small JSON helpers every vendor mapping needs.
//!
//! Each reader decides what a *record* is (a span, a run, a ticket, an audit, a log line) and
//! hands it to [`Out`] as either the events it gave or the reason it could not be read, so the
//! `records == records_mapped + records_quarantined` accounting lives in one place.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::event::{
    Actor, ActorRole, Correlation, Document, EventKind, EvidenceEvent, KeyOrigin, RawPointer,
    Source, TimeBasis,
};
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, Quarantined, ReadStats};
use crate::time;

/// One input body being read: where it came from and which format it is read as.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Doc<'a> {
    pub origin: &'a str,
    /// The system the records come from (`openai-agents`, `langsmith`, `zendesk`…).
    pub system: &'static str,
    /// The wire format (`openai-agents-traces-ingest`, `zendesk-ticket-audits`…).
    pub format: &'static str,
    pub at: BodyLocation,
}

impl Doc<'_> {
    pub(crate) fn pointer(&self, record: &str, part: u32) -> RawPointer {
        RawPointer {
            origin: self.origin.to_owned(),
            offset: self.at.offset,
            line: self.at.line,
            record: (!record.is_empty()).then(|| record.to_owned()),
            part,
        }
    }

    pub(crate) fn source(&self, service: Option<String>) -> Source {
        Source {
            system: self.system.to_owned(),
            format: self.format.to_owned(),
            conventions: Vec::new(),
            service,
            scope: None,
        }
    }
}

/// A reader's output so far, with its counts.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub items: Vec<Item>,
    pub stats: ReadStats,
}

impl Out {
    /// A body nothing could be read from.
    pub(crate) fn body_failed(&mut self, doc: &Doc<'_>, reason: String, raw: &[u8]) {
        self.stats.bodies_quarantined += 1;
        self.stats.quarantined += 1;
        self.items.push(Item::Quarantined(Box::new(Quarantined {
            source_format: doc.format.to_owned(),
            pointer: doc.pointer("", 0),
            reason,
            raw_excerpt: Quarantined::text_excerpt(raw),
        })));
    }

    /// A record that could not be read; `raw` is the record's JSON (or text) for the excerpt.
    pub(crate) fn record_failed(&mut self, doc: &Doc<'_>, record: &str, reason: String, raw: &str) {
        self.stats.records += 1;
        self.stats.records_quarantined += 1;
        self.stats.quarantined += 1;
        self.items.push(Item::Quarantined(Box::new(Quarantined {
            source_format: doc.format.to_owned(),
            pointer: doc.pointer(record, 0),
            reason,
            raw_excerpt: Quarantined::text_excerpt(raw.as_bytes()),
        })));
    }

    pub(crate) fn record_mapped(&mut self, events: Vec<EvidenceEvent>) {
        self.stats.records += 1;
        self.stats.records_mapped += 1;
        self.stats.events += events.len() as u64;
        self.items
            .extend(events.into_iter().map(|e| Item::Event(Box::new(e))));
    }

    /// Either outcome of mapping one record.
    pub(crate) fn record(
        &mut self,
        doc: &Doc<'_>,
        record: &str,
        raw: &Value,
        result: Result<Vec<EvidenceEvent>, String>,
    ) {
        match result {
            Ok(events) => self.record_mapped(events),
            Err(reason) => self.record_failed(doc, record, reason, &excerpt_of(raw)),
        }
    }

    pub(crate) fn finish(self) -> (Vec<Item>, ReadStats) {
        (self.items, self.stats)
    }
}

/// The start of a JSON value as text, bounded so a huge bad record makes a small quarantine.
pub(crate) fn excerpt_of(raw: &Value) -> String {
    let text = raw.to_string();
    let mut cut = text.len().min(crate::EXCERPT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

/// One event of a record before the record's shared parts are added.
pub(crate) struct Ev {
    pub time_ns: i64,
    pub end_time_ns: Option<i64>,
    pub basis: TimeBasis,
    pub kind: EventKind,
    pub actor: Option<Actor>,
    pub content: Option<String>,
    pub attributes: BTreeMap<String, Value>,
    pub tool_call_id: Option<String>,
}

impl Ev {
    pub(crate) fn new(time_ns: i64, kind: EventKind) -> Self {
        Self {
            time_ns,
            end_time_ns: None,
            basis: TimeBasis::Occurred,
            kind,
            actor: None,
            content: None,
            attributes: BTreeMap::new(),
            tool_call_id: None,
        }
    }

    pub(crate) fn ending(mut self, end: Option<i64>) -> Self {
        self.end_time_ns = end;
        self
    }

    pub(crate) fn observed_basis(mut self) -> Self {
        self.basis = TimeBasis::Observed;
        self
    }

    pub(crate) fn by(mut self, role: ActorRole, id: Option<String>) -> Self {
        self.actor = Some(Actor { role, id });
        self
    }

    pub(crate) fn content(mut self, content: Option<String>) -> Self {
        self.content = content.filter(|c| !c.is_empty());
        self
    }

    pub(crate) fn attr(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            self.attributes.insert(key.to_owned(), v);
        }
        self
    }

    pub(crate) fn attributes(mut self, attributes: BTreeMap<String, Value>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    pub(crate) fn call_id(mut self, id: Option<String>) -> Self {
        self.tool_call_id = id;
        self
    }
}

/// Collects one record's events, numbering their `part`s so re-reading gives the same pointers.
pub(crate) struct Rec<'a> {
    doc: &'a Doc<'a>,
    record: String,
    source: Source,
    pub corr: Correlation,
    observed: i64,
    events: Vec<EvidenceEvent>,
}

impl<'a> Rec<'a> {
    pub(crate) fn new(
        doc: &'a Doc<'a>,
        record: String,
        source: Source,
        corr: Correlation,
        observed: i64,
    ) -> Self {
        Self {
            doc,
            record,
            source,
            corr,
            observed,
            events: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, ev: Ev) {
        let part = u32::try_from(self.events.len()).unwrap_or(u32::MAX);
        let mut correlation = self.corr.clone();
        if ev.tool_call_id.is_some() {
            correlation.tool_call_id = ev.tool_call_id;
        }
        self.events.push(EvidenceEvent {
            time_ns: ev.time_ns,
            end_time_ns: ev.end_time_ns,
            observed_ns: self.observed,
            time_basis: ev.basis,
            source: self.source.clone(),
            kind: ev.kind,
            correlation,
            actor: ev.actor,
            content: ev.content,
            attributes: ev.attributes,
            raw: self.doc.pointer(&self.record, part),
        });
    }

    pub(crate) fn finish(self) -> Vec<EvidenceEvent> {
        self.events
    }
}

/// A JSON scalar as text (numbers and booleans too); `None` for null, arrays, objects and "".
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn str_at<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A required timestamp: any encoding `time::parse_json` knows, with the field named on error.
pub(crate) fn time_at(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => time::parse_json(v)
            .map(Some)
            .map_err(|e| format!("`{key}`: {e}")),
    }
}

/// A timestamp in epoch seconds (Intercom, Zendesk `timestamp`): declared, never guessed, so
/// an early date is not read as milliseconds.
pub(crate) fn epoch_seconds_at(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => time::from_epoch_str(s, time::EpochUnit::Seconds)
            .map(Some)
            .map_err(|e| format!("`{key}`: {e}")),
        Some(Value::Number(n)) => {
            let r = match n.as_i64() {
                Some(i) => time::from_epoch_int(i128::from(i), time::EpochUnit::Seconds),
                // Through the shortest decimal text: exact for the digits the sender wrote.
                None => {
                    time::from_epoch_str(&n.to_string(), time::EpochUnit::Seconds).or_else(|_| {
                        time::from_epoch_f64(
                            n.as_f64().unwrap_or(f64::NAN),
                            time::EpochUnit::Seconds,
                        )
                    })
                }
            };
            r.map(Some).map_err(|e| format!("`{key}`: {e}"))
        }
        Some(other) => Err(format!(
            "`{key}`: a timestamp must be a number or a string, not {other}"
        )),
    }
}

pub(crate) fn attr_key(key: &str) -> Option<KeyOrigin> {
    Some(KeyOrigin::Attribute {
        key: key.to_owned(),
    })
}

/// The object's fields other than `skip`, for `attributes` (nothing the source said is lost).
pub(crate) fn rest(obj: &Map<String, Value>, skip: &[&str]) -> BTreeMap<String, Value> {
    obj.iter()
        .filter(|(k, v)| !skip.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A JSON-encoded string (tool arguments, results) as the value it encodes; other text stays
/// text.
pub(crate) fn maybe_json(v: &Value) -> Value {
    if let Value::String(s) = v {
        let t = s.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && let Ok(parsed) = serde_json::from_str::<Value>(s)
        {
            return parsed;
        }
    }
    v.clone()
}

/// Parse a JSON body, allowing a UTF-8 byte-order mark (some Windows tools write one).
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, String> {
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))
}

/// Add one body's counts to a reader's running counts.
pub(crate) fn merge(into: &mut ReadStats, body: ReadStats) {
    into.bodies += body.bodies;
    into.bodies_quarantined += body.bodies_quarantined;
    into.records += body.records;
    into.records_mapped += body.records_mapped;
    into.records_quarantined += body.records_quarantined;
    into.events += body.events;
    into.quarantined += body.quarantined;
}

/// A map that forgets its oldest entries past `cap`, for keys carried across bodies (a trace's
/// conversation id) without growing with the input.
#[derive(Debug)]
pub(crate) struct Bounded<V> {
    map: std::collections::HashMap<String, V>,
    order: std::collections::VecDeque<String>,
    cap: usize,
}

impl<V> Bounded<V> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            map: std::collections::HashMap::new(),
            order: std::collections::VecDeque::new(),
            cap,
        }
    }

    pub(crate) fn insert(&mut self, key: String, value: V) {
        if self.cap == 0 {
            return;
        }
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }
}

/// The counts added between two snapshots of a reader's running counts.
pub(crate) fn since(now: ReadStats, before: ReadStats) -> ReadStats {
    ReadStats {
        bodies: now.bodies - before.bodies,
        bodies_quarantined: now.bodies_quarantined - before.bodies_quarantined,
        records: now.records - before.records,
        records_mapped: now.records_mapped - before.records_mapped,
        records_quarantined: now.records_quarantined - before.records_quarantined,
        events: now.events - before.events,
        quarantined: now.quarantined - before.quarantined,
    }
}

/// A retrieved document as tracing tools record it: LangChain's `Document`
/// (`{page_content, metadata}`) or a plain object (`{id, content|text, score, version}`), with
/// the id, version and score also looked for in `metadata`.
pub(crate) fn document(v: &Value) -> Option<Document> {
    let o = v.as_object()?;
    let meta = o.get("metadata").and_then(Value::as_object);
    let from_meta = |k: &str| meta.and_then(|m| text(m.get(k)));
    Some(Document {
        id: text(o.get("id"))
            .or_else(|| from_meta("id"))
            .or_else(|| from_meta("source")),
        version: text(o.get("version")).or_else(|| from_meta("version")),
        score: o
            .get("score")
            .or_else(|| meta.and_then(|m| m.get("score")))
            .and_then(Value::as_f64),
        content: text(o.get("page_content"))
            .or_else(|| text(o.get("content")))
            .or_else(|| text(o.get("text"))),
        metadata: o.get("metadata").cloned(),
    })
}
