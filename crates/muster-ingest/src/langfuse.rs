//! Langfuse's own export: the JSON of its public REST API (not the OTLP spans its SDKs send,
//! which the OTLP readers map by the `langfuse.*` attributes).
//!
//! A body is any of:
//! * `GET /api/public/traces/{traceId}` (`TraceWithFullDetails`): the trace's fields with its
//!   `observations[]` and `scores[]` embedded as objects;
//! * a page of `GET /api/public/traces`, `/api/public/observations` or
//!   `/api/public/v2/observations` (`{"data": […], "meta": {…}}`; traces in a trace page list
//!   their observations and scores by id only), or a bare list;
//! * one trace, observation or score (`GET /api/public/observations/{id}`).
//!
//! A file may hold one such body, or many as JSON Lines ([`read_lines`]), one per line, so an
//! export streams in constant memory. Traces, observations and scores are each one record.
//!
//! Keys: the trace's `sessionId` is the conversation and `userId` the customer; an observation or
//! score takes them from itself (v2 observations carry them), else from its enclosing trace, else
//! from a trace with its `traceId` seen earlier in the stream (bounded, [`DEFAULT_CARRY_TRACES`]).
//! Trace and observation ids are the OTel ids (hex, lower-cased when they are 32 or 16 hex
//! digits; other ids are kept as they are); `parentObservationId` is the parent span. The
//! mapping per observation `type` is tabled in `docs/evidence-model.md`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::chat::{exchange_events, messages};
use crate::common::{
    Bounded, Doc, Ev, Out, Rec, attr_key, document, maybe_json, merge, parse_body, rest, str_at,
    text, time_at,
};
use crate::event::{
    ActorRole, Correlation, Document, EventKind, EvidenceEvent, Message, ToolCallPhase,
};
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};

const SYSTEM: &str = "langfuse";
const FORMAT: &str = "langfuse-api-json";

/// How many traces' keys are remembered across bodies.
pub const DEFAULT_CARRY_TRACES: usize = 100_000;

/// The keys a trace gives its observations and scores.
#[derive(Clone, Debug, Default)]
struct TraceKeys {
    session: Option<String>,
    user: Option<String>,
}

/// The trace a record is embedded in (`TraceWithFullDetails`).
struct Enclosing<'a> {
    id: Option<String>,
    keys: &'a TraceKeys,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Trace,
    Observation,
    Score,
}

/// Reads Langfuse API bodies. Keep one per input stream so trace keys carry across bodies.
pub struct LangfuseReader {
    origin: String,
    traces: Bounded<TraceKeys>,
    stats: ReadStats,
}

impl LangfuseReader {
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            traces: Bounded::new(DEFAULT_CARRY_TRACES),
            stats: ReadStats::default(),
        }
    }

    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Read one body. Every trace, observation and score comes back as events or a quarantined
    /// item, in body order; a body that is none of the shapes above is one quarantined item.
    pub fn read_body(&mut self, body: &[u8], at: BodyLocation) -> Vec<Item> {
        let doc = Doc {
            origin: &self.origin,
            system: SYSTEM,
            format: FORMAT,
            at,
        };
        let mut out = Out::default();
        out.stats.bodies = 1;
        match parse_body(body) {
            Err(reason) => out.body_failed(&doc, reason, body),
            Ok(Value::Array(list)) => read_list(&doc, "", &list, &mut self.traces, &mut out),
            Ok(Value::Object(o)) => match o.get("data") {
                Some(Value::Array(list)) => {
                    read_list(&doc, "/data", list, &mut self.traces, &mut out);
                }
                Some(_) => out.body_failed(&doc, "`data` is not a list".to_owned(), body),
                None => match classify(&o) {
                    Some(kind) => read_record(&doc, "", kind, &o, None, &mut self.traces, &mut out),
                    None => out.body_failed(
                        &doc,
                        "not a Langfuse trace, observation, score or page (no `data`, \
                         `timestamp`, `startTime` or `value`)"
                            .to_owned(),
                        body,
                    ),
                },
            },
            Ok(_) => out.body_failed(&doc, "not a JSON object or list".to_owned(), body),
        }
        let (items, stats) = out.finish();
        merge(&mut self.stats, stats);
        items
    }
}

/// Read one body with a fresh reader.
pub fn read_body(origin: &str, body: &[u8]) -> (Vec<Item>, ReadStats) {
    let mut reader = LangfuseReader::new(origin);
    let items = reader.read_body(body, BodyLocation::default());
    (items, reader.stats())
}

