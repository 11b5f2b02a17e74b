//! Content rollback: roll retrieval content back to a named version through the declared action,
//! ask again until the answer changes as expected, and time it. Also whether replies identify the
//! content version they were built from (the content-versioning control).

use std::time::Instant;

use muster_drill::{Status, Verdict};
use muster_evidence::EventDraft;
use muster_model::agent::ContentRollbackControl;
use muster_model::template::render_str;
use muster_store::StoreError;
use muster_target::run_action;
use serde_json::{Value, json};

use crate::ControlContext;
use crate::poll::{schedule, wait};
use crate::record::{Recorder, now_ns};
use crate::report::ControlResult;
use crate::step::{StepContext, converse, run_named_action};

pub async fn run(
    ctx: &ControlContext<'_>,
    r: &ContentRollbackControl,
) -> Result<Vec<ControlResult>, StoreError> {
    let rec = Recorder::new(ctx.store.clone(), ctx.drill_id, "content-rollback");
    let mut vars = ctx.vars.clone();
    vars.insert("version".into(), json!(r.version));
    let steps = StepContext {
        target: ctx.target,
        manifest: ctx.manifest,
        recorder: &rec,
        drill_id: ctx.drill_id,
        vars: &vars,
    };
    let row = ControlResult::new(
        "content-rollback",
        &format!("Content rollback to {}", r.version),
        rec.stream(),
    )
    .claim(Some(&r.claimed_within));
    let versioning = ControlResult::new(
        "content-versioning",
        "Replies identify their content version",
        rec.stream(),
    );
    rec.one(
        EventDraft::new("control.started", now_ns())
            .field("control", "content-rollback")
            .field("version", r.version.clone())
            .field("claimed_within", r.claimed_within.to_string()),
    )
    .await?;

    // Setup: publish the content to be rolled back; removed again whatever happens.
    let mut planted = Vec::new();
    let mut setup_problem = None;
    for step in &r.setup {
        let Some(fixture) = ctx.manifest.fixtures.get(&step.fixture) else {
            setup_problem = Some(format!("the manifest has no fixture `{}`", step.fixture));
            break;
        };
        let mut fx_vars = vars.clone();
        for (name, value) in &step.with {
            let rendered = render_str(value, &vars).unwrap_or_else(|_| value.clone());
            fx_vars.insert(name.clone(), json!(rendered));
        }
        let outcome = run_action(ctx.target, &fixture.plant, &fx_vars).await;
        let fixture_id = fixture
            .id_at
            .as_ref()
            .and_then(|p| outcome.output.as_ref().and_then(|o| p.select_one(o)))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        rec.one(
            EventDraft::new("fixture.planted", now_ns())
                .field("fixture", step.fixture.clone())
                .field("ok", outcome.ok)
                .field("fixture_id", fixture_id.clone())
                .field("record", outcome.record.clone())
                .field("error", outcome.error.clone()),
        )
        .await?;
        if !outcome.ok {
            setup_problem = Some(format!(
                "publishing the content to roll back failed: {}",
                outcome.error.unwrap_or_default()
            ));
            break;
        }
        if let Some(id) = fixture_id {
            fx_vars.insert("fixture_id".into(), json!(id));
        }
        planted.push((step.fixture.clone(), fx_vars));
    }

    let mut versions_seen: Vec<Option<String>> = Vec::new();
    let outcome = if let Some(problem) = setup_problem {
        (row.verdict(Verdict::Inconclusive, problem), false)
    } else {
        measure(ctx, r, &steps, row, &mut versions_seen).await?
    };
    let (row, rolled_back) = outcome;

    // Rollbacks, always: put the latest content back, then remove what setup published.
    let mut rollback_errors = Vec::new();
    if let Some(restore) = r.restore.as_ref().filter(|_| rolled_back) {
        let (result, _) = run_named_action(&steps, "rollback", restore).await?;
        if result.status != Status::Pass {
            rollback_errors.push(format!("{}: {}", result.label, result.detail));
        }
    }
    for (name, fx_vars) in planted.iter().rev() {
        let Some(fixture) = ctx.manifest.fixtures.get(name) else {
            continue;
        };
        let outcome = run_action(ctx.target, &fixture.remove, fx_vars).await;
        rec.one(
            EventDraft::new("fixture.removed", now_ns())
                .field("fixture", name.clone())
                .field("ok", outcome.ok)
                .field("record", outcome.record.clone())
                .field("error", outcome.error.clone()),
        )
        .await?;
        if !outcome.ok {
            rollback_errors.push(format!(
                "removing `{name}` failed (test content may remain): {}",
                outcome.error.unwrap_or_default()
            ));
        }
    }

    let versioning = if versions_seen.is_empty() {
        versioning.verdict(Verdict::Inconclusive, "no reply to inspect")
    } else {
        let missing = versions_seen.iter().filter(|v| v.is_none()).count();
        if missing == 0 {
            let mut distinct: Vec<&str> =
                versions_seen.iter().flatten().map(String::as_str).collect();
            distinct.dedup();
            versioning.verdict(
                Verdict::Pass,
                format!(
                    "all {} replies named their content version ({})",
                    versions_seen.len(),
                    distinct.join(" → ")
                ),
            )
        } else {
            versioning.verdict(
                Verdict::Fail,
                format!(
                    "{missing} of {} replies did not say which content version they were built from; map `content_version` in the target adapter, or have the agent report it",
                    versions_seen.len()
                ),
            )
        }
    };
    let mut rows = vec![row, versioning];
    for row in &mut rows {
        row.rollback_errors = rollback_errors.clone();
        crate::finish(&rec, row).await?;
    }
    Ok(rows)
}

