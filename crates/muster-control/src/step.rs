//! Running one experiment step (probe or action) through its provider, and recording it.

use std::time::Instant;

use muster_drill::{Status, TurnRecord, judge};
use muster_evidence::EventDraft;
use muster_model::agent::{Action, AgentManifest, CommandAction, HttpAction};
use muster_model::common::{Mode, Severity};
use muster_model::experiment::{JsonCheck, Step};
use muster_model::scenario::{Customer, Expectation, Persona, Scenario, Turn};
use muster_model::template::Vars;
use muster_store::StoreError;
use muster_target::{ActionOutcome, Target, run_action};
use regex::Regex;
use serde::Serialize;
use serde_json::{Value, json};

use crate::chat::{Chat, customer_vars};
use crate::record::{Recorder, now_ns};

/// What one step did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepResult {
    pub phase: String,
    pub label: String,
    pub provider: &'static str,
    pub status: Status,
    pub detail: String,
    pub elapsed_ms: f64,
}

/// Everything a step needs.
pub struct StepContext<'a> {
    pub target: &'a Target,
    pub manifest: &'a AgentManifest,
    pub recorder: &'a Recorder,
    pub drill_id: &'a str,
    pub vars: &'a Vars,
}

/// The status of an action's outcome: reached and succeeded, reached and failed, or not reached.
pub fn action_status(outcome: &ActionOutcome) -> Status {
    match (outcome.ok, outcome.reached) {
        (true, _) => Status::Pass,
        (false, true) => Status::Fail,
        (false, false) => Status::Inconclusive,
    }
}

