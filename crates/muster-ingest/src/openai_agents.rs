//! OpenAI Agents SDK native tracing export: the body of `POST /v1/traces/ingest`,
//! `{"data": [<trace>, <span>…]}`, as the SDK's `BackendSpanExporter` sends it (or a file of
//! such bodies, one per line).
//!
//! A trace object (`object: "trace"`) carries the keys: `group_id` is the conversation
//! ("a chat thread ID"), `metadata.customer_id` / `user_id` the customer. Spans carry only
//! `trace_id`, so the keys of traces seen are remembered (bounded) and given to their spans,
//! in this body or later ones. Ids are kept as the SDK writes them, except that the `trace_`
//! prefix is dropped when the rest is 32 hex digits, so a trace id has the same form as OTLP's.

use serde_json::{Map, Value};

use crate::chat::{exchange_events, messages};
use crate::common::{
    Bounded, Doc, Ev, Out, Rec, attr_key, maybe_json, merge, parse_body, rest, str_at, text,
    time_at,
};
use crate::event::{ActorRole, Correlation, EventKind, ToolCallPhase};
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};

const SYSTEM: &str = "openai-agents";
const FORMAT: &str = "openai-agents-traces-ingest";

/// How many traces' keys are remembered across bodies.
pub const DEFAULT_CARRY_TRACES: usize = 100_000;

/// Keys a trace gives its spans.
#[derive(Clone, Debug, Default)]
struct TraceKeys {
    conversation: Option<String>,
    customer: Option<(String, String)>,
    workflow: Option<String>,
}

/// Reads Agents SDK export bodies. Keep one per input stream so trace keys carry across bodies.
pub struct AgentsReader {
    origin: String,
    traces: Bounded<TraceKeys>,
    stats: ReadStats,
}

impl AgentsReader {
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

    /// Read one body. Every trace and span comes back as events or a quarantined item, in body
    /// order; a body that is not an export request comes back as one quarantined item.
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
            Ok(value) => {
                let data = match &value {
                    Value::Object(o) => o.get("data").and_then(Value::as_array),
                    // A bare list of traces and spans, as some tools save them.
                    Value::Array(a) => Some(a),
                    _ => None,
                };
                match data {
                    None => out.body_failed(
                        &doc,
                        "not an Agents SDK export: no `data` array".to_owned(),
                        body,
                    ),
                    Some(data) => read_data(&doc, data, &mut self.traces, &mut out),
                }
            }
        }
        let (items, stats) = out.finish();
        merge(&mut self.stats, stats);
        items
    }
}

/// Read one body with a fresh reader.
pub fn read_body(origin: &str, body: &[u8]) -> (Vec<Item>, ReadStats) {
    let mut reader = AgentsReader::new(origin);
    let items = reader.read_body(body, BodyLocation::default());
    (items, reader.stats())
}

fn read_data(doc: &Doc<'_>, data: &[Value], traces: &mut Bounded<TraceKeys>, out: &mut Out) {
    // Traces first, so a span listed before its trace (batches are not ordered) still gets
    // the trace's keys.
    for entry in data {
        if let Some(o) = entry.as_object()
            && str_at(o, "object") == Some("trace")
            && let Some(id) = str_at(o, "id")
        {
            traces.insert(trace_id(id), trace_keys(o));
        }
    }
    // A trace object has no time of its own: it takes its root span's start.
    let mut root_start: std::collections::HashMap<String, i64> = Default::default();
    for entry in data {
        if let Some(o) = entry.as_object()
            && str_at(o, "object") != Some("trace")
            && let (Some(t), Ok(Some(start))) = (str_at(o, "trace_id"), time_at(o, "started_at"))
        {
            let e = root_start.entry(trace_id(t)).or_insert(start);
            *e = (*e).min(start);
        }
    }
    for (i, entry) in data.iter().enumerate() {
        let record = format!("/data/{i}");
        let result = match entry.as_object() {
            None => Err("an entry of `data` is not an object".to_owned()),
            Some(o) => match str_at(o, "object") {
                Some("trace") => map_trace(doc, &record, o, &root_start),
                Some("trace.span") | None if o.contains_key("span_data") => {
                    map_span(doc, &record, o, traces)
                }
                Some(other) => Err(format!("unknown object type `{other}`")),
                None => Err("neither a trace nor a span: no `object` or `span_data`".to_owned()),
            },
        };
        out.record(doc, &record, entry, result);
    }
}

