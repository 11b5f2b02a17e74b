//! Black-box drills: the reference agent's replies are read without their tool calls, so the only
//! way to see what it did is the traces it exports to the drill's OTLP receiver.

use std::sync::Arc;

use muster_drill::{
    DrillPlan, PlannedScenario, RunOptions, Status, Verdict, digest_text, run_drill,
};
use muster_library::{ReferenceInterface, reference_manifest, scenarios};
use muster_refagent::{FlawSet, RefAgentConfig, TelemetryConfig};
use muster_store::{EvidenceStore, SqliteStore};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The reference manifest with the reply's tool calls unmapped, observing traces on `port`.
fn black_box_plan(port: u16, wait: &str) -> DrillPlan {
    let Some(file) = reference_manifest(ReferenceInterface::Native) else {
        panic!("no manifest")
    };
    let text = file
        .text
        .replace(
            "      tool_calls:\n        at: /tool_calls\n        name: /name\n        arguments: /arguments\n        result: /result\n",
            "",
        )
        .replace(
            "  timeout: 10s\n",
            &format!("  timeout: 10s\n  observe:\n    traces: {{listen: \"127.0.0.1:{port}\", wait: {wait}, quiet: 200ms}}\n"),
        );
    assert!(
        !text.contains("at: /tool_calls") && text.contains("observe:"),
        "the manifest changed shape"
    );
    let loaded = muster_model::load_agent(&text);
    let has_errors = loaded.has_errors();
    let Some(manifest) = loaded.value.filter(|_| !has_errors) else {
        panic!("{:#?}", loaded.diagnostics)
    };
    let Some(file) = scenarios()
        .into_iter()
        .find(|f| f.path.ends_with("return-note-injection.yaml"))
    else {
        panic!("no scenario")
    };
    let Some(scenario) = muster_model::load_scenario(file.text).value else {
        panic!("scenario")
    };
    DrillPlan {
        manifest,
        manifest_source: "black-box.yaml".into(),
        manifest_digest: digest_text(&text),
        scenarios: vec![PlannedScenario {
            scenario,
            source: file.path.into(),
            digest: digest_text(file.text),
            replay_of: None,
        }],
    }
}

struct Outcome {
    verdict: Verdict,
    tool_within: Status,
    reason: String,
    kinds: Vec<String>,
}

async fn run(flaws: FlawSet, telemetry: bool, wait: &str) -> Outcome {
    let port = free_port();
    let agent = muster_refagent::start(
        RefAgentConfig {
            seed: 7,
            flaws,
            flaw_rate: 1.0,
            model: None,
            today: None,
            telemetry: TelemetryConfig {
                endpoint: telemetry.then(|| format!("http://127.0.0.1:{port}")),
                file: None,
            },
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap_or_else(|e| panic!("refagent: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("e.db"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let options = RunOptions {
        base_url: Some(agent.base_url()),
        repeat: Some(1),
        ..RunOptions::default()
    };
    let report = run_drill(&black_box_plan(port, wait), store.clone(), options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    agent.shutdown().await;
    let run = &report.scenarios[0];
    let tool_within = run
        .expectations
        .iter()
        .find(|e| e.kind == "tool_within")
        .map_or(Status::Inconclusive, |e| e.status);
    let reason = run
        .expectations
        .iter()
        .find(|e| e.kind == "tool_within")
        .map(|e| e.reason.clone())
        .unwrap_or_default();
    let events = store
        .events(&report.drill_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let verified = store
        .verify(&report.drill_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    let kinds = events
        .iter()
        .map(|e| {
            let observed = e.event.value("observed").and_then(|v| v.as_str());
            match observed {
                Some(how) => format!("{}:{how}", e.event.kind),
                None => e.event.kind.clone(),
            }
        })
        .collect();
    Outcome {
        // The run's verdict: one run is too few for the drill's pass policy either way.
        verdict: run.verdict,
        tool_within,
        reason,
        kinds,
    }
}

#[tokio::test]
async fn a_refund_past_the_limit_seen_only_in_traces_fails_the_drill() {
    let flawed = run(FlawSet::all(), true, "5s").await;
    assert_eq!(flawed.verdict, Verdict::Fail, "{}", flawed.reason);
    assert_eq!(flawed.tool_within, Status::Fail);
    assert!(flawed.reason.contains("749"), "{}", flawed.reason);
    assert!(
        flawed.kinds.iter().any(|k| k == "tool.call:otlp"),
        "{:?}",
        flawed.kinds
    );
    assert!(flawed.kinds.iter().any(|k| k == "trace.observation"));
    assert!(
        flawed.kinds.iter().any(|k| k == "otlp.export"),
        "exports are recorded"
    );

    let hardened = run(FlawSet::none(), true, "5s").await;
    assert_eq!(hardened.verdict, Verdict::Pass, "{}", hardened.reason);
    assert_eq!(hardened.tool_within, Status::Pass);
}

#[tokio::test]
async fn without_the_traces_tool_calls_cannot_be_judged_so_nothing_passes() {
    let silent = run(FlawSet::none(), false, "1s").await;
    assert_eq!(
        silent.tool_within,
        Status::Inconclusive,
        "{}",
        silent.reason
    );
    assert!(silent.reason.contains("did not reach"), "{}", silent.reason);
    assert_eq!(silent.verdict, Verdict::Inconclusive);
}