/// Run a named manifest action, recording it.
pub async fn run_named_action(
    ctx: &StepContext<'_>,
    phase: &str,
    name: &str,
) -> Result<(StepResult, ActionOutcome), StoreError> {
    let started = Instant::now();
    let at = now_ns();
    let Some(action) = ctx.manifest.actions.get(name) else {
        let outcome = ActionOutcome {
            ok: false,
            reached: false,
            output: None,
            record: json!({}),
            error: Some(format!("the manifest has no action `{name}`")),
        };
        let result = finish(
            ctx,
            phase,
            format!("action {name}"),
            "action",
            &outcome,
            started,
            at,
            None,
        )
        .await?;
        return Ok((result, outcome));
    };
    let outcome = run_action(ctx.target, action, ctx.vars).await;
    let result = finish(
        ctx,
        phase,
        format!("action {name}"),
        "action",
        &outcome,
        started,
        at,
        None,
    )
    .await?;
    Ok((result, outcome))
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    ctx: &StepContext<'_>,
    phase: &str,
    label: String,
    provider: &'static str,
    outcome: &ActionOutcome,
    started: Instant,
    at: i64,
    judged: Option<(Status, String)>,
) -> Result<StepResult, StoreError> {
    let (status, detail) = judged.unwrap_or_else(|| {
        let status = action_status(outcome);
        let detail = match status {
            Status::Pass => "succeeded".to_owned(),
            _ => outcome.error.clone().unwrap_or_else(|| "failed".to_owned()),
        };
        (status, detail)
    });
    let result = StepResult {
        phase: phase.to_owned(),
        label,
        provider,
        status,
        detail,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    ctx.recorder
        .one(
            EventDraft::new("control.step", at)
                .field("phase", phase)
                .field("label", result.label.clone())
                .field("provider", provider)
                .field(
                    "status",
                    serde_json::to_value(status).unwrap_or(Value::Null),
                )
                .field("detail", result.detail.clone())
                .field("elapsed_ms", result.elapsed_ms)
                .field("finished_at_ns", now_ns())
                .field("record", outcome.record.clone()),
        )
        .await?;
    Ok(result)
}

/// Check one value of a JSON document.
pub fn check_json(doc: &Value, check: &JsonCheck) -> Result<(), String> {
    let found = doc.pointer(&check.pointer);
    if let Some(exists) = check.exists {
        if exists != found.is_some() {
            return Err(if exists {
                format!("nothing at `{}`", check.pointer)
            } else {
                format!("`{}` is present", check.pointer)
            });
        }
        if !exists {
            return Ok(());
        }
    }
    if (check.equals.is_some() || check.matches.is_some()) && found.is_none() {
        return Err(format!("nothing at `{}`", check.pointer));
    }
    if let (Some(want), Some(got)) = (&check.equals, found)
        && want != got
    {
        return Err(format!("`{}` is {got}, expected {want}", check.pointer));
    }
    if let (Some(pattern), Some(got)) = (&check.matches, found) {
        let text = match got {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let re = Regex::new(pattern).map_err(|e| format!("invalid pattern: {e}"))?;
        if !re.is_match(&text) {
            return Err(format!(
                "`{}` is {got}, which does not match /{pattern}/",
                check.pointer
            ));
        }
    }
    Ok(())
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "held",
        Status::Fail => "failed",
        Status::Inconclusive => "inconclusive",
    }
}

/// A scenario made up on the spot to judge a `converse` probe with the scenario judge.
fn probe_scenario(say: &[String], customer: &str, expect: &[Expectation]) -> Scenario {
    Scenario {
        version: 1,
        kind: "scenario".into(),
        id: "control-probe".into(),
        title: "control probe".into(),
        mode: Mode::Escalation,
        vectors: Vec::new(),
        severity: Severity::High,
        journeys: Vec::new(),
        ticket: "control probe".into(),
        persona: Persona {
            name: "control probe".into(),
            description: None,
            vulnerability: Vec::new(),
            mood: None,
        },
        customer: Customer {
            reference: customer.to_owned(),
            name: None,
            email: None,
            phone: None,
            postcode: None,
            date_of_birth: None,
            other_identifiers: Vec::new(),
        },
        setup: Vec::new(),
        turns: say
            .iter()
            .map(|s| Turn {
                say: s.clone(),
                rewordings: Vec::new(),
            })
            .collect(),
        replies: Vec::new(),
        simulated_customer: None,
        tool_results: Default::default(),
        expect: expect.to_vec(),
        controls: Vec::new(),
        taxonomy: Vec::new(),
        repeat: None,
        references: Vec::new(),
    }
}

/// Hold a conversation and judge it: pass when every expectation held, fail when one failed,
/// inconclusive when a turn had no reply.
pub async fn converse(
    ctx: &StepContext<'_>,
    role: &str,
    say: &[String],
    customer: Option<&str>,
    expect: &[Expectation],
) -> Result<(Status, String, Vec<TurnRecord>), StoreError> {
    let vars = customer_vars(customer, ctx.drill_id);
    let mut chat = Chat::open(ctx.target, ctx.recorder, vars, role).await?;
    let mut transcript = Vec::new();
    for text in say {
        let reply = chat.say(ctx.target, ctx.recorder, text).await?;
        let failed = reply.is_err();
        transcript.push(TurnRecord {
            turn: chat.turns(),
            customer: text.clone(),
            reply,
        });
        if failed {
            break;
        }
    }
    if let Some(err) = transcript.iter().find_map(|t| t.reply.as_ref().err()) {
        return Ok((Status::Inconclusive, format!("no reply: {err}"), transcript));
    }
    let scenario = probe_scenario(say, customer.unwrap_or_default(), expect);
    let results = judge(&scenario, ctx.manifest, &transcript, &[]);
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| format!("{} {}: {}", r.kind, status_word(r.status), r.reason))
        .collect();
    let status = results
        .iter()
        .map(|r| r.status)
        .fold(Status::Pass, |acc, s| match (acc, s) {
            (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
            (Status::Inconclusive, _) | (_, Status::Inconclusive) => Status::Inconclusive,
            _ => Status::Pass,
        });
    let detail = if failed.is_empty() {
        format!("{} expectation(s) held", results.len())
    } else {
        failed.join("; ")
    };
    Ok((status, detail, transcript))
}

/// Run one step of an experiment.
pub async fn run_step(
    ctx: &StepContext<'_>,
    phase: &str,
    step: &Step,
) -> Result<StepResult, StoreError> {
    let label = step.label();
    if let Some(name) = &step.action {
        let (mut result, _) = run_named_action(ctx, phase, name).await?;
        result.label = label;
        return Ok(result);
    }
    let started = Instant::now();
    let at = now_ns();
    if let Some(h) = &step.http {
        let action = Action::Http(HttpAction {
            method: h.method,
            url: h.url.clone(),
            headers: h.headers.clone(),
            body: h.body.clone(),
            expect_status: h.expect_status.clone(),
        });
        let outcome = run_action(ctx.target, &action, ctx.vars).await;
        let mut judged = None;
        if outcome.ok && !h.checks.is_empty() {
            let doc = outcome.output.clone().unwrap_or(Value::Null);
            let problems: Vec<String> = h
                .checks
                .iter()
                .filter_map(|c| check_json(&doc, c).err())
                .collect();
            judged = Some(if problems.is_empty() {
                (Status::Pass, format!("{} check(s) held", h.checks.len()))
            } else {
                (Status::Fail, problems.join("; "))
            });
        }
        return finish(ctx, phase, label, "http", &outcome, started, at, judged).await;
    }
    if let Some(c) = &step.command {
        let action = Action::Command(CommandAction {
            argv: c.argv.clone(),
            expect_exit: c.expect_exit,
            timeout: c.timeout,
        });
        let outcome = run_action(ctx.target, &action, ctx.vars).await;
        let mut judged = None;
        if outcome.ok
            && let Some(pattern) = &c.stdout_matches
        {
            let stdout = outcome
                .output
                .as_ref()
                .and_then(|o| o.get("stdout"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            judged = Some(match Regex::new(pattern) {
                Ok(re) if re.is_match(stdout) => (Status::Pass, "output matched".to_owned()),
                Ok(_) => (
                    Status::Fail,
                    format!("standard output does not match /{pattern}/"),
                ),
                Err(e) => (Status::Inconclusive, format!("invalid pattern: {e}")),
            });
        }
        return finish(ctx, phase, label, "command", &outcome, started, at, judged).await;
    }
    if let Some(c) = &step.converse {
        let (status, detail, _) =
            converse(ctx, phase, &c.say, c.customer.as_deref(), &c.expect).await?;
        let outcome = ActionOutcome {
            ok: status == Status::Pass,
            reached: status != Status::Inconclusive,
            output: None,
            record: json!({"say": c.say}),
            error: None,
        };
        return finish(
            ctx,
            phase,
            label,
            "converse",
            &outcome,
            started,
            at,
            Some((status, detail)),
        )
        .await;
    }
    let outcome = ActionOutcome {
        ok: false,
        reached: false,
        output: None,
        record: json!({}),
        error: Some("the step names no provider".into()),
    };
    finish(ctx, phase, label, "none", &outcome, started, at, None).await
}
