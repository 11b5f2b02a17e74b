//! A drill stopped mid-way (Ctrl-C): every rollback ran, and was recorded.

use std::time::Duration;

use muster_control::ControlKind;
use muster_drill::Verdict;
use muster_refagent::{Flaw, FlawSet};
use tokio::sync::watch;

use crate::common::{agent, get_json, plan, run};

fn phases(events: &[muster_store::StoredEvent]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e.event.kind == "control.step")
        .map(|e| {
            let s = |k: &str| {
                e.event
                    .value(k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            };
            (s("phase"), s("label"), s("status"))
        })
        .collect()
}

#[tokio::test]
async fn stopping_while_the_kill_switch_is_pulled_restores_it() {
    // Under-way conversations never stop with this flaw, so the drill is still polling when stopped.
    let agent = agent(FlawSet::none().with(Flaw::KillSwitchInFlight)).await;
    let (stop, cancel) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = stop.send(true);
        stop
    });
    let ran = run(
        &plan(|_| {}),
        &agent.base_url(),
        &[ControlKind::KillSwitch, ControlKind::CommsApproval],
        Some(cancel),
    )
    .await;
    let _keep_sender = stopper.await;
    let steps = phases(&ran.events("control/kill-switch").await);
    assert_eq!(
        steps.first().map(|s| s.0.as_str()),
        Some("method"),
        "{steps:?}"
    );
    assert!(
        steps.contains(&(
            "rollback".into(),
            "action kill-switch-off".into(),
            "pass".into()
        )),
        "the resume action ran and was recorded: {steps:?}"
    );
    let in_flight = ran.row("kill-switch/in-flight");
    assert_eq!(in_flight.verdict, Verdict::Inconclusive, "{in_flight:#?}");
    assert!(
        in_flight.reason.contains("interrupted"),
        "{}",
        in_flight.reason
    );
    // The agent is not left switched off.
    let switch = get_json(&format!("{}/admin/kill-switch", agent.base_url())).await;
    assert_eq!(switch["engaged"], false);
    // Controls after the stop did not run, and say so.
    let comms = ran.row("comms-approval");
    assert_eq!(comms.verdict, Verdict::Inconclusive);
    assert!(comms.reason.contains("not run"));
    assert!(ran.controls.interrupted);
    assert_eq!(ran.report.status, "interrupted");
    agent.shutdown().await;
}

#[tokio::test]
async fn stopping_during_a_content_rollback_restores_the_content_and_removes_the_bad_edit() {
    // A stale index means the answer never changes, so the drill is polling when stopped.
    let agent = agent(FlawSet::none().with(Flaw::StaleBereavementArticle)).await;
    let (stop, cancel) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let _ = stop.send(true);
        stop
    });
    let ran = run(
        &plan(|_| {}),
        &agent.base_url(),
        &[ControlKind::ContentRollback],
        Some(cancel),
    )
    .await;
    let _keep_sender = stopper.await;
    let events = ran.events("control/content-rollback").await;
    let steps = phases(&events);
    assert!(
        steps.contains(&("rollback".into(), "action kb-restore".into(), "pass".into())),
        "{steps:?}"
    );
    let removed: Vec<bool> = events
        .iter()
        .filter(|e| e.event.kind == "fixture.removed")
        .filter_map(|e| e.event.value("ok").and_then(serde_json::Value::as_bool))
        .collect();
    assert_eq!(
        removed,
        [true],
        "the bad edit was taken down and that was recorded"
    );
    let row = ran.row("content-rollback");
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:#?}");
    let kb = get_json(&format!("{}/admin/kb", agent.base_url())).await;
    let statuses: Vec<&str> = kb["articles"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["status"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !statuses.contains(&"rolled-back"),
        "the latest content is served again: {statuses:?}"
    );
    agent.shutdown().await;
}