/// A file of API bodies or records, one per line (an export, or pages saved as they were
/// pulled), read one line at a time with trace keys carried from line to line.
pub fn read_lines<R: std::io::BufRead>(
    input: R,
    origin: impl Into<String>,
) -> crate::lines::LineReader<R> {
    let origin = origin.into();
    let mut reader = LangfuseReader::new(origin.clone());
    crate::lines::LineReader::new(input, origin, FORMAT, move |_, line, at| {
        let before = reader.stats();
        let items = reader.read_body(line, at);
        (items, crate::common::since(reader.stats(), before))
    })
}

/// What a JSON object is, by the fields only it has: an observation has `startTime` (or
/// `type`/`parentObservationId`), a score `value`/`stringValue`/`dataType`/`source`, a trace
/// `timestamp` (or `htmlPath`, `sessionId`, `observations`).
fn classify(o: &Map<String, Value>) -> Option<Kind> {
    let has = |k: &str| o.contains_key(k);
    if has("startTime") || has("parentObservationId") || has("type") {
        Some(Kind::Observation)
    } else if has("value") || has("stringValue") || has("dataType") || has("source") {
        Some(Kind::Score)
    } else if has("timestamp") || has("htmlPath") || has("sessionId") || has("observations") {
        Some(Kind::Trace)
    } else {
        None
    }
}

fn read_list(
    doc: &Doc<'_>,
    prefix: &str,
    list: &[Value],
    traces: &mut Bounded<TraceKeys>,
    out: &mut Out,
) {
    // Traces first, so an observation listed before its trace still gets the trace's keys.
    for entry in list {
        if let Some(o) = entry.as_object()
            && classify(o) == Some(Kind::Trace)
            && let Some(id) = text(o.get("id"))
        {
            traces.insert(norm_id(&id), trace_keys(o));
        }
    }
    for (i, entry) in list.iter().enumerate() {
        let record = format!("{prefix}/{i}");
        match entry.as_object() {
            None => out.record(
                doc,
                &record,
                entry,
                Err("an entry is not a JSON object".to_owned()),
            ),
            Some(o) => match classify(o) {
                Some(kind) => read_record(doc, &record, kind, o, None, traces, out),
                None => out.record(
                    doc,
                    &record,
                    entry,
                    Err(
                        "neither a trace, an observation nor a score (no `timestamp`, \
                         `startTime` or `value`)"
                            .to_owned(),
                    ),
                ),
            },
        }
    }
}

/// One record, and for a trace the observations and scores embedded in it.
fn read_record(
    doc: &Doc<'_>,
    record: &str,
    kind: Kind,
    o: &Map<String, Value>,
    enclosing: Option<&Enclosing<'_>>,
    traces: &mut Bounded<TraceKeys>,
    out: &mut Out,
) {
    match kind {
        Kind::Trace => {
            let keys = trace_keys(o);
            let id = text(o.get("id")).map(|id| norm_id(&id));
            if let Some(id) = &id {
                traces.insert(id.clone(), keys.clone());
            }
            let result = map_trace(doc, record, o, &keys);
            settle(doc, record, o, result, out);
            let ctx = Enclosing { id, keys: &keys };
            for (field, kind) in [("observations", Kind::Observation), ("scores", Kind::Score)] {
                let Some(list) = embedded(o, field) else {
                    continue;
                };
                for (j, entry) in list.iter().enumerate() {
                    let at = format!("{record}/{field}/{j}");
                    match entry.as_object() {
                        Some(e) => read_record(doc, &at, kind, e, Some(&ctx), traces, out),
                        None => out.record(
                            doc,
                            &at,
                            entry,
                            Err(format!("an entry of `{field}` is not a JSON object")),
                        ),
                    }
                }
            }
        }
        Kind::Observation => {
            let result = map_observation(doc, record, o, enclosing, traces);
            settle(doc, record, o, result, out);
        }
        Kind::Score => {
            let result = map_score(doc, record, o, enclosing, traces);
            settle(doc, record, o, result, out);
        }
    }
}

/// `observations`/`scores` of a trace as records: a list holding objects (a trace page lists
/// ids only; those stay attributes of the trace).
fn embedded<'v>(o: &'v Map<String, Value>, field: &str) -> Option<&'v Vec<Value>> {
    o.get(field)
        .and_then(Value::as_array)
        .filter(|l| l.iter().any(Value::is_object))
}

