//! From decoded OTLP spans and log records to evidence events.
//!
//! One record gives one *primary* event (what the span or log record is: a model call, a tool
//! execution, a retrieval, an agent run, a log line), then the events its captured content holds
//! (the prompt, the customer's new messages, tool results handed back, the reply, the tool calls
//! requested). What a record is, by convention, is decided in `convention.rs`; this module does
//! the plumbing: times, keys, pointers, counts, quarantine.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::convention::{
    EVALUATION_RESULT, LEGACY_EVENTS, OPERATION_DETAILS, View, conventions, evaluation, first_str,
    is_message_event, kept_attributes, legacy_event, map_operation,
};
use super::keys::{self, Carry, string_attr};
use super::model::{Decoded, LogRec, ResourceInfo, ScopeInfo, SpanRec, attrs_to_map};
use crate::event::{
    Actor, ActorRole, Correlation, EventKind, EvidenceEvent, RawPointer, Scope, Source, TimeBasis,
};
use crate::quarantine::{Item, Quarantined, ReadStats};

/// Where the body being mapped came from.
pub(crate) struct Ctx<'a> {
    pub origin: &'a str,
    pub format: &'static str,
    pub offset: Option<u64>,
    pub line: Option<u64>,
}

impl Ctx<'_> {
    fn pointer(&self, record: &str, part: u32) -> RawPointer {
        RawPointer {
            origin: self.origin.to_owned(),
            offset: self.offset,
            line: self.line,
            record: (!record.is_empty()).then(|| record.to_owned()),
            part,
        }
    }

    pub(crate) fn quarantine(&self, record: &str, reason: String, excerpt: String) -> Item {
        Item::Quarantined(Box::new(Quarantined {
            source_format: self.format.to_owned(),
            pointer: self.pointer(record, 0),
            reason,
            raw_excerpt: excerpt,
        }))
    }
}

/// One event of a record, before the record's shared parts (source, keys, pointer) are added.
pub(crate) struct Ev {
    time_ns: i64,
    end_time_ns: Option<i64>,
    kind: EventKind,
    actor: Option<Actor>,
    content: Option<String>,
    attributes: BTreeMap<String, Value>,
    tool_call_id: Option<String>,
}

impl Ev {
    pub(crate) fn new(time_ns: i64, kind: EventKind) -> Self {
        Self {
            time_ns,
            end_time_ns: None,
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

    pub(crate) fn by(mut self, role: ActorRole, id: Option<String>) -> Self {
        self.actor = Some(Actor { role, id });
        self
    }

    pub(crate) fn content(mut self, content: Option<String>) -> Self {
        self.content = content;
        self
    }

    pub(crate) fn attributes(mut self, attributes: BTreeMap<String, Value>) -> Self {
        self.attributes = attributes;
        self
    }

    pub(crate) fn call_id(mut self, id: Option<String>) -> Self {
        self.tool_call_id = id;
        self
    }
}

/// Collects one record's events, numbering their `part`s.
pub(crate) struct Emit<'a> {
    ctx: &'a Ctx<'a>,
    path: &'a str,
    source: Source,
    corr: Correlation,
    observed: i64,
    basis: TimeBasis,
    events: Vec<EvidenceEvent>,
}

impl Emit<'_> {
    pub(crate) fn customer(&self) -> Option<String> {
        self.corr.customer_ref.clone()
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
            time_basis: self.basis,
            source: self.source.clone(),
            kind: ev.kind,
            correlation,
            actor: ev.actor,
            content: ev.content,
            attributes: ev.attributes,
            raw: self.ctx.pointer(self.path, part),
        });
    }
}

/// The items of one body and their counts.
struct Out<'a> {
    ctx: &'a Ctx<'a>,
    stats: &'a mut ReadStats,
    items: Vec<Item>,
}

impl Out<'_> {
    fn mapped(&mut self, events: Vec<EvidenceEvent>) {
        self.stats.records += 1;
        self.stats.records_mapped += 1;
        self.stats.events += events.len() as u64;
        self.items
            .extend(events.into_iter().map(|e| Item::Event(Box::new(e))));
    }

    /// A quarantined record, or (when `path` does not end at a record) a damaged list or
    /// envelope, which loses no record by itself.
    fn bad(&mut self, path: &str, reason: String, excerpt: String, record_list: &str) {
        if path.rsplit('/').nth(1) == Some(record_list) {
            self.stats.records += 1;
            self.stats.records_quarantined += 1;
        }
        self.stats.quarantined += 1;
        self.items.push(self.ctx.quarantine(path, reason, excerpt));
    }
}

