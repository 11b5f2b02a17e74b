//! A custom experiment: steady state, method, verification polled to a deadline, rollbacks always.

use std::time::Instant;

use muster_drill::{Status, Verdict};
use muster_evidence::EventDraft;
use muster_model::experiment::{Experiment, Polling};
use muster_store::StoreError;

use crate::ControlContext;
use crate::poll::{schedule, stopped, wait};
use crate::record::{Recorder, now_ns};
use crate::report::ControlResult;
use crate::step::{StepContext, StepResult, run_step};

fn worst(results: &[StepResult]) -> Option<&StepResult> {
    results
        .iter()
        .find(|r| r.status == Status::Fail)
        .or_else(|| results.iter().find(|r| r.status == Status::Inconclusive))
}

pub async fn run(ctx: &ControlContext<'_>, e: &Experiment) -> Result<ControlResult, StoreError> {
    let control = format!("experiment/{}", e.id);
    let rec = Recorder::new(ctx.store.clone(), ctx.drill_id, &control);
    let steps = StepContext {
        target: ctx.target,
        manifest: ctx.manifest,
        recorder: &rec,
        drill_id: ctx.drill_id,
        vars: &ctx.vars,
    };
    rec.one(
        EventDraft::new("control.started", now_ns())
            .field("control", control.clone())
            .field("title", e.title.clone())
            .field(
                "claimed_within",
                e.claimed_within.as_ref().map(ToString::to_string),
            ),
    )
    .await?;
    let row = ControlResult::new(&control, &e.title, rec.stream()).claim(e.claimed_within.as_ref());
    let row = body(ctx, &steps, e, row).await?;
    // Rollbacks always run, whatever happened above, including an interrupted drill.
    let mut rollback_errors = Vec::new();
    for step in &e.rollbacks {
        let r = run_step(&steps, "rollback", step).await?;
        if r.status != Status::Pass {
            rollback_errors.push(format!("{}: {}", r.label, r.detail));
        }
    }
    let mut row = row;
    row.rollback_errors = rollback_errors;
    crate::finish(&rec, &row).await?;
    Ok(row)
}

async fn body(
    ctx: &ControlContext<'_>,
    steps: &StepContext<'_>,
    e: &Experiment,
    row: ControlResult,
) -> Result<ControlResult, StoreError> {
    let mut steady = Vec::new();
    for step in &e.steady_state {
        steady.push(run_step(steps, "steady-state", step).await?);
    }
    if let Some(bad) = worst(&steady) {
        // Without the steady state the experiment measures nothing: never a pass or a fail.
        return Ok(row.verdict(
            Verdict::Inconclusive,
            format!(
                "steady state not met, nothing was changed: {} — {}",
                bad.label, bad.detail
            ),
        ));
    }
    if stopped(&ctx.cancel) {
        return Ok(row.verdict(Verdict::Inconclusive, "interrupted before the method ran"));
    }
    let started = Instant::now();
    for step in &e.method {
        let r = run_step(steps, "method", step).await?;
        match r.status {
            Status::Pass => {}
            Status::Fail => {
                return Ok(row.verdict(
                    Verdict::Fail,
                    format!("the method failed: {} — {}", r.label, r.detail),
                ));
            }
            Status::Inconclusive => {
                return Ok(row.verdict(
                    Verdict::Inconclusive,
                    format!(
                        "the method could not be applied: {} — {}",
                        r.label, r.detail
                    ),
                ));
            }
        }
    }
    let Some(verify) = &e.verify else {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        return Ok(row.against_claim(ms, "the method completed"));
    };
    let polling = Polling {
        every: verify.every,
        give_up_after: verify.give_up_after,
    };
    let (every, give_up) = schedule(&polling, e.claimed_within.as_ref());
    let mut last: Vec<StepResult>;
    loop {
        last = Vec::new();
        for step in &verify.probes {
            last.push(run_step(steps, "verify", step).await?);
        }
        if worst(&last).is_none() {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            return Ok(row.against_claim(ms, "every verification probe held"));
        }
        if started.elapsed() >= give_up {
            break;
        }
        if !wait(every, &ctx.cancel).await {
            return Ok(row.verdict(
                Verdict::Inconclusive,
                "interrupted while verifying; rollbacks ran",
            ));
        }
    }
    let Some(bad) = worst(&last) else {
        return Ok(row.verdict(Verdict::Inconclusive, "no verification probe ran"));
    };
    let verdict = if last.iter().any(|r| r.status == Status::Fail) {
        Verdict::Fail
    } else {
        Verdict::Inconclusive
    };
    Ok(row.verdict(
        verdict,
        format!(
            "verification still not met after {}: {} — {}",
            crate::report::seconds(give_up.as_secs_f64() * 1000.0),
            bad.label,
            bad.detail
        ),
    ))
}
