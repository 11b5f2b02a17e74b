//! From decoded OTLP spans and log records to evidence events, by convention.
//!
//! One record gives one *primary* event (what the span or log record is: a model call, a tool
//! execution, a retrieval, an agent run, a log line) followed by the events its captured content
//! holds: the prompt, the customer's new message(s), tool results handed back to the model, the
//! model's reply and the tool calls it requested. `docs/evidence-model.md` has the full table.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde_json::{Map, Value};

use super::messages::{
    chat_messages, genai_documents, json_or_self, openinference_documents, openinference_messages,
    openllmetry_messages, text_of, transcript,
};
use super::model::{Attrs, Decoded, LogRec, ResourceInfo, ScopeInfo, SpanRec, attr};
use crate::event::{
    Actor, ActorRole, Convention, Correlation, Document, EventKind, EvidenceEvent, KeyOrigin,
    Message, RawPointer, Scope, Source, TimeBasis, ToolCallPhase,
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

/// Attribute keys naming the conversation, in order of preference.
const CONVERSATION_KEYS: &[&str] = &[
    "gen_ai.conversation.id",
    "session.id",
    "langfuse.session.id",
    "traceloop.association.properties.conversation_id",
    "traceloop.association.properties.session_id",
    "traceloop.association.properties.thread_id",
];

/// Attribute keys naming the customer.
const CUSTOMER_KEYS: &[&str] = &[
    "user.id",
    "enduser.id",
    "langfuse.user.id",
    "traceloop.association.properties.user_id",
    "traceloop.association.properties.customer_id",
];

#[derive(Clone, Debug, Default)]
pub(crate) struct Keys {
    conversation: Option<(String, KeyOrigin)>,
    customer: Option<(String, KeyOrigin)>,
}

fn string_attr(attrs: &Attrs, key: &str) -> Option<String> {
    match attr(attrs, key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn own_key(attrs: &Attrs, resource: &Attrs, keys: &[&str]) -> Option<(String, KeyOrigin)> {
    for key in keys {
        if let Some(v) = string_attr(attrs, key) {
            return Some((
                v,
                KeyOrigin::Attribute {
                    key: (*key).to_owned(),
                },
            ));
        }
    }
    for key in keys {
        if let Some(v) = string_attr(resource, key) {
            return Some((
                v,
                KeyOrigin::Resource {
                    key: (*key).to_owned(),
                },
            ));
        }
    }
    None
}

fn own_keys(attrs: &Attrs, resource: &Attrs) -> Keys {
    Keys {
        conversation: own_key(attrs, resource, CONVERSATION_KEYS),
        customer: own_key(attrs, resource, CUSTOMER_KEYS),
    }
}

fn inherited(from: &Option<(String, KeyOrigin)>, span_id: &str) -> Option<(String, KeyOrigin)> {
    from.as_ref().map(|(v, origin)| {
        let key = match origin {
            KeyOrigin::Attribute { key } | KeyOrigin::Resource { key } => key.clone(),
            KeyOrigin::Span { key, .. } => key.clone(),
        };
        let span_id = match origin {
            // Keep pointing at the span that actually carries the key.
            KeyOrigin::Span { span_id, .. } => span_id.clone(),
            _ => span_id.to_owned(),
        };
        (v.clone(), KeyOrigin::Span { span_id, key })
    })
}

/// Keys learned from spans of earlier bodies, so a span or log record in a later body whose
/// parent (or own span) was seen before still inherits. Bounded: the oldest entries go first,
/// which keeps memory constant on endless inputs.
pub(crate) struct Carry {
    map: HashMap<(String, String), Keys>,
    order: VecDeque<(String, String)>,
    cap: usize,
}

impl Carry {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap,
        }
    }

    fn get(&self, trace: &str, span: &str) -> Option<&Keys> {
        self.map.get(&(trace.to_owned(), span.to_owned()))
    }

    fn remember(&mut self, trace: &str, span: &str, keys: &Keys) {
        if self.cap == 0 || (keys.conversation.is_none() && keys.customer.is_none()) {
            return;
        }
        let k = (trace.to_owned(), span.to_owned());
        if self.map.insert(k.clone(), keys.clone()).is_none() {
            self.order.push_back(k);
        }
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// Resolve every span's keys within the body: a key a span lacks is taken from its nearest
/// ancestor that has it (by `parentSpanId` within the same trace), then from spans remembered
/// from earlier bodies.
fn resolve_keys(spans: &[(&SpanRec, &ResourceInfo)], carry: &Carry) -> Vec<Keys> {
    let index: HashMap<(&str, &str), usize> = spans
        .iter()
        .enumerate()
        .filter_map(|(i, (s, _))| Some(((s.trace_id.as_deref()?, s.span_id.as_deref()?), i)))
        .collect();
    let own: Vec<Keys> = spans
        .iter()
        .map(|(s, r)| own_keys(&s.attributes, &r.attributes))
        .collect();
    let mut out = own.clone();
    for (i, (span, _)) in spans.iter().enumerate() {
        let Some(trace) = span.trace_id.as_deref() else {
            continue;
        };
        let mut parent = span.parent_span_id.as_deref();
        // Bounded by the number of spans, so a parent cycle in bad input ends.
        let mut steps = 0;
        while let Some(p) = parent {
            if out[i].conversation.is_some() && out[i].customer.is_some() || steps > spans.len() {
                break;
            }
            steps += 1;
            let (keys, next) = match index.get(&(trace, p)) {
                Some(&j) => (&own[j], spans[j].0.parent_span_id.as_deref()),
                None => match carry.get(trace, p) {
                    // Carried keys are already resolved up their own chain.
                    Some(k) => (k, None),
                    None => break,
                },
            };
            if out[i].conversation.is_none() {
                out[i].conversation = inherited(&keys.conversation, p);
            }
            if out[i].customer.is_none() {
                out[i].customer = inherited(&keys.customer, p);
            }
            parent = next;
        }
    }
    out
}

fn correlation(
    keys: &Keys,
    trace: Option<&str>,
    span: Option<&str>,
    parent: Option<&str>,
) -> Correlation {
    Correlation {
        conversation_id: keys.conversation.as_ref().map(|(v, _)| v.clone()),
        conversation_from: keys.conversation.as_ref().map(|(_, o)| o.clone()),
        customer_ref: keys.customer.as_ref().map(|(v, _)| v.clone()),
        customer_from: keys.customer.as_ref().map(|(_, o)| o.clone()),
        trace_id: trace.map(str::to_owned),
        span_id: span.map(str::to_owned),
        parent_span_id: parent.map(str::to_owned),
        ..Correlation::default()
    }
}

fn conventions(attrs: &Attrs, event_name: Option<&str>) -> Vec<Convention> {
    let mut out = Vec::new();
    let has = |k: &str| attr(attrs, k).is_some();
    let prefixed = |p: &str| attrs.iter().any(|(k, _)| k.starts_with(p));
    if has("gen_ai.provider.name")
        || has("gen_ai.input.messages")
        || has("gen_ai.output.messages")
        || (has("gen_ai.operation.name") && !has("gen_ai.system"))
        || event_name == Some(OPERATION_DETAILS)
    {
        out.push(Convention::GenAi);
    }
    if has("gen_ai.system") || event_name.is_some_and(|n| LEGACY_EVENTS.contains(&n)) {
        out.push(Convention::GenAiLegacy);
    }
    if has("openinference.span.kind") {
        out.push(Convention::OpenInference);
    }
    if prefixed("gen_ai.prompt.")
        || prefixed("gen_ai.completion.")
        || prefixed("traceloop.")
        || has("llm.request.type")
    {
        out.push(Convention::OpenLlmetry);
    }
    if prefixed("langfuse.") {
        out.push(Convention::Langfuse);
    }
    out
}

const OPERATION_DETAILS: &str = "gen_ai.client.inference.operation.details";
const EVALUATION_RESULT: &str = "gen_ai.evaluation.result";
const LEGACY_EVENTS: &[&str] = &[
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
    "gen_ai.choice",
];

/// What a record is, by the first convention that says.
#[derive(Clone, Debug, PartialEq)]
enum Category {
    Model(String),
    Tool,
    Retrieval,
    Agent,
    Evaluator,
    Guardrail,
    Other(Option<String>),
}

fn category(attrs: &Attrs) -> Category {
    let s = |k: &str| {
        attr(attrs, k)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    if let Some(kind) = s("openinference.span.kind") {
        return match kind.as_str() {
            "llm" => Category::Model("chat".to_owned()),
            "embedding" => Category::Model("embeddings".to_owned()),
            "retriever" | "reranker" => Category::Retrieval,
            "tool" => Category::Tool,
            "agent" => Category::Agent,
            "evaluator" => Category::Evaluator,
            "guardrail" => Category::Guardrail,
            _ => Category::Other(Some(kind)),
        };
    }
    if let Some(op) = s("gen_ai.operation.name") {
        return match op.as_str() {
            "chat" | "text_completion" | "generate_content" | "embeddings" | "completion" => {
                Category::Model(op)
            }
            "execute_tool" => Category::Tool,
            "retrieval" => Category::Retrieval,
            "invoke_agent" | "create_agent" | "invoke_workflow" => Category::Agent,
            _ => Category::Other(Some(op)),
        };
    }
    if let Some(t) = s("langfuse.observation.type") {
        return match t.as_str() {
            "generation" => Category::Model("chat".to_owned()),
            "embedding" => Category::Model("embeddings".to_owned()),
            "tool" => Category::Tool,
            "retriever" => Category::Retrieval,
            "agent" => Category::Agent,
            "evaluator" => Category::Evaluator,
            "guardrail" => Category::Guardrail,
            _ => Category::Other(Some(t)),
        };
    }
    if let Some(t) = s("llm.request.type") {
        return Category::Model(if t == "embedding" {
            "embeddings".to_owned()
        } else {
            t
        });
    }
    if let Some(t) = s("traceloop.span.kind") {
        return match t.as_str() {
            "tool" => Category::Tool,
            "agent" | "workflow" => Category::Agent,
            _ => Category::Other(Some(t)),
        };
    }
    Category::Other(None)
}

/// Attributes whose content is lifted into typed fields; left out of `attributes` so large
/// content is stored once.
fn lifted(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.retrieval.documents",
        "gen_ai.retrieval.query.text",
        "input.value",
        "output.value",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ];
    const PREFIXES: &[&str] = &[
        "llm.input_messages.",
        "llm.output_messages.",
        "gen_ai.prompt.",
        "gen_ai.completion.",
        "retrieval.documents.",
    ];
    EXACT.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p))
}

fn kept_attributes(attrs: &Attrs) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in attrs {
        if !lifted(k) {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

fn first_str(attrs: &Attrs, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| string_attr(attrs, k))
}

fn first_value(attrs: &Attrs, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| attr(attrs, k)).map(json_or_self)
}

/// One record's view, shared by spans and log records that describe an operation.
struct View<'a> {
    attrs: &'a Attrs,
    name: &'a str,
    start: i64,
    end: Option<i64>,
    error: Option<String>,
}

