//! Evidence ingest for muster: one event model for everything an incident review reads (agent
//! traces, helpdesk, CRM, monitoring), and streaming readers that turn real telemetry into it.
//!
//! * [`event`]: [`EvidenceEvent`] and its parts; the JSON shape is documented in
//!   `docs/evidence-model.md` and pinned by snapshot tests.
//! * [`time`]: every timestamp encoding the sources use, normalised to UTC nanoseconds.
//! * [`otlp`]: OpenTelemetry OTLP traces and logs (JSON and protobuf), mapped by the GenAI
//!   (current and legacy), OpenInference, OpenLLMetry and Langfuse conventions.
//! * Native formats, a module each: [`openai_agents`] (Agents SDK trace export), [`langsmith`]
//!   (runs, multipart and JSON), [`langfuse`] (its public API's traces, observations and
//!   scores), [`helpdesk`] (Zendesk, Intercom, Freshdesk, Salesforce, with
//!   `muster-helpdesk`'s wire types), [`model_logs`] (Chat Completions, Responses and Anthropic
//!   Messages request/response logs), [`bedrock`] (model-invocation logs with guardrail
//!   assessments), [`monitoring`] (Splunk HEC, Datadog), [`generic`] (any
//!   JSON Lines or CSV export through a declared mapping); [`lines`] reads any of them from a
//!   file one line at a time.
//!
//! **Invariants:** every input record becomes events or a [`Quarantined`] item (counted in
//! [`ReadStats`]), never disappears and never panics the reader; memory is bounded by the
//! largest single request body, not the input's size; no I/O other than reading the input the
//! caller hands over, and no clock (the same input gives the same events).

pub mod bedrock;
mod chat;
mod common;
pub mod event;
pub mod generic;
pub mod helpdesk;
pub mod langfuse;
pub mod langsmith;
pub mod lines;
pub mod model_logs;
pub mod monitoring;
pub mod openai_agents;
pub mod otlp;
mod quarantine;
pub mod time;

pub use event::{
    Actor, ActorRole, Convention, Correlation, Document, EventKind, EvidenceEvent, KeyOrigin,
    Message, RawPointer, Scope, Source, TimeBasis, ToolCallPhase, ToolCallRequest,
};
pub use otlp::{BodyFormat, BodyLocation, JsonLinesReader, OtlpReader, ReadError};
pub use quarantine::{EXCERPT_BYTES, Item, Quarantined, ReadStats};
