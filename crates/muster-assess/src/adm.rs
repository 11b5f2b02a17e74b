//! The automated-decision-making boundary under UK GDPR Arts 22A–22D (as amended by the Data (Use
//! and Access) Act 2025): is each decision the agent takes part in assistance to a person, or a
//! solely automated significant decision that needs the Art. 22C safeguards?

use muster_model::agent::{AdmSafeguard, AgentManifest, Decision, DecisionRole, HumanReview};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdmClass {
    /// A person makes the decision, with meaningful involvement; the agent assists.
    Assistance,
    /// Solely automated, without a legal or similarly significant effect.
    SolelyAutomatedNotSignificant,
    /// Solely automated with a legal or similarly significant effect: Art. 22C safeguards apply
    /// (and Art. 22B restrictions if special-category data is used).
    SolelyAutomatedSignificant,
    /// Solely automated, and the manifest does not say whether the effect is significant.
    Undetermined,
}

impl AdmClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AdmClass::Assistance => "assistance",
            AdmClass::SolelyAutomatedNotSignificant => "solely automated, not significant",
            AdmClass::SolelyAutomatedSignificant => "solely automated significant decision",
            AdmClass::Undetermined => "undetermined",
        }
    }
}

/// A question the team must answer to place a decision; `answer` is what the manifest says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdmQuestion {
    pub question: &'static str,
    pub answer: Option<String>,
    pub field: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdmDecision {
    pub id: String,
    pub field: String,
    pub class: AdmClass,
    /// The provisions that apply, as control-map keys.
    pub keys: Vec<String>,
    pub why: String,
    /// Art. 22C safeguards the decision needs but the manifest does not declare.
    pub missing_safeguards: Vec<AdmSafeguard>,
    /// Set when special-category data is used with no Art. 22B basis: the decision is prohibited.
    pub prohibited: bool,
    pub questions: Vec<AdmQuestion>,
}

const UK_GDPR: &str = "uk-gdpr@2025";

pub fn adm_decisions(manifest: &AgentManifest) -> Vec<AdmDecision> {
    manifest
        .decisions
        .iter()
        .enumerate()
        .filter(|(_, d)| d.role != DecisionRole::Informs)
        .map(|(i, d)| classify(i, d))
        .collect()
}

fn classify(index: usize, d: &Decision) -> AdmDecision {
    let field = format!("/decisions/{index}");
    let significant = d.significant.or(d.area.is_high_impact().then_some(true));
    let human_decides = d.role == DecisionRole::Influences || d.human_review == HumanReview::Always;
    let class = if human_decides {
        AdmClass::Assistance
    } else {
        match significant {
            Some(true) => AdmClass::SolelyAutomatedSignificant,
            Some(false) => AdmClass::SolelyAutomatedNotSignificant,
            None => AdmClass::Undetermined,
        }
    };
    let why = match class {
        AdmClass::Assistance if d.role == DecisionRole::Influences => format!(
            "the agent influences the {} decision and a person takes it{}",
            d.area.as_str().replace('-', " "),
            if d.human_review == HumanReview::Always {
                ", reviewing every case"
            } else {
                "; their involvement must be meaningful, not a token sign-off"
            }
        ),
        AdmClass::Assistance => {
            "the agent proposes and a person reviews every case before it takes effect".into()
        }
        AdmClass::SolelyAutomatedSignificant => format!(
            "the agent makes the decision with human review `{}`, and {}",
            d.human_review.as_str(),
            if d.significant == Some(true) {
                "the manifest says its effect is significant".to_owned()
            } else {
                format!(
                    "{} outcomes are presumed significant",
                    d.area.as_str().replace('-', " ")
                )
            }
        ),
        AdmClass::SolelyAutomatedNotSignificant => format!(
            "the agent makes the decision with human review `{}`, and the manifest says its effect is not significant",
            d.human_review.as_str()
        ),
        AdmClass::Undetermined => format!(
            "the agent makes the decision with human review `{}`; whether a {} decision has a legal or similarly significant effect is not stated",
            d.human_review.as_str(),
            d.area.as_str().replace('-', " ")
        ),
    };
    let mut keys = vec![format!("{UK_GDPR}:Art.22A")];
    let mut missing_safeguards = Vec::new();
    let mut prohibited = false;
    if matches!(
        class,
        AdmClass::SolelyAutomatedSignificant | AdmClass::Undetermined
    ) {
        keys.push(format!("{UK_GDPR}:Art.22C"));
        missing_safeguards = AdmSafeguard::ALL
            .into_iter()
            .filter(|s| !d.safeguards.contains(s))
            .filter(|s| {
                !(*s == AdmSafeguard::HumanIntervention && d.human_review == HumanReview::OnRequest)
            })
            .collect();
        if d.special_category_data {
            keys.push(format!("{UK_GDPR}:Art.22B"));
            prohibited =
                d.special_category_basis.is_none() && class == AdmClass::SolelyAutomatedSignificant;
        }
    }
    let questions = vec![
        AdmQuestion {
            question: "Does a person review each outcome before it takes effect, with the authority and competence to change it?",
            answer: Some(match (d.role, d.human_review) {
                (DecisionRole::Influences, HumanReview::Always) => {
                    "yes: a person takes the decision and reviews every case".into()
                }
                (DecisionRole::Influences, _) => {
                    "a person takes the decision; confirm they weigh it rather than sign off".into()
                }
                (_, HumanReview::Always) => "yes: every case is reviewed".into(),
                (_, HumanReview::OnRequest) => "only when the customer asks".into(),
                (_, HumanReview::None) => "no".into(),
            }),
            field: format!("{field}/human_review"),
        },
        AdmQuestion {
            question: "Does the decision have a legal or similarly significant effect on the customer?",
            answer: match (d.significant, d.area.is_high_impact()) {
                (Some(true), _) => Some("yes (stated)".into()),
                (Some(false), _) => Some("no (stated)".into()),
                (None, true) => Some(format!(
                    "presumed yes for {} outcomes",
                    d.area.as_str().replace('-', " ")
                )),
                (None, false) => None,
            },
            field: format!("{field}/significant"),
        },
        AdmQuestion {
            question: "Does it use special-category data (health, ethnicity, religion, biometrics…), and on what Art. 22B basis?",
            answer: Some(match (d.special_category_data, d.special_category_basis) {
                (false, _) => "no (stated or default)".into(),
                (true, Some(basis)) => format!(
                    "yes, basis: {}",
                    serde_json::to_value(basis)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
                (true, None) => "yes, with no basis declared".into(),
            }),
            field: format!("{field}/special_category_data"),
        },
        AdmQuestion {
            question: "Is the customer told, and can they make representations, obtain human intervention and contest the decision?",
            answer: (!d.safeguards.is_empty() || d.human_review != HumanReview::None).then(|| {
                let mut have: Vec<&str> = d.safeguards.iter().map(|s| s.as_str()).collect();
                if d.human_review == HumanReview::OnRequest
                    && !d.safeguards.contains(&AdmSafeguard::HumanIntervention)
                {
                    have.push("human-intervention (on request)");
                }
                if have.is_empty() {
                    "a person reviews every case".into()
                } else {
                    format!("declared: {}", have.join(", "))
                }
            }),
            field: format!("{field}/safeguards"),
        },
    ];
    AdmDecision {
        id: d.id.clone(),
        field,
        class,
        keys,
        why,
        missing_safeguards,
        prohibited,
        questions,
    }
}
