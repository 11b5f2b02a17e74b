//! The risk tier: the control scales with authority, data sensitivity and customer impact.

use muster_model::agent::{AgentManifest, DataSourceKind, DecisionRole, ToolEffect};
use serde::Serialize;

/// Tier 1 answers only from public documentation; tier 2 reads account data, personalises advice,
/// summarises complaints or triggers workflow actions; tier 3 makes or materially influences
/// eligibility, pricing, credit, employment, health, insurance or complaint outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Tier {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "2")]
    Two,
    #[serde(rename = "3")]
    Three,
}

impl Tier {
    pub fn number(self) -> u8 {
        match self {
            Tier::One => 1,
            Tier::Two => 2,
            Tier::Three => 3,
        }
    }

    pub fn from_number(n: u8) -> Option<Tier> {
        match n {
            1 => Some(Tier::One),
            2 => Some(Tier::Two),
            3 => Some(Tier::Three),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::One => "public information only",
            Tier::Two => "account data or workflow actions",
            Tier::Three => "high-impact decisions",
        }
    }

    pub fn required_drill(self) -> RequiredDrill {
        match self {
            Tier::One => RequiredDrill {
                name: "launch checklist",
                description: "A launch checklist with a content rollback rehearsal and a sampling review of answers.",
                parts: vec![
                    "launch checklist",
                    "content rollback rehearsal",
                    "sampling review of answers",
                ],
            },
            Tier::Two => RequiredDrill {
                name: "full technical drill",
                description: "A full technical drill: failure scenarios for every mode the agent can fail in, with the kill switch, human handover and content rollback proven against their claimed times.",
                parts: vec![
                    "failure scenarios across advice, data, authority and escalation",
                    "prompt-injection scenarios",
                    "kill switch, handover and content rollback drills",
                    "evidence pack",
                ],
            },
            Tier::Three => RequiredDrill {
                name: "technical drill and governance tabletop",
                description: "The full technical drill, plus a tabletop exercise with senior governance, a legal review, and human escalation designed into every high-impact decision.",
                parts: vec![
                    "full technical drill",
                    "tabletop exercise with senior governance",
                    "legal review",
                    "human escalation by design for high-impact decisions",
                    "evidence pack",
                ],
            },
        }
    }
}

/// The drill a tier owes before launch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequiredDrill {
    pub name: &'static str,
    pub description: &'static str,
    pub parts: Vec<&'static str>,
}

/// Why the agent is in its tier: a sentence and the manifest field it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub tier: Tier,
    pub text: String,
    /// JSON pointer into the manifest, e.g. `/decisions/2`.
    pub field: String,
}

/// The tier and every reason for it (reasons for lower tiers too, so the whole picture shows).
pub fn tier(manifest: &AgentManifest) -> (Tier, Vec<Reason>) {
    let mut reasons = Vec::new();
    for (i, d) in manifest.decisions.iter().enumerate() {
        let verb = match d.role {
            DecisionRole::Makes => "makes",
            DecisionRole::Influences => "materially influences",
            DecisionRole::Informs => continue,
        };
        let tier = if d.area.is_high_impact() {
            Tier::Three
        } else {
            Tier::Two
        };
        let what = if d.area.is_high_impact() {
            format!(
                "{} outcomes",
                d.area
                    .as_str()
                    .trim_end_matches("-outcome")
                    .replace('-', " ")
            )
        } else {
            format!("{} decisions", d.area.as_str().replace('-', " "))
        };
        reasons.push(Reason {
            tier,
            text: format!("{verb} {what} (decision `{}`)", d.id),
            field: format!("/decisions/{i}"),
        });
    }
    for (i, t) in manifest.tools.iter().enumerate() {
        let effect = match t.effect {
            ToolEffect::Write => "changes records",
            ToolEffect::Money => "moves money",
            ToolEffect::Close => "closes cases",
            ToolEffect::Read | ToolEffect::Handover => continue,
        };
        reasons.push(Reason {
            tier: Tier::Two,
            text: format!("triggers a workflow action: tool `{}` {effect}", t.name),
            field: format!("/tools/{i}"),
        });
    }
    for (i, source) in manifest.data_sources.iter().enumerate() {
        let account_data = !source.personal_data.is_empty()
            || matches!(
                source.kind,
                DataSourceKind::Crm
                    | DataSourceKind::Billing
                    | DataSourceKind::Orders
                    | DataSourceKind::Tickets
            );
        if account_data && !source.public {
            let holds = if source.personal_data.is_empty() {
                String::new()
            } else {
                format!(" ({})", source.personal_data.join(", "))
            };
            reasons.push(Reason {
                tier: Tier::Two,
                text: format!("reads account data from `{}`{holds}", source.id),
                field: format!("/data_sources/{i}"),
            });
        } else if !source.public {
            reasons.push(Reason {
                tier: Tier::Two,
                text: format!(
                    "answers from `{}`, which is not marked public documentation",
                    source.id
                ),
                field: format!("/data_sources/{i}"),
            });
        }
    }
    if let Some(i) = manifest.journeys.iter().position(|j| j == "complaints") {
        reasons.push(Reason {
            tier: Tier::Two,
            text: "takes part in the complaints journey (summarises or handles complaints)".into(),
            field: format!("/journeys/{i}"),
        });
    }
    let tier = reasons.iter().map(|r| r.tier).max().unwrap_or(Tier::One);
    if tier == Tier::One {
        reasons.push(Reason {
            tier: Tier::One,
            text: "answers only from public documentation: no account data, no workflow actions, no decisions".into(),
            field: "/data_sources".into(),
        });
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.tier));
    (tier, reasons)
}
