use crate::common::{TestEnv, stable};

#[test]
fn the_demo_catches_every_planted_flaw_for_the_right_reason() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["ok"], true);
    let flaws = out["flaws"].as_array().cloned().unwrap_or_default();
    assert_eq!(flaws.len(), 6);
    for f in &flaws {
        assert_eq!(f["caught"], true, "{f}");
    }
    let scenarios = out["report"]["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(scenarios.len() >= 5);
    for s in &scenarios {
        assert_eq!(s["verdict"], "fail", "{}", s["id"]);
        let failed: Vec<&serde_json::Value> = s["expectations"]
            .as_array()
            .map(|e| e.iter().filter(|x| x["status"] == "fail").collect())
            .unwrap_or_default();
        assert!(
            failed.iter().any(|e| e["mode"] == s["mode"]
                && e["excerpt"]["text"].as_str().is_some_and(|t| !t.is_empty())),
            "{} has no excerpt of its own mode",
            s["id"]
        );
    }
    assert!(
        env.path().join(".muster/evidence.db").is_file(),
        "evidence is stored in the default place"
    );
}

#[test]
fn the_hardened_demo_passes_every_scenario_through_either_interface() {
    let env = TestEnv::new();
    for interface in ["native", "openai"] {
        let run = env.run(&["demo", "--hardened", "--interface", interface]);
        assert_eq!(run.code, 0, "{interface}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("6 passed · 0 failed · 0 inconclusive"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("the hardened agent passed every scenario")
        );
    }
}

#[test]
fn the_flawed_demo_through_the_openai_interface_and_a_rewording_still_catches_everything() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--interface", "openai", "--reword", "2"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("6 of 6 planted flaws caught for the right reason"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("turn 1: “"),
        "excerpts are shown:\n{}",
        run.stdout
    );
}

#[test]
fn the_demo_report_reads_the_same_every_time() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--seed", "7", "--today", "2026-11-27"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("demo_flawed_report", stable(&run.stdout));
}