fn trace_id(raw: &str) -> String {
    match raw.strip_prefix("trace_") {
        Some(hex) if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            hex.to_ascii_lowercase()
        }
        _ => raw.to_owned(),
    }
}

fn trace_keys(o: &Map<String, Value>) -> TraceKeys {
    let meta = o.get("metadata").and_then(Value::as_object);
    let customer = meta.and_then(|m| {
        ["customer_id", "customer", "user_id", "user"]
            .iter()
            .find_map(|k| text(m.get(*k)).map(|v| (v, format!("metadata.{k}"))))
    });
    let conversation = text(o.get("group_id")).or_else(|| {
        meta.and_then(|m| text(m.get("conversation_id")).or_else(|| text(m.get("thread_id"))))
    });
    TraceKeys {
        conversation,
        customer,
        workflow: text(o.get("workflow_name")),
    }
}

fn correlation(keys: Option<&TraceKeys>, trace: Option<String>) -> Correlation {
    let mut c = Correlation {
        trace_id: trace,
        ..Correlation::default()
    };
    if let Some(k) = keys {
        if let Some(conv) = &k.conversation {
            c.conversation_id = Some(conv.clone());
            c.conversation_from = attr_key("trace.group_id");
        }
        if let Some((cust, key)) = &k.customer {
            c.customer_ref = Some(cust.clone());
            c.customer_from = attr_key(&format!("trace.{key}"));
        }
    }
    c
}

fn map_trace(
    doc: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
    root_start: &std::collections::HashMap<String, i64>,
) -> Result<Vec<crate::EvidenceEvent>, String> {
    let id = str_at(o, "id").ok_or("a trace without an `id`")?;
    let tid = trace_id(id);
    let keys = trace_keys(o);
    let Some(&start) = root_start.get(&tid) else {
        // Nothing to time it by: its spans come in another body. Its keys are remembered for
        // them; the record itself is accounted for and yields nothing on its own.
        return Ok(Vec::new());
    };
    let mut rec = Rec::new(
        doc,
        record.to_owned(),
        doc.source(None),
        correlation(Some(&keys), Some(tid)),
        start,
    );
    rec.push(
        Ev::new(
            start,
            EventKind::Other {
                name: keys.workflow.clone().unwrap_or_else(|| "trace".to_owned()),
                operation: Some("trace".to_owned()),
            },
        )
        .observed_basis()
        .attributes(rest(o, &["object", "id", "workflow_name", "group_id"])),
    );
    Ok(rec.finish())
}