fn settle(
    doc: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
    result: Result<Vec<EvidenceEvent>, String>,
    out: &mut Out,
) {
    match result {
        Ok(events) => out.record_mapped(events),
        Err(reason) => {
            let raw = serde_json::to_string(o).unwrap_or_default();
            let mut cut = raw.len().min(crate::EXCERPT_BYTES);
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            out.record_failed(doc, record, reason, &raw[..cut]);
        }
    }
}

/// A hex id lower-cased (OTLP's form), any other id unchanged.
fn norm_id(id: &str) -> String {
    if matches!(id.len(), 16 | 32) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        id.to_ascii_lowercase()
    } else {
        id.to_owned()
    }
}

fn trace_keys(o: &Map<String, Value>) -> TraceKeys {
    TraceKeys {
        session: text(o.get("sessionId")),
        user: text(o.get("userId")),
    }
}

/// An observation's or score's keys: its own, else its trace's.
fn correlation(
    o: &Map<String, Value>,
    enclosing: Option<&Enclosing<'_>>,
    traces: &mut Bounded<TraceKeys>,
) -> Correlation {
    let trace_id = text(o.get("traceId"))
        .map(|t| norm_id(&t))
        .or_else(|| enclosing.and_then(|e| e.id.clone()));
    let own = trace_keys(o);
    let mut c = Correlation {
        trace_id: trace_id.clone(),
        ..Correlation::default()
    };
    if own.session.is_some() || own.user.is_some() {
        // v2 observations carry their trace's keys: remember them for the trace's others.
        if let Some(t) = &trace_id
            && traces.get(t).is_none()
        {
            traces.insert(t.clone(), own.clone());
        }
    }
    let inherited = enclosing
        .map(|e| e.keys.clone())
        .or_else(|| trace_id.as_deref().and_then(|t| traces.get(t)).cloned())
        .unwrap_or_default();
    if let Some(s) = own.session {
        c.conversation_id = Some(s);
        c.conversation_from = attr_key("sessionId");
    } else if let Some(s) = inherited.session {
        c.conversation_id = Some(s);
        c.conversation_from = attr_key("trace.sessionId");
    }
    if let Some(u) = own.user {
        c.customer_ref = Some(u);
        c.customer_from = attr_key("userId");
    } else if let Some(u) = inherited.user {
        c.customer_ref = Some(u);
        c.customer_from = attr_key("trace.userId");
    }
    c
}

/// An observation's or trace's input and output, read as chat messages where they are.
struct Io {
    input: Vec<Message>,
    /// An input that is not chat messages: the prompt's unstructured `input`.
    raw_input: Option<Value>,
    output: Vec<Message>,
    /// An output that is neither chat messages nor text: kept as the `output` attribute.
    raw_output: Option<Value>,
}

fn io(o: &Map<String, Value>) -> Io {
    let input = o.get("input").filter(|v| !v.is_null()).map(maybe_json);
    let output = o.get("output").filter(|v| !v.is_null()).map(maybe_json);
    let in_msgs = input.as_ref().and_then(chat);
    let out_msgs = output.as_ref().and_then(chat).or_else(|| match &output {
        Some(Value::String(s)) if !s.is_empty() => Some(vec![Message {
            role: "assistant".to_owned(),
            text: Some(s.clone()),
            ..Message::default()
        }]),
        _ => None,
    });
    Io {
        raw_input: if in_msgs.is_none() { input } else { None },
        input: in_msgs.unwrap_or_default(),
        raw_output: if out_msgs.is_none() { output } else { None },
        output: out_msgs.unwrap_or_default(),
    }
}

/// Chat messages in the shapes Langfuse integrations record: a list of `{role, content}`, the
/// request `{messages: […]}`, one message (a generation's output), or a completion
/// `{choices: [{message}]}`.
fn chat(v: &Value) -> Option<Vec<Message>> {
    let is_message = |m: &Value| m.get("role").is_some_and(Value::is_string);
    match v {
        Value::Array(items) if !items.is_empty() && items.iter().all(is_message) => {
            Some(messages(Some(v)))
        }
        Value::Object(o) => {
            if let Some(inner) = o.get("messages") {
                return chat(inner);
            }
            if is_message(v) {
                return Some(messages(Some(&Value::Array(vec![v.clone()]))));
            }
            let choices = o.get("choices")?.as_array()?;
            let list: Vec<Value> = choices
                .iter()
                .filter_map(|c| {
                    let mut m = c.get("message")?.clone();
                    if let (Value::Object(mo), Some(f)) = (&mut m, c.get("finish_reason")) {
                        mo.insert("finish_reason".to_owned(), f.clone());
                    }
                    Some(m)
                })
                .collect();
            (!list.is_empty()).then(|| messages(Some(&Value::Array(list))))
        }
        _ => None,
    }
}