/// Collects a record's events with consecutive `part` numbers.
struct Emit<'a> {
    ctx: &'a Ctx<'a>,
    path: &'a str,
    source: Source,
    corr: Correlation,
    observed: i64,
    basis: TimeBasis,
    events: Vec<EvidenceEvent>,
}

impl Emit<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        time_ns: i64,
        end_time_ns: Option<i64>,
        kind: EventKind,
        actor: Option<Actor>,
        content: Option<String>,
        attributes: BTreeMap<String, Value>,
        tool_call_id: Option<String>,
    ) {
        let part = u32::try_from(self.events.len()).unwrap_or(u32::MAX);
        let mut corr = self.corr.clone();
        if tool_call_id.is_some() {
            corr.tool_call_id = tool_call_id;
        }
        self.events.push(EvidenceEvent {
            time_ns,
            end_time_ns,
            observed_ns: self.observed,
            time_basis: self.basis,
            source: self.source.clone(),
            kind,
            correlation: corr,
            actor,
            content,
            attributes,
            raw: self.ctx.pointer(self.path, part),
        });
    }
}

fn actor(role: ActorRole, id: Option<String>) -> Option<Actor> {
    Some(Actor { role, id })
}

/// Request parameters and usage under a prefix, by their short names.
fn by_prefix(attrs: &Attrs, prefix: &str, skip: &[&str]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in attrs {
        if let Some(short) = k.strip_prefix(prefix)
            && !skip.contains(&short)
        {
            out.entry(short.to_owned()).or_insert_with(|| v.clone());
        }
    }
    out
}

