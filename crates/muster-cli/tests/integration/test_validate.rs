use crate::common::{TestEnv, repo};

#[test]
fn a_broken_scenario_is_reported_at_its_line_and_column_with_a_hint() {
    let env = TestEnv::new();
    let file = repo().join("crates/muster-model/tests/corpus/unknown-expectation.scenario.yaml");
    let run = env.run(&["validate", &file.display().to_string()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let shown = run.stderr.replace(&repo().display().to_string(), "<repo>");
    insta::assert_snapshot!("validate_unknown_expectation", shown);
}

#[test]
fn every_problem_in_a_file_is_reported_not_just_the_first() {
    let env = TestEnv::new();
    let text = "version: 1\nkind: scenario\nid: Bad Id\ntitle: t\nmode: advise\nseverity: urgent\nticket: t\npersona: {name: P}\ncustomer: {ref: C-1}\nturns:\n  - say: hello\n    rewording: [x]\nexpect:\n  - must_not_say: {pattern: \"(\"}\n";
    let path = env.write("bad.yaml", text);
    let run = env.run(&["validate", "--json", &path.display().to_string()]);
    assert_eq!(run.code, 2);
    let out = run.json();
    let found: Vec<String> = out["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|d| {
                    format!(
                        "{}:{} {}",
                        d["line"],
                        d["column"],
                        d["code"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        found,
        vec![
            "3:5 invalid-format",
            "5:7 invalid-value",
            "6:11 invalid-value",
            "12:5 unknown-key"
        ],
        "{}",
        run.stdout
    );
    assert_eq!(out["problems"][3]["hint"], "did you mean `rewordings`?");
}

#[test]
fn the_library_and_reference_manifests_are_clean() {
    let env = TestEnv::new();
    let library = repo().join("library");
    let agent = library.join("reference/agent.yaml");
    let run = env.run(&[
        "validate",
        "--agent",
        &agent.display().to_string(),
        &library.join("scenarios").display().to_string(),
        &agent.display().to_string(),
        &library
            .join("reference/agent-openai.yaml")
            .display()
            .to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("files valid"), "{}", run.stderr);
}

#[test]
fn scenarios_are_checked_against_the_manifest() {
    let env = TestEnv::new();
    let scenario =
        std::fs::read_to_string(repo().join("library/scenarios/cross-account-billing-note.yaml"))
            .unwrap_or_default()
            .replace("fixture: plant-billing-note", "fixture: plant-biling-note");
    let path = env.write("s.yaml", &scenario);
    let agent = repo().join("library/reference/agent.yaml");
    let run = env.run(&[
        "validate",
        "--agent",
        &agent.display().to_string(),
        &path.display().to_string(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("s.yaml:25:14: error[unknown-fixture]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `plant-billing-note`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn schemas_are_printed_for_editors() {
    let env = TestEnv::new();
    let run = env.run(&["schema", "scenario"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["title"], "muster scenario");
    let run = env.run(&["schema", "--out", "schemas"]);
    assert_eq!(run.code, 0);
    for kind in ["agent", "scenario", "config"] {
        assert!(
            env.path()
                .join(format!("schemas/{kind}.schema.json"))
                .is_file()
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    let env = TestEnv::new();
    for command in [
        &["demo"][..],
        &["drill"],
        &["validate"],
        &["schema"],
        &["refagent", "serve"],
        &["worker"],
        &["store", "verify"],
        &["store", "list"],
    ] {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{command:?}");
        assert!(
            run.stdout.contains("Example"),
            "{command:?} --help has no example:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_broken_muster_toml_stops_every_command_with_its_location() {
    let env = TestEnv::new();
    env.write("muster.toml", "version = 1\n[store]\npth = \"x.db\"\n");
    let run = env.run(&["store", "list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("muster.toml:3:1: error[unknown-key]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `path`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_glass_box_example_is_clean() {
    let env = TestEnv::new();
    let example = repo().join("docs/examples/glass-box");
    let agent = example.join("agent.yaml");
    let run = env.run(&[
        "validate",
        "--agent",
        &agent.display().to_string(),
        &example
            .join("lost-parcel.scenario.yaml")
            .display()
            .to_string(),
        &agent.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn glass_box_problems_are_reported_where_they_are() {
    let env = TestEnv::new();
    let agent = std::fs::read_to_string(repo().join("docs/examples/glass-box/agent.yaml"))
        .unwrap_or_default()
        .replace("support-prompt.md", "missing-prompt.md");
    let agent_path = env.write("agent.yaml", &agent);
    let run = env.run(&["validate", &agent_path.display().to_string()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("unreadable-file"), "{}", run.stderr);
    // Without a judge or a customer model, the scenario's `graded` and `simulated_customer` are
    // errors at their lines; a tool the manifest lacks is named with the nearest one.
    let scenario =
        std::fs::read_to_string(repo().join("docs/examples/glass-box/lost-parcel.scenario.yaml"))
            .unwrap_or_default()
            .replace(
                "  process_return:\n    - result",
                "  process_refund:\n    - result",
            );
    let scenario_path = env.write("s.yaml", &scenario);
    let bare = env.write(
        "bare.yaml",
        &std::fs::read_to_string(repo().join("docs/examples/glass-box/agent.yaml"))
            .unwrap_or_default()
            .split("\nmodels:\n")
            .next()
            .unwrap_or_default()
            .replace(
                "support-prompt.md",
                &repo()
                    .join("docs/examples/glass-box/support-prompt.md")
                    .display()
                    .to_string(),
            ),
    );
    let run = env.run(&[
        "validate",
        "--agent",
        &bare.display().to_string(),
        &scenario_path.display().to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let shown = run
        .stderr
        .replace(&env.path().display().to_string(), "<tmp>");
    insta::assert_snapshot!("validate_glass_box_scenario", shown);
}
