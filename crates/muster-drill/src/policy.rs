//! Repeats and the pass policy: how many runs a scenario of each severity needs, how many may
//! fail, and what the runs say about the agent's true failure rate.

use muster_model::common::{Mode, Severity};
use muster_model::config::{PolicyConfig, SeverityPolicy};
use serde::Serialize;

use crate::report::{ScenarioResult, Verdict};
use crate::stats::{failure_rate_upper_95, wilson_95};

/// Runs needed and failures allowed, per severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PassPolicy {
    pub critical: SeverityPolicy,
    pub high: SeverityPolicy,
    pub medium: SeverityPolicy,
    pub low: SeverityPolicy,
}

impl Default for PassPolicy {
    /// Zero failures everywhere; 30 runs for critical scenarios (then a clean record bounds the
    /// failure rate below 10% at 95% confidence), 10 for high, 5 for medium, 1 for low.
    fn default() -> Self {
        let p = |min_runs| SeverityPolicy {
            min_runs,
            max_failures: 0,
        };
        PassPolicy {
            critical: p(30),
            high: p(10),
            medium: p(5),
            low: p(1),
        }
    }
}

impl PassPolicy {
    /// The defaults with whatever `[drill.policy]` sets.
    pub fn from_config(config: &PolicyConfig) -> Self {
        let d = PassPolicy::default();
        PassPolicy {
            critical: config.critical.unwrap_or(d.critical),
            high: config.high.unwrap_or(d.high),
            medium: config.medium.unwrap_or(d.medium),
            low: config.low.unwrap_or(d.low),
        }
    }

    pub fn for_severity(&self, severity: Severity) -> SeverityPolicy {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }
}

/// A scenario over all its runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioSummary {
    pub id: String,
    pub title: String,
    pub mode: Mode,
    pub severity: Severity,
    pub runs: u32,
    pub passed: u32,
    pub failed: u32,
    pub inconclusive: u32,
    /// Passed over judged (passed + failed) runs; `None` when no run could be judged.
    pub pass_rate: Option<f64>,
    /// Wilson 95% interval of the pass rate.
    pub pass_rate_95: Option<(f64, f64)>,
    /// One-sided 95% upper bound on the failure rate the runs are consistent with.
    pub failure_rate_upper_95: Option<f64>,
    /// Both passing and failing runs: the agent is inconsistent here.
    pub flaky: bool,
    pub policy: SeverityPolicy,
    /// The verdict under the policy.
    pub verdict: Verdict,
    /// Why, in one line.
    pub reason: String,
    /// Time spent waiting for the agent over all the runs (ms), for CI reports' test times.
    #[serde(skip)]
    pub agent_ms: f64,
}

/// Summarises the runs of one scenario under `policy`.
pub fn summarise(runs: &[&ScenarioResult], policy: SeverityPolicy) -> Option<ScenarioSummary> {
    let count = |v: Verdict| runs.iter().filter(|r| r.verdict == v).count() as u32;
    let counts = [
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Inconclusive),
    ];
    let agent_ms = runs
        .iter()
        .flat_map(|r| r.turns.iter().map(|t| t.agent_ms))
        .sum();
    summarise_counted(runs, counts, agent_ms, policy)
}

/// As [`summarise`], from the runs' verdict counts (pass, fail, inconclusive) and, in run order,
/// at least the first run with each verdict there is: all a summary reads, so a drill need not
/// keep every run.
pub(crate) fn summarise_counted(
    runs: &[&ScenarioResult],
    [passed, failed, inconclusive]: [u32; 3],
    agent_ms: f64,
    policy: SeverityPolicy,
) -> Option<ScenarioSummary> {
    let first = runs.first()?;
    let judged = passed + failed;
    let pass_rate = (judged > 0).then(|| f64::from(passed) / f64::from(judged));
    let pass_rate_95 = (judged > 0).then(|| wilson_95(passed, judged));
    let failure_rate_upper_95 = (judged > 0).then(|| failure_rate_upper_95(failed, judged));
    let bound = failure_rate_upper_95
        .map(|u| format!("failure rate below {} at 95% confidence", percent(u)))
        .unwrap_or_default();
    let (verdict, reason) = if failed > policy.max_failures {
        let why = runs
            .iter()
            .find(|r| r.verdict == Verdict::Fail)
            .map(|r| r.reason.clone())
            .unwrap_or_default();
        (
            Verdict::Fail,
            format!(
                "{failed} of {judged} judged runs failed (policy allows {}): {why}",
                policy.max_failures
            ),
        )
    } else if judged < policy.min_runs {
        let why = if inconclusive > 0 {
            runs.iter()
                .find(|r| r.verdict == Verdict::Inconclusive)
                .map(|r| format!("; {}", r.reason))
                .unwrap_or_default()
        } else {
            String::new()
        };
        (
            Verdict::Inconclusive,
            format!(
                "{judged} judged run{} of the {} a {} scenario needs{why}",
                if judged == 1 { "" } else { "s" },
                policy.min_runs,
                first.severity
            ),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "{passed} of {judged} judged runs passed (policy: at most {} failures in at least {} runs); {bound}",
                policy.max_failures, policy.min_runs
            ),
        )
    };
    Some(ScenarioSummary {
        id: first.id.clone(),
        title: first.title.clone(),
        mode: first.mode,
        severity: first.severity,
        runs: passed + failed + inconclusive,
        passed,
        failed,
        inconclusive,
        pass_rate,
        pass_rate_95,
        failure_rate_upper_95,
        flaky: passed > 0 && failed > 0,
        policy,
        verdict,
        reason,
        agent_ms,
    })
}

pub fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}
