//! `muster demo`'s control drills, checked here at the library edge.

use muster_control::ControlKind;
use muster_drill::Verdict;
use muster_refagent::{Flaw, FlawSet};
use muster_store::EvidenceStore;

use crate::common::{agent, plan, run};

const MEASURED: [ControlKind; 3] = [
    ControlKind::ContentRollback,
    ControlKind::Handover,
    ControlKind::KillSwitch,
];

#[tokio::test]
async fn against_the_hardened_agent_every_control_passes_within_its_claim() {
    let agent = agent(FlawSet::none()).await;
    let ran = run(&plan(|_| {}), &agent.base_url(), &MEASURED, None).await;
    for row in &ran.controls.controls {
        assert_eq!(row.verdict, Verdict::Pass, "{row:#?}");
        if let (Some(m), Some(c)) = (row.measured_ms, row.claimed_ms) {
            assert!(m <= c as f64, "{row:#?}");
        }
    }
    let ids: Vec<&str> = ran
        .controls
        .controls
        .iter()
        .map(|r| r.control.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "content-rollback",
            "content-versioning",
            "handover",
            "kill-switch/new",
            "kill-switch/in-flight",
            "kill-switch/recovery"
        ]
    );
    // Every step is evidence, sealed into the drill.
    let steps = ran.events("control/kill-switch").await;
    assert!(steps.iter().any(|e| e.event.kind == "control.step"
        && e.event.value("phase").and_then(|v| v.as_str()) == Some("method")));
    assert!(
        steps.iter().any(|e| e.event.kind == "tool.call"),
        "the steady state acted"
    );
    assert_eq!(ran.report.status, "sealed");
    let verified = match ran.store.verify(&ran.report.drill_id).await {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert!(verified.report.is_intact(), "{:#?}", verified.report);
    agent.shutdown().await;
}

#[tokio::test]
async fn the_in_flight_kill_switch_gap_and_the_contextless_handover_are_caught() {
    let flaws = FlawSet::none()
        .with(Flaw::KillSwitchInFlight)
        .with(Flaw::ContextlessHandover);
    let agent = agent(flaws).await;
    let ran = run(
        &plan(|_| {}),
        &agent.base_url(),
        &[ControlKind::Handover, ControlKind::KillSwitch],
        None,
    )
    .await;
    assert_eq!(ran.row("kill-switch/new").verdict, Verdict::Pass);
    let in_flight = ran.row("kill-switch/in-flight");
    assert_eq!(in_flight.verdict, Verdict::Fail, "{in_flight:#?}");
    assert!(
        in_flight.reason.contains("still taking actions"),
        "{}",
        in_flight.reason
    );
    assert_eq!(in_flight.measured_ms, None);
    // The switch was restored and the agent works again.
    assert_eq!(ran.row("kill-switch/recovery").verdict, Verdict::Pass);
    let handover = ran.row("handover");
    assert_eq!(handover.verdict, Verdict::Fail, "{handover:#?}");
    assert!(
        handover.reason.contains("does not carry the conversation"),
        "{}",
        handover.reason
    );
    // The ticket was found (and timed); only its content failed.
    assert!(handover.measured_ms.is_some());
    agent.shutdown().await;
}

#[tokio::test]
async fn each_control_flaw_alone_fails_only_its_own_control() {
    for flaw in [Flaw::KillSwitchInFlight, Flaw::ContextlessHandover] {
        let agent = agent(FlawSet::none().with(flaw)).await;
        let ran = run(
            &plan(|_| {}),
            &agent.base_url(),
            &[ControlKind::Handover, ControlKind::KillSwitch],
            None,
        )
        .await;
        let failed: Vec<&str> = ran
            .controls
            .controls
            .iter()
            .filter(|r| r.verdict != Verdict::Pass)
            .map(|r| r.control.as_str())
            .collect();
        let expected = match flaw {
            Flaw::KillSwitchInFlight => ["kill-switch/in-flight"],
            _ => ["handover"],
        };
        assert_eq!(failed, expected, "{flaw}");
        agent.shutdown().await;
    }
}

#[tokio::test]
async fn a_stale_search_index_defeats_the_content_rollback() {
    let agent = agent(FlawSet::none().with(Flaw::StaleBereavementArticle)).await;
    let ran = run(
        &plan(|m| {
            if let Some(r) = m.controls.content_rollback.as_mut() {
                r.polling.give_up_after = None;
                r.claimed_within =
                    muster_model::common::Duration(std::time::Duration::from_secs(1));
            }
        }),
        &agent.base_url(),
        &[ControlKind::ContentRollback],
        None,
    )
    .await;
    let row = ran.row("content-rollback");
    assert_eq!(row.verdict, Verdict::Fail, "{row:#?}");
    assert!(row.reason.contains("had not changed"), "{}", row.reason);
    // The bad edit was removed and the latest content restored, whatever the verdict.
    let kb = crate::common::get_json(&format!("{}/admin/kb", agent.base_url())).await;
    assert_eq!(
        kb["version"], "kb-2026.11.2",
        "publish, then take down: two releases"
    );
    let bereavement: Vec<u64> = kb["articles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["id"] == "bereavement")
                .filter_map(|x| x["version"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(bereavement, [1, 3], "the published bad edit is gone");
    agent.shutdown().await;
}