/// The prompt (unstructured when the input is not chat) and the exchange's messages.
fn content_events(rec: &mut Rec<'_>, start: i64, end: Option<i64>, agent: Option<String>, io: Io) {
    if let Some(raw) = io.raw_input {
        rec.push(Ev::new(
            start,
            EventKind::Prompt {
                messages: Vec::new(),
                input: Some(raw),
            },
        ));
    }
    exchange_events(rec, start, end, agent, io.input, io.output);
}

/// A trace's end: its start plus `latency` (seconds), when that is a sane duration.
fn latency_end(start: i64, latency: Option<&Value>) -> Option<i64> {
    let secs = latency?.as_f64()?;
    if !(secs.is_finite() && (0.0..1e9).contains(&secs)) {
        return None;
    }
    start.checked_add((secs * 1e9).round() as i64)
}

fn map_trace(
    doc: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
    keys: &TraceKeys,
) -> Result<Vec<EvidenceEvent>, String> {
    let start = time_at(o, "timestamp")?.ok_or("a trace without `timestamp`")?;
    let end = latency_end(start, o.get("latency"));
    let corr = Correlation {
        trace_id: text(o.get("id")).map(|id| norm_id(&id)),
        conversation_id: keys.session.clone(),
        conversation_from: keys.session.as_ref().and_then(|_| attr_key("sessionId")),
        customer_ref: keys.user.clone(),
        customer_from: keys.user.as_ref().and_then(|_| attr_key("userId")),
        ..Correlation::default()
    };
    let name = text(o.get("name"));
    let mut skip = vec![
        "id",
        "timestamp",
        "name",
        "input",
        "output",
        "sessionId",
        "userId",
    ];
    for field in ["observations", "scores"] {
        if embedded(o, field).is_some() {
            skip.push(field);
        }
    }
    let io = io(o);
    let mut rec = Rec::new(
        doc,
        record.to_owned(),
        doc.source(None),
        corr,
        end.unwrap_or(start),
    );
    rec.push(
        Ev::new(
            start,
            EventKind::AgentInvocation {
                agent_name: name.clone(),
                agent_id: None,
            },
        )
        .ending(end)
        .by(ActorRole::Agent, name.clone())
        .attributes(rest(o, &skip))
        .attr("output", io.raw_output.clone()),
    );
    content_events(&mut rec, start, end, name, io);
    Ok(rec.finish())
}