/// Ask, roll back, ask again until the answer shows the named version. Returns the row and whether
/// the rollback action was sent (so the restore must run).
async fn measure(
    ctx: &ControlContext<'_>,
    r: &ContentRollbackControl,
    steps: &StepContext<'_>,
    row: ControlResult,
    versions: &mut Vec<Option<String>>,
) -> Result<(ControlResult, bool), StoreError> {
    let say = vec![r.ask.say.clone()];
    let customer = r.ask.customer.as_deref();
    let (before, detail, transcript) =
        converse(steps, "before", &say, customer, &r.expect_before).await?;
    versions.extend(
        transcript
            .iter()
            .filter_map(|t| t.reply.as_ref().ok())
            .map(|r| r.content_version.clone()),
    );
    if before != Status::Pass {
        return Ok((
            row.verdict(
                Verdict::Inconclusive,
                format!(
                    "before the rollback the agent did not serve the content to roll back: {detail}"
                ),
            ),
            false,
        ));
    }
    let started = Instant::now();
    let (action, _) = run_named_action(steps, "method", &r.action).await?;
    match action.status {
        Status::Pass => {}
        Status::Fail => {
            return Ok((
                row.verdict(
                    Verdict::Fail,
                    format!("the rollback action failed: {}", action.detail),
                ),
                true,
            ));
        }
        Status::Inconclusive => {
            return Ok((
                row.verdict(
                    Verdict::Inconclusive,
                    format!(
                        "the rollback action did not reach the target: {}",
                        action.detail
                    ),
                ),
                true,
            ));
        }
    }
    let (every, give_up) = schedule(&r.polling, Some(&r.claimed_within));
    let mut last;
    loop {
        let (status, detail, transcript) =
            converse(steps, "verify", &say, customer, &r.expect_after).await?;
        let version = transcript
            .iter()
            .filter_map(|t| t.reply.as_ref().ok())
            .find_map(|r| r.content_version.clone());
        versions.extend(
            transcript
                .iter()
                .filter_map(|t| t.reply.as_ref().ok())
                .map(|r| r.content_version.clone()),
        );
        let on_version = version.as_deref() == Some(r.version.as_str());
        if status == Status::Pass && (on_version || version.is_none()) {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let what = if on_version {
                format!("the answer changed and named version {}", r.version)
            } else {
                "the answer changed (the reply names no content version)".to_owned()
            };
            return Ok((row.against_claim(ms, &what), true));
        }
        last = match (status, version) {
            (Status::Pass, Some(v)) => {
                format!("the answer is right but the reply names version {v}")
            }
            (_, _) => detail,
        };
        if started.elapsed() >= give_up {
            break;
        }
        if !wait(every, &ctx.cancel).await {
            return Ok((
                row.verdict(
                    Verdict::Inconclusive,
                    "interrupted while verifying; rollbacks ran",
                ),
                true,
            ));
        }
    }
    Ok((
        row.verdict(
            Verdict::Fail,
            format!(
                "the answer had not changed as expected {} after the rollback: {last}",
                crate::report::seconds(give_up.as_secs_f64() * 1000.0)
            ),
        ),
        true,
    ))
}
