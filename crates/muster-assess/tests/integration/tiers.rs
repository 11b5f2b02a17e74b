use std::collections::BTreeSet;

use muster_assess::{AdmClass, ControlStatus, Tier, assess};
use muster_model::agent::{AdmSafeguard, AgentManifest};
use serde_json::json;

use crate::common::{base, reference};

fn decision(value: serde_json::Value) -> muster_model::agent::Decision {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("decision: {e}"))
}

fn tool(name: &str, effect: &str) -> muster_model::agent::Tool {
    serde_json::from_value(json!({"name": name, "effect": effect}))
        .unwrap_or_else(|e| panic!("tool: {e}"))
}

fn source(value: serde_json::Value) -> muster_model::agent::DataSource {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("source: {e}"))
}

struct Variant {
    name: &'static str,
    change: fn(&mut AgentManifest),
    tier: Tier,
    /// Required controls that are missing or incomplete.
    gaps: &'static [&'static str],
    /// Controls required on top of tier 1's four.
    extra_required: &'static [&'static str],
}

const TIER2_REQUIRED: &[&str] = &[
    "escalation-queue",
    "log-access",
    "prohibited-actions",
    "dlp",
];
const TIER3_REQUIRED: &[&str] = &[
    "escalation-queue",
    "log-access",
    "prohibited-actions",
    "dlp",
    "human-review-route",
];

fn variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "public help articles only",
            change: |_| {},
            tier: Tier::One,
            gaps: &[],
            extra_required: &[],
        },
        Variant {
            name: "no shutdown criteria",
            change: |m| m.shutdown_criteria.clear(),
            tier: Tier::One,
            gaps: &["shutdown-criteria"],
            extra_required: &[],
        },
        Variant {
            name: "shutdown criterion not pre-approved",
            change: |m| m.shutdown_criteria[0].approved_by = None,
            tier: Tier::One,
            gaps: &["shutdown-criteria"],
            extra_required: &[],
        },
        Variant {
            name: "help articles not versioned",
            change: |m| m.data_sources[0].versioned = false,
            tier: Tier::One,
            gaps: &["content-versioning"],
            extra_required: &[],
        },
        Variant {
            name: "no red-team scenarios",
            change: |m| m.governance.red_team_scenarios.clear(),
            tier: Tier::One,
            gaps: &["red-team"],
            extra_required: &[],
        },
        Variant {
            name: "handover tool only",
            change: |m| m.tools.push(tool("handover", "handover")),
            tier: Tier::One,
            gaps: &[],
            extra_required: &[],
        },
        Variant {
            name: "informs an eligibility decision only",
            change: |m| {
                m.decisions.push(decision(json!({"id": "elig", "description": "explains criteria", "role": "informs", "area": "eligibility"})));
            },
            tier: Tier::One,
            gaps: &[],
            extra_required: &[],
        },
        Variant {
            name: "knowledge base not public",
            change: |m| m.data_sources[0].public = false,
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "reads the CRM",
            change: |m| {
                m.data_sources.push(source(
                    json!({"id": "crm", "kind": "crm", "personal_data": ["contact"]}),
                ));
            },
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "moves money",
            change: |m| m.tools.push(tool("issue_credit", "money")),
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "changes records",
            change: |m| m.tools.push(tool("change_address", "write")),
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "closes cases",
            change: |m| m.tools.push(tool("close_case", "close")),
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "summarises complaints",
            change: |m| m.journeys.push("complaints".into()),
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "makes refund decisions",
            change: |m| {
                m.decisions.push(decision(json!({"id": "refund", "description": "refunds", "role": "makes", "area": "refund"})));
            },
            tier: Tier::Two,
            gaps: &[],
            extra_required: TIER3_REQUIRED,
        },
        Variant {
            name: "tier 2 with an unmonitored queue",
            change: |m| {
                m.tools.push(tool("issue_credit", "money"));
                if let Some(q) = m.escalation.as_mut().and_then(|e| e.queue.as_mut()) {
                    q.monitored = false;
                }
            },
            tier: Tier::Two,
            gaps: &["escalation-queue"],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "tier 2 with no DLP rules",
            change: |m| {
                m.tools.push(tool("issue_credit", "money"));
                m.governance.dlp_rules.clear();
            },
            tier: Tier::Two,
            gaps: &["dlp"],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "tier 2 with open logs",
            change: |m| {
                m.tools.push(tool("issue_credit", "money"));
                m.governance.log_access_roles.clear();
                m.logs[0].access.clear();
            },
            tier: Tier::Two,
            gaps: &["log-access"],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "tier 2 with no escalation at all",
            change: |m| {
                m.tools.push(tool("issue_credit", "money"));
                m.escalation = None;
                m.governance.prohibited_actions.clear();
            },
            tier: Tier::Two,
            gaps: &["escalation-queue", "prohibited-actions"],
            extra_required: TIER2_REQUIRED,
        },
        Variant {
            name: "influences complaint outcomes",
            change: |m| {
                m.decisions.push(decision(json!({"id": "complaint", "description": "recommends outcomes", "role": "influences", "area": "complaint-outcome", "human_review": "always"})));
            },
            tier: Tier::Three,
            gaps: &[],
            extra_required: TIER3_REQUIRED,
        },
        Variant {
            name: "makes credit decisions with no review",
            change: |m| {
                m.decisions.push(decision(json!({"id": "credit", "description": "approves credit", "role": "makes", "area": "credit"})));
            },
            tier: Tier::Three,
            gaps: &["human-review-route"],
            extra_required: TIER3_REQUIRED,
        },
        Variant {
            name: "prices insurance with no review route",
            change: |m| {
                m.decisions.push(decision(json!({"id": "quote", "description": "quotes premiums", "role": "makes", "area": "insurance", "human_review": "on-request"})));
                m.governance.human_review_route = None;
            },
            tier: Tier::Three,
            gaps: &["human-review-route"],
            extra_required: TIER3_REQUIRED,
        },
        Variant {
            name: "correction process without owner",
            change: |m| {
                if let Some(p) = m.governance.customer_correction.as_mut() {
                    p.owner = None;
                }
            },
            tier: Tier::One,
            gaps: &["customer-correction"],
            extra_required: &[],
        },
        Variant {
            name: "no retrieval sources",
            change: |m| m.data_sources.clear(),
            tier: Tier::One,
            gaps: &[],
            extra_required: &[],
        },
    ]
}

