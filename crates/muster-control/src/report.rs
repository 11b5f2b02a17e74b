//! What the control drills found: the control-readiness table.

use muster_drill::Verdict;
use serde::Serialize;

/// One row of the control-readiness table: a claim, what was measured, and the verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ControlResult {
    /// e.g. `kill-switch/in-flight`, `handover`, `content-rollback`, `experiment/<id>`.
    pub control: String,
    pub title: String,
    /// The manifest's claim, e.g. `10s`; `None` when the control claims no time.
    pub claimed: Option<String>,
    pub claimed_ms: Option<u64>,
    /// Time from the trigger until the control took effect; `None` when it never did.
    pub measured_ms: Option<f64>,
    pub verdict: Verdict,
    /// Why, in one sentence a reader can act on.
    pub reason: String,
    /// The evidence stream holding every step, e.g. `control/kill-switch`.
    pub evidence: String,
    /// Rollbacks that failed: the target may be left changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollback_errors: Vec<String>,
}

impl ControlResult {
    pub(crate) fn new(control: &str, title: &str, evidence: &str) -> Self {
        Self {
            control: control.to_owned(),
            title: title.to_owned(),
            claimed: None,
            claimed_ms: None,
            measured_ms: None,
            verdict: Verdict::Inconclusive,
            reason: String::new(),
            evidence: evidence.to_owned(),
            rollback_errors: Vec::new(),
        }
    }

    pub(crate) fn claim(mut self, claim: Option<&muster_model::common::Duration>) -> Self {
        if let Some(c) = claim {
            self.claimed = Some(c.to_string());
            self.claimed_ms = Some(u64::try_from(c.0.as_millis()).unwrap_or(u64::MAX));
        }
        self
    }

    pub(crate) fn verdict(mut self, verdict: Verdict, reason: impl Into<String>) -> Self {
        self.verdict = verdict;
        self.reason = reason.into();
        self
    }

    pub(crate) fn measured(mut self, ms: Option<f64>) -> Self {
        self.measured_ms = ms;
        self
    }

    /// Pass when measured within the claim (or no claim), fail when over it.
    pub(crate) fn against_claim(self, measured_ms: f64, what: &str) -> Self {
        let within = self.claimed_ms.is_none_or(|c| measured_ms <= c as f64);
        let reason = match (&self.claimed, within) {
            (Some(c), true) => format!("{what} in {} (claimed within {c})", seconds(measured_ms)),
            (Some(c), false) => format!(
                "{what} only after {}: over the claimed {c}",
                seconds(measured_ms)
            ),
            (None, _) => format!("{what} in {}", seconds(measured_ms)),
        };
        self.measured(Some(measured_ms))
            .verdict(if within { Verdict::Pass } else { Verdict::Fail }, reason)
    }
}

/// A duration in milliseconds as people read it.
pub fn seconds(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A shutdown criterion evaluated over the drill's own findings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShutdownEvaluation {
    pub id: String,
    pub description: String,
    pub fired: bool,
    /// When the criterion would have fired (RFC 3339), and the finding that tipped it.
    pub fired_at: Option<String>,
    pub fired_by: Option<String>,
    /// Failing conversations counted toward it.
    pub matching_findings: usize,
    /// The kill switch's measured time to stop (the slower of new and under-way conversations).
    pub kill_switch_measured_ms: Option<f64>,
    /// Whether pulling the switch when the criterion fired would have stopped the agent within
    /// the switch's claim; `None` without a measured kill switch.
    pub stopped_in_time: Option<bool>,
    /// Failing conversations that started after the criterion fired plus the measured stop
    /// time: harm the pre-approved shutdown would have prevented.
    pub preventable_after_stop: usize,
    pub explanation: String,
}

/// Everything the control drills found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ControlReport {
    pub verdict: Verdict,
    pub controls: Vec<ControlResult>,
    pub shutdown: Vec<ShutdownEvaluation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<crate::comms::Notice>,
    /// The drill stopped before every control ran; the rows say which did.
    pub interrupted: bool,
}

impl ControlReport {
    pub fn verdict_of(controls: &[ControlResult]) -> Verdict {
        controls
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Inconclusive)
    }
}