fn map_observation(
    doc: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
    enclosing: Option<&Enclosing<'_>>,
    traces: &mut Bounded<TraceKeys>,
) -> Result<Vec<EvidenceEvent>, String> {
    let start = time_at(o, "startTime")?;
    let end = time_at(o, "endTime")?;
    let start = start.ok_or("an observation without `startTime`")?;
    let typ = str_at(o, "type").unwrap_or_default().to_ascii_uppercase();
    let name = text(o.get("name"));
    let level = str_at(o, "level").map(str::to_ascii_uppercase);
    let status = text(o.get("statusMessage"));
    let flagged = matches!(level.as_deref(), Some("WARNING" | "ERROR"));
    let error = (level.as_deref() == Some("ERROR"))
        .then(|| status.clone().unwrap_or_else(|| "level ERROR".to_owned()));
    let mut corr = correlation(o, enclosing, traces);
    corr.span_id = text(o.get("id")).map(|id| norm_id(&id));
    corr.parent_span_id = text(o.get("parentObservationId")).map(|id| norm_id(&id));
    let mut rec = Rec::new(
        doc,
        record.to_owned(),
        doc.source(None),
        corr,
        end.unwrap_or(start),
    );
    const IDENTITY: [&str; 9] = [
        "id",
        "traceId",
        "parentObservationId",
        "type",
        "name",
        "startTime",
        "endTime",
        "sessionId",
        "userId",
    ];
    let attributes = |lifted: &[&str]| {
        let skip: Vec<&str> = IDENTITY.iter().chain(lifted).copied().collect();
        rest(o, &skip)
    };
    let base = |k: EventKind| Ev::new(start, k).ending(end);
    // Input and output as values (a JSON string parsed), read only by the types that use them.
    let value = |k: &str| o.get(k).filter(|v| !v.is_null()).map(maybe_json);
    match typ.as_str() {
        "GENERATION" | "EMBEDDING" => {
            let generation = typ == "GENERATION";
            let model = text(o.get("model")).or_else(|| text(o.get("providedModelName")));
            let parameters = match o.get("modelParameters").map(maybe_json) {
                Some(Value::Object(p)) => p.into_iter().filter(|(_, v)| !v.is_null()).collect(),
                _ => BTreeMap::new(),
            };
            let mut lifted = vec![
                "model",
                "providedModelName",
                "modelParameters",
                "usage",
                "usageDetails",
            ];
            let io = generation.then(|| io(o));
            if generation {
                lifted.extend(["input", "output"]);
            }
            let finish_reasons = io
                .iter()
                .flat_map(|io| io.output.iter().filter_map(|m| m.finish_reason.clone()))
                .collect();
            rec.push(
                base(EventKind::ModelCall {
                    operation: Some(if generation { "chat" } else { "embeddings" }.to_owned()),
                    provider: None,
                    request_model: model.clone(),
                    response_model: None,
                    response_id: None,
                    parameters,
                    usage: usage(o),
                    finish_reasons,
                    error,
                })
                .by(ActorRole::Model, model)
                .attributes(attributes(&lifted))
                .attr("output", io.as_ref().and_then(|io| io.raw_output.clone())),
            );
            if let Some(io) = io {
                content_events(&mut rec, start, end, None, io);
            }
        }
        "TOOL" => {
            let (input, output) = (value("input"), value("output"));
            let call_id = ["tool_call_id", "toolCallId"].iter().find_map(|k| {
                o.get("metadata")
                    .and_then(|m| m.get(*k))
                    .or_else(|| input.as_ref().and_then(|i| i.get(*k)))
                    .and_then(|v| text(Some(v)))
            });
            let content = output.as_ref().and_then(value_text);
            rec.push(
                base(EventKind::ToolCall {
                    phase: ToolCallPhase::Executed,
                    name: name.clone(),
                    arguments: input,
                    result: output,
                    error,
                })
                .by(ActorRole::Tool, name)
                .content(content)
                .call_id(call_id)
                .attributes(attributes(&["input", "output"])),
            );
        }
        "RETRIEVER" => {
            let (input, output) = (value("input"), value("output"));
            let query = input.as_ref().and_then(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(q) => ["query", "q", "question", "input"]
                    .iter()
                    .find_map(|k| text(q.get(*k))),
                _ => None,
            });
            let documents: Vec<Document> = output
                .as_ref()
                .and_then(|v| match v {
                    Value::Array(list) => Some(list),
                    Value::Object(d) => d.get("documents").and_then(Value::as_array),
                    _ => None,
                })
                .map(|list| list.iter().filter_map(document).collect())
                .unwrap_or_default();
            let texts: Vec<&str> = documents
                .iter()
                .filter_map(|d| d.content.as_deref())
                .collect();
            let content = (!texts.is_empty()).then(|| texts.join("\n"));
            let mut lifted = Vec::new();
            if query.is_some() {
                lifted.push("input");
            }
            if !documents.is_empty() {
                lifted.push("output");
            }
            rec.push(
                base(EventKind::Retrieval {
                    data_source: name,
                    query,
                    documents,
                })
                .content(content)
                .attributes(attributes(&lifted)),
            );
        }
        "EVALUATOR" | "GUARDRAIL" => {
            let guardrail = typ == "GUARDRAIL";
            let output = value("output");
            let score = output.as_ref().and_then(|v| {
                v.as_f64()
                    .or_else(|| v.get("score").and_then(Value::as_f64))
            });
            let label = if guardrail {
                Some(if flagged { "triggered" } else { "passed" }.to_owned())
            } else {
                output
                    .as_ref()
                    .and_then(|v| v.get("label"))
                    .and_then(|l| text(Some(l)))
            };
            rec.push(
                base(EventKind::ConfidenceSignal {
                    name: name.clone(),
                    score,
                    label,
                    explanation: status.clone(),
                })
                .by(ActorRole::System, name.clone())
                .attributes(attributes(&[])),
            );
            // A guardrail that flagged (level WARNING or ERROR) acted on the answer: that is
            // a control, not only a score, as a Bedrock intervention is.
            if guardrail && flagged {
                rec.push(
                    base(EventKind::ControlAction {
                        control: name.clone(),
                        action: Some("guardrail".to_owned()),
                        outcome: status
                            .clone()
                            .or_else(|| level.as_deref().map(str::to_ascii_lowercase)),
                    })
                    .by(ActorRole::System, name.clone()),
                );
            }
        }
        "AGENT" => {
            let io = io(o);
            rec.push(
                base(EventKind::AgentInvocation {
                    agent_name: name.clone(),
                    agent_id: None,
                })
                .by(ActorRole::Agent, name.clone())
                .attributes(attributes(&["input", "output"]))
                .attr("output", io.raw_output.clone()),
            );
            content_events(&mut rec, start, end, name, io);
        }
        // SPAN, CHAIN, EVENT and types Langfuse adds later: kept whole.
        other => {
            let operation = if other.is_empty() {
                "observation".to_owned()
            } else {
                other.to_ascii_lowercase()
            };
            rec.push(
                base(EventKind::Other {
                    name: name.unwrap_or_else(|| operation.clone()),
                    operation: Some(operation),
                })
                .content(value("output").as_ref().and_then(value_text))
                .attributes(attributes(&[])),
            );
        }
    }
    // A flagged observation of another type (a generation marked WARNING "low confidence", a
    // failed tool) is a signal about the answer in its own right.
    if flagged && typ != "GUARDRAIL" && typ != "EVALUATOR" {
        rec.push(
            base(EventKind::ConfidenceSignal {
                name: Some("langfuse.level".to_owned()),
                score: None,
                label: level,
                explanation: status,
            })
            .by(ActorRole::System, None),
        );
    }
    Ok(rec.finish())
}

