//! Control drills: prove the kill switch, human handover, content rollback and customer
//! communications approval work — timed against what the agent's owners claim in the manifest.
//!
//! Each control runs in the manner of a Chaos Toolkit experiment: a steady-state probe, an action,
//! verification probes polled until a deadline, and rollbacks that always run. The built-in
//! controls are assembled from the manifest's `controls`; `controls.experiments` adds the owners'
//! own from the same steps (`http`, `command`, `converse`, or a named `action`). Every step is
//! recorded with timestamps in the drill's evidence, in one stream per control (`control/<id>`),
//! before the drill is sealed. Shutdown criteria are evaluated over the drill's own findings.
//!
//! **Invariants:** a control passes only when what it claims was measured on real replies within
//! the claimed time. A step whose target errors or times out makes the control inconclusive,
//! never a pass. Rollbacks (restore the kill switch, restore content, remove planted content)
//! run whatever happened, including after a failure or an interrupted drill. Controls run one at
//! a time, after the scenarios: a pulled kill switch must never meet a scenario's conversation.

mod chat;
pub mod comms;
mod content;
mod experiment;
mod handover;
mod kill_switch;
mod poll;
mod record;
mod report;
mod shutdown;
mod step;

use std::sync::Arc;

use muster_drill::{DrillSession, Verdict};
use muster_evidence::EventDraft;
use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_store::{EvidenceStore, StoreError};
use muster_target::Target;
use serde_json::json;
use tokio::sync::{mpsc, watch};

pub use comms::{Approval, ApprovalError, Notice, approve};
pub use report::{ControlReport, ControlResult, ShutdownEvaluation, seconds};
pub use step::{StepResult, check_json};

/// The controls a drill can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ControlKind {
    ContentRollback,
    Handover,
    Experiments,
    KillSwitch,
    CommsApproval,
}

impl ControlKind {
    pub const ALL: [ControlKind; 5] = [
        ControlKind::ContentRollback,
        ControlKind::Handover,
        ControlKind::Experiments,
        ControlKind::KillSwitch,
        ControlKind::CommsApproval,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ControlKind::ContentRollback => "content-rollback",
            ControlKind::Handover => "handover",
            ControlKind::Experiments => "experiments",
            ControlKind::KillSwitch => "kill-switch",
            ControlKind::CommsApproval => "comms-approval",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// Whether the manifest declares this control.
    pub fn declared_in(self, manifest: &AgentManifest) -> bool {
        let c = &manifest.controls;
        match self {
            ControlKind::ContentRollback => c.content_rollback.is_some(),
            ControlKind::Handover => c.handover.is_some(),
            ControlKind::Experiments => !c.experiments.is_empty(),
            ControlKind::KillSwitch => c.kill_switch.is_some(),
            ControlKind::CommsApproval => c.comms_approval.is_some(),
        }
    }
}

/// What the control drills tell their caller as they go.
#[derive(Clone, Debug)]
pub enum ControlProgress {
    Started(ControlKind),
    Finished(Box<ControlResult>),
}

/// Everything one control needs.
pub struct ControlContext<'a> {
    pub target: &'a Target,
    pub manifest: &'a AgentManifest,
    pub store: Arc<dyn EvidenceStore>,
    pub drill_id: &'a str,
    pub cancel: Option<watch::Receiver<bool>>,
    pub vars: Vars,
}

pub(crate) fn rfc3339(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map_or_else(|_| ns.to_string(), |t| t.to_string())
}

/// Record a control's row as its verdict event.
pub(crate) async fn finish(rec: &record::Recorder, row: &ControlResult) -> Result<(), StoreError> {
    rec.one(
        EventDraft::new("control.verdict", record::now_ns())
            .field("result", serde_json::to_value(row).unwrap_or_default()),
    )
    .await
}

