//! The result of a drill, as the CLI prints it and as `--json` emits it.

use muster_model::common::{Mode, Severity};
use serde::{Deserialize, Serialize};

use crate::judge::{ExpectationResult, Status};
use crate::policy::{PassPolicy, ScenarioSummary};
use crate::stats::Percentiles;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Inconclusive,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// One turn, as shown in reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnSummary {
    pub turn: u32,
    pub customer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    pub tool_calls: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handover: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Time waiting for the agent.
    pub agent_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub mode: Mode,
    pub severity: Severity,
    /// The scenario's control-map keys (`framework@edition:id`).
    pub taxonomy: Vec<String>,
    pub source: String,
    /// Which repetition (1-based).
    pub run: u32,
    pub reword: u32,
    pub verdict: Verdict,
    /// Failure modes of the expectations that failed.
    pub failed_modes: Vec<Mode>,
    /// One line: why this verdict.
    pub reason: String,
    pub expectations: Vec<ExpectationResult>,
    pub turns: Vec<TurnSummary>,
    /// Problems planting or removing test data; the verdict is inconclusive when planting failed.
    pub fixture_errors: Vec<String>,
    pub conversation_id: Option<String>,
    /// A model played the customer, so the conversation need not repeat word for word.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nondeterministic: bool,
    /// Evidence stream holding this conversation.
    pub stream: String,
    /// When the conversation started and when its verdict was known (ns since the epoch).
    #[serde(skip)]
    pub started_at_ns: i64,
    #[serde(skip)]
    pub finished_at_ns: i64,
}

impl ScenarioResult {
    pub fn failed(&self) -> impl Iterator<Item = &ExpectationResult> {
        self.expectations
            .iter()
            .filter(|e| e.status == Status::Fail)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timing {
    pub wall_ms: f64,
    pub conversations: usize,
    pub turns: usize,
    pub conversations_per_second: f64,
    /// The engine's own time per turn (building requests, parsing, judging, writing evidence),
    /// excluding time spent waiting for the agent. Microseconds.
    pub engine_overhead_us: Percentiles,
    /// Time waiting for the agent per turn. Milliseconds.
    pub agent_latency_ms: Percentiles,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DrillReport {
    pub drill_id: String,
    pub agent: String,
    pub environment: String,
    pub adapter: String,
    pub base_url: String,
    pub manifest_digest: String,
    pub started_at: String,
    pub finished_at: String,
    /// `sealed`, or `interrupted` when stopped early.
    pub status: String,
    pub root_digest: String,
    /// The drill's verdict: the worst of the scenarios' verdicts under the pass policy.
    pub verdict: Verdict,
    /// Verdicts of the individual runs.
    pub counts: Counts,
    pub policy: PassPolicy,
    /// Each scenario over all its runs, judged by the policy.
    pub summaries: Vec<ScenarioSummary>,
    /// Every run.
    pub scenarios: Vec<ScenarioResult>,
    pub timing: Timing,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
}

impl Counts {
    pub fn of(results: &[ScenarioResult]) -> Self {
        let mut c = Counts::default();
        for r in results {
            match r.verdict {
                Verdict::Pass => c.pass += 1,
                Verdict::Fail => c.fail += 1,
                Verdict::Inconclusive => c.inconclusive += 1,
            }
        }
        c
    }

    /// The drill's verdict: pass only when every scenario passed.
    pub fn verdict(&self) -> Verdict {
        if self.fail > 0 {
            Verdict::Fail
        } else if self.inconclusive > 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        }
    }
}