fn map_score(
    doc: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
    enclosing: Option<&Enclosing<'_>>,
    traces: &mut Bounded<TraceKeys>,
) -> Result<Vec<EvidenceEvent>, String> {
    let t = time_at(o, "timestamp")?.ok_or("a score without `timestamp`")?;
    let name = text(o.get("name"));
    // NUMERIC and BOOLEAN values are scores; a CATEGORICAL value is only the category's
    // number, so its `stringValue` is the label and the number stays an attribute.
    let numeric = matches!(str_at(o, "dataType"), None | Some("NUMERIC" | "BOOLEAN"));
    let value = o.get("value");
    let score = value.and_then(Value::as_f64).filter(|_| numeric);
    let label = text(o.get("stringValue"))
        .or_else(|| value.filter(|v| v.is_string()).and_then(|v| text(Some(v))));
    let mut corr = correlation(o, enclosing, traces);
    corr.span_id = text(o.get("observationId")).map(|id| norm_id(&id));
    let actor = match str_at(o, "source") {
        Some("ANNOTATION") => (ActorRole::Staff, text(o.get("authorUserId"))),
        source => (ActorRole::System, source.map(str::to_ascii_lowercase)),
    };
    let mut skip = vec![
        "traceId",
        "observationId",
        "sessionId",
        "name",
        "stringValue",
        "comment",
        "timestamp",
    ];
    if score.is_some()
        || label
            .as_ref()
            .is_some_and(|_| value.is_some_and(Value::is_string))
    {
        skip.push("value");
    }
    let mut rec = Rec::new(doc, record.to_owned(), doc.source(None), corr, t);
    rec.push(
        Ev::new(
            t,
            EventKind::ConfidenceSignal {
                name,
                score,
                label,
                explanation: text(o.get("comment")),
            },
        )
        .by(actor.0, actor.1)
        .attributes(rest(o, &skip)),
    );
    Ok(rec.finish())
}

/// Token counts by muster's short names; other usage units keep theirs. `usageDetails` is the
/// current field, `usage` the deprecated one (its costs are not usage).
fn usage(o: &Map<String, Value>) -> BTreeMap<String, Value> {
    let details = o
        .get("usageDetails")
        .map(maybe_json)
        .and_then(|v| match v {
            Value::Object(u) if !u.is_empty() => Some(u),
            _ => None,
        })
        .or_else(|| match o.get("usage") {
            Some(Value::Object(u)) => Some(u.clone()),
            _ => None,
        })
        .unwrap_or_default();
    details
        .into_iter()
        .filter(|(k, v)| v.is_number() && !k.to_ascii_lowercase().ends_with("cost"))
        .map(|(k, v)| {
            let short = match k.as_str() {
                "input" | "promptTokens" | "prompt_tokens" | "input_tokens" => "input_tokens",
                "output" | "completionTokens" | "completion_tokens" | "output_tokens" => {
                    "output_tokens"
                }
                "total" | "totalTokens" | "total_tokens" => "total_tokens",
                other => other,
            };
            (short.to_owned(), v)
        })
        .collect()
}

/// Text of a value: a string as it is, anything else as compact JSON.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
