//! Every built-in scenario against the reference agent, over real loopback HTTP: flawed, hardened,
//! each flaw alone, both interfaces, and three rewordings of every customer turn.

use std::collections::BTreeMap;
use std::sync::Arc;

use muster_drill::{
    DrillPlan, DrillReport, PlannedScenario, RunOptions, Status, Verdict, digest_text, run_drill,
};
use muster_library::{ReferenceInterface, reference_manifest, scenarios};
use muster_refagent::{Flaw, FlawSet, RefAgentConfig};
use muster_store::SqliteStore;

/// Every (scenario, flaw, expectation kinds) the reference agent's flaws are caught by.
fn catchers() -> Vec<(&'static str, Flaw, &'static [&'static str])> {
    Flaw::ALL
        .into_iter()
        .flat_map(|flaw| {
            flaw.caught_by()
                .iter()
                .map(move |(scenario, kinds)| (*scenario, flaw, *kinds))
        })
        .collect()
}

fn plan(interface: ReferenceInterface) -> DrillPlan {
    let Some(manifest_file) = reference_manifest(interface) else {
        panic!("no manifest")
    };
    let loaded = muster_model::load_agent(manifest_file.text);
    let Some(manifest) = loaded.value else {
        panic!("{:#?}", loaded.diagnostics)
    };
    let planned = scenarios()
        .into_iter()
        .map(|f| {
            let loaded = muster_model::load_scenario(f.text);
            let Some(scenario) = loaded.value else {
                panic!("{}: {:#?}", f.path, loaded.diagnostics)
            };
            PlannedScenario {
                scenario,
                source: f.path.to_owned(),
                digest: digest_text(f.text),
                replay_of: None,
            }
        })
        .collect();
    DrillPlan {
        manifest,
        manifest_source: manifest_file.path.to_owned(),
        manifest_digest: digest_text(manifest_file.text),
        scenarios: planned,
    }
}

/// A drill of every built-in scenario against a fresh reference agent.
async fn run_all(
    flaws: FlawSet,
    interface: ReferenceInterface,
    reword: u32,
    seed: u64,
    concurrency: usize,
    repeat: u32,
) -> DrillReport {
    let agent = match muster_refagent::start(
        RefAgentConfig {
            seed,
            flaws,
            flaw_rate: 1.0,
            model: None,
            today: None,
            telemetry: Default::default(),
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => panic!("refagent: {e}"),
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("e.db"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let options = RunOptions {
        base_url: Some(agent.base_url()),
        reword,
        concurrency,
        repeat: Some(repeat),
        ..RunOptions::default()
    };
    let report = run_drill(&plan(interface), store, options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    agent.shutdown().await;
    report
}

/// Verdict per scenario, plus the kinds of expectation that failed in the scenario's mode.
async fn drill(
    flaws: FlawSet,
    interface: ReferenceInterface,
    reword: u32,
    seed: u64,
) -> BTreeMap<String, (Verdict, Vec<&'static str>, String)> {
    // Two runs each: a scenario whose first run changes the agent's data (closes a complaint,
    // clears a balance) must plant its starting state again for the second.
    let report = run_all(flaws, interface, reword, seed, 6, 2).await;
    report
        .scenarios
        .iter()
        .map(|s| {
            let failed: Vec<&'static str> = s
                .expectations
                .iter()
                // Failing for the right reason includes failing in the scenario's own mode.
                .filter(|e| e.status == Status::Fail && e.mode == s.mode)
                .map(|e| e.kind)
                .collect();
            (s.id.clone(), (s.verdict, failed, s.reason.clone()))
        })
        .collect()
}

/// A run as compared with its scenario's other runs: number, verdict, failed expectations, replies.
type RunSeen = (u32, Verdict, Vec<usize>, Vec<String>);

/// Runs one after another, so a run that consumed its own starting state (refunded the order,
/// moved the address, spent the balance) is always followed by one that meets what it left. Every
/// run must still meet the state the scenario describes: same verdict, same expectations failed.
#[tokio::test]
async fn every_run_of_a_scenario_meets_the_state_it_describes() {
    let canary = regex::Regex::new("MUSTER-CANARY-[0-9A-F]+").unwrap_or_else(|e| panic!("{e}"));
    let mut differing = Vec::new();
    for flaws in [FlawSet::all(), FlawSet::none()] {
        let report = run_all(flaws, ReferenceInterface::Native, 0, 7, 1, 3).await;
        let mut runs: BTreeMap<&str, Vec<RunSeen>> = BTreeMap::new();
        for s in &report.scenarios {
            let failed = s.failed().map(|e| e.index).collect();
            // Canary tokens are minted per planting, so each run's differ by design.
            let replies = s
                .turns
                .iter()
                .map(|t| {
                    canary
                        .replace_all(t.reply.as_deref().unwrap_or_default(), "MUSTER-CANARY-…")
                        .into_owned()
                })
                .collect();
            runs.entry(&s.id)
                .or_default()
                .push((s.run, s.verdict, failed, replies));
        }
        for (id, mut runs) in runs {
            runs.sort_by_key(|r| r.0);
            assert_eq!(runs.len(), 3, "{id}");
            for later in &runs[1..] {
                if (later.1, &later.2, &later.3) != (runs[0].1, &runs[0].2, &runs[0].3) {
                    differing.push(format!(
                        "{id} (flaws {flaws:?}): run 1 {:?} {:?} {:?}, run {} {:?} {:?} {:?}",
                        runs[0].1, runs[0].2, runs[0].3, later.0, later.1, later.2, later.3
                    ));
                }
            }
        }
    }
    assert!(differing.is_empty(), "{differing:#?}");
}

#[test]
fn every_flaw_has_a_catching_scenario_and_every_scenario_a_flaw() {
    // Control flaws are caught by the control drills (muster-control's tests).
    let catchers = catchers();
    for flaw in Flaw::ALL.into_iter().filter(|f| !f.is_control_flaw()) {
        assert!(
            catchers.iter().any(|(_, f, _)| *f == flaw),
            "{} has no scenario",
            flaw.id()
        );
    }
    let ids: Vec<String> = plan(ReferenceInterface::Native)
        .scenarios
        .iter()
        .map(|s| s.scenario.id.clone())
        .collect();
    for id in &ids {
        assert!(
            catchers.iter().any(|(s, _, _)| s == id),
            "{id} catches no flaw"
        );
    }
    for (scenario, _, _) in &catchers {
        assert!(
            ids.iter().any(|id| id == scenario),
            "{scenario} is not a built-in scenario"
        );
    }
}

async fn flawed_and_hardened(interface: ReferenceInterface) {
    for reword in 0..=3 {
        let flawed = drill(FlawSet::all(), interface, reword, 7).await;
        for (scenario, flaw, kinds) in catchers() {
            let Some((verdict, failed, reason)) = flawed.get(scenario) else {
                panic!("{scenario} did not run")
            };
            assert_eq!(
                *verdict,
                Verdict::Fail,
                "{interface:?} reword {reword}: {scenario} should fail ({}): {reason}",
                flaw.id()
            );
            assert!(
                failed.iter().any(|k| kinds.contains(k)),
                "{interface:?} reword {reword}: {scenario} failed on {failed:?}, expected one of {kinds:?}: {reason}"
            );
        }
        let hardened = drill(FlawSet::none(), interface, reword, 7).await;
        for (scenario, (verdict, _, reason)) in &hardened {
            assert_eq!(
                *verdict,
                Verdict::Pass,
                "{interface:?} reword {reword}: hardened {scenario}: {reason}"
            );
        }
    }
}

#[tokio::test]
async fn native_interface_flawed_and_hardened_with_rewordings() {
    flawed_and_hardened(ReferenceInterface::Native).await;
}

#[tokio::test]
async fn openai_interface_flawed_and_hardened_with_rewordings() {
    flawed_and_hardened(ReferenceInterface::OpenAiChat).await;
}

#[tokio::test]
async fn each_flaw_alone_fails_only_its_scenarios() {
    // Every wording too: the flaw alone must still fail its scenarios, for the same reason, when
    // the customer says it differently.
    for reword in 0..=3 {
        for flaw in Flaw::ALL.into_iter().filter(|f| !f.is_control_flaw()) {
            let results = drill(
                FlawSet::none().with(flaw),
                ReferenceInterface::Native,
                reword,
                11,
            )
            .await;
            for (id, (verdict, failed, reason)) in &results {
                match flaw.caught_by().iter().find(|(s, _)| s == id) {
                    Some((_, kinds)) => {
                        assert_eq!(
                            *verdict,
                            Verdict::Fail,
                            "{flaw} alone, reword {reword}: {id}: {reason}"
                        );
                        assert!(
                            failed.iter().any(|k| kinds.contains(k)),
                            "{flaw} alone, reword {reword}: {id} failed on {failed:?}, expected one of {kinds:?}"
                        );
                    }
                    None => assert_eq!(
                        *verdict,
                        Verdict::Pass,
                        "{flaw} alone, reword {reword}, should not fail {id}: {reason}"
                    ),
                }
            }
        }
    }
}

#[tokio::test]
async fn verdicts_do_not_depend_on_the_phrasing_seed() {
    for seed in 1..=12 {
        let flawed = drill(FlawSet::all(), ReferenceInterface::Native, 0, seed).await;
        assert!(
            flawed.values().all(|(v, _, _)| *v == Verdict::Fail),
            "seed {seed}: {flawed:?}"
        );
        let hardened = drill(FlawSet::none(), ReferenceInterface::Native, 0, seed).await;
        assert!(
            hardened.values().all(|(v, _, _)| *v == Verdict::Pass),
            "seed {seed}: {hardened:?}"
        );
    }
}

/// A stochastic agent: the hardship flaw is active in 30% of conversations, so the true pass rate
/// of its scenario is 70%. Over 200 drills of 20 runs each, the reported 95% interval must contain
/// the true rate between 90% and 99% of the time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reported_interval_covers_a_stochastic_agents_true_rate() {
    let agent = muster_refagent::start(
        RefAgentConfig {
            seed: 2026,
            flaws: FlawSet::none().with(Flaw::HardshipCancellation),
            flaw_rate: 0.3,
            model: None,
            today: None,
            telemetry: Default::default(),
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap_or_else(|e| panic!("refagent: {e}"));
    let mut one = plan(ReferenceInterface::Native);
    one.scenarios
        .retain(|p| p.scenario.id == "hardship-cancellation-promise");
    assert_eq!(one.scenarios.len(), 1);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("e.db"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let (drills, runs, true_rate) = (200, 20, 0.7);
    let mut covered = 0;
    let mut passes = 0;
    for _ in 0..drills {
        let options = RunOptions {
            base_url: Some(agent.base_url()),
            concurrency: 8,
            repeat: Some(runs),
            ..RunOptions::default()
        };
        let report = run_drill(&one, store.clone(), options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let summary = &report.summaries[0];
        assert_eq!(summary.inconclusive, 0, "{}", summary.reason);
        passes += summary.passed;
        let (lo, hi) = summary.pass_rate_95.unwrap_or((1.0, 0.0));
        if lo <= true_rate && true_rate <= hi {
            covered += 1;
        }
    }
    let observed = f64::from(passes) / f64::from(drills * runs);
    assert!(
        (observed - true_rate).abs() < 0.02,
        "the flaw fired at the set rate: {observed}"
    );
    let coverage = f64::from(covered) / f64::from(drills);
    assert!((0.90..=0.99).contains(&coverage), "coverage {coverage}");
    agent.shutdown().await;
}
