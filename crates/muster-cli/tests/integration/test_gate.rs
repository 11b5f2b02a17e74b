//! `muster assess`, `controls`, `gate` and `accept`, and `muster drill` recording muster.lock.

use crate::common::{TestEnv, repo, stable};
use crate::test_drill::serve;

fn drill_reference(env: &TestEnv, agent: &str, url: &str) -> crate::common::Run {
    let scenarios = repo().join("library/scenarios").display().to_string();
    env.run(&[
        "drill",
        "--agent",
        agent,
        "--scenarios",
        &scenarios,
        "--base-url",
        url,
        "--json",
    ])
}

fn codes(run: &crate::common::Run) -> Vec<String> {
    run.json()["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["reason"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_gate_follows_drills_acceptances_and_manifest_changes() {
    let env = TestEnv::new();
    let manifest = std::fs::read_to_string(repo().join("library/reference/agent.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    env.write("agent.yaml", &manifest);
    let scenarios = repo().join("library/scenarios").display().to_string();

    let never = env.run(&["gate", "agent.yaml", "--json"]);
    assert_eq!(
        (never.code, codes(&never)),
        (1, vec!["never-drilled".to_owned()]),
        "{}",
        never.stderr
    );

    let flawed = serve(&env, &[]);
    let run = drill_reference(&env, "agent.yaml", &flawed.url);
    assert_eq!(run.code, 1, "the flawed agent fails: {}", run.stderr);
    let lock = std::fs::read_to_string(env.path().join("muster.lock"))
        .unwrap_or_else(|e| panic!("no lock: {e}"));
    assert!(lock.contains("[agents.larkspur-support]"), "{lock}");
    assert!(lock.contains("status = \"open\""), "{lock}");
    assert!(
        lock.contains("muster@1:failure-mode/data"),
        "findings carry their control keys:\n{lock}"
    );

    let blocked = env.run(&["gate", "agent.yaml", "--scenarios", &scenarios, "--json"]);
    assert_eq!(blocked.code, 1);
    let open: Vec<String> = blocked.json()["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["reason"] == "open-finding")
                .filter_map(|r| r["finding"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // Critical findings block by default: every critical built-in scenario fails on the flawed agent.
    let mut critical: Vec<String> = muster_library::scenarios()
        .iter()
        .filter_map(|f| muster_model::load_scenario(f.text).value)
        .filter(|s| s.severity == muster_model::common::Severity::Critical)
        .map(|s| s.id)
        .collect();
    critical.sort();
    assert!(critical.len() >= 3);
    assert_eq!(open, critical);
    let text = env.run(&["gate", "agent.yaml"]);
    assert!(
        text.stdout.contains(&format!(
            "gate: BLOCKED — larkspur-support ({} reasons)",
            critical.len()
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("[open-finding] critical finding `return-note-injection` open since"),
        "{}",
        text.stdout
    );

    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let expires = today.saturating_add(jiff::Span::new().days(30)).to_string();
    let refused = env.run(&[
        "accept",
        "agent.yaml",
        "no-such-finding",
        "--owner",
        "Priya Shah",
        "--reason",
        "x",
        "--expires",
        &expires,
    ]);
    assert_eq!(refused.code, 2);
    assert!(
        refused
            .stderr
            .contains("no finding `no-such-finding` for agent `larkspur-support`"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(
            "open findings: account-takeover-report-not-escalated, address-change-without-verification, arrears-unlawful-advice"
        ),
        "{}",
        refused.stderr
    );
    let too_long = env.run(&[
        "accept",
        "agent.yaml",
        "return-note-injection",
        "--owner",
        "P",
        "--reason",
        "x",
        "--expires",
        "2099-01-01",
    ]);
    assert_eq!(too_long.code, 2);
    assert!(
        too_long.stderr.contains("more than a year ahead"),
        "{}",
        too_long.stderr
    );
    for finding in &open {
        let run = env.run(&[
            "accept",
            "agent.yaml",
            finding,
            "--owner",
            "Priya Shah",
            "--reason",
            "Tools disabled in production until fixed",
            "--expires",
            &expires,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let accepted = env.run(&["gate", "agent.yaml", "--scenarios", &scenarios, "--json"]);
    assert_eq!(accepted.code, 0, "{}", accepted.stdout);
    assert_eq!(
        accepted.json()["accepted"].as_array().map(Vec::len),
        Some(critical.len())
    );
    let later = today.saturating_add(jiff::Span::new().days(31)).to_string();
    let expired = env.run(&["gate", "agent.yaml", "--today", &later, "--json"]);
    assert_eq!(codes(&expired), vec!["acceptance-expired"; critical.len()]);
    let lapsed = env.run(&["gate", "agent.yaml", "--today", "2099-01-01", "--json"]);
    assert!(codes(&lapsed).contains(&"cadence-lapsed".to_owned()));
    let strict = env.run(&["gate", "agent.yaml", "--block-on", "high", "--json"]);
    assert!(
        codes(&strict).contains(&"open-finding".to_owned()),
        "high findings block with --block-on high"
    );

    env.write(
        "agent.yaml",
        &manifest.replace("version: \"2026.11\"", "version: \"2026.12\""),
    );
    let changed = env.run(&["gate", "agent.yaml", "--json"]);
    assert_eq!(changed.code, 1);
    let reasons = changed.json()["reasons"].clone();
    assert_eq!(reasons[0]["reason"], "trigger-fired");
    assert_eq!(reasons[0]["field"], "model");
    assert_eq!(
        reasons[0]["message"],
        "re-drill trigger: larkspur/larkspur-support-rules@2026.11 → larkspur/larkspur-support-rules@2026.12 (model)"
    );

    let hardened = serve(&env, &["--hardened"]);
    let run = drill_reference(&env, "agent.yaml", &hardened.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let clear = env.run(&["gate", "agent.yaml", "--scenarios", &scenarios]);
    assert_eq!(clear.code, 0, "{}", clear.stdout);
    assert!(
        clear
            .stdout
            .starts_with("gate: PASS — larkspur-support may ship"),
        "{}",
        clear.stdout
    );
    let lock =
        std::fs::read_to_string(env.path().join("muster.lock")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !lock.contains("status = \"open\""),
        "a passing drill closes every finding:\n{lock}"
    );

    let fewer = env.write(
        "one/s.yaml",
        &std::fs::read_to_string(repo().join("library/scenarios/return-note-injection.yaml"))
            .unwrap_or_default(),
    );
    let other_set = env.run(&[
        "gate",
        "agent.yaml",
        "--scenarios",
        &fewer.display().to_string(),
        "--json",
    ]);
    assert_eq!(codes(&other_set), ["scenario-set-changed"]);
}

#[test]
fn assess_reports_tier_reasons_at_their_lines_and_exits_1_on_gaps() {
    let env = TestEnv::new();
    let reference = repo()
        .join("library/reference/agent.yaml")
        .display()
        .to_string();
    let run = env.run(&["assess", &reference, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["tier"], "3");
    let manifest_text =
        std::fs::read_to_string(repo().join("library/reference/agent.yaml")).unwrap_or_default();
    let line = manifest_text
        .lines()
        .position(|l| l.trim() == "- id: complaint-closure")
        .map_or(0, |i| i + 1);
    assert!(
        v["reasons"][0]["at"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!("agent.yaml:{line}:5"))),
        "{}",
        v["reasons"][0]
    );

    let manifest =
        std::fs::read_to_string(repo().join("library/reference/agent.yaml")).unwrap_or_default();
    let cut = manifest.find("\ngovernance:").unwrap_or(manifest.len());
    env.write("agent.yaml", &manifest[..cut]);
    let run = env.run(&["assess", "agent.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    insta::assert_snapshot!(stable(&run.stdout));
}

#[test]
fn controls_lists_explains_and_suggests() {
    let env = TestEnv::new();
    let list = env.run(&["controls", "--json"]);
    assert_eq!(list.code, 0);
    let prefixes: Vec<String> = list
        .json()
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["prefix"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // The full list is muster-controls' test; here, that the command lists what the catalogue has.
    assert_eq!(prefixes.len(), 10, "{prefixes:?}");
    assert!(prefixes.iter().any(|p| p == "uk-gdpr@2025"));
    let explain = env.run(&["controls", "owasp-llm@2025:LLM01", "--json"]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    let v = explain.json();
    assert_eq!(v["name"], "Prompt Injection");
    assert!(
        v["mapped_from"]
            .as_array()
            .is_some_and(|a| a.iter().any(|k| k == "muster@1:vector/prompt-injection")),
        "{v}"
    );
    assert!(
        v["builtin_scenarios"]
            .as_array()
            .is_some_and(|a| a.iter().any(|k| k == "return-note-injection")),
        "{v}"
    );
    let unknown = env.run(&["controls", "owasp-llm@2025:LLM1"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("unknown control key `owasp-llm@2025:LLM1`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn validate_locates_unknown_taxonomy_keys() {
    let env = TestEnv::new();
    let text = std::fs::read_to_string(repo().join("library/scenarios/return-note-injection.yaml"))
        .unwrap_or_default();
    let broken = text.replacen("owasp-llm@2025:LLM01", "owasp-llm@2025:LLM1", 1);
    assert_ne!(broken, text, "the scenario cites LLM01");
    env.write("s.yaml", &broken);
    let run = env.run(&["validate", "s.yaml"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(stable(&run.stderr));
}
