use jiff::civil::Date;
use muster_assess::{
    DrillRecord, FindingStatus, GateOptions, GateReason, Lock, RiskAcceptance, ScenarioOutcome,
    fingerprint, gate, tier,
};
use muster_model::agent::AgentManifest;
use muster_model::common::{Mode, Severity};
use serde_json::json;

use crate::common::base;

const SET: &str = "sha256:set-a";

fn outcome(id: &str, severity: Severity, verdict: &str) -> ScenarioOutcome {
    ScenarioOutcome {
        id: id.into(),
        title: format!("{id} title"),
        severity,
        mode: Mode::Authority,
        verdict: verdict.into(),
        runs: 3,
        failures: u32::from(verdict == "fail"),
        reason: format!("{id} {verdict}"),
        keys: vec!["muster@1:failure-mode/authority".into()],
    }
}

fn record(m: &AgentManifest, drill: &str, at: &str, outcomes: Vec<ScenarioOutcome>) -> DrillRecord {
    DrillRecord {
        agent: m.name.clone(),
        manifest: "agent.yaml".into(),
        manifest_digest: "sha256:m".into(),
        tier: tier(m).0.number(),
        drill_id: drill.into(),
        finished_at: at.parse().unwrap_or_else(|e| panic!("{at}: {e}")),
        root_digest: "sha256:root".into(),
        verdict: "pass".into(),
        scenario_set: SET.into(),
        fingerprints: fingerprint(m),
        outcomes,
    }
}

fn drilled(m: &AgentManifest, outcomes: Vec<ScenarioOutcome>) -> Lock {
    let mut lock = Lock::default();
    lock.record_drill(record(m, "d1", "2026-11-01T10:00:00Z", outcomes));
    lock
}

fn options(today: Date) -> GateOptions {
    GateOptions {
        today,
        block_on: Severity::Critical,
        scenario_set: Some(SET.into()),
    }
}

const TODAY: Date = Date::constant(2026, 11, 27);

fn codes(reasons: &[GateReason]) -> Vec<&'static str> {
    reasons.iter().map(GateReason::code).collect()
}

#[test]
fn an_agent_with_no_drill_never_passes() {
    let report = gate(&base(), &Lock::default(), &options(TODAY));
    assert!(!report.pass);
    assert_eq!(codes(&report.reasons), ["never-drilled"]);
}

#[test]
fn an_unchanged_agent_drilled_within_its_cadence_passes() {
    let m = base();
    let lock = drilled(&m, vec![outcome("s1", Severity::Critical, "pass")]);
    let report = gate(&m, &lock, &options(TODAY));
    assert!(report.pass, "{:?}", report.reasons);
    assert_eq!(report.next_due, Some(Date::constant(2027, 11, 1)));
}

#[test]
fn each_re_drill_trigger_names_the_field_that_changed() {
    type Change = fn(&mut AgentManifest);
    let cases: Vec<(&str, Change, &str, &str)> = vec![
        (
            "model version",
            |m| m.model.version = "2026-12-01".into(),
            "model",
            "openai/gpt-test@2026-10-01 → openai/gpt-test@2026-12-01",
        ),
        (
            "model parameters",
            |m| {
                m.model.parameters.insert("temperature".into(), json!(0.9));
            },
            "model.parameters",
            "generation parameters changed",
        ),
        (
            "tool added",
            |m| {
                m.tools.push(serde_json::from_value(json!({"name": "issue_credit", "effect": "money", "limits": ["amount <= 50"]})).unwrap_or_else(|e| panic!("{e}")));
            },
            "tools.issue_credit",
            "tool `issue_credit` added",
        ),
        (
            "data source changed",
            |m| m.data_sources[0].versioned = false,
            "data_sources.help-articles",
            "data source `help-articles` changed",
        ),
        (
            "market added",
            |m| m.markets.push("IE".into()),
            "markets",
            "new market `IE`",
        ),
        (
            "journey added",
            |m| m.journeys.push("cancellation".into()),
            "journeys",
            "new journey `cancellation`",
        ),
        (
            "policy version",
            |m| m.policies[0].version = "2".into(),
            "policies.faq",
            "policy `faq` version 1 → 2",
        ),
        (
            "decision added",
            |m| {
                m.decisions.push(serde_json::from_value(json!({"id": "refund", "description": "x", "role": "makes", "area": "refund"})).unwrap_or_else(|e| panic!("{e}")));
            },
            "decisions.refund",
            "decision `refund` added",
        ),
    ];
    for (name, change, field, message) in cases {
        let m = base();
        let lock = drilled(&m, vec![]);
        let mut changed = m.clone();
        change(&mut changed);
        let report = gate(&changed, &lock, &options(TODAY));
        assert!(!report.pass, "{name}: should fail");
        assert_eq!(
            report.reasons,
            vec![GateReason::TriggerFired {
                field: field.into(),
                change: message.into()
            }],
            "{name}"
        );
    }
}

