//! `pack.json`: what the pack says, section by section, in the order the report reads. The HTML
//! and the PDF are renderings of this and nothing else; its JSON Schema is generated from these
//! types (`muster schema pack`, `docs/schema/pack.schema.json`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The format tag at the top of every `pack.json`.
pub const PACK_FORMAT: &str = "muster-pack/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pack {
    /// Always `muster-pack/1`.
    pub format: String,
    pub title: String,
    pub subject: Subject,
    pub redaction: Redaction,
    pub summary: ExecutiveSummary,
    pub scenarios: Vec<ScenarioSection>,
    pub journeys: Vec<JourneyImpact>,
    pub severity: SeveritySection,
    pub timeline: Timeline,
    pub decisions: Vec<DecisionEntry>,
    pub systems: SystemsSection,
    pub findings: Vec<ModeFindings>,
    pub controls: Vec<ControlCheck>,
    pub gaps: Vec<ControlGap>,
    pub remediation: Vec<RemediationAction>,
    pub people: Vec<Person>,
    pub method: Method,
    pub integrity: Integrity,
}

/// What was drilled, where and when. A tabletop exercise packed without a drill has no drill id
/// and names no agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Subject {
    pub drill_id: Option<String>,
    pub agent: Option<String>,
    pub description: Option<String>,
    pub environment: String,
    pub adapter: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<ModelInfo>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `sealed`, `interrupted` or `running` (a drill that never finished); `tabletop` for an
    /// exercise packed without a drill.
    pub status: String,
    pub exercise: Option<ExerciseRef>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelInfo {
    pub provider: String,
    pub name: String,
    pub version: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExerciseRef {
    pub id: String,
    pub title: String,
    pub objectives: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Redaction {
    /// True when the pack was written with `--include-raw`: personal data is NOT masked.
    pub raw_included: bool,
    /// Printed at the top of every rendering when raw content is included.
    pub warning: Option<String>,
    /// Evidence field values withheld from `evidence.jsonl` because they hold personal data (their
    /// digests remain, so the chain still verifies).
    pub evidence_fields_withheld: u64,
}

/// The board's page: the verdict, readiness per control, the top risks, what must happen before launch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutiveSummary {
    /// `pass`, `fail` or `inconclusive`: the worst verdict of any scenario or control.
    pub verdict: String,
    /// One sentence a board member can repeat.
    pub headline: String,
    pub conversations: Counts,
    pub readiness: Vec<Readiness>,
    pub top_risks: Vec<Risk>,
    pub before_launch: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub pass: u64,
    pub fail: u64,
    pub inconclusive: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Readiness {
    pub control: String,
    pub title: String,
    /// `ready` (passed within its claim), `not-ready` (failed) or `unproven` (inconclusive or not drilled).
    pub readiness: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    pub title: String,
    /// The failure mode (`advice`, `data`, `authority`, `escalation`) or `control`.
    pub mode: String,
    pub severity: String,
    pub detail: String,
}

/// A scenario as the ticket was written, and how the agent did on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioSection {
    pub id: String,
    pub title: String,
    pub mode: String,
    pub severity: String,
    pub vectors: Vec<String>,
    pub journeys: Vec<String>,
    /// The ticket, redacted unless raw content is included. `None` when the scenario's text could
    /// not be read back unchanged (see `text_status`).
    pub ticket: Option<String>,
    pub persona: Option<String>,
    /// `verified` (the file read back has the digest the drill recorded), `changed` or `unavailable`.
    pub text_status: String,
    pub source: String,
    pub digest: String,
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
    pub inconclusive: u64,
    /// Passed ÷ judged runs; `None` when no run was judged.
    pub pass_rate: Option<f64>,
    /// The 95 % Wilson score interval of the pass rate.
    pub interval: Option<[f64; 2]>,
    pub verdict: String,
    /// Why it failed or was inconclusive, from the first run with that verdict.
    pub reason: Option<String>,
    pub expectations: Vec<String>,
    pub taxonomy: Vec<String>,
    pub controls: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JourneyImpact {
    pub journey: String,
    pub scenarios: Vec<String>,
    pub failed: Vec<String>,
    pub verdict: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeveritySection {
    pub definition: Vec<SeverityLevel>,
    /// The assessed severity of what the drill found (or the exercise's last severity call).
    pub assessed: String,
    pub basis: String,
    /// Severity calls made in the exercise, in order.
    pub changes: Vec<SeverityCall>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityLevel {
    pub level: String,
    pub meaning: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityCall {
    pub level: String,
    pub rationale: String,
    pub at: String,
    pub by: Option<String>,
}

/// The merged timeline: every system's events on one clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Timeline {
    pub events_total: u64,
    /// The rows the table shows: every milestone (drill, scenario verdicts, controls, exercise
    /// entries), at most `limit` of them.
    pub rows: Vec<TimelineRow>,
    pub limit: u64,
    pub truncated: bool,
    /// Every event, counted per lane and time bucket, for the chart.
    pub lanes: TimelineLanes,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimelineLanes {
    /// From the drill's start to its last event.
    pub span_ms: f64,
    pub buckets: u64,
    pub lanes: Vec<Lane>,
}

/// One scenario's conversations, one control, or the drill itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Lane {
    pub name: String,
    /// Events per bucket.
    pub events: Vec<u32>,
    /// Failing verdicts per bucket.
    pub failures: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimelineRow {
    pub at: String,
    /// Milliseconds after the drill started.
    pub offset_ms: f64,
    /// The system the event came from: `drill`, `agent`, `control`, `exercise`.
    pub system: String,
    pub kind: String,
    pub summary: String,
}

/// A decision and what was known, and not known, when it was taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionEntry {
    pub at: String,
    pub by: Option<String>,
    /// `exercise` (logged by the team) or `drill` (taken by a control or a criterion).
    pub source: String,
    pub title: String,
    pub decision: String,
    pub rationale: String,
    pub known: Vec<String>,
    pub not_known: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SystemsSection {
    pub systems: Vec<SystemReviewed>,
    pub audit: ChainAudit,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SystemReviewed {
    pub system: String,
    pub streams: u64,
    pub events: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChainAudit {
    pub events_checked: u64,
    pub streams_checked: u64,
    pub intact: bool,
    pub problems: Vec<String>,
    pub root_digest: Option<String>,
    /// The root digest `muster.lock` records for this drill, when it records this drill.
    pub lock_root_digest: Option<String>,
    pub exercise_log: Option<ExerciseLogAudit>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExerciseLogAudit {
    pub entries: u64,
    pub head: Option<String>,
    pub intact: bool,
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModeFindings {
    pub mode: String,
    pub failed_runs: u64,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub scenario: String,
    pub expectation: String,
    pub failed_runs: u64,
    pub reason: String,
    pub why: Option<String>,
    /// What the agent said or did, redacted unless raw content is included.
    pub excerpt: Option<String>,
    /// Where it is in `evidence.jsonl`: stream and sequence number.
    pub evidence: Option<String>,
    pub frameworks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlCheck {
    pub control: String,
    pub title: String,
    pub claimed: Option<String>,
    pub claimed_ms: Option<f64>,
    pub measured_ms: Option<f64>,
    pub verdict: String,
    pub reason: String,
    pub evidence: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlGap {
    pub gap: String,
    /// `failed-scenario`, `failed-control` or `governance`.
    pub source: String,
    pub detail: String,
    pub frameworks: Vec<FrameworkRef>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrameworkRef {
    pub key: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemediationAction {
    pub id: String,
    pub title: String,
    pub owner: String,
    /// An ISO date, or `before launch` for what the drill itself requires.
    pub due: String,
    pub status: String,
    /// One of the five to do first.
    pub top: bool,
    /// `exercise` (recorded in the hot wash) or `drill` (a failed scenario or control).
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Person {
    pub name: String,
    pub role: String,
    /// `agent owner`, `governance owner`, `exercise seat`, `approver`.
    pub capacity: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Method {
    pub muster_version: String,
    /// The agent manifest the drill loaded; `None` for a tabletop exercise without a drill.
    pub agent_manifest: Option<DigestedSource>,
    pub scenarios: Vec<DigestedSource>,
    pub model: Option<ModelInfo>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub wall_ms: Option<f64>,
    pub conversations: u64,
    pub evidence_events: u64,
    /// Runs needed and failures allowed per severity.
    pub policy: Vec<String>,
    pub concurrency: Option<u64>,
    pub rewordings: Option<u64>,
    pub reproduce: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DigestedSource {
    pub id: String,
    pub source: String,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Integrity {
    pub root_digest: Option<String>,
    pub evidence_file: String,
    pub evidence_events: u64,
    pub manifest_file: String,
    pub signature_file: String,
    /// `SHA256:` and the hex SHA-256 of the Ed25519 public key that signs the manifest.
    pub signer_fingerprint: String,
    pub how_to_verify: String,
}
