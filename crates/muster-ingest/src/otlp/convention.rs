//! What a record *is*, by convention (GenAI current and legacy, OpenInference, OpenLLMetry,
//! Langfuse, and the Azure AI Foundry dialect of the GenAI conventions), and the events its
//! attributes and captured content give. `docs/evidence-model.md` has the same rules as tables;
//! change both together.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::keys::string_attr;
use super::map::{Emit, Ev};
use super::messages::{
    chat_message, chat_messages, content_text, genai_documents, json_or_self,
    openinference_documents, openinference_messages, openllmetry_messages, part_text, text_of,
    transcript,
};
use super::model::{Attrs, SpanEvent, attr};
use crate::event::{ActorRole, Convention, EventKind, Message, ToolCallPhase};

pub(crate) const OPERATION_DETAILS: &str = "gen_ai.client.inference.operation.details";
pub(crate) const EVALUATION_RESULT: &str = "gen_ai.evaluation.result";
pub(crate) const LEGACY_EVENTS: &[&str] = &[
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
    "gen_ai.choice",
];
/// Where Azure AI Inference and Agents put a message span event's JSON body.
pub(crate) const EVENT_CONTENT: &str = "gen_ai.event.content";
/// Azure AI Agents: a listed run step's tool calls (`{"tool_calls": […]}`).
const RUN_STEP_TOOL_CALLS: &str = "gen_ai.run_step.tool_calls";
/// Azure AI Agents' runs of an agent on a thread, what `invoke_agent` is in the GenAI conventions.
const THREAD_RUNS: &[&str] = &["start_thread_run", "process_thread_run"];

/// A span event that carries one message (Azure AI Inference and Agents record content so).
pub(crate) fn is_message_event(name: &str) -> bool {
    LEGACY_EVENTS.contains(&name) || name == RUN_STEP_TOOL_CALLS
}

