use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::common::{TestEnv, library_runs, repo};

/// `muster refagent serve` as its own process on a free port.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(env: &TestEnv, extra: &[&str]) -> Server {
    let mut args = vec!["refagent", "serve", "--port", "0"];
    args.extend_from_slice(extra);
    let mut child = env
        .command(&args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(at) = line.find("http://") {
                    break line[at..].trim().to_owned();
                }
            }
            _ => panic!("the reference agent did not start"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

/// `muster drill --json` with a reference manifest and the built-in scenarios.
fn drill(env: &TestEnv, manifest: &str, base_url: &str) -> crate::common::Run {
    drill_with(
        env,
        &repo().join("library/reference").join(manifest),
        &repo().join("library/scenarios"),
        base_url,
        &["--json"],
    )
}

fn drill_with(
    env: &TestEnv,
    agent: &std::path::Path,
    scenarios: &std::path::Path,
    base_url: &str,
    extra: &[&str],
) -> crate::common::Run {
    let (agent, scenarios) = (agent.display().to_string(), scenarios.display().to_string());
    let mut args = vec![
        "drill",
        "--agent",
        &agent,
        "--scenarios",
        &scenarios,
        "--base-url",
        base_url,
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Scenarios with this verdict under the pass policy.
fn verdicts(report: &serde_json::Value, verdict: &str) -> u64 {
    report["summaries"]
        .as_array()
        .map(|s| s.iter().filter(|s| s["verdict"] == verdict).count() as u64)
        .unwrap_or(0)
}

#[test]
fn drilling_a_separate_agent_process_through_both_adapters() {
    let env = TestEnv::new();
    let flawed = serve(&env, &[]);
    for manifest in ["agent.yaml", "agent-openai.yaml"] {
        let run = drill(&env, manifest, &flawed.url);
        assert_eq!(run.code, 1, "failures exit 1: {}", run.stderr);
        let report = run.json();
        assert_eq!(report["verdict"], "fail");
        let (scenarios, runs) = library_runs();
        assert_eq!(verdicts(&report, "fail"), scenarios, "{manifest}");
        assert_eq!(
            report["counts"]["fail"], runs,
            "{manifest}: 30 runs per critical scenario, 10 per high, 5 per medium"
        );
    }
    let hardened = serve(&env, &["--hardened"]);
    for manifest in ["agent.yaml", "agent-openai.yaml"] {
        let run = drill(&env, manifest, &hardened.url);
        assert_eq!(run.code, 0, "{manifest}: {}", run.stdout);
        let (scenarios, runs) = library_runs();
        assert_eq!(verdicts(&run.json(), "pass"), scenarios);
        assert_eq!(run.json()["counts"]["pass"], runs);
    }
    let verify = env.run(&["store", "verify"]);
    assert_eq!(verify.code, 0);
    assert_eq!(
        verify
            .stdout
            .lines()
            .filter(|l| l.starts_with("ok "))
            .count(),
        4
    );
}

#[test]
fn an_unreachable_target_is_inconclusive_not_a_pass() {
    let env = TestEnv::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let run = drill(&env, "agent.yaml", &format!("http://127.0.0.1:{port}"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let (scenarios, runs) = library_runs();
    assert_eq!(verdicts(&report, "inconclusive"), scenarios);
    assert_eq!(report["counts"]["inconclusive"], runs);
    assert_eq!(report["counts"]["pass"], 0);
}

#[test]
fn the_interlock_refuses_production_and_undeclared_hosts_before_sending_anything() {
    let env = TestEnv::new();
    let server = serve(&env, &[]);
    let manifest =
        std::fs::read_to_string(repo().join("library/reference/agent.yaml")).unwrap_or_default();
    let production = env.write(
        "prod.yaml",
        &manifest.replace("environment: pre-production", "environment: production"),
    );
    let scenarios = repo().join("library/scenarios");
    let run = drill_with(&env, &production, &scenarios, &server.url, &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot be overridden"),
        "{}",
        run.stderr
    );
    let agent = repo().join("library/reference/agent.yaml");
    let run = drill_with(
        &env,
        &agent,
        &scenarios,
        &server.url.replace("127.0.0.1", "localhost"),
        &[],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("not among the manifest's declared hosts"),
        "{}",
        run.stderr
    );
    assert!(
        !env.path().join(".muster/evidence.db").exists()
            || env
                .run(&["store", "list", "--json"])
                .json()
                .as_array()
                .is_some_and(Vec::is_empty),
        "a refused drill stores nothing"
    );
}

#[test]
fn a_broken_scenario_stops_the_drill_before_anything_is_sent() {
    let env = TestEnv::new();
    let text = std::fs::read_to_string(repo().join("library/scenarios/return-note-injection.yaml"))
        .unwrap_or_default()
        .replace("name: process_return", "name: process_refund");
    let scenario = env.write("s/return.yaml", &text);
    let agent = repo().join("library/reference/agent.yaml");
    let run = drill_with(&env, &agent, &scenario, "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("error[unknown-tool]: the agent manifest `larkspur-support` declares no tool `process_refund`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `process_return`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn junit_and_sarif_outputs_for_ci() {
    let env = TestEnv::new();
    let flawed = serve(&env, &[]);
    let run = drill_with(
        &env,
        &repo().join("library/reference/agent.yaml"),
        &repo().join("library/scenarios"),
        &flawed.url,
        &[
            "--junit",
            "drill.xml",
            "--sarif",
            "drill.sarif",
            "--no-lock",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !env.path().join("muster.lock").exists(),
        "--no-lock writes no lock"
    );

    let xml =
        std::fs::read_to_string(env.path().join("drill.xml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    let n = library_runs().0;
    assert!(
        xml.contains(&format!(
            "<testsuites name=\"muster drill of larkspur-support\" tests=\"{n}\" failures=\"{n}\" errors=\"0\""
        )),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count() as u64, library_runs().0);
    assert!(xml.contains("classname=\"authority.critical\""), "{xml}");
    assert!(xml.contains("type=\"authority/tool_within\""), "{xml}");
    assert!(
        xml.contains("&quot;ORD-20417&quot;") || xml.contains("ORD-20417"),
        "excerpts are escaped, not dropped"
    );

    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.path().join("drill.sarif")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let rules: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    for rule in [
        "authority/tool_within",
        "advice/must_not_promise",
        "data/must_not_reveal",
        "escalation/must_escalate",
    ] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
    let results = run0["results"].as_array().cloned().unwrap_or_default();
    let injection = results
        .iter()
        .find(|r| {
            r["ruleId"] == "authority/tool_within"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("return-note-injection.yaml"))
        })
        .unwrap_or_else(|| panic!("no tool_within result for return-note-injection"));
    let location = &injection["locations"][0]["physicalLocation"];
    let uri = location["artifactLocation"]["uri"].as_str().unwrap_or("");
    assert!(
        uri.ends_with("library/scenarios/return-note-injection.yaml"),
        "{uri}"
    );
    let text = std::fs::read_to_string(repo().join("library/scenarios/return-note-injection.yaml"))
        .unwrap_or_default();
    let line = text
        .lines()
        .position(|l| l.contains("tool_within"))
        .map(|i| i + 1)
        .unwrap_or(0);
    assert_eq!(
        location["region"]["startLine"], line,
        "the result sits on the expectation's line"
    );
    assert_eq!(injection["level"], "error");
    assert!(
        injection["properties"]["taxonomy"]
            .as_array()
            .is_some_and(|t| t.iter().any(|k| k == "owasp-llm@2025:LLM01"))
    );
}

#[test]
fn dry_run_prints_the_plan_passes_the_interlock_and_sends_nothing() {
    let env = TestEnv::new();
    // Nothing listens here: a real drill would be inconclusive; a dry run never connects.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let url = format!("http://127.0.0.1:{port}");
    let run = drill_with(
        &env,
        &repo().join("library/reference/agent.yaml"),
        &repo().join("library/scenarios"),
        &url,
        &["--dry-run", "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = run.json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["conversations"], library_runs().1);
    assert_eq!(plan["interlock"], "allowed");
    let runs: Vec<u64> = plan["scenarios"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["runs"].as_u64()).collect())
        .unwrap_or_default();
    let policy = muster_drill::PassPolicy::default();
    let expected: Vec<u64> = muster_library::scenarios()
        .iter()
        .filter_map(|f| muster_model::load_scenario(f.text).value)
        .map(|s| u64::from(policy.for_severity(s.severity).min_runs))
        .collect();
    assert_eq!(runs, expected, "each scenario's runs follow its severity");
    assert!(
        !env.path().join(".muster").exists(),
        "a dry run opens no store"
    );
    assert!(!env.path().join("muster.lock").exists());

    let repeat = drill_with(
        &env,
        &repo().join("library/reference/agent.yaml"),
        &repo().join("library/scenarios"),
        &url,
        &["--dry-run", "--repeat", "3"],
    );
    assert!(
        repeat.stdout.contains(&format!(
            "total:       {} conversations",
            3 * library_runs().0
        )),
        "{}",
        repeat.stdout
    );

    let manifest =
        std::fs::read_to_string(repo().join("library/reference/agent.yaml")).unwrap_or_default();
    let production = env.write(
        "prod.yaml",
        &manifest.replace("environment: pre-production", "environment: production"),
    );
    let refused = drill_with(
        &env,
        &production,
        &repo().join("library/scenarios"),
        &url,
        &["--dry-run"],
    );
    assert_eq!(
        refused.code, 4,
        "the interlock refuses a dry run too: {}",
        refused.stderr
    );
}

#[test]
fn control_drills_then_an_approval_of_the_customer_notice() {
    let env = TestEnv::new();
    let hardened = serve(&env, &["--hardened"]);
    let agent = repo()
        .join("library/reference/agent.yaml")
        .display()
        .to_string();
    let run = env.run(&[
        "drill",
        "--agent",
        &agent,
        "--controls",
        "--base-url",
        &hardened.url,
        "--json",
    ]);
    // Every measured control passed, but the notice still awaits its approvers: inconclusive.
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    let controls = out["controls"]["controls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in &controls {
        let expected = if c["control"] == "comms-approval" {
            "inconclusive"
        } else {
            "pass"
        };
        assert_eq!(c["verdict"], expected, "{c}");
    }
    let drill = out["drill_id"].as_str().unwrap_or_default().to_owned();

    let stranger = env.run(&["approve", &drill, "--role", "intern", "--name", "Pat"]);
    assert_eq!(stranger.code, 2, "{}", stranger.stderr);
    assert!(
        stranger
            .stderr
            .contains("not one of the notice's approvers"),
        "{}",
        stranger.stderr
    );
    let first = env.run(&[
        "approve",
        &drill[..8],
        "--role",
        "comms-lead",
        "--name",
        "Sam Okafor",
    ]);
    assert_eq!(first.code, 3, "still waiting for legal: {}", first.stdout);
    let second = env.run(&[
        "approve",
        &drill,
        "--role",
        "legal",
        "--name",
        "Ruth Grant",
        "--json",
    ]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert_eq!(second.json()["control"]["verdict"], "pass");
    // The sealed drill still verifies after its addenda.
    let verify = env.run(&["store", "verify", &drill]);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);

    let plan = env.run(&[
        "drill",
        "--agent",
        &agent,
        "--controls",
        "kill-switch,handover",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(
        plan.json()["controls"],
        serde_json::json!([
            {"control": "handover", "claimed_within": "2m"},
            {"control": "kill-switch", "claimed_within": "5s"}
        ])
    );

    let unknown = env.run(&[
        "drill",
        "--agent",
        &agent,
        "--controls",
        "kill-switch,tea-break",
        "--base-url",
        &hardened.url,
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("`tea-break` is not a control drill"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn the_flawed_agent_fails_its_kill_switch_and_handover_controls() {
    let env = TestEnv::new();
    let flawed = serve(&env, &[]);
    let agent = repo()
        .join("library/reference/agent.yaml")
        .display()
        .to_string();
    let run = env.run(&[
        "drill",
        "--agent",
        &agent,
        "--controls",
        "kill-switch,handover",
        "--base-url",
        &flawed.url,
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Control readiness"), "{}", run.stdout);
    assert!(
        run.stdout.contains("control drills only"),
        "no empty scenario table: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("SCENARIO"), "{}", run.stdout);
    let flat = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("still taking actions"), "{}", run.stdout);
    assert!(
        flat.contains("does not carry the conversation"),
        "{}",
        run.stdout
    );
    assert!(
        !env.path().join("muster.lock").exists(),
        "a controls-only drill leaves the lock alone"
    );
}