fn merge_object(
    into: &mut BTreeMap<String, Value>,
    v: Option<Value>,
    rename: &[(&str, &str)],
    skip: &[&str],
) {
    if let Some(Value::Object(m)) = v {
        for (k, v) in m {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let name = rename
                .iter()
                .find(|(from, _)| *from == k)
                .map_or(k.as_str(), |(_, to)| to);
            into.entry(name.to_owned()).or_insert(v);
        }
    }
}

fn model_call(view: &View<'_>, operation: String) -> (EventKind, Option<String>) {
    let a = view.attrs;
    let invocation = first_value(
        a,
        &[
            "llm.invocation_parameters",
            "embedding.invocation_parameters",
        ],
    );
    let request_model = first_str(
        a,
        &["gen_ai.request.model", "langfuse.observation.model.name"],
    )
    .or_else(|| {
        invocation
            .as_ref()
            .and_then(|i| i.get("model"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .or_else(|| first_str(a, &["llm.request.model"]));
    let response_model = first_str(
        a,
        &[
            "gen_ai.response.model",
            "llm.model_name",
            "embedding.model_name",
            "llm.response.model",
        ],
    );
    let mut parameters = by_prefix(a, "gen_ai.request.", &["model"]);
    merge_object(&mut parameters, invocation, &[], &["model"]);
    merge_object(
        &mut parameters,
        first_value(a, &["langfuse.observation.model.parameters"]),
        &[],
        &[],
    );
    let mut usage = by_prefix(a, "gen_ai.usage.", &[]);
    let oi = by_prefix(a, "llm.token_count.", &[]);
    for (k, v) in oi {
        let name = match k.as_str() {
            "prompt" => "input_tokens".to_owned(),
            "completion" => "output_tokens".to_owned(),
            "total" => "total_tokens".to_owned(),
            other => other.to_owned(),
        };
        usage.entry(name).or_insert(v);
    }
    merge_object(
        &mut usage,
        first_value(a, &["langfuse.observation.usage_details"]),
        &[
            ("input", "input_tokens"),
            ("output", "output_tokens"),
            ("total", "total_tokens"),
        ],
        &[],
    );
    let finish_reasons = match attr(a, "gen_ai.response.finish_reasons") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => first_str(a, &["llm.finish_reason"]).into_iter().collect(),
    };
    let model_name = response_model.clone().or_else(|| request_model.clone());
    (
        EventKind::ModelCall {
            operation: Some(operation),
            provider: first_str(
                a,
                &[
                    "gen_ai.provider.name",
                    "gen_ai.system",
                    "llm.provider",
                    "llm.system",
                ],
            ),
            request_model,
            response_model,
            response_id: first_str(a, &["gen_ai.response.id"]),
            parameters,
            usage,
            finish_reasons,
            error: view.error.clone(),
        },
        model_name,
    )
}

/// The prompt and reply a model record carries, in whichever dialect.
fn model_messages(a: &Attrs) -> (Option<Vec<Message>>, Option<Vec<Message>>, Option<Value>) {
    let mut input = attr(a, "gen_ai.input.messages")
        .and_then(chat_messages)
        .or_else(|| openinference_messages(a, "llm.input_messages."))
        .or_else(|| openllmetry_messages(a, "gen_ai.prompt."));
    let output = attr(a, "gen_ai.output.messages")
        .and_then(chat_messages)
        .or_else(|| openinference_messages(a, "llm.output_messages."))
        .or_else(|| openllmetry_messages(a, "gen_ai.completion."));
    if let Some(system) = attr(a, "gen_ai.system_instructions") {
        let text = match json_or_self(system) {
            Value::Array(parts) => {
                let texts: Vec<String> = parts
                    .iter()
                    .filter_map(|p| p.get("content").and_then(text_of))
                    .collect();
                Some(texts.join("\n"))
            }
            other => text_of(&other),
        };
        if let Some(text) = text {
            input.get_or_insert_with(Vec::new).insert(
                0,
                Message {
                    role: "system".to_owned(),
                    text: Some(text),
                    ..Message::default()
                },
            );
        }
    }
    // Langfuse and un-flattened OpenInference/Traceloop carry the raw request and response.
    let raw_in = first_value(
        a,
        &[
            "langfuse.observation.input",
            "traceloop.entity.input",
            "input.value",
        ],
    );
    let raw_out = first_value(
        a,
        &["langfuse.observation.output", "traceloop.entity.output"],
    );
    let input = input.or_else(|| raw_in.as_ref().and_then(chat_messages));
    let output = output
        .or_else(|| raw_out.as_ref().and_then(chat_messages))
        .or_else(|| {
            raw_out.as_ref().and_then(|v| match v {
                Value::String(s) => Some(vec![Message {
                    role: "assistant".to_owned(),
                    text: Some(s.clone()),
                    ..Message::default()
                }]),
                _ => None,
            })
        });
    let unstructured = if input.is_none() { raw_in } else { None };
    (input, output, unstructured)
}

/// The prompt, the customer's new messages, tool results handed back, the reply and the tool
/// calls the model asked for.
fn emit_messages(e: &mut Emit<'_>, view: &View<'_>, agent: Option<String>) {
    let (input, output, unstructured) = model_messages(view.attrs);
    let end = view.end.unwrap_or(view.start);
    if let Some(messages) = input {
        let content = transcript(&messages);
        // New input since the agent last spoke: trailing user and tool messages. Earlier ones
        // are history the agent re-sends each turn and were recorded when they were new.
        let last_assistant = messages.iter().rposition(|m| m.role == "assistant");
        let fresh = last_assistant.map_or(0, |i| i + 1);
        let mut calls_by_id: HashMap<&str, &str> = HashMap::new();
        for m in &messages {
            for c in &m.tool_calls {
                if let Some(id) = &c.id {
                    calls_by_id.insert(id, &c.name);
                }
            }
        }
        let mut derived = Vec::new();
        for (i, m) in messages.iter().enumerate().skip(fresh) {
            let mut attrs = BTreeMap::new();
            attrs.insert("message.index".to_owned(), Value::from(i));
            match m.role.as_str() {
                "user" | "human" => derived.push((
                    EventKind::CustomerMessage { channel: None },
                    actor(ActorRole::Customer, e.corr.customer_ref.clone()),
                    m.text.clone(),
                    attrs,
                    None,
                )),
                "tool" => derived.push((
                    EventKind::ToolCall {
                        phase: ToolCallPhase::Returned,
                        name: m
                            .tool_call_id
                            .as_deref()
                            .and_then(|id| calls_by_id.get(id))
                            .map(|n| (*n).to_owned())
                            .or_else(|| m.name.clone()),
                        arguments: None,
                        result: m
                            .text
                            .as_ref()
                            .map(|t| json_or_self(&Value::String(t.clone()))),
                        error: None,
                    },
                    actor(ActorRole::Tool, m.name.clone()),
                    m.text.clone(),
                    attrs,
                    m.tool_call_id.clone(),
                )),
                _ => {}
            }
        }
        e.push(
            view.start,
            None,
            EventKind::Prompt {
                messages,
                input: None,
            },
            actor(ActorRole::Agent, agent.clone()),
            content,
            BTreeMap::new(),
            None,
        );
        for (kind, who, content, attrs, call) in derived {
            e.push(view.start, None, kind, who, content, attrs, call);
        }
    } else if let Some(input) = unstructured {
        let content = text_of(&input);
        e.push(
            view.start,
            None,
            EventKind::Prompt {
                messages: Vec::new(),
                input: Some(input),
            },
            actor(ActorRole::Agent, agent.clone()),
            content,
            BTreeMap::new(),
            None,
        );
    }
    for (i, m) in output.into_iter().flatten().enumerate() {
        let mut attrs = BTreeMap::new();
        attrs.insert("message.index".to_owned(), Value::from(i));
        if m.text.is_some() {
            e.push(
                end,
                None,
                EventKind::AgentMessage {
                    finish_reason: m.finish_reason.clone(),
                },
                actor(ActorRole::Agent, agent.clone()),
                m.text.clone(),
                attrs.clone(),
                None,
            );
        }
        for c in m.tool_calls {
            let content = c
                .arguments
                .as_ref()
                .and_then(text_of)
                .map(|a| format!("{}({a})", c.name));
            e.push(
                end,
                None,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Requested,
                    name: Some(c.name),
                    arguments: c.arguments,
                    result: None,
                    error: None,
                },
                actor(ActorRole::Model, None),
                content,
                attrs.clone(),
                c.id,
            );
        }
    }
}

/// The primary event and the content events of one operation record (a span, or an
/// operation-details log record).
fn map_operation(e: &mut Emit<'_>, view: &View<'_>, extra_attrs: BTreeMap<String, Value>) {
    let a = view.attrs;
    let mut attributes = kept_attributes(a);
    attributes.extend(extra_attrs);
    let agent_name = first_str(a, &["gen_ai.agent.name", "agent.name"]);
    match category(a) {
        Category::Model(op) => {
            let (kind, model) = model_call(view, op);
            e.push(
                view.start,
                view.end,
                kind,
                actor(ActorRole::Model, model),
                None,
                attributes,
                None,
            );
            emit_messages(e, view, agent_name);
        }
        Category::Tool => {
            let name = first_str(
                a,
                &["gen_ai.tool.name", "tool.name", "traceloop.entity.name"],
            )
            .or_else(|| (!view.name.is_empty()).then(|| view.name.to_owned()));
            let arguments = first_value(
                a,
                &[
                    "gen_ai.tool.call.arguments",
                    "input.value",
                    "langfuse.observation.input",
                    "traceloop.entity.input",
                ],
            );
            let result = first_value(
                a,
                &[
                    "gen_ai.tool.call.result",
                    "output.value",
                    "langfuse.observation.output",
                    "traceloop.entity.output",
                ],
            );
            let call_id = first_str(a, &["gen_ai.tool.call.id", "tool.id", "tool_call.id"]);
            let content = result.as_ref().and_then(text_of);
            e.push(
                view.start,
                view.end,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Executed,
                    name: name.clone(),
                    arguments,
                    result,
                    error: view.error.clone(),
                },
                actor(ActorRole::Tool, name),
                content,
                attributes,
                call_id,
            );
        }
        Category::Retrieval => {
            let mut documents: Vec<Document> = attr(a, "gen_ai.retrieval.documents")
                .map(genai_documents)
                .unwrap_or_default();
            if documents.is_empty() {
                documents = openinference_documents(a);
            }
            if documents.is_empty() {
                documents = first_value(a, &["langfuse.observation.output", "output.value"])
                    .map(|v| genai_documents(&v))
                    .unwrap_or_default();
            }
            let query = first_str(
                a,
                &[
                    "gen_ai.retrieval.query.text",
                    "input.value",
                    "langfuse.observation.input",
                ],
            );
            let content = {
                let texts: Vec<&str> = documents
                    .iter()
                    .filter_map(|d| d.content.as_deref())
                    .collect();
                (!texts.is_empty()).then(|| texts.join("\n"))
            };
            e.push(
                view.start,
                view.end,
                EventKind::Retrieval {
                    data_source: first_str(a, &["gen_ai.data_source.id"]),
                    query,
                    documents,
                },
                actor(ActorRole::Agent, agent_name),
                content,
                attributes,
                None,
            );
        }
        Category::Agent => {
            let name = agent_name
                .or_else(|| first_str(a, &["traceloop.entity.name"]))
                .or_else(|| (!view.name.is_empty()).then(|| view.name.to_owned()));
            e.push(
                view.start,
                view.end,
                EventKind::AgentInvocation {
                    agent_name: name.clone(),
                    agent_id: first_str(a, &["gen_ai.agent.id"]),
                },
                actor(ActorRole::Agent, name.clone()),
                None,
                attributes,
                None,
            );
            emit_messages(e, view, name);
        }
        Category::Evaluator => {
            let output = first_value(a, &["output.value", "langfuse.observation.output"]);
            e.push(
                view.start,
                view.end,
                EventKind::ConfidenceSignal {
                    name: Some(view.name.to_owned()).filter(|n| !n.is_empty()),
                    score: output.as_ref().and_then(|o| {
                        o.get("score")
                            .and_then(Value::as_f64)
                            .or_else(|| o.as_f64())
                    }),
                    label: output
                        .as_ref()
                        .and_then(|o| o.get("label"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    explanation: first_str(a, &["langfuse.observation.status_message"]),
                },
                actor(ActorRole::System, None),
                output.as_ref().and_then(text_of),
                attributes,
                None,
            );
        }
        Category::Guardrail => {
            let outcome = first_str(
                a,
                &[
                    "langfuse.observation.status_message",
                    "langfuse.observation.level",
                ],
            )
            .or_else(|| {
                first_value(a, &["output.value", "langfuse.observation.output"])
                    .as_ref()
                    .and_then(text_of)
            });
            e.push(
                view.start,
                view.end,
                EventKind::ControlAction {
                    control: Some(view.name.to_owned()).filter(|n| !n.is_empty()),
                    action: Some("guardrail".to_owned()),
                    outcome: outcome.clone(),
                },
                actor(ActorRole::System, None),
                outcome,
                attributes,
                None,
            );
        }
        Category::Other(operation) => {
            let content = first_value(
                a,
                &[
                    "output.value",
                    "langfuse.observation.output",
                    "traceloop.entity.output",
                ],
            )
            .as_ref()
            .and_then(text_of);
            e.push(
                view.start,
                view.end,
                EventKind::Other {
                    name: view.name.to_owned(),
                    operation,
                },
                actor(ActorRole::Agent, agent_name),
                content,
                attributes,
                None,
            );
        }
    }
}

fn evaluation(attrs: &Attrs) -> EventKind {
    EventKind::ConfidenceSignal {
        name: first_str(attrs, &["gen_ai.evaluation.name"]),
        score: attr(attrs, "gen_ai.evaluation.score.value").and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        }),
        label: first_str(attrs, &["gen_ai.evaluation.score.label"]),
        explanation: first_str(attrs, &["gen_ai.evaluation.explanation"]),
    }
}

fn source(
    ctx: &Ctx<'_>,
    resource: &ResourceInfo,
    scope: &ScopeInfo,
    conventions: Vec<Convention>,
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

fn finish(items: &mut Vec<Item>, stats: &mut ReadStats, events: Vec<EvidenceEvent>) {
    stats.records_mapped += 1;
    stats.events += events.len() as u64;
    items.extend(events.into_iter().map(|e| Item::Event(Box::new(e))));
}

fn bad(
    items: &mut Vec<Item>,
    stats: &mut ReadStats,
    ctx: &Ctx<'_>,
    path: &str,
    reason: String,
    excerpt: String,
    is_record: bool,
) {
    if is_record {
        stats.records_quarantined += 1;
    }
    stats.quarantined += 1;
    items.push(ctx.quarantine(path, reason, excerpt));
}

/// A quarantine path names a record when it ends in a record list index (not a resource or
/// scope problem, which loses no record by itself).
fn names_record(path: &str, record_list: &str) -> bool {
    path.rsplit('/').nth(1) == Some(record_list)
}

pub(crate) fn map_traces(
    decoded: Vec<Decoded<SpanRec>>,
    ctx: &Ctx<'_>,
    carry: &mut Carry,
    stats: &mut ReadStats,
) -> Vec<Item> {
    let mut items = Vec::new();
    let spans: Vec<(&SpanRec, &ResourceInfo)> = decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Record {
                record, resource, ..
            } => Some((record, resource.as_ref())),
            Decoded::Bad { .. } => None,
        })
        .collect();
    let keys = resolve_keys(&spans, carry);
    for ((span, _), k) in spans.iter().zip(&keys) {
        if let (Some(t), Some(s)) = (&span.trace_id, &span.span_id) {
            carry.remember(t, s, k);
        }
    }
    let mut keys = keys.into_iter();
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
                let is_record = names_record(path, "spans");
                if is_record {
                    stats.records += 1;
                }
                bad(
                    &mut items,
                    stats,
                    ctx,
                    path,
                    reason.clone(),
                    excerpt.clone(),
                    is_record,
                );
                continue;
            }
        };
        stats.records += 1;
        let k = keys.next().unwrap_or_default();
        let Some(start) = span.start_ns.or(span.end_ns) else {
            let excerpt = format!("span {:?} {:?}", span.name, span.span_id);
            bad(
                &mut items,
                stats,
                ctx,
                path,
                "span has neither startTimeUnixNano nor endTimeUnixNano".to_owned(),
                excerpt,
                true,
            );
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
            corr: correlation(
                &k,
                span.trace_id.as_deref(),
                span.span_id.as_deref(),
                span.parent_span_id.as_deref(),
            ),
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
        };
        let mut extra = resource_attributes(resource);
        extra.insert("otel.span.name".to_owned(), Value::from(span.name.clone()));
        let kind_name = usize::try_from(span.kind)
            .ok()
            .and_then(|i| SPAN_KIND_NAMES.get(i))
            .copied();
        extra.insert(
            "otel.span.kind".to_owned(),
            kind_name.map_or_else(|| Value::from(span.kind), Value::from),
        );
        if span.status_code != 0 {
            extra.insert(
                "otel.status_code".to_owned(),
                Value::from(if span.status_code == 1 { "ok" } else { "error" }),
            );
        }
        if let Some(m) = &span.status_message {
            extra.insert("otel.status_message".to_owned(), Value::from(m.clone()));
        }
        // Span events other than evaluations ride along on the primary event, not dropped.
        let mut other_events = Vec::new();
        for ev in &span.events {
            if ev.name != EVALUATION_RESULT {
                let mut m = Map::new();
                m.insert("name".to_owned(), Value::from(ev.name.clone()));
                if let Some(t) = ev.time_ns {
                    m.insert("time_ns".to_owned(), Value::from(t));
                }
                m.insert(
                    "attributes".to_owned(),
                    Value::Object(super::model::attrs_to_map(&ev.attributes)),
                );
                other_events.push(Value::Object(m));
            }
        }
        if !other_events.is_empty() {
            extra.insert("otel.span.events".to_owned(), Value::Array(other_events));
        }
        map_operation(&mut e, &view, extra);
        for ev in span.events.iter().filter(|ev| ev.name == EVALUATION_RESULT) {
            let kind = evaluation(&ev.attributes);
            e.push(
                ev.time_ns.unwrap_or(start),
                None,
                kind,
                actor(ActorRole::System, None),
                first_str(&ev.attributes, &["gen_ai.evaluation.explanation"]),
                kept_attributes(&ev.attributes),
                None,
            );
        }
        finish(&mut items, stats, e.events);
    }
    items
}

