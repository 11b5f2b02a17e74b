//! The drill as SARIF 2.1.0, so code-scanning views show failed expectations at their line in the
//! scenario file. One rule per failure mode and expectation type (`authority/tool_within`); one
//! result per failed or inconclusive expectation of each scenario's deciding run.

use std::collections::{BTreeMap, BTreeSet};

use muster_drill::{DrillReport, ExpectationResult, ScenarioResult, Status, Verdict};
use muster_model::common::Severity;
use serde_json::{Value, json};

use crate::render::junit::status_of;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// `sources` maps a scenario's source label to its text, to place results at `line:column`.
pub fn sarif(report: &DrillReport, sources: &BTreeMap<String, String>) -> Value {
    let mut rules: BTreeSet<(String, String, &'static str)> = BTreeSet::new();
    let mut results = Vec::new();
    for s in report
        .summaries
        .iter()
        .filter(|s| s.verdict != Verdict::Pass)
    {
        let runs: Vec<&ScenarioResult> = report.scenarios.iter().filter(|r| r.id == s.id).collect();
        let Some(deciding) = runs.iter().find(|r| r.verdict == s.verdict) else {
            continue;
        };
        let wanted = status_of(s.verdict);
        let spans = sources
            .get(&deciding.source)
            .map(|text| muster_model::load_scenario(text).spans);
        for e in deciding.expectations.iter().filter(|e| e.status == wanted) {
            let rule = rule_id(e);
            rules.insert((rule.clone(), e.mode.to_string(), e.kind));
            let region = spans
                .as_ref()
                .and_then(|sp| sp.key_or_value_span(&format!("/expect/{}", e.index)))
                .map(|span| json!({"startLine": span.start.line, "startColumn": span.start.column}))
                .unwrap_or_else(|| json!({"startLine": 1}));
            let mut message = format!("{}: {} ({})", s.id, e.reason, s.reason);
            if let Some(x) = &e.excerpt {
                message.push_str(&format!(" — turn {}: “{}”", x.turn, x.text));
            }
            results.push(json!({
                "ruleId": rule,
                "kind": if e.status == Status::Fail { "fail" } else { "open" },
                "level": level(s.severity, e.status),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(&deciding.source)},
                        "region": region,
                    }
                }],
                "partialFingerprints": {"musterScenarioExpectation/v1": format!("{}#{}", s.id, e.index)},
                "properties": {
                    "scenario": s.id,
                    "severity": s.severity,
                    "runs": s.runs,
                    "failed": s.failed,
                    "inconclusive": s.inconclusive,
                    "taxonomy": deciding.taxonomy,
                },
            }));
        }
    }
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(id, mode, kind)| {
            json!({
                "id": id,
                "name": format!("{mode} failure: {kind}"),
                "shortDescription": {"text": format!("`{kind}` expectation failed: a {mode} failure")},
                "properties": {"tags": [mode, kind]},
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "muster",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "automationDetails": {"id": format!("muster/{}/{}", report.agent, report.drill_id)},
            "invocations": [{"executionSuccessful": report.status == "sealed"}],
            "results": results,
            "properties": {"drill_id": report.drill_id, "root_digest": report.root_digest, "verdict": report.verdict},
        }],
    })
}

fn rule_id(e: &ExpectationResult) -> String {
    format!("{}/{}", e.mode, e.kind)
}

/// Built-in scenarios live in `library/` in the repository.
fn artifact_uri(source: &str) -> String {
    match source.strip_prefix("builtin:") {
        Some(rest) => format!("library/{rest}"),
        None => source.trim_start_matches("./").to_owned(),
    }
}

fn level(severity: Severity, status: Status) -> &'static str {
    match (status, severity) {
        (Status::Inconclusive, _) => "warning",
        (_, Severity::Critical | Severity::High) => "error",
        (_, Severity::Medium) => "warning",
        (_, Severity::Low) => "note",
    }
}