fn map_span(
    doc: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
    traces: &Bounded<TraceKeys>,
) -> Result<Vec<crate::EvidenceEvent>, String> {
    let start = time_at(o, "started_at")?;
    let end = time_at(o, "ended_at")?;
    let Some(start) = start.or(end) else {
        return Err("a span with neither `started_at` nor `ended_at`".to_owned());
    };
    let data = o
        .get("span_data")
        .and_then(Value::as_object)
        .ok_or("`span_data` is not an object")?;
    let kind = str_at(data, "type").ok_or("`span_data` without a `type`")?;
    let tid = str_at(o, "trace_id").map(trace_id);
    let keys = tid.as_deref().and_then(|t| traces.get(t));
    let mut corr = correlation(keys, tid);
    corr.span_id = text(o.get("id"));
    corr.parent_span_id = text(o.get("parent_id"));
    let error = o.get("error").filter(|e| !e.is_null()).map(|e| {
        e.get("message")
            .and_then(Value::as_str)
            .map_or_else(|| e.to_string(), str::to_owned)
    });
    let mut rec = Rec::new(
        doc,
        record.to_owned(),
        doc.source(None),
        corr,
        end.unwrap_or(start),
    );
    let base = |k: EventKind| Ev::new(start, k).ending(end);
    let name = text(data.get("name"));
    match kind {
        "agent" => rec.push(
            base(EventKind::AgentInvocation {
                agent_name: name.clone(),
                agent_id: None,
            })
            .by(ActorRole::Agent, name)
            .attr("error", error.map(Value::String))
            .attributes(rest(data, &["type", "name"])),
        ),
        "generation" => {
            let mut usage = std::collections::BTreeMap::new();
            if let Some(Value::Object(u)) = data.get("usage") {
                for (k, v) in u {
                    if v.is_number() {
                        usage.insert(k.clone(), v.clone());
                    }
                }
            }
            let parameters = match data.get("model_config") {
                Some(Value::Object(c)) => c
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                _ => Default::default(),
            };
            let output = messages(data.get("output"));
            let finish_reasons = output
                .iter()
                .filter_map(|m| m.finish_reason.clone())
                .collect();
            rec.push(
                base(EventKind::ModelCall {
                    operation: Some("chat".to_owned()),
                    provider: Some("openai".to_owned()),
                    request_model: text(data.get("model")),
                    response_model: None,
                    response_id: None,
                    parameters,
                    usage,
                    finish_reasons,
                    error,
                })
                .by(ActorRole::Model, text(data.get("model"))),
            );
            exchange_events(
                &mut rec,
                start,
                end,
                None,
                messages(data.get("input")),
                output,
            );
        }
        "response" => rec.push(
            base(EventKind::ModelCall {
                operation: Some("responses".to_owned()),
                provider: Some("openai".to_owned()),
                request_model: None,
                response_model: None,
                response_id: text(data.get("response_id")),
                parameters: Default::default(),
                usage: match data.get("usage") {
                    Some(Value::Object(u)) => u
                        .iter()
                        .filter(|(_, v)| v.is_number())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    _ => Default::default(),
                },
                finish_reasons: Vec::new(),
                error,
            })
            .by(ActorRole::Model, None),
        ),
        "function" => rec.push(
            base(EventKind::ToolCall {
                phase: ToolCallPhase::Executed,
                name: name.clone(),
                arguments: data.get("input").filter(|v| !v.is_null()).map(maybe_json),
                result: data.get("output").filter(|v| !v.is_null()).map(maybe_json),
                error,
            })
            .by(ActorRole::Tool, name)
            .attr("mcp_data", data.get("mcp_data").cloned()),
        ),
        "handoff" => rec.push(
            base(EventKind::EscalationDecision {
                decision: Some("handoff".to_owned()),
                from: text(data.get("from_agent")),
                to: text(data.get("to_agent")),
                reason: error,
            })
            .by(ActorRole::Agent, text(data.get("from_agent"))),
        ),
        "guardrail" => {
            let triggered = data.get("triggered").and_then(Value::as_bool);
            rec.push(
                base(EventKind::ConfidenceSignal {
                    name: name.clone(),
                    score: None,
                    label: triggered.map(|t| if t { "triggered" } else { "passed" }.to_owned()),
                    explanation: error,
                })
                .by(ActorRole::System, name.clone()),
            );
            // A tripped guardrail stops the run: that is a control acting, not only a score.
            if triggered == Some(true) {
                rec.push(
                    base(EventKind::ControlAction {
                        control: name.clone(),
                        action: Some("guardrail_tripwire".to_owned()),
                        outcome: Some("triggered".to_owned()),
                    })
                    .by(ActorRole::System, name),
                );
            }
        }
        other => rec.push(
            // `custom` (`task`, `turn`), `transcription`, `speech`, `mcp_tools`…: kept whole.
            base(EventKind::Other {
                name: name.unwrap_or_else(|| other.to_owned()),
                operation: Some(other.to_owned()),
            })
            .attr("error", error.map(Value::String))
            .attributes(rest(data, &["type", "name"])),
        ),
    }
    Ok(rec.finish())
}

/// A file of export bodies, one per line (as a loopback receiver dumps them), read one line at
/// a time with trace keys carried from line to line.
pub fn read_lines<R: std::io::BufRead>(
    input: R,
    origin: impl Into<String>,
) -> crate::lines::LineReader<R> {
    let origin = origin.into();
    let mut reader = AgentsReader::new(origin.clone());
    crate::lines::LineReader::new(input, origin, FORMAT, move |_, line, at| {
        let before = reader.stats();
        let items = reader.read_body(line, at);
        (items, crate::common::since(reader.stats(), before))
    })
}
