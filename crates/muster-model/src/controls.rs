//! The control map (`kind: control-map`): one file per framework edition, listing its entries so
//! scenarios, findings and control checks can cite them as `framework@edition:id`.
//!
//! muster's own concepts (failure modes, control checks, governance controls) are a control map too,
//! `muster@1`, whose entries say which framework entries they map to.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A framework edition's entries, `kind: control-map`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "muster control map")]
pub struct ControlMap {
    /// Format version; this muster reads version 1.
    pub version: u32,
    /// Always `control-map`.
    pub kind: String,
    /// Lower-case slug of the framework, e.g. `owasp-llm`, `nist-ai-rmf`, `uk-gdpr`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub framework: String,
    /// The edition the entries come from, e.g. `2025`, `1.0`. A published edition is never edited
    /// in place; a new edition is a new file.
    #[schemars(regex(pattern = r"^[A-Za-z0-9.]+$"))]
    pub edition: String,
    #[schemars(length(min = 1))]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Where the framework is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[schemars(length(min = 1))]
    pub entries: Vec<ControlEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlEntry {
    /// The framework's own identifier, e.g. `LLM01`, `AML.T0051.001`, `Art.33(1)`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._()/-]*$"))]
    pub id: String,
    #[schemars(length(min = 1))]
    pub name: String,
    /// What the entry means for a customer-facing AI agent, in a sentence or two.
    #[schemars(length(min = 1))]
    pub summary: String,
    /// The identifier or wording still needs checking against the primary text.
    #[serde(default)]
    pub verify: bool,
    /// A reporting clock, as an ISO 8601 duration (`PT72H`, `P15D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// The moment the clock runs from, e.g. `became_aware_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_from: Option<String>,
    /// When the entry applies, e.g. `personal-data-breach-with-risk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_if: Option<String>,
    /// Keys (`framework@edition:id`) of other maps' entries this one corresponds to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maps_to: Vec<String>,
}

impl ControlMap {
    /// `framework@edition`, the prefix of every key in this map.
    pub fn prefix(&self) -> String {
        format!("{}@{}", self.framework, self.edition)
    }

    pub fn key(&self, entry: &ControlEntry) -> String {
        format!("{}:{}", self.prefix(), entry.id)
    }
}

/// Splits a key `framework@edition:id` into its three parts.
pub fn split_key(key: &str) -> Option<(&str, &str, &str)> {
    let (prefix, id) = key.split_once(':')?;
    let (framework, edition) = prefix.split_once('@')?;
    (!framework.is_empty() && !edition.is_empty() && !id.is_empty())
        .then_some((framework, edition, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_framework_edition_and_id() {
        assert_eq!(
            split_key("owasp-llm@2025:LLM01"),
            Some(("owasp-llm", "2025", "LLM01"))
        );
        assert_eq!(
            split_key("uk-gdpr@2025:Art.33(1)"),
            Some(("uk-gdpr", "2025", "Art.33(1)"))
        );
        assert_eq!(
            split_key("muster@1:failure-mode/advice"),
            Some(("muster", "1", "failure-mode/advice"))
        );
        assert_eq!(split_key("owasp-llm:LLM01"), None);
        assert_eq!(split_key("owasp-llm@2025:"), None);
    }
}
