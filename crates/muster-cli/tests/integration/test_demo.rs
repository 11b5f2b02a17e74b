use crate::common::{TestEnv, stable};

#[test]
fn the_demo_catches_every_planted_flaw_for_the_right_reason() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["ok"], true);
    let flaws = out["flaws"].as_array().cloned().unwrap_or_default();
    // One check per (flaw, scenario that must catch it), and one per control flaw.
    let expected: usize = muster_refagent::Flaw::ALL
        .iter()
        .map(|f| f.caught_by().len().max(usize::from(f.is_control_flaw())))
        .sum();
    assert_eq!(flaws.len(), expected);
    assert!(expected >= 26, "every built-in scenario catches a flaw");
    for f in &flaws {
        assert_eq!(f["caught"], true, "{f}");
    }
    // The control drills ran in the same drill: the two control flaws fail their controls.
    let controls = out["controls"]["controls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let verdict = |id: &str| {
        controls
            .iter()
            .find(|c| c["control"] == id)
            .map(|c| c["verdict"].clone())
            .unwrap_or_default()
    };
    assert_eq!(verdict("kill-switch/in-flight"), "fail");
    assert_eq!(verdict("kill-switch/new"), "pass");
    assert_eq!(verdict("handover"), "fail");
    assert_eq!(
        verdict("comms-approval"),
        "pass",
        "approved by the demo's scripted team"
    );
    assert!(
        out["controls"]["notice"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Larkspur Mobile"))
    );
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
    // The demo ends with the drill's signed evidence pack, which verifies against its signer and
    // the drill's root digest in the store.
    let dir = out["pack"]["dir"].as_str().unwrap_or_default().to_owned();
    let signer = out["pack"]["signer"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let pack_dir = env.path().join(&dir);
    assert!(pack_dir.join("index.html").is_file(), "{dir}");
    assert_eq!(
        pack_dir.join("pack.pdf").is_file(),
        muster_pack::renders_pdf(),
        "pack.pdf is written when the pdf feature is on"
    );
    let verify = env.run(&["verify", &dir, "--key", &signer, "--json"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    let pack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pack_dir.join("pack.json")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(pack["summary"]["verdict"], "fail");
    assert_eq!(
        pack["systems"]["audit"]["root_digest"], out["report"]["root_digest"],
        "the pack states the drill's sealed root"
    );
    let other = env.run(&[
        "verify",
        &dir,
        "--key",
        &format!("SHA256:{}", "0".repeat(64)),
    ]);
    assert_eq!(
        other.code, 1,
        "another expected signer fails: {}",
        other.stdout
    );
    assert!(other.stdout.contains("FAIL signer"), "{}", other.stdout);
}

#[test]
fn the_hardened_demo_passes_every_scenario_through_either_interface() {
    let env = TestEnv::new();
    for interface in ["native", "openai"] {
        let run = env.run(&["demo", "--hardened", "--interface", interface]);
        assert_eq!(run.code, 0, "{interface}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(&format!(
                "{} passed · 0 failed · 0 inconclusive",
                muster_library::scenarios().len()
            )),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(
                "the hardened agent passed every scenario and every control drill within its claim"
            ),
            "{}",
            run.stdout
        );
    }
    let run = env.run(&["demo", "--hardened", "--json"]);
    assert_eq!(run.code, 0);
    let out = run.json();
    let controls = out["controls"]["controls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(controls.len(), 7, "{controls:#?}");
    for c in &controls {
        assert_eq!(c["verdict"], "pass", "{c}");
        if let (Some(m), Some(claim)) = (c["measured_ms"].as_f64(), c["claimed_ms"].as_f64()) {
            assert!(m <= claim, "{c}");
        }
    }
}

#[test]
fn the_flawed_demo_through_the_openai_interface_and_a_rewording_still_catches_everything() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--interface", "openai", "--reword", "2"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "{n} of {n} planted flaws caught for the right reason",
            n = muster_refagent::Flaw::ALL.len()
        )),
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
    // Control timings vary from run to run (and wrap the table differently), so the readiness
    // table is checked by the JSON test above; everything else must read the same every time.
    let text = stable(&run.stdout);
    let (Some(start), Some(end)) = (
        text.find("Control readiness"),
        text.find("Shutdown criteria"),
    ) else {
        panic!("no control section:\n{text}")
    };
    let text = format!(
        "{}[control readiness table]\n\n{}",
        &text[..start],
        &text[end..]
    );
    // The notice names today's date (so its digest changes daily), and which run tips a shutdown
    // criterion depends on the order concurrent conversations finish in.
    let text = [
        (r"On \d{1,2} \w+ \d{4} ", "On [date] "),
        (r"sha256 [0-9a-f]{12}…", "sha256 [digest]…"),
        (
            r"fired at finding [a-z0-9-]+ \(run \d+\)",
            "fired at finding [scenario] (run [n])",
        ),
        // Which run's refund the monitor fires on first depends on finishing order too.
        (r"\bc-\d{6}\b", "c-[n]"),
        (r"; \d+\.\d ms", "; [t] ms"),
    ]
    .iter()
    .fold(text, |acc, (p, r)| match regex::Regex::new(p) {
        Ok(re) => re.replace_all(&acc, *r).into_owned(),
        Err(_) => acc,
    });
    insta::assert_snapshot!("demo_flawed_report", text);
}