/// Run the selected controls the manifest declares, after the session's scenarios and before its
/// seal, and evaluate the shutdown criteria over the scenario results.
pub async fn run_controls(
    session: &DrillSession,
    selected: &[ControlKind],
    progress: Option<mpsc::UnboundedSender<ControlProgress>>,
) -> Result<ControlReport, StoreError> {
    let manifest = &session.plan().manifest;
    let mut vars = Vars::new();
    vars.insert("drill.id".into(), json!(session.drill_id()));
    let ctx = ControlContext {
        target: session.target(),
        manifest,
        store: session.store(),
        drill_id: session.drill_id(),
        cancel: session.cancel(),
        vars,
    };
    let tell = |p: ControlProgress| {
        if let Some(tx) = &progress {
            let _ = tx.send(p);
        }
    };
    let c = &manifest.controls;
    let mut rows: Vec<ControlResult> = Vec::new();
    let mut notice = None;
    let mut interrupted = false;
    let mut kill_switch_measure = None;
    for kind in ControlKind::ALL {
        if !selected.contains(&kind) || !kind.declared_in(manifest) {
            continue;
        }
        if poll::stopped(&ctx.cancel) {
            interrupted = true;
            let row = ControlResult::new(kind.id(), kind.id(), &format!("control/{}", kind.id()))
                .verdict(Verdict::Inconclusive, "not run: the drill was interrupted");
            tell(ControlProgress::Finished(Box::new(row.clone())));
            rows.push(row);
            continue;
        }
        tell(ControlProgress::Started(kind));
        let new_rows = match kind {
            ControlKind::ContentRollback => match &c.content_rollback {
                Some(r) => content::run(&ctx, r).await?,
                None => Vec::new(),
            },
            ControlKind::Handover => match &c.handover {
                Some(h) => vec![handover::run(&ctx, h).await?],
                None => Vec::new(),
            },
            ControlKind::Experiments => {
                let mut out = Vec::new();
                for e in &c.experiments {
                    out.push(experiment::run(&ctx, e).await?);
                }
                out
            }
            ControlKind::KillSwitch => match &c.kill_switch {
                Some(k) => {
                    let rows = kill_switch::run(&ctx, k).await?;
                    // The slower of new and under-way conversations is when the agent stopped.
                    let stops: Vec<Option<f64>> = rows
                        .iter()
                        .filter(|r| r.control != "kill-switch/recovery")
                        .map(|r| r.measured_ms)
                        .collect();
                    let stop = stops
                        .iter()
                        .copied()
                        .collect::<Option<Vec<f64>>>()
                        .and_then(|v| v.into_iter().reduce(f64::max));
                    kill_switch_measure = Some((
                        stop,
                        u64::try_from(k.claimed_within.0.as_millis()).unwrap_or(u64::MAX),
                    ));
                    rows
                }
                None => Vec::new(),
            },
            ControlKind::CommsApproval => match &c.comms_approval {
                Some(comms_control) => {
                    let rec =
                        record::Recorder::new(ctx.store.clone(), ctx.drill_id, "comms-approval");
                    let facts = comms::facts(session.plan(), &session.scenario_results());
                    let (n, row) = comms::render(&rec, comms_control, facts).await?;
                    finish(&rec, &row).await?;
                    notice = Some(n);
                    vec![row]
                }
                None => Vec::new(),
            },
        };
        for row in &new_rows {
            tell(ControlProgress::Finished(Box::new(row.clone())));
        }
        rows.extend(new_rows);
    }
    let shutdown = shutdown::evaluate(
        &manifest.shutdown_criteria,
        &session.scenario_results(),
        kill_switch_measure,
    );
    if !shutdown.is_empty() {
        let rec = record::Recorder::new(ctx.store.clone(), ctx.drill_id, "shutdown-criteria");
        rec.write(
            shutdown
                .iter()
                .map(|s| {
                    EventDraft::new("shutdown.evaluated", record::now_ns())
                        .field("result", serde_json::to_value(s).unwrap_or_default())
                })
                .collect(),
        )
        .await?;
    }
    Ok(ControlReport {
        verdict: ControlReport::verdict_of(&rows),
        controls: rows,
        shutdown,
        notice,
        interrupted: interrupted || poll::stopped(&ctx.cancel),
    })
}
