//! The project configuration file, `muster.toml`, found by walking up from the working directory.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Duration, FieldPath};

pub const CONFIG_FILE_NAME: &str = "muster.toml";

/// `muster.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "muster project configuration")]
pub struct ProjectConfig {
    /// Format version; this muster reads version 1.
    pub version: u32,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub signing: SigningConfig,
    #[serde(default)]
    pub evidence: EvidenceConfig,
    #[serde(default)]
    pub drill: DrillDefaults,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub console: ConsoleSettings,
}

/// `muster serve`'s settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    #[serde(default)]
    pub notify: NotifySettings,
}

/// Where the console announces injects, decisions, severity changes and approvals. Each value
/// names an environment variable holding the webhook URL (the URL carries a token, so it is never
/// written in this file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Environment variable with a Slack incoming-webhook URL, e.g. `MUSTER_SLACK_WEBHOOK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_webhook_env: Option<String>,
    /// Environment variable with a Microsoft Teams incoming-webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_webhook_env: Option<String>,
}

/// Where evidence is stored: a SQLite file path (the default is `.muster/evidence.db` beside this
/// file) or a database URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Path of the SQLite evidence store, relative to this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Database URL (`sqlite://…`; `postgres://…` once that backend exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// Path of the Ed25519 signing key for evidence packs, relative to this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// Rules that link records across systems by a shared identifier.
    #[serde(default)]
    pub links: Vec<LinkRule>,
    /// Per source system: correlation key → where it sits in that system's records.
    #[serde(default)]
    pub fields: BTreeMap<String, BTreeMap<String, FieldPath>>,
}

impl EvidenceConfig {
    /// How far around a conversation the same customer's records that share no identifier with
    /// it are shown, marked inferred: the largest `window` of the link rules, if any declares one.
    pub fn inferred_window(&self) -> Option<std::time::Duration> {
        self.links
            .iter()
            .filter_map(|l| l.window.map(|w| w.0))
            .max()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRule {
    #[schemars(length(min = 1))]
    pub name: String,
    /// `source.key`, e.g. `zendesk.external_id`.
    #[schemars(regex(pattern = r"^[a-z0-9_-]+\.[A-Za-z0-9_.-]+$"))]
    pub from: String,
    /// `source.key`, e.g. `agent.conversation_id`.
    #[schemars(regex(pattern = r"^[a-z0-9_-]+\.[A-Za-z0-9_.-]+$"))]
    pub to: String,
    /// Link records without a shared identifier when they fall within this window (marked inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillDefaults {
    /// Conversations driven at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub concurrency: Option<u32>,
    /// Pass policy per severity: how many runs a scenario needs and how many may fail.
    #[serde(default)]
    pub policy: PolicyConfig,
}

/// `[drill.policy.<severity>]`; a severity left out keeps muster's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<SeverityPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<SeverityPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<SeverityPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<SeverityPolicy>,
}

/// A scenario of this severity passes when it ran at least `min_runs` times with at most
/// `max_failures` failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityPolicy {
    #[schemars(range(min = 1, max = 10000))]
    pub min_runs: u32,
    #[serde(default)]
    pub max_failures: u32,
}

/// `[ingest]`: how `muster ingest` reads exports it has no built-in reader for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// `[ingest.mappings.<name>]`: field mappings for `--format generic-jsonl|generic-csv
    /// --mapping <name>` (and to override the built-in `salesforce-csv` one).
    #[serde(default)]
    pub mappings: BTreeMap<String, FieldMapping>,
}

/// How rows of a JSON Lines or CSV export become events. The same fields as
/// `muster_ingest::generic::Mapping`, which reads it; declared here so `muster.toml` is checked
/// (with its line and column) before anything is read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// `source.system` of the events (`crm`, `chat-log`).
    #[schemars(length(min = 1))]
    pub system: String,
    /// The time field: a dotted path in JSON (`meta.ts`), a column header in CSV.
    #[schemars(length(min = 1))]
    pub time: String,
    /// The unit of a numeric time; without it, told by magnitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_unit: Option<MappedTimeUnit>,
    /// The kind of every row, unless `kind_field` picks one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MappedKind>,
    /// A field whose value picks the kind through `kinds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_field: Option<String>,
    /// Value of `kind_field` → kind (`user = "customer.message"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<String, MappedKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// The field holding who acted, and the role to give them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<MappedActorRole>,
    /// The action (or alert name), changed field, and values before and after (or alert status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MappedTimeUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// The event kinds a mapped row can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MappedKind {
    #[serde(rename = "customer.message")]
    CustomerMessage,
    #[serde(rename = "agent.message")]
    AgentMessage,
    #[serde(rename = "ticket.event")]
    TicketEvent,
    #[serde(rename = "account.change")]
    AccountChange,
    #[serde(rename = "alert")]
    Alert,
    #[serde(rename = "escalation.decision")]
    EscalationDecision,
    #[serde(rename = "other")]
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MappedActorRole {
    Customer,
    Agent,
    Model,
    Tool,
    Staff,
    System,
}