#[test]
fn a_tool_limit_change_says_which_limit() {
    let mut m = base();
    m.tools.push(
        serde_json::from_value(
            json!({"name": "issue_credit", "effect": "money", "limits": ["amount <= 50"]}),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let lock = drilled(&m, vec![]);
    m.tools[0] = serde_json::from_value(
        json!({"name": "issue_credit", "effect": "money", "limits": ["amount <= 500"]}),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let report = gate(&m, &lock, &options(TODAY));
    assert_eq!(
        report.reasons[0].message(),
        "re-drill trigger: tool `issue_credit`: limits [amount <= 50] → [amount <= 500] (tools.issue_credit)"
    );
}

#[test]
fn a_different_scenario_set_is_a_trigger() {
    let m = base();
    let lock = drilled(&m, vec![]);
    let mut o = options(TODAY);
    o.scenario_set = Some("sha256:set-b".into());
    assert_eq!(
        codes(&gate(&m, &lock, &o).reasons),
        ["scenario-set-changed"]
    );
}

#[test]
fn cadence_lapses_the_day_after_it_is_due() {
    let m = base();
    let lock = drilled(&m, vec![]);
    assert!(
        gate(&m, &lock, &options(Date::constant(2027, 11, 1))).pass,
        "due date itself is fine"
    );
    let report = gate(&m, &lock, &options(Date::constant(2027, 11, 2)));
    assert_eq!(codes(&report.reasons), ["cadence-lapsed"]);

    // A tier-3 agent owes a drill every quarter.
    let mut t3 = base();
    t3.decisions.push(
        serde_json::from_value(
            json!({"id": "credit", "description": "x", "role": "makes", "area": "credit"}),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let lock = drilled(&t3, vec![]);
    assert!(gate(&t3, &lock, &options(Date::constant(2027, 2, 1))).pass);
    assert_eq!(
        codes(&gate(&t3, &lock, &options(Date::constant(2027, 2, 2))).reasons),
        ["cadence-lapsed"]
    );
}

#[test]
fn open_critical_findings_block_and_lesser_ones_do_not_by_default() {
    let m = base();
    let lock = drilled(
        &m,
        vec![
            outcome("crit", Severity::Critical, "fail"),
            outcome("high", Severity::High, "fail"),
        ],
    );
    let report = gate(&m, &lock, &options(TODAY));
    assert_eq!(codes(&report.reasons), ["open-finding"]);
    assert!(
        report.reasons[0]
            .message()
            .starts_with("critical finding `crit` open since 2026-11-01")
    );

    let mut strict = options(TODAY);
    strict.block_on = Severity::High;
    assert_eq!(
        codes(&gate(&m, &lock, &strict).reasons),
        ["open-finding", "open-finding"]
    );
}

#[test]
fn a_later_passing_drill_closes_a_finding_and_a_later_failure_reopens_it() {
    let m = base();
    let mut lock = drilled(&m, vec![outcome("crit", Severity::Critical, "fail")]);
    lock.record_drill(record(
        &m,
        "d2",
        "2026-11-10T10:00:00Z",
        vec![outcome("crit", Severity::Critical, "pass")],
    ));
    let f = &lock.agents["help-centre"].findings[0];
    assert_eq!(
        (f.status, f.closed_by.as_deref()),
        (FindingStatus::Closed, Some("d2"))
    );
    assert!(gate(&m, &lock, &options(TODAY)).pass);

    lock.record_drill(record(
        &m,
        "d3",
        "2026-11-20T10:00:00Z",
        vec![outcome("crit", Severity::Critical, "fail")],
    ));
    let f = &lock.agents["help-centre"].findings[0];
    assert_eq!(
        (f.status, f.opened_by.as_str()),
        (FindingStatus::Open, "d3")
    );
    assert!(!gate(&m, &lock, &options(TODAY)).pass);
}

#[test]
fn an_inconclusive_or_missing_scenario_leaves_a_finding_open() {
    let m = base();
    let mut lock = drilled(&m, vec![outcome("crit", Severity::Critical, "fail")]);
    lock.record_drill(record(
        &m,
        "d2",
        "2026-11-10T10:00:00Z",
        vec![outcome("crit", Severity::Critical, "inconclusive")],
    ));
    let report = gate(&m, &lock, &options(TODAY));
    assert_eq!(codes(&report.reasons), ["open-finding", "unproven"]);
    lock.record_drill(record(&m, "d3", "2026-11-11T10:00:00Z", vec![]));
    assert_eq!(
        codes(&gate(&m, &lock, &options(TODAY)).reasons),
        ["open-finding"]
    );
}

#[test]
fn a_risk_acceptance_lets_a_finding_through_until_it_expires() {
    let m = base();
    let mut lock = drilled(&m, vec![outcome("crit", Severity::Critical, "fail")]);
    lock.accept(
        "help-centre",
        RiskAcceptance {
            finding: "crit".into(),
            owner: "Priya Shah".into(),
            reason: "Tool disabled in production until the fix ships".into(),
            accepted_on: "2026-11-02".into(),
            expires: "2026-12-31".into(),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let report = gate(&m, &lock, &options(TODAY));
    assert!(report.pass, "{:?}", report.reasons);
    assert_eq!(
        report.accepted,
        vec![("crit".to_owned(), Date::constant(2026, 12, 31))]
    );

    let report = gate(&m, &lock, &options(Date::constant(2027, 1, 1)));
    assert_eq!(codes(&report.reasons), ["acceptance-expired"]);
    assert_eq!(
        report.reasons[0].message(),
        "risk acceptance of `crit` by Priya Shah expired on 2026-12-31"
    );
}

#[test]
fn accepting_an_unknown_or_closed_finding_is_refused() {
    let m = base();
    let mut lock = drilled(&m, vec![outcome("ok", Severity::Critical, "pass")]);
    let acceptance = RiskAcceptance {
        finding: "nope".into(),
        owner: "x".into(),
        reason: "y".into(),
        accepted_on: "2026-11-02".into(),
        expires: "2026-12-31".into(),
    };
    assert!(lock.accept("help-centre", acceptance.clone()).is_err());
    assert!(lock.accept("other-agent", acceptance).is_err());
}

#[test]
fn the_lock_round_trips_through_its_text_and_rejects_bad_dates() {
    let m = base();
    let mut lock = drilled(&m, vec![outcome("crit", Severity::Critical, "fail")]);
    lock.accept(
        "help-centre",
        RiskAcceptance {
            finding: "crit".into(),
            owner: "o".into(),
            reason: "r".into(),
            accepted_on: "2026-11-02".into(),
            expires: "2026-12-31".into(),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = lock.render().unwrap_or_else(|e| panic!("{e}"));
    let back = Lock::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, lock);
    insta::assert_snapshot!(text);

    let broken = text.replace("expires = \"2026-12-31\"", "expires = \"end of year\"");
    let err = Lock::parse(&broken)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("expires `end of year`, which is not a YYYY-MM-DD date"),
        "{err}"
    );
    assert!(Lock::parse("version = 2").is_err());
    assert!(Lock::parse("not toml [").is_err());
}