fn source(
    ctx: &Ctx<'_>,
    resource: &ResourceInfo,
    scope: &ScopeInfo,
    conventions: Vec<crate::event::Convention>,
) -> Source {
    Source {
        system: "otlp".to_owned(),
        format: ctx.format.to_owned(),
        conventions,
        service: string_attr(&resource.attributes, "service.name"),
        scope: scope.name.as_ref().map(|name| Scope {
            name: name.clone(),
            version: scope.version.clone(),
            schema_url: scope
                .schema_url
                .clone()
                .or_else(|| resource.schema_url.clone()),
        }),
    }
}

fn resource_attributes(resource: &ResourceInfo) -> BTreeMap<String, Value> {
    resource
        .attributes
        .iter()
        .filter(|(k, _)| k != "service.name")
        .map(|(k, v)| (format!("resource.{k}"), v.clone()))
        .collect()
}

const SPAN_KIND_NAMES: &[&str] = &[
    "unspecified",
    "internal",
    "server",
    "client",
    "producer",
    "consumer",
];

/// Span fields that are not attributes, kept on the primary event as `otel.*` attributes.
fn span_fields(span: &SpanRec, resource: &ResourceInfo) -> BTreeMap<String, Value> {
    let mut extra = resource_attributes(resource);
    extra.insert("otel.span.name".to_owned(), Value::from(span.name.clone()));
    let kind = usize::try_from(span.kind)
        .ok()
        .and_then(|i| SPAN_KIND_NAMES.get(i))
        .map_or_else(|| Value::from(span.kind), |k| Value::from(*k));
    extra.insert("otel.span.kind".to_owned(), kind);
    if span.status_code != 0 {
        let code = if span.status_code == 1 { "ok" } else { "error" };
        extra.insert("otel.status_code".to_owned(), Value::from(code));
    }
    if let Some(m) = &span.status_message {
        extra.insert("otel.status_message".to_owned(), Value::from(m.clone()));
    }
    // Span events other than evaluations and messages (which become events) ride along, not
    // dropped.
    let others: Vec<Value> = span
        .events
        .iter()
        .filter(|ev| ev.name != EVALUATION_RESULT && !is_message_event(&ev.name))
        .map(|ev| {
            let mut m = Map::new();
            m.insert("name".to_owned(), Value::from(ev.name.clone()));
            if let Some(t) = ev.time_ns {
                m.insert("time_ns".to_owned(), Value::from(t));
            }
            m.insert(
                "attributes".to_owned(),
                Value::Object(attrs_to_map(&ev.attributes)),
            );
            Value::Object(m)
        })
        .collect();
    if !others.is_empty() {
        extra.insert("otel.span.events".to_owned(), Value::Array(others));
    }
    let links: Vec<Value> = span
        .links
        .iter()
        .map(|l| {
            let mut m = Map::new();
            m.insert("trace_id".to_owned(), Value::from(l.trace_id.clone()));
            m.insert("span_id".to_owned(), Value::from(l.span_id.clone()));
            m.insert(
                "attributes".to_owned(),
                Value::Object(attrs_to_map(&l.attributes)),
            );
            Value::Object(m)
        })
        .collect();
    if !links.is_empty() {
        extra.insert("otel.span.links".to_owned(), Value::Array(links));
    }
    extra
}

pub(crate) fn map_traces(
    decoded: Vec<Decoded<SpanRec>>,
    ctx: &Ctx<'_>,
    carry: &mut Carry,
    stats: &mut ReadStats,
) -> Vec<Item> {
    let spans: Vec<(&SpanRec, &ResourceInfo)> = decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Record {
                record, resource, ..
            } => Some((record, resource.as_ref())),
            Decoded::Bad { .. } => None,
        })
        .collect();
    let mut keys = keys::resolve(&spans, carry).into_iter();
    let mut out = Out {
        ctx,
        stats,
        items: Vec::new(),
    };
    for d in &decoded {
        let (span, resource, scope, path) = match d {
            Decoded::Record {
                record,
                resource,
                scope,
                path,
            } => (record, resource, scope, path),
            Decoded::Bad {
                path,
                reason,
                excerpt,
            } => {
                out.bad(path, reason.clone(), excerpt.clone(), "spans");
                continue;
            }
        };
        let k = keys.next().unwrap_or_default();
        let Some(start) = span.start_ns.or(span.end_ns) else {
            let reason = "span has neither startTimeUnixNano nor endTimeUnixNano".to_owned();
            let excerpt = format!("span {:?} {:?}", span.name, span.span_id);
            out.bad(path, reason, excerpt, "spans");
            continue;
        };
        let error = (span.status_code == 2).then(|| {
            span.status_message
                .clone()
                .or_else(|| string_attr(&span.attributes, "error.type"))
                .unwrap_or_else(|| "error".to_owned())
        });
        let mut e = Emit {
            ctx,
            path,
            source: source(ctx, resource, scope, conventions(&span.attributes, None)),
            corr: k.correlation(
                span.trace_id.as_deref(),
                span.span_id.as_deref(),
                span.parent_span_id.as_deref(),
            ),
            // The SDK records a span when it ends.
            observed: span.end_ns.unwrap_or(start),
            basis: TimeBasis::Occurred,
            events: Vec::new(),
        };
        let view = View {
            attrs: &span.attributes,
            name: &span.name,
            start,
            end: span.end_ns,
            error,
            events: &span.events,
        };
        map_operation(&mut e, &view, span_fields(span, resource));
        for ev in span.events.iter().filter(|ev| ev.name == EVALUATION_RESULT) {
            e.push(evaluation(ev.time_ns.unwrap_or(start), &ev.attributes));
        }
        out.mapped(e.events);
    }
    out.items
}

