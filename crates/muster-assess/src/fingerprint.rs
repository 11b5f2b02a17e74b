//! The parts of a manifest whose change calls for a new drill, reduced to values that can be
//! compared later and that say, when they differ, what changed.

use std::collections::BTreeMap;

use muster_model::agent::AgentManifest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// `provider/name@version`.
    pub model: String,
    /// Digest of the generation parameters.
    pub model_parameters: String,
    pub tools: BTreeMap<String, ToolPrint>,
    /// Data source id → digest of its declaration.
    pub data_sources: BTreeMap<String, String>,
    pub markets: Vec<String>,
    pub journeys: Vec<String>,
    /// Policy id → version.
    pub policies: BTreeMap<String, String>,
    /// Decision id → `role area human-review` and a digest of the rest.
    pub decisions: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolPrint {
    pub effect: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
}

/// One difference between the drilled manifest and today's, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Manifest field, e.g. `model`, `tools.issue_credit`, `policies.returns`.
    pub field: String,
    pub change: String,
}

pub fn fingerprint(m: &AgentManifest) -> Fingerprints {
    Fingerprints {
        model: format!("{}/{}@{}", m.model.provider, m.model.name, m.model.version),
        model_parameters: digest(&m.model.parameters),
        tools: m
            .tools
            .iter()
            .map(|t| {
                let limits = serde_json::to_value(&t.limits)
                    .ok()
                    .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
                    .unwrap_or_default();
                (
                    t.name.clone(),
                    ToolPrint {
                        effect: t.effect.as_str().to_owned(),
                        limits,
                        requires: t.requires.clone(),
                    },
                )
            })
            .collect(),
        data_sources: m
            .data_sources
            .iter()
            .map(|s| (s.id.clone(), digest(s)))
            .collect(),
        markets: sorted(&m.markets),
        journeys: sorted(&m.journeys),
        policies: m
            .policies
            .iter()
            .map(|p| (p.id.clone(), p.version.clone()))
            .collect(),
        decisions: m
            .decisions
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    format!(
                        "{} {} {} {}",
                        d.role.as_str(),
                        d.area.as_str(),
                        d.human_review.as_str(),
                        digest(d)
                    ),
                )
            })
            .collect(),
    }
}

/// What changed from `drilled` to `now`, field by field; empty when nothing that matters did.
pub fn compare_fingerprints(drilled: &Fingerprints, now: &Fingerprints) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if drilled.model != now.model {
        out.push(change(
            "model",
            format!("{} → {}", drilled.model, now.model),
        ));
    }
    if drilled.model_parameters != now.model_parameters {
        out.push(change(
            "model.parameters",
            "generation parameters changed".into(),
        ));
    }
    compare_maps(
        &mut out,
        "tools",
        &drilled.tools,
        &now.tools,
        |name, a, b| {
            let mut parts = Vec::new();
            if a.effect != b.effect {
                parts.push(format!("effect {} → {}", a.effect, b.effect));
            }
            if a.limits != b.limits {
                parts.push(format!(
                    "limits [{}] → [{}]",
                    a.limits.join(", "),
                    b.limits.join(", ")
                ));
            }
            if a.requires != b.requires {
                parts.push(format!(
                    "preconditions [{}] → [{}]",
                    a.requires.join(", "),
                    b.requires.join(", ")
                ));
            }
            format!("tool `{name}`: {}", parts.join("; "))
        },
    );
    compare_maps(
        &mut out,
        "data_sources",
        &drilled.data_sources,
        &now.data_sources,
        |name, _, _| format!("data source `{name}` changed"),
    );
    compare_lists(
        &mut out,
        "markets",
        "market",
        &drilled.markets,
        &now.markets,
    );
    compare_lists(
        &mut out,
        "journeys",
        "journey",
        &drilled.journeys,
        &now.journeys,
    );
    compare_maps(
        &mut out,
        "policies",
        &drilled.policies,
        &now.policies,
        |name, a, b| format!("policy `{name}` version {a} → {b}"),
    );
    compare_maps(
        &mut out,
        "decisions",
        &drilled.decisions,
        &now.decisions,
        |name, a, b| {
            let words = |s: &str| {
                s.rsplit_once(' ')
                    .map(|(w, _)| w.to_owned())
                    .unwrap_or_default()
            };
            if words(a) == words(b) {
                format!("decision `{name}` changed")
            } else {
                format!("decision `{name}`: {} → {}", words(a), words(b))
            }
        },
    );
    out
}

fn change(field: &str, change: String) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        change,
    }
}

fn compare_maps<V: PartialEq>(
    out: &mut Vec<FieldChange>,
    section: &str,
    drilled: &BTreeMap<String, V>,
    now: &BTreeMap<String, V>,
    describe: impl Fn(&str, &V, &V) -> String,
) {
    let noun = section.trim_end_matches('s').replace('_', " ");
    for (name, before) in drilled {
        match now.get(name) {
            None => out.push(change(
                &format!("{section}.{name}"),
                format!("{noun} `{name}` removed"),
            )),
            Some(after) if after != before => {
                out.push(change(
                    &format!("{section}.{name}"),
                    describe(name, before, after),
                ));
            }
            Some(_) => {}
        }
    }
    for name in now.keys().filter(|n| !drilled.contains_key(*n)) {
        out.push(change(
            &format!("{section}.{name}"),
            format!("{noun} `{name}` added"),
        ));
    }
}

fn compare_lists(
    out: &mut Vec<FieldChange>,
    section: &str,
    noun: &str,
    drilled: &[String],
    now: &[String],
) {
    for added in now.iter().filter(|x| !drilled.contains(x)) {
        out.push(change(section, format!("new {noun} `{added}`")));
    }
    for removed in drilled.iter().filter(|x| !now.contains(x)) {
        out.push(change(section, format!("{noun} `{removed}` removed")));
    }
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Short digest of a value's canonical JSON (RFC 8785): a change detector, not an integrity seal.
pub(crate) fn digest<T: Serialize>(value: &T) -> String {
    let bytes = serde_json_canonicalizer::to_vec(value).unwrap_or_default();
    let hash = Sha256::digest(&bytes);
    hex::encode(&hash[..8])
}
