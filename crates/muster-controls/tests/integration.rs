//! The built-in control map loads, every key resolves, and every key the code and the built-in
//! scenarios rely on exists.

use muster_assess::GovernanceControl;
use muster_controls::{Catalogue, PROMPT_INJECTION_KEY, control_check_key, failure_mode_key};
use muster_model::common::Mode;

fn builtin() -> Catalogue {
    Catalogue::builtin().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_framework_the_issue_names_is_present() {
    let c = builtin();
    let prefixes: Vec<String> = c.frameworks().into_iter().map(|f| f.prefix).collect();
    for expected in [
        "owasp-llm@2025",
        "owasp-llm@2026",
        "owasp-asi@2026",
        "mitre-atlas@5",
        "nist-ai-rmf@1.0",
        "nist-ai-600-1@2024",
        "iso42001@2023",
        "eu-ai-act@2024",
        "uk-gdpr@2025",
        "muster@1",
    ] {
        assert!(
            prefixes.iter().any(|p| p == expected),
            "{expected} missing from {prefixes:?}"
        );
    }
    for key in [
        "owasp-llm@2025:LLM01",
        "owasp-llm@2025:LLM09",
        "owasp-asi@2026:ASI09",
        "mitre-atlas@5:AML.T0051.001",
        "nist-ai-rmf@1.0:MANAGE-2.4",
        "nist-ai-600-1@2024:MG-4.3-003",
        "iso42001@2023:A.8.4",
        "eu-ai-act@2024:Art.73(2)",
        "uk-gdpr@2025:Art.22C",
        "uk-gdpr@2025:Art.33(1)",
    ] {
        assert!(c.contains(key), "{key}");
    }
    let breach = c
        .get("uk-gdpr@2025:Art.33(1)")
        .map(|l| l.entry.clock.clone());
    assert_eq!(breach, Some(Some("PT72H".to_owned())));
}

#[test]
fn every_concept_the_code_cites_exists_and_maps_to_frameworks() {
    let c = builtin();
    let mut concepts: Vec<String> = Mode::ALL.into_iter().map(failure_mode_key).collect();
    concepts.push(PROMPT_INJECTION_KEY.to_owned());
    concepts.extend(
        [
            "kill-switch",
            "handover",
            "content-rollback",
            "comms-approval",
        ]
        .into_iter()
        .map(control_check_key),
    );
    concepts.extend(
        GovernanceControl::ALL
            .into_iter()
            .map(GovernanceControl::key),
    );
    for key in concepts {
        let Some(l) = c.get(&key) else {
            panic!("concept {key} is not in library/controls/muster@1.yaml");
        };
        assert!(
            !l.entry.maps_to.is_empty(),
            "{key} maps to no framework entry"
        );
        assert!(c.expand(&key).len() > 1);
    }
}

#[test]
fn every_builtin_scenario_cites_known_keys_and_at_least_one_framework() {
    let c = builtin();
    for file in muster_library::scenarios() {
        let s = muster_model::load_scenario(file.text)
            .value
            .unwrap_or_else(|| panic!("{} loads", file.path));
        assert!(!s.taxonomy.is_empty(), "{} has no taxonomy keys", file.path);
        for key in &s.taxonomy {
            assert!(c.contains(key), "{}: unknown key {key}", file.path);
        }
    }
}

#[test]
fn a_broken_or_dangling_map_is_refused_with_its_location() {
    let bad = "version: 1\nkind: control-map\nframework: x\nedition: \"1\"\ntitle: X\nentries:\n  - id: A\n    name: A\n    summary: s\n    maps_to: [y@1:B]\n";
    let err = Catalogue::from_texts(&[("x.yaml".into(), bad.into())])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        "x.yaml: `x@1:A` maps to `y@1:B`, which no control map defines"
    );

    let dup = "version: 1\nkind: control-map\nframework: x\nedition: \"1\"\ntitle: X\nentries:\n  - { id: A, name: A, summary: s }\n  - { id: A, name: B, summary: s }\n";
    let err = Catalogue::from_texts(&[("x.yaml".into(), dup.into())])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(err, "x.yaml: 8:5: entry `A` is declared twice");

    let typo = "version: 1\nkind: control-map\nframework: x\nedition: \"1\"\ntitle: X\nentries:\n  - { id: A, nmae: A, summary: s }\n";
    let err = Catalogue::from_texts(&[("x.yaml".into(), typo.into())])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("7:"), "{err}");
}
