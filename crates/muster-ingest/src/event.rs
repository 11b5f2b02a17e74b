//! The evidence event model: one shape for everything muster reads, whichever system it came from.
//!
//! The JSON shape of these types is a contract (stored, searched, exported); `docs/evidence-model.md`
//! documents it and the snapshot tests pin it. Add fields as `Option`/defaulted so older stored
//! events still deserialise; never rename.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One thing that happened, as seen by one source system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceEvent {
    /// When it happened: UTC, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// When it ended, for things with a duration (spans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time_ns: Option<i64>,
    /// When the source system recorded it (an OTLP log's observed time, a span's end, a ticket
    /// audit's write time). Differs from `time_ns` by the source's recording delay and clock skew.
    pub observed_ns: i64,
    /// Whether `time_ns` is the source's own event time or was taken from the observed time
    /// because the record had none (OTLP logs with only `observedTimeUnixNano`).
    #[serde(default, skip_serializing_if = "TimeBasis::is_occurred")]
    pub time_basis: TimeBasis,
    pub source: Source,
    pub kind: EventKind,
    pub correlation: Correlation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// The human-readable text of the event (a message, a prompt, a tool result), what full-text
    /// search indexes. Structured payloads live in `kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Every source attribute not already lifted into a typed field, unchanged, so nothing the
    /// source said is lost to the mapping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Value>,
    pub raw: RawPointer,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    #[default]
    Occurred,
    Observed,
}

impl TimeBasis {
    fn is_occurred(&self) -> bool {
        *self == TimeBasis::Occurred
    }
}

/// Which system a record came from and how it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The kind of system: `otlp`, `openai-agents`, `langsmith`, `zendesk`, `intercom`,
    /// `freshdesk`, `salesforce`, `openai`, `anthropic`, `aws.bedrock`, `splunk`, `datadog`, a
    /// mapping's declared system, `muster`…
    pub system: String,
    /// The wire format the record was read from, e.g. `otlp-json-traces`, `otlp-protobuf-logs`,
    /// `openai-agents-traces-ingest`, `langsmith-runs-multipart`, `zendesk-ticket-audits`.
    pub format: String,
    /// The telemetry convention(s) recognised on the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conventions: Vec<Convention>,
    /// The emitting service (`service.name`), or the helpdesk/CRM instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The instrumentation scope, kept because GenAI conventions change between versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_url: Option<String>,
}

/// A telemetry dialect a record was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Convention {
    /// OpenTelemetry GenAI, current (`gen_ai.provider.name`, `gen_ai.input.messages`).
    GenAi,
    /// OpenTelemetry GenAI ≤ v1.36 (`gen_ai.system`, per-message log events).
    GenAiLegacy,
    OpenInference,
    OpenLlmetry,
    Langfuse,
}

/// The keys that link an event to others, within and across systems.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    /// Conversation, session or thread id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// How `conversation_id` was found (absent when it is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_from: Option<KeyOrigin>,
    /// The customer (CRM contact, account, end-user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_from: Option<KeyOrigin>,
    /// Lower-case hex, 32 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Lower-case hex, 16 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// Links a model's tool-call request to the tool's execution and its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
}

/// Where a correlation key came from: the record itself, or an ancestor span it was passed
/// down from. Inferred links (time windows) are a correlation-step concern and are marked there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum KeyOrigin {
    /// The record carries the key under this attribute.
    Attribute { key: String },
    /// Taken from another span of the same trace that carries it under `key`: the nearest
    /// ancestor that has it, or, for a log record, the span it was emitted in.
    Span { span_id: String, key: String },
    /// From the resource (process-wide) attributes.
    Resource { key: String },
}

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: ActorRole,
    /// A name or id: the agent's name, the tool's name, a helpdesk user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Actor {
    /// `role:id` (or the role alone), as the store keeps it and listings show it.
    pub fn label(&self) -> String {
        let role = serde_json::to_value(self.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match &self.id {
            Some(id) => format!("{role}:{id}"),
            None => role,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    Customer,
    /// The AI agent (the application).
    Agent,
    /// A model the agent called.
    Model,
    Tool,
    /// A person on the operator's side (helpdesk agent, supervisor).
    Staff,
    /// The platform itself (a monitor, an automation, muster).
    System,
}

/// A pointer back to the raw record, so every event can be checked against what the source said.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPointer {
    /// A file path, a request id, or another label the caller gave the input.
    pub origin: String,
    /// The byte offset of the request body in `origin` (the start of its line for JSON Lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The 1-based line of the body for line-oriented inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The record inside the body as a JSON pointer over the OTLP field names, e.g.
    /// `/resourceSpans/0/scopeSpans/0/spans/3` (protobuf bodies use the same names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The position of this event among those one record produced (a chat span gives a model
    /// call, a prompt, messages, tool-call requests). With the rest it makes a stable identity,
    /// so re-reading the same input gives the same pointers.
    #[serde(default)]
    pub part: u32,
}

/// A chat message as carried in a prompt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For a tool-result message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
}