#[test]
fn tier_and_required_controls_follow_the_manifest() {
    let all = variants();
    assert!(all.len() >= 15);
    let mut failures = Vec::new();
    for v in all {
        let mut m = base();
        (v.change)(&mut m);
        let a = assess(&m);
        let gaps: BTreeSet<&str> = a.gaps().map(|c| c.control.as_str()).collect();
        let required: BTreeSet<&str> = a
            .controls
            .iter()
            .filter(|c| c.required)
            .map(|c| c.control.as_str())
            .collect();
        let mut expected_required: BTreeSet<&str> = [
            "shutdown-criteria",
            "content-versioning",
            "red-team",
            "customer-correction",
        ]
        .into();
        expected_required.extend(v.extra_required);
        let expected_gaps: BTreeSet<&str> = v.gaps.iter().copied().collect();
        if a.tier != v.tier || gaps != expected_gaps || required != expected_required {
            failures.push(format!(
                "{}: tier {:?} (want {:?}), gaps {gaps:?} (want {expected_gaps:?}), required {required:?} (want {expected_required:?})",
                v.name, a.tier, v.tier
            ));
        }
        assert!(
            a.reasons.iter().all(|r| r.field.starts_with('/')),
            "{}: every reason names a field",
            v.name
        );
        assert!(
            a.reasons.iter().any(|r| r.tier == a.tier),
            "{}: a reason for the tier",
            v.name
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn no_retrieval_sources_is_not_applicable_rather_than_declared() {
    let mut m = base();
    m.data_sources.clear();
    let a = assess(&m);
    let versioning = a
        .controls
        .iter()
        .find(|c| c.control.as_str() == "content-versioning");
    assert_eq!(
        versioning.map(|c| c.status),
        Some(ControlStatus::NotApplicable)
    );
}

#[test]
fn cadence_scales_with_tier() {
    let mut m = base();
    assert_eq!(assess(&m).cadence.months, 12);
    m.tools.push(tool("issue_credit", "money"));
    assert_eq!(assess(&m).cadence.months, 6);
    m.decisions.push(decision(
        json!({"id": "credit", "description": "x", "role": "makes", "area": "credit"}),
    ));
    assert_eq!(assess(&m).cadence.months, 3);
}

fn adm_of(value: serde_json::Value) -> muster_assess::AdmDecision {
    let mut m = base();
    m.decisions.push(decision(value));
    let a = assess(&m);
    a.adm
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("one ADM decision"))
}

#[test]
fn automated_decision_boundary_classifies_each_decision() {
    let d = adm_of(json!({"id": "c", "description": "x", "role": "makes", "area": "credit"}));
    assert_eq!(d.class, AdmClass::SolelyAutomatedSignificant);
    assert_eq!(d.missing_safeguards, AdmSafeguard::ALL.to_vec());
    assert!(d.keys.contains(&"uk-gdpr@2025:Art.22C".to_owned()));

    let d = adm_of(
        json!({"id": "c", "description": "x", "role": "makes", "area": "credit", "human_review": "on-request", "safeguards": ["inform", "representations", "contest"]}),
    );
    assert_eq!(d.class, AdmClass::SolelyAutomatedSignificant);
    assert!(
        d.missing_safeguards.is_empty(),
        "{:?}",
        d.missing_safeguards
    );

    let d = adm_of(
        json!({"id": "c", "description": "x", "role": "makes", "area": "health", "special_category_data": true}),
    );
    assert!(d.prohibited);
    assert!(d.keys.contains(&"uk-gdpr@2025:Art.22B".to_owned()));
    let d = adm_of(
        json!({"id": "c", "description": "x", "role": "makes", "area": "health", "special_category_data": true, "special_category_basis": "explicit-consent"}),
    );
    assert!(!d.prohibited);

    let d = adm_of(
        json!({"id": "c", "description": "x", "role": "influences", "area": "complaint-outcome", "human_review": "always"}),
    );
    assert_eq!(d.class, AdmClass::Assistance);
    assert!(d.missing_safeguards.is_empty());

    let d = adm_of(
        json!({"id": "c", "description": "x", "role": "makes", "area": "eligibility", "human_review": "always"}),
    );
    assert_eq!(d.class, AdmClass::Assistance);

    let d = adm_of(json!({"id": "r", "description": "x", "role": "makes", "area": "refund"}));
    assert_eq!(d.class, AdmClass::Undetermined);
    assert!(
        d.questions.iter().any(|q| q.answer.is_none()),
        "the significance question stays open"
    );

    let d = adm_of(
        json!({"id": "r", "description": "x", "role": "makes", "area": "refund", "significant": false}),
    );
    assert_eq!(d.class, AdmClass::SolelyAutomatedNotSignificant);
    assert!(d.missing_safeguards.is_empty());
}

#[test]
fn reference_agent_assessment() {
    let a = assess(&reference());
    assert_eq!(a.tier, Tier::Three, "it influences complaint outcomes");
    insta::assert_json_snapshot!(a);
}