pub(crate) fn conventions(attrs: &Attrs, event_name: Option<&str>) -> Vec<Convention> {
    let has = |k: &str| attr(attrs, k).is_some();
    let prefixed = |p: &str| attrs.iter().any(|(k, _)| k.starts_with(p));
    let mut out = Vec::new();
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
    let model = |op: &str| Category::Model(op.to_owned());
    if let Some(kind) = s("openinference.span.kind") {
        return match kind.as_str() {
            "llm" => model("chat"),
            "embedding" => model("embeddings"),
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
            op if THREAD_RUNS.contains(&op) => Category::Agent,
            _ => Category::Other(Some(op)),
        };
    }
    if let Some(t) = s("langfuse.observation.type") {
        return match t.as_str() {
            "generation" => model("chat"),
            "embedding" => model("embeddings"),
            "tool" => Category::Tool,
            "retriever" => Category::Retrieval,
            "agent" => Category::Agent,
            "evaluator" => Category::Evaluator,
            "guardrail" => Category::Guardrail,
            _ => Category::Other(Some(t)),
        };
    }
    if let Some(t) = s("llm.request.type") {
        return if t == "embedding" {
            model("embeddings")
        } else {
            Category::Model(t)
        };
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
        EVENT_CONTENT,
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

pub(crate) fn kept_attributes(attrs: &Attrs) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in attrs {
        if !lifted(k) {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

pub(crate) fn first_str(attrs: &Attrs, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| string_attr(attrs, k))
}

fn first_value(attrs: &Attrs, keys: &[&str]) -> Option<Value> {
    keys.iter().find_map(|k| attr(attrs, k)).map(json_or_self)
}

/// One operation record: a span, or a log record that describes one (operation details).
pub(crate) struct View<'a> {
    pub attrs: &'a Attrs,
    pub name: &'a str,
    pub start: i64,
    pub end: Option<i64>,
    pub error: Option<String>,
    /// The span's events (none for a log record).
    pub events: &'a [SpanEvent],
}

impl View<'_> {
    fn name(&self) -> Option<String> {
        (!self.name.is_empty()).then(|| self.name.to_owned())
    }
}

/// Attributes under a prefix, by their short names.
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

/// Add an object's fields (renamed where asked) to what is there, without overwriting.
fn merge_object(
    into: &mut BTreeMap<String, Value>,
    object: Option<Value>,
    rename: &[(&str, &str)],
    skip: &[&str],
) {
    let Some(Value::Object(m)) = object else {
        return;
    };
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

const TOKEN_NAMES: &[(&str, &str)] = &[
    ("prompt", "input_tokens"),
    ("completion", "output_tokens"),
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("total", "total_tokens"),
];

/// The model-call detail and the model's name (for the actor).
fn model_call(view: &View<'_>, operation: String) -> (EventKind, Option<String>) {
    let a = view.attrs;
    let invocation = first_value(
        a,
        &[
            "llm.invocation_parameters",
            "embedding.invocation_parameters",
        ],
    );
    let invoked_model = invocation
        .as_ref()
        .and_then(|i| i.get("model"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let request_model = first_str(
        a,
        &["gen_ai.request.model", "langfuse.observation.model.name"],
    )
    .or(invoked_model)
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
    let openinference = by_prefix(a, "llm.token_count.", &[]);
    merge_object(
        &mut usage,
        Some(Value::Object(openinference.into_iter().collect())),
        TOKEN_NAMES,
        &[],
    );
    merge_object(
        &mut usage,
        first_value(a, &["langfuse.observation.usage_details"]),
        TOKEN_NAMES,
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
    let kind = EventKind::ModelCall {
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
    };
    (kind, model_name)
}

/// What a model was given and what it answered, in whichever dialect the record uses. Returns
/// (input messages, output messages, raw input when there are no input messages).
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
            Value::Array(parts) => Some(
                parts
                    .iter()
                    .filter_map(|p| p.get("content").and_then(text_of))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            other => text_of(&other),
        };
        if let Some(text) = text {
            let system = Message {
                role: "system".to_owned(),
                text: Some(text),
                ..Message::default()
            };
            input.get_or_insert_with(Vec::new).insert(0, system);
        }
    }
    // Langfuse and OpenInference/Traceloop without flattened messages carry the raw request and
    // response instead.
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
        .or_else(|| match &raw_out {
            Some(Value::String(s)) => Some(vec![Message {
                role: "assistant".to_owned(),
                text: Some(s.clone()),
                ..Message::default()
            }]),
            _ => None,
        });
    let unstructured = if input.is_none() { raw_in } else { None };
    (input, output, unstructured)
}

fn message_index(i: usize) -> BTreeMap<String, Value> {
    BTreeMap::from([("message.index".to_owned(), Value::from(i))])
}

/// A message span event's body (`gen_ai.event.content`, JSON in a string).
fn event_body(ev: &SpanEvent) -> Value {
    attr(&ev.attributes, EVENT_CONTENT).map_or(Value::Null, json_or_self)
}

/// Messages recorded as span events (Azure AI Inference): the request's messages in order
/// (`gen_ai.{system,user,assistant,tool}.message`, each the request message as JSON), and the
/// model's choices (`gen_ai.choice`: `{message, finish_reason, index}`).
fn event_messages(events: &[SpanEvent]) -> (Option<Vec<Message>>, Option<Vec<Message>>) {
    let mut input = Vec::new();
    let mut output = Vec::new();
    for ev in events.iter().filter(|ev| is_message_event(&ev.name)) {
        let body = event_body(ev);
        if ev.name == "gen_ai.choice" {
            let mut m = body
                .get("message")
                .and_then(chat_message)
                .unwrap_or_default();
            m.role = "assistant".to_owned();
            m.finish_reason = body
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(str::to_owned);
            output.push(m);
        } else {
            let mut m = chat_message(&body).unwrap_or_default();
            if body.get("role").is_none() {
                // `gen_ai.user.message` → user; a run step's tool calls are the assistant's.
                let role = ev
                    .name
                    .strip_prefix("gen_ai.")
                    .and_then(|n| n.strip_suffix(".message"))
                    .unwrap_or("assistant");
                m.role = role.to_owned();
            }
            if m.role == "tool" && m.tool_call_id.is_none() {
                // Azure AI Agents names the call `id` (Inference: `tool_call_id`).
                m.tool_call_id = body.get("id").and_then(Value::as_str).map(str::to_owned);
            }
            input.push(m);
        }
    }
    let some = |v: Vec<Message>| (!v.is_empty()).then_some(v);
    (some(input), some(output))
}

/// Each message span event as its own event at its own time (Azure AI Agents: the messages of a
/// thread as created and listed, a run's tool calls and results, an agent's instructions).
fn message_events(e: &mut Emit<'_>, view: &View<'_>) {
    let events: Vec<(&SpanEvent, Value)> = view
        .events
        .iter()
        .filter(|ev| is_message_event(&ev.name))
        .map(|ev| (ev, event_body(ev)))
        .collect();
    if events.is_empty() {
        return;
    }
    // A tool result names its call by id only; the call's name is on the request.
    let names: HashMap<String, String> = events
        .iter()
        .flat_map(|(_, body)| legacy_tool_calls(body.get("message").unwrap_or(body)))
        .filter_map(|(id, name, _)| Some((id?, name?)))
        .collect();
    for (ev, body) in &events {
        let mut attributes = kept_attributes(&ev.attributes);
        attributes.insert("otel.event_name".to_owned(), Value::from(ev.name.clone()));
        let time = ev.time_ns.unwrap_or(view.start);
        legacy_event(e, &ev.name, Some(body), time, attributes, &names);
    }
}

type Messages = (Option<Vec<Message>>, Option<Vec<Message>>, Option<Value>);

/// The prompt, the customer's new messages, tool results handed back, the reply and the tool
/// calls the model asked for.
fn content_events(e: &mut Emit<'_>, view: &View<'_>, agent: Option<String>, messages: Messages) {
    let (input, output, unstructured) = messages;
    if let Some(messages) = input {
        // New input since the agent last spoke: trailing user and tool messages. Earlier ones
        // are history the agent re-sends each turn and were recorded when they were new.
        let fresh = messages
            .iter()
            .rposition(|m| m.role == "assistant")
            .map_or(0, |i| i + 1);
        let calls: HashMap<&str, &str> = messages
            .iter()
            .flat_map(|m| &m.tool_calls)
            .filter_map(|c| Some((c.id.as_deref()?, c.name.as_str())))
            .collect();
        let mut derived = Vec::new();
        for (i, m) in messages.iter().enumerate().skip(fresh) {
            match m.role.as_str() {
                "user" | "human" => derived.push(
                    Ev::new(view.start, EventKind::CustomerMessage { channel: None })
                        .by(ActorRole::Customer, e.customer())
                        .content(m.text.clone())
                        .attributes(message_index(i)),
                ),
                "tool" => {
                    let name = m
                        .tool_call_id
                        .as_deref()
                        .and_then(|id| calls.get(id))
                        .map(|n| (*n).to_owned())
                        .or_else(|| m.name.clone());
                    let result = m
                        .text
                        .as_ref()
                        .map(|t| json_or_self(&Value::from(t.as_str())));
                    let kind = EventKind::ToolCall {
                        phase: ToolCallPhase::Returned,
                        name: name.clone(),
                        arguments: None,
                        result,
                        error: None,
                    };
                    derived.push(
                        Ev::new(view.start, kind)
                            .by(ActorRole::Tool, name)
                            .content(m.text.clone())
                            .attributes(message_index(i))
                            .call_id(m.tool_call_id.clone()),
                    );
                }
                _ => {}
            }
        }
        let content = transcript(&messages);
        let prompt = EventKind::Prompt {
            messages,
            input: None,
        };
        e.push(
            Ev::new(view.start, prompt)
                .by(ActorRole::Agent, agent.clone())
                .content(content),
        );
        for ev in derived {
            e.push(ev);
        }
    } else if let Some(input) = unstructured {
        let content = text_of(&input);
        let prompt = EventKind::Prompt {
            messages: Vec::new(),
            input: Some(input),
        };
        e.push(
            Ev::new(view.start, prompt)
                .by(ActorRole::Agent, agent.clone())
                .content(content),
        );
    }
    // The reply exists when the call ends.
    let end = view.end.unwrap_or(view.start);
    for (i, m) in output.into_iter().flatten().enumerate() {
        if m.text.is_some() {
            let kind = EventKind::AgentMessage {
                finish_reason: m.finish_reason.clone(),
            };
            e.push(
                Ev::new(end, kind)
                    .by(ActorRole::Agent, agent.clone())
                    .content(m.text.clone())
                    .attributes(message_index(i)),
            );
        }
        for c in m.tool_calls {
            e.push(
                requested_call(end, c.id, Some(c.name), c.arguments).attributes(message_index(i)),
            );
        }
    }
}

fn requested_call(
    time: i64,
    id: Option<String>,
    name: Option<String>,
    arguments: Option<Value>,
) -> Ev {
    let content = arguments.as_ref().and_then(text_of).map(|a| match &name {
        Some(name) => format!("{name}({a})"),
        None => a,
    });
    let kind = EventKind::ToolCall {
        phase: ToolCallPhase::Requested,
        name,
        arguments,
        result: None,
        error: None,
    };
    Ev::new(time, kind)
        .by(ActorRole::Model, None)
        .content(content)
        .call_id(id)
}

/// The primary event and the content events of one operation record.
pub(crate) fn map_operation(e: &mut Emit<'_>, view: &View<'_>, extra: BTreeMap<String, Value>) {
    let a = view.attrs;
    let mut attributes = kept_attributes(a);
    attributes.extend(extra);
    let agent_name = first_str(a, &["gen_ai.agent.name", "agent.name"]);
    let primary = |kind| {
        Ev::new(view.start, kind)
            .ending(view.end)
            .attributes(attributes)
    };
    // Message span events are mapped one by one unless they are a model call's exchange.
    let mut events_mapped = false;
    match category(a) {
        Category::Model(op) => {
            let (kind, model) = model_call(view, op);
            e.push(primary(kind).by(ActorRole::Model, model));
            let messages = model_messages(a);
            if messages.0.is_none()
                && messages.1.is_none()
                && messages.2.is_none()
                && view.events.iter().any(|ev| is_message_event(&ev.name))
            {
                // Azure AI Inference: the request and the choices as span events.
                let (input, output) = event_messages(view.events);
                content_events(e, view, agent_name, (input, output, None));
                events_mapped = true;
            } else {
                content_events(e, view, agent_name, messages);
            }
        }
        Category::Tool => {
            let name = first_str(
                a,
                &["gen_ai.tool.name", "tool.name", "traceloop.entity.name"],
            )
            .or_else(|| view.name());
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
            let content = result.as_ref().and_then(text_of);
            let kind = EventKind::ToolCall {
                phase: ToolCallPhase::Executed,
                name: name.clone(),
                arguments,
                result,
                error: view.error.clone(),
            };
            e.push(
                primary(kind)
                    .by(ActorRole::Tool, name)
                    .content(content)
                    .call_id(first_str(
                        a,
                        &["gen_ai.tool.call.id", "tool.id", "tool_call.id"],
                    )),
            );
        }
        Category::Retrieval => {
            let mut documents = attr(a, "gen_ai.retrieval.documents")
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
            let texts: Vec<&str> = documents
                .iter()
                .filter_map(|d| d.content.as_deref())
                .collect();
            let content = (!texts.is_empty()).then(|| texts.join("\n"));
            let kind = EventKind::Retrieval {
                data_source: first_str(a, &["gen_ai.data_source.id"]),
                query: first_str(
                    a,
                    &[
                        "gen_ai.retrieval.query.text",
                        "input.value",
                        "langfuse.observation.input",
                    ],
                ),
                documents,
            };
            e.push(
                primary(kind)
                    .by(ActorRole::Agent, agent_name)
                    .content(content),
            );
        }
        Category::Agent => {
            // A thread run's span name (`process_thread_run`) names no agent.
            let thread_run = first_str(a, &["gen_ai.operation.name"])
                .is_some_and(|op| THREAD_RUNS.contains(&op.as_str()));
            let name = agent_name
                .or_else(|| first_str(a, &["traceloop.entity.name"]))
                .or_else(|| if thread_run { None } else { view.name() });
            let kind = EventKind::AgentInvocation {
                agent_name: name.clone(),
                agent_id: first_str(a, &["gen_ai.agent.id"]),
            };
            e.push(primary(kind).by(ActorRole::Agent, name.clone()));
            content_events(e, view, name, model_messages(a));
        }
        Category::Evaluator => {
            let output = first_value(a, &["output.value", "langfuse.observation.output"]);
            let score = output.as_ref().and_then(|o| {
                o.get("score")
                    .and_then(Value::as_f64)
                    .or_else(|| o.as_f64())
            });
            let label = output
                .as_ref()
                .and_then(|o| o.get("label"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let kind = EventKind::ConfidenceSignal {
                name: view.name(),
                score,
                label,
                explanation: first_str(a, &["langfuse.observation.status_message"]),
            };
            e.push(
                primary(kind)
                    .by(ActorRole::System, None)
                    .content(output.as_ref().and_then(text_of)),
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
            let kind = EventKind::ControlAction {
                control: view.name(),
                action: Some("guardrail".to_owned()),
                outcome: outcome.clone(),
            };
            e.push(primary(kind).by(ActorRole::System, None).content(outcome));
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
            let kind = EventKind::Other {
                name: view.name.to_owned(),
                operation,
            };
            e.push(
                primary(kind)
                    .by(ActorRole::Agent, agent_name)
                    .content(content),
            );
        }
    }
    if !events_mapped {
        message_events(e, view);
    }
}

/// A `gen_ai.evaluation.result` event (span event or log record).
pub(crate) fn evaluation(time: i64, attrs: &Attrs) -> Ev {
    let score = attr(attrs, "gen_ai.evaluation.score.value").and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    let explanation = first_str(attrs, &["gen_ai.evaluation.explanation"]);
    let kind = EventKind::ConfidenceSignal {
        name: first_str(attrs, &["gen_ai.evaluation.name"]),
        score,
        label: first_str(attrs, &["gen_ai.evaluation.score.label"]),
        explanation: explanation.clone(),
    };
    Ev::new(time, kind)
        .by(ActorRole::System, None)
        .content(explanation)
        .attributes(kept_attributes(attrs))
}

/// A requested tool call: id, name, arguments.
type Call = (Option<String>, Option<String>, Option<Value>);

/// Tool calls in an OpenAI-shaped message (`tool_calls: [{id, function: {name, arguments}}]`).
/// A built-in tool (Azure AI Agents: `code_interpreter`, `bing_grounding`, `file_search`…) is
/// named by its `type`, with the details under that type as its arguments; a call whose name
/// and arguments content recording left out keeps its id.
fn legacy_tool_calls(message: &Value) -> Vec<Call> {
    let Some(calls) = message.get("tool_calls").and_then(Value::as_array) else {
        return Vec::new();
    };
    calls
        .iter()
        .filter_map(|c| {
            let id = c.get("id").and_then(Value::as_str).map(str::to_owned);
            let function = c.get("function");
            let f = function.unwrap_or(c);
            let mut name = f.get("name").and_then(Value::as_str).map(str::to_owned);
            let mut arguments = f.get("arguments").map(json_or_self);
            if name.is_none()
                && function.is_none()
                && let Some(t) = c.get("type").and_then(Value::as_str)
                && t != "function"
            {
                name = Some(t.to_owned());
                arguments = arguments.or_else(|| c.get(t).cloned());
            }
            (id.is_some() || name.is_some()).then_some((id, name, arguments))
        })
        .collect()
}

/// A tool's result handed back to the model.
fn returned_call(
    time: i64,
    id: Option<String>,
    name: Option<String>,
    result: Option<Value>,
    content: Option<String>,
) -> Ev {
    let result = result.filter(|r| r.as_str() != Some(""));
    let content = content.or_else(|| result.as_ref().and_then(text_of));
    let kind = EventKind::ToolCall {
        phase: ToolCallPhase::Returned,
        name: name.clone(),
        arguments: None,
        result,
        error: None,
    };
    Ev::new(time, kind)
        .by(ActorRole::Tool, name)
        .content(content)
        .call_id(id)
}

/// A per-message event: a log record of the GenAI conventions ≤ 1.36 (bodies are kvlists, now
/// JSON objects), or a span event of Azure AI Inference and Agents (the body is the JSON in
/// `gen_ai.event.content`). `name` is one of [`LEGACY_EVENTS`] or a run step's tool calls;
/// `names` gives a tool call's name by its id, for results that carry only the id.
pub(crate) fn legacy_event(
    e: &mut Emit<'_>,
    name: &str,
    body: Option<&Value>,
    time: i64,
    attributes: BTreeMap<String, Value>,
    names: &HashMap<String, String>,
) {
    let body = body.map(json_or_self).unwrap_or(Value::Null);
    // `content` is a string, a list of parts, or (Azure AI Agents) `{"text": {"value": …}}`;
    // Azure AI Projects' Responses events put the text at the top (`{"text": …}`).
    let content = body
        .get("content")
        .and_then(|c| content_text(c).or_else(|| text_of(c)))
        .or_else(|| body.as_str().map(str::to_owned))
        .or_else(|| part_text(&body))
        .filter(|t| !t.is_empty());
    let at = |kind| Ev::new(time, kind).attributes(attributes.clone());
    let mut requested = Vec::new();
    match name {
        "gen_ai.system.message" => {
            let messages = vec![Message {
                role: "system".to_owned(),
                text: content.clone(),
                ..Message::default()
            }];
            let kind = EventKind::Prompt {
                messages,
                input: None,
            };
            e.push(at(kind).by(ActorRole::Agent, None).content(content));
        }
        "gen_ai.user.message" => {
            let customer = e.customer();
            let kind = EventKind::CustomerMessage { channel: None };
            e.push(at(kind).by(ActorRole::Customer, customer).content(content));
        }
        "gen_ai.tool.message" => {
            let id_of = |v: &Value| {
                v.get("id")
                    .or_else(|| v.get("tool_call_id"))
                    .or_else(|| v.get("call_id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let named = |id: &Option<String>| id.as_ref().and_then(|i| names.get(i)).cloned();
            if let Some(outputs) = body.get("tool_call_outputs").and_then(Value::as_array) {
                // Azure AI Projects' Responses events: `{"tool_call_outputs": [{type, id, output}]}`.
                for o in outputs {
                    let id = id_of(o);
                    let output = o.get("output").cloned();
                    let ev = returned_call(time, id.clone(), named(&id), output, None);
                    e.push(ev.attributes(attributes.clone()));
                }
            } else {
                let id = id_of(&body);
                let result = body.get("content").map(json_or_self);
                e.push(
                    returned_call(time, id.clone(), named(&id), result, content.clone())
                        .attributes(attributes.clone()),
                );
            }
        }
        "gen_ai.assistant.message" | RUN_STEP_TOOL_CALLS => {
            if content.is_some() {
                let kind = EventKind::AgentMessage {
                    finish_reason: None,
                };
                e.push(at(kind).by(ActorRole::Agent, None).content(content));
            }
            requested = legacy_tool_calls(&body);
        }
        _ => {
            // gen_ai.choice: {index, finish_reason, message: {role, content, tool_calls}}
            let message = body.get("message").cloned().unwrap_or(Value::Null);
            let text = message
                .get("content")
                .and_then(|c| content_text(c).or_else(|| text_of(c)))
                .filter(|t| !t.is_empty());
            requested = legacy_tool_calls(&message);
            if text.is_some() || requested.is_empty() {
                let finish_reason = body
                    .get("finish_reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let kind = EventKind::AgentMessage { finish_reason };
                e.push(at(kind).by(ActorRole::Agent, None).content(text));
            }
        }
    }
    for (id, name, arguments) in requested {
        e.push(requested_call(time, id, name, arguments).attributes(attributes.clone()));
    }
}