pub(crate) fn map_logs(
    decoded: Vec<Decoded<LogRec>>,
    ctx: &Ctx<'_>,
    carry: &mut Carry,
    stats: &mut ReadStats,
) -> Vec<Item> {
    let mut out = Out {
        ctx,
        stats,
        items: Vec::new(),
    };
    for d in decoded {
        let (log, resource, scope, path) = match d {
            Decoded::Record {
                record,
                resource,
                scope,
                path,
            } => (record, resource, scope, path),
            Decoded::Bad {
                path,
                reason,
                excerpt,
            } => {
                out.bad(&path, reason, excerpt, "logRecords");
                continue;
            }
        };
        let (time, basis) = match (log.time_ns, log.observed_ns) {
            (Some(t), _) => (t, TimeBasis::Occurred),
            (None, Some(o)) => (o, TimeBasis::Observed),
            (None, None) => {
                let reason = "log record has neither timeUnixNano nor observedTimeUnixNano";
                let excerpt = format!("log record {:?}", log.event_name);
                out.bad(&path, reason.to_owned(), excerpt, "logRecords");
                continue;
            }
        };
        let event_name = log
            .event_name
            .clone()
            .or_else(|| string_attr(&log.attributes, "event.name"));
        let mut k = keys::own_keys(&log.attributes, &resource.attributes);
        // A log record emitted inside a span takes that span's keys, if the span was seen.
        if let (Some(t), Some(s)) = (&log.trace_id, &log.span_id)
            && let Some(span_keys) = carry.get(t, s)
        {
            k.inherit(span_keys, s);
        }
        let mut e = Emit {
            ctx,
            path: &path,
            source: source(
                ctx,
                &resource,
                &scope,
                conventions(&log.attributes, event_name.as_deref()),
            ),
            corr: k.correlation(log.trace_id.as_deref(), log.span_id.as_deref(), None),
            observed: log.observed_ns.unwrap_or(time),
            basis,
            events: Vec::new(),
        };
        let mut extra = resource_attributes(&resource);
        if log.severity_number != 0 {
            extra.insert(
                "otel.severity_number".to_owned(),
                Value::from(log.severity_number),
            );
        }
        if let Some(s) = &log.severity_text {
            extra.insert("otel.severity_text".to_owned(), Value::from(s.clone()));
        }
        if let Some(n) = &event_name {
            extra.insert("otel.event_name".to_owned(), Value::from(n.clone()));
        }
        match event_name.as_deref() {
            Some(OPERATION_DETAILS) => {
                let view = View {
                    attrs: &log.attributes,
                    name: OPERATION_DETAILS,
                    start: time,
                    end: None,
                    error: string_attr(&log.attributes, "error.type"),
                    events: &[],
                };
                map_operation(&mut e, &view, extra);
            }
            Some(EVALUATION_RESULT) => {
                let ev = evaluation(time, &log.attributes);
                let mut attributes = kept_attributes(&log.attributes);
                attributes.extend(extra);
                e.push(ev.attributes(attributes));
            }
            Some(n) if LEGACY_EVENTS.contains(&n) => {
                let mut attributes = kept_attributes(&log.attributes);
                attributes.extend(extra);
                let names = std::collections::HashMap::new();
                legacy_event(&mut e, n, log.body.as_ref(), time, attributes, &names);
            }
            other => {
                let mut attributes = kept_attributes(&log.attributes);
                attributes.extend(extra);
                let kind = EventKind::Other {
                    name: other.map_or_else(|| "log".to_owned(), str::to_owned),
                    operation: None,
                };
                let content = log
                    .body
                    .as_ref()
                    .and_then(super::messages::text_of)
                    .or_else(|| first_str(&log.attributes, &["message"]));
                e.push(Ev::new(time, kind).content(content).attributes(attributes));
            }
        }
        out.mapped(e.events);
    }
    out.items
}