/// A document a retrieval returned.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The document's version (knowledge-base revision, etag), when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// Which stage of a tool call an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallPhase {
    /// The model asked for the call (a tool-call part of its output).
    Requested,
    /// The tool ran (its own span): arguments and, when captured, the result.
    Executed,
    /// The result was handed back to the model (a tool message in the next prompt).
    Returned,
}

/// What kind of thing happened, with the kind's own structured detail. Serialised with the tag
/// `type`, e.g. `{"type":"tool_call","name":"lookup_order",…}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The customer said something. The text is in `content`.
    CustomerMessage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
    },
    /// The agent said something to the customer. The text is in `content`.
    AgentMessage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finish_reason: Option<String>,
    },
    /// What the model was given: system instructions, history, context.
    Prompt {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        messages: Vec<Message>,
        /// Unstructured input, when the source did not give messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<Value>,
    },
    Retrieval {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data_source: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
        #[serde(default)]
        documents: Vec<Document>,
    },
    ModelCall {
        /// `chat`, `embeddings`, `text_completion`…
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operation: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_model: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_model: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_id: Option<String>,
        /// Request parameters (temperature, top_p, max_tokens…) by their short name.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        parameters: BTreeMap<String, Value>,
        /// Token counts by their short name (`input_tokens`, `output_tokens`…).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        usage: BTreeMap<String, Value>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        finish_reasons: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    ToolCall {
        phase: ToolCallPhase,
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arguments: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    AccountChange {
        /// The kind of record changed (`account`, `order`, `Case`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entity: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Value>,
    },
    /// A score or judgement about the agent's answer (an evaluation, a confidence, a guardrail).
    ConfidenceSignal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explanation: Option<String>,
    },
    EscalationDecision {
        /// `escalate`, `handoff`, `declined`…, as the source put it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    TicketEvent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Value>,
    },
    Alert {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// `triggered`, `recovered`, `warn`…
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        severity: Option<String>,
    },
    /// An operator's or automation's control step (kill switch, rollback, guardrail block).
    ControlAction {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        control: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    DrillVerdict {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<String>,
        verdict: String,
    },
    /// A decision taken during an exercise (who decided what, and why).
    ExerciseDecision {
        decision: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rationale: Option<String>,
    },
    /// An agent (or workflow) run: the span that groups one turn's work.
    AgentInvocation {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_id: Option<String>,
    },
    /// A record the mapping recognised no convention on. Kept, never dropped, so a timeline still
    /// shows it (an HTTP span, an unrelated log line).
    Other {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operation: Option<String>,
    },
}

impl EventKind {
    /// The kind's stable dotted name, the same vocabulary the drill engine stores
    /// (`customer.message`, `agent.message`, `tool.call`).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CustomerMessage { .. } => "customer.message",
            EventKind::AgentMessage { .. } => "agent.message",
            EventKind::Prompt { .. } => "prompt",
            EventKind::Retrieval { .. } => "retrieval",
            EventKind::ModelCall { .. } => "model.call",
            EventKind::ToolCall { .. } => "tool.call",
            EventKind::AccountChange { .. } => "account.change",
            EventKind::ConfidenceSignal { .. } => "confidence.signal",
            EventKind::EscalationDecision { .. } => "escalation.decision",
            EventKind::TicketEvent { .. } => "ticket.event",
            EventKind::Alert { .. } => "alert",
            EventKind::ControlAction { .. } => "control.action",
            EventKind::DrillVerdict { .. } => "drill.verdict",
            EventKind::ExerciseDecision { .. } => "exercise.decision",
            EventKind::AgentInvocation { .. } => "agent.invocation",
            EventKind::Other { .. } => "other",
        }
    }
}

impl EvidenceEvent {
    /// The event as a draft for the evidence store: kind name and time, and every top-level field
    /// of the JSON shape as its own field, so each can be redacted on its own later.
    pub fn to_draft(&self) -> muster_evidence::EventDraft {
        let mut draft = muster_evidence::EventDraft::new(self.kind.name(), self.time_ns);
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            for (name, value) in fields {
                draft = draft.field(name, value);
            }
        }
        draft
    }
}