fn legacy_event(
    e: &mut Emit<'_>,
    name: &str,
    body: Option<&Value>,
    time: i64,
    attrs: BTreeMap<String, Value>,
) {
    let body = body.map(json_or_self).unwrap_or(Value::Null);
    let content = body
        .get("content")
        .and_then(text_of)
        .or_else(|| body.as_str().map(str::to_owned));
    let customer = e.corr.customer_ref.clone();
    let tool_calls = |v: &Value| -> Vec<(Option<String>, String, Option<Value>)> {
        v.get("tool_calls")
            .and_then(Value::as_array)
            .map(|calls| {
                calls
                    .iter()
                    .filter_map(|c| {
                        let f = c.get("function").unwrap_or(c);
                        let name = f.get("name")?.as_str()?.to_owned();
                        Some((
                            c.get("id").and_then(Value::as_str).map(str::to_owned),
                            name,
                            f.get("arguments").map(json_or_self),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut requested = Vec::new();
    match name {
        "gen_ai.system.message" => {
            let messages = vec![Message {
                role: "system".to_owned(),
                text: content.clone(),
                ..Message::default()
            }];
            e.push(
                time,
                None,
                EventKind::Prompt {
                    messages,
                    input: None,
                },
                actor(ActorRole::Agent, None),
                content,
                attrs.clone(),
                None,
            );
        }
        "gen_ai.user.message" => {
            e.push(
                time,
                None,
                EventKind::CustomerMessage { channel: None },
                actor(ActorRole::Customer, customer),
                content,
                attrs.clone(),
                None,
            );
        }
        "gen_ai.tool.message" => {
            let id = body.get("id").and_then(Value::as_str).map(str::to_owned);
            let result = body.get("content").map(json_or_self);
            e.push(
                time,
                None,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Returned,
                    name: None,
                    arguments: None,
                    result,
                    error: None,
                },
                actor(ActorRole::Tool, None),
                content,
                attrs.clone(),
                id,
            );
        }
        "gen_ai.assistant.message" => {
            if content.is_some() {
                e.push(
                    time,
                    None,
                    EventKind::AgentMessage {
                        finish_reason: None,
                    },
                    actor(ActorRole::Agent, None),
                    content,
                    attrs.clone(),
                    None,
                );
            }
            requested = tool_calls(&body);
        }
        _ => {
            // gen_ai.choice: {index, finish_reason, message:{role, content, tool_calls}}
            let message = body.get("message").cloned().unwrap_or(Value::Null);
            let text = message.get("content").and_then(text_of);
            let finish_reason = body
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if text.is_some() || tool_calls(&message).is_empty() {
                e.push(
                    time,
                    None,
                    EventKind::AgentMessage { finish_reason },
                    actor(ActorRole::Agent, None),
                    text,
                    attrs.clone(),
                    None,
                );
            }
            requested = tool_calls(&message);
        }
    }
    for (id, name, arguments) in requested {
        let content = arguments
            .as_ref()
            .and_then(text_of)
            .map(|a| format!("{name}({a})"));
        e.push(
            time,
            None,
            EventKind::ToolCall {
                phase: ToolCallPhase::Requested,
                name: Some(name),
                arguments,
                result: None,
                error: None,
            },
            actor(ActorRole::Model, None),
            content,
            attrs.clone(),
            id,
        );
    }
}

pub(crate) fn map_logs(
    decoded: Vec<Decoded<LogRec>>,
    ctx: &Ctx<'_>,
    carry: &mut Carry,
    stats: &mut ReadStats,
) -> Vec<Item> {
    let mut items = Vec::new();
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
                let is_record = names_record(&path, "logRecords");
                if is_record {
                    stats.records += 1;
                }
                bad(&mut items, stats, ctx, &path, reason, excerpt, is_record);
                continue;
            }
        };
        stats.records += 1;
        let (time, basis) = match (log.time_ns, log.observed_ns) {
            (Some(t), _) => (t, TimeBasis::Occurred),
            (None, Some(o)) => (o, TimeBasis::Observed),
            (None, None) => {
                let excerpt = format!("log record {:?}", log.event_name);
                bad(
                    &mut items,
                    stats,
                    ctx,
                    &path,
                    "log record has neither timeUnixNano nor observedTimeUnixNano".to_owned(),
                    excerpt,
                    true,
                );
                continue;
            }
        };
        let event_name = log
            .event_name
            .clone()
            .or_else(|| string_attr(&log.attributes, "event.name"));
        let mut keys = own_keys(&log.attributes, &resource.attributes);
        // A log record emitted inside a span takes that span's keys (remembered from an
        // earlier traces body); the span is the record's context, as its ancestor would be.
        if let (Some(t), Some(s)) = (&log.trace_id, &log.span_id)
            && let Some(span_keys) = carry.get(t, s)
        {
            if keys.conversation.is_none() {
                keys.conversation = inherited(&span_keys.conversation, s);
            }
            if keys.customer.is_none() {
                keys.customer = inherited(&span_keys.customer, s);
            }
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
            corr: correlation(&keys, log.trace_id.as_deref(), log.span_id.as_deref(), None),
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
                };
                map_operation(&mut e, &view, extra);
            }
            Some(EVALUATION_RESULT) => {
                let mut attributes = kept_attributes(&log.attributes);
                attributes.extend(extra);
                let content = first_str(&log.attributes, &["gen_ai.evaluation.explanation"]);
                e.push(
                    time,
                    None,
                    evaluation(&log.attributes),
                    actor(ActorRole::System, None),
                    content,
                    attributes,
                    None,
                );
            }
            Some(n) if LEGACY_EVENTS.contains(&n) => {
                let mut attributes = kept_attributes(&log.attributes);
                attributes.extend(extra);
                legacy_event(&mut e, n, log.body.as_ref(), time, attributes);
            }
            other => {
                let mut attributes = kept_attributes(&log.attributes);
                attributes.extend(extra);
                let content = log.body.as_ref().and_then(text_of);
                let name = other.map_or_else(|| "log".to_owned(), str::to_owned);
                e.push(
                    time,
                    None,
                    EventKind::Other {
                        name,
                        operation: None,
                    },
                    None,
                    content,
                    attributes,
                    None,
                );
            }
        }
        finish(&mut items, stats, e.events);
    }
    items
}
