//! What a record *is*, by convention (GenAI current and legacy, OpenInference, OpenLLMetry,
//! Langfuse), and the events its attributes and captured content give. `docs/evidence-model.md`
//! has the same rules as tables; change both together.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::keys::string_attr;
use super::map::{Emit, Ev};
use super::messages::{
    chat_messages, genai_documents, json_or_self, openinference_documents, openinference_messages,
    openllmetry_messages, text_of, transcript,
};
use super::model::{Attrs, attr};
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

/// The prompt, the customer's new messages, tool results handed back, the reply and the tool
/// calls the model asked for.
fn content_events(e: &mut Emit<'_>, view: &View<'_>, agent: Option<String>) {
    let (input, output, unstructured) = model_messages(view.attrs);
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
            e.push(requested_call(end, c.id, c.name, c.arguments).attributes(message_index(i)));
        }
    }
}

fn requested_call(time: i64, id: Option<String>, name: String, arguments: Option<Value>) -> Ev {
    let content = arguments
        .as_ref()
        .and_then(text_of)
        .map(|a| format!("{name}({a})"));
    let kind = EventKind::ToolCall {
        phase: ToolCallPhase::Requested,
        name: Some(name),
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
    match category(a) {
        Category::Model(op) => {
            let (kind, model) = model_call(view, op);
            e.push(primary(kind).by(ActorRole::Model, model));
            content_events(e, view, agent_name);
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
            let name = agent_name
                .or_else(|| first_str(a, &["traceloop.entity.name"]))
                .or_else(|| view.name());
            let kind = EventKind::AgentInvocation {
                agent_name: name.clone(),
                agent_id: first_str(a, &["gen_ai.agent.id"]),
            };
            e.push(primary(kind).by(ActorRole::Agent, name.clone()));
            content_events(e, view, name);
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

/// Tool calls in an OpenAI-shaped message (`tool_calls: [{id, function: {name, arguments}}]`).
fn legacy_tool_calls(message: &Value) -> Vec<(Option<String>, String, Option<Value>)> {
    let Some(calls) = message.get("tool_calls").and_then(Value::as_array) else {
        return Vec::new();
    };
    calls
        .iter()
        .filter_map(|c| {
            let f = c.get("function").unwrap_or(c);
            let name = f.get("name")?.as_str()?.to_owned();
            let id = c.get("id").and_then(Value::as_str).map(str::to_owned);
            Some((id, name, f.get("arguments").map(json_or_self)))
        })
        .collect()
}

/// A per-message log event of the GenAI conventions ≤ 1.36; `name` is one of
/// [`LEGACY_EVENTS`]. Bodies are kvlists (now JSON objects).
pub(crate) fn legacy_event(
    e: &mut Emit<'_>,
    name: &str,
    body: Option<&Value>,
    time: i64,
    attributes: BTreeMap<String, Value>,
) {
    let body = body.map(json_or_self).unwrap_or(Value::Null);
    let content = body
        .get("content")
        .and_then(text_of)
        .or_else(|| body.as_str().map(str::to_owned));
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
            let id = body.get("id").and_then(Value::as_str).map(str::to_owned);
            let kind = EventKind::ToolCall {
                phase: ToolCallPhase::Returned,
                name: None,
                arguments: None,
                result: body.get("content").map(json_or_self),
                error: None,
            };
            e.push(
                at(kind)
                    .by(ActorRole::Tool, None)
                    .content(content)
                    .call_id(id),
            );
        }
        "gen_ai.assistant.message" => {
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
            let text = message.get("content").and_then(text_of);
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
