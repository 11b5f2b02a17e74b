//! The governance controls an agent must show before launch, each declared or missing in its
//! manifest. Which are required scales with the tier.

use muster_model::agent::{AgentManifest, DataSourceKind, HumanReview};
use serde::Serialize;

use crate::tier::Tier;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GovernanceControl {
    ShutdownCriteria,
    EscalationQueue,
    LogAccess,
    HumanReviewRoute,
    ContentVersioning,
    RedTeam,
    ProhibitedActions,
    Dlp,
    CustomerCorrection,
}

impl GovernanceControl {
    pub const ALL: [GovernanceControl; 9] = [
        GovernanceControl::ShutdownCriteria,
        GovernanceControl::EscalationQueue,
        GovernanceControl::LogAccess,
        GovernanceControl::HumanReviewRoute,
        GovernanceControl::ContentVersioning,
        GovernanceControl::RedTeam,
        GovernanceControl::ProhibitedActions,
        GovernanceControl::Dlp,
        GovernanceControl::CustomerCorrection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GovernanceControl::ShutdownCriteria => "shutdown-criteria",
            GovernanceControl::EscalationQueue => "escalation-queue",
            GovernanceControl::LogAccess => "log-access",
            GovernanceControl::HumanReviewRoute => "human-review-route",
            GovernanceControl::ContentVersioning => "content-versioning",
            GovernanceControl::RedTeam => "red-team",
            GovernanceControl::ProhibitedActions => "prohibited-actions",
            GovernanceControl::Dlp => "dlp",
            GovernanceControl::CustomerCorrection => "customer-correction",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            GovernanceControl::ShutdownCriteria => "Pre-approved shutdown criteria",
            GovernanceControl::EscalationQueue => "A monitored escalation queue",
            GovernanceControl::LogAccess => "Role-based access to conversation logs",
            GovernanceControl::HumanReviewRoute => "A human review route for high-impact decisions",
            GovernanceControl::ContentVersioning => "Content versioning for retrieval sources",
            GovernanceControl::RedTeam => "Red-team prompts",
            GovernanceControl::ProhibitedActions => "Known prohibited actions",
            GovernanceControl::Dlp => "Data-loss-prevention rules",
            GovernanceControl::CustomerCorrection => "A customer correction process",
        }
    }

    /// The control-map key of the concept, e.g. `muster@1:governance/dlp`.
    pub fn key(self) -> String {
        format!("muster@1:governance/{}", self.as_str())
    }

    /// Whether an agent of `tier` must show this control before launch.
    pub fn required_for(self, tier: Tier, makes_decisions: bool) -> bool {
        match self {
            GovernanceControl::ShutdownCriteria
            | GovernanceControl::ContentVersioning
            | GovernanceControl::RedTeam
            | GovernanceControl::CustomerCorrection => true,
            GovernanceControl::EscalationQueue
            | GovernanceControl::LogAccess
            | GovernanceControl::ProhibitedActions
            | GovernanceControl::Dlp => tier >= Tier::Two,
            GovernanceControl::HumanReviewRoute => {
                tier == Tier::Three || (tier == Tier::Two && makes_decisions)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    Declared,
    /// Declared, but with a gap that stops it counting (e.g. a queue nobody monitors).
    Incomplete,
    Missing,
    /// Nothing for the control to apply to (e.g. no retrieval sources to version).
    NotApplicable,
}

impl ControlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Declared => "declared",
            ControlStatus::Incomplete => "incomplete",
            ControlStatus::Missing => "missing",
            ControlStatus::NotApplicable => "not applicable",
        }
    }
}

/// One control, as the manifest shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GovernanceCheck {
    pub control: GovernanceControl,
    pub title: &'static str,
    pub required: bool,
    pub status: ControlStatus,
    /// What the manifest says, or what is missing and how to add it.
    pub detail: String,
    /// JSON pointer of the manifest field that declares it (or would).
    pub field: String,
    /// Control-map keys this control is evidence for.
    pub keys: Vec<String>,
}

impl GovernanceCheck {
    /// Required and not fully declared.
    pub fn is_gap(&self) -> bool {
        self.required
            && matches!(
                self.status,
                ControlStatus::Missing | ControlStatus::Incomplete
            )
    }
}

pub fn governance_checks(manifest: &AgentManifest, tier: Tier) -> Vec<GovernanceCheck> {
    let makes = manifest
        .decisions
        .iter()
        .any(|d| d.role == muster_model::agent::DecisionRole::Makes);
    GovernanceControl::ALL
        .into_iter()
        .map(|control| {
            let (status, detail, field) = check(manifest, control);
            GovernanceCheck {
                control,
                title: control.title(),
                required: control.required_for(tier, makes),
                status,
                detail,
                field: field.to_owned(),
                keys: vec![control.key()],
            }
        })
        .collect()
}

fn check(m: &AgentManifest, control: GovernanceControl) -> (ControlStatus, String, &'static str) {
    use ControlStatus::*;
    let g = &m.governance;
    match control {
        GovernanceControl::ShutdownCriteria => {
            let field = "/shutdown_criteria";
            if m.shutdown_criteria.is_empty() {
                return (Missing, "no shutdown criteria; add `shutdown_criteria:` with the conditions under which the agent is switched off, and who approved them".into(), field);
            }
            let unapproved: Vec<&str> = m
                .shutdown_criteria
                .iter()
                .filter(|c| c.approved_by.is_none())
                .map(|c| c.id.as_str())
                .collect();
            if unapproved.is_empty() {
                let ids: Vec<&str> = m.shutdown_criteria.iter().map(|c| c.id.as_str()).collect();
                (
                    Declared,
                    format!("{} pre-approved: {}", ids.len(), ids.join(", ")),
                    field,
                )
            } else {
                (
                    Incomplete,
                    format!(
                        "not pre-approved (no `approved_by`): {}",
                        unapproved.join(", ")
                    ),
                    field,
                )
            }
        }
        GovernanceControl::EscalationQueue => {
            let field = "/escalation/queue";
            match m.escalation.as_ref().and_then(|e| e.queue.as_ref()) {
                None => (Missing, "no escalation queue; add `escalation.queue` with `monitored: true` and its hours".into(), field),
                Some(q) if !q.monitored => (Incomplete, format!("queue `{}` is not marked `monitored: true`", q.name.as_deref().unwrap_or("(unnamed)")), field),
                Some(q) => (Declared, format!("queue `{}` monitored{}", q.name.as_deref().unwrap_or("(unnamed)"), q.hours.as_deref().map(|h| format!(", {h}")).unwrap_or_default()), field),
            }
        }
        GovernanceControl::LogAccess => {
            let field = "/governance/log_access_roles";
            let open_logs: Vec<&str> = m
                .logs
                .iter()
                .filter(|l| l.access.is_empty())
                .map(|l| l.id.as_str())
                .collect();
            if g.log_access_roles.is_empty() && m.logs.iter().all(|l| l.access.is_empty()) {
                (Missing, "no roles restrict access to conversation logs; add `governance.log_access_roles`".into(), field)
            } else if !open_logs.is_empty() {
                (
                    Incomplete,
                    format!("logs without an access list: {}", open_logs.join(", ")),
                    "/logs",
                )
            } else {
                let mut roles = g.log_access_roles.clone();
                for l in &m.logs {
                    roles.extend(l.access.iter().cloned());
                }
                roles.sort();
                roles.dedup();
                (
                    Declared,
                    format!("raw logs readable by: {}", roles.join(", ")),
                    field,
                )
            }
        }
        GovernanceControl::HumanReviewRoute => {
            let field = "/governance/human_review_route";
            let unreviewed: Vec<&str> = m
                .decisions
                .iter()
                .filter(|d| d.area.is_high_impact() && d.human_review == HumanReview::None)
                .map(|d| d.id.as_str())
                .collect();
            match &g.human_review_route {
                None => (Missing, "no route to a person for high-impact decisions; add `governance.human_review_route`".into(), field),
                Some(_) if !unreviewed.is_empty() => (Incomplete, format!("high-impact decisions with `human_review: none`: {}", unreviewed.join(", ")), "/decisions"),
                Some(p) => (Declared, with_owner(&p.description, p.owner.as_deref()), field),
            }
        }
        GovernanceControl::ContentVersioning => {
            let field = "/data_sources";
            let retrieval: Vec<_> = m
                .data_sources
                .iter()
                .filter(|s| {
                    matches!(
                        s.kind,
                        DataSourceKind::KnowledgeBase | DataSourceKind::Documents
                    )
                })
                .collect();
            if retrieval.is_empty() {
                return (
                    NotApplicable,
                    "no knowledge-base or document sources".into(),
                    field,
                );
            }
            let unversioned: Vec<&str> = retrieval
                .iter()
                .filter(|s| !s.versioned)
                .map(|s| s.id.as_str())
                .collect();
            if unversioned.is_empty() {
                let ids: Vec<&str> = retrieval.iter().map(|s| s.id.as_str()).collect();
                (Declared, format!("versioned: {}", ids.join(", ")), field)
            } else if unversioned.len() == retrieval.len() {
                (
                    Missing,
                    format!(
                        "retrieval sources not versioned: {}; mark them `versioned: true` once their content is versioned",
                        unversioned.join(", ")
                    ),
                    field,
                )
            } else {
                (
                    Incomplete,
                    format!("not versioned: {}", unversioned.join(", ")),
                    field,
                )
            }
        }
        GovernanceControl::RedTeam => list(
            &g.red_team_scenarios,
            "/governance/red_team_scenarios",
            "scenario sets",
            "no red-team prompts or scenarios; add `governance.red_team_scenarios` (paths to scenario files or folders)",
        ),
        GovernanceControl::ProhibitedActions => list(
            &g.prohibited_actions,
            "/governance/prohibited_actions",
            "prohibited actions",
            "no known prohibited actions; add `governance.prohibited_actions`",
        ),
        GovernanceControl::Dlp => list(
            &g.dlp_rules,
            "/governance/dlp_rules",
            "rules",
            "no data-loss-prevention rules; add `governance.dlp_rules`",
        ),
        GovernanceControl::CustomerCorrection => {
            let field = "/governance/customer_correction";
            match &g.customer_correction {
                None => (Missing, "no process for putting right customers given wrong answers; add `governance.customer_correction`".into(), field),
                Some(p) if p.owner.is_none() => (Incomplete, "the correction process has no `owner`".into(), field),
                Some(p) => (Declared, with_owner(&p.description, p.owner.as_deref()), field),
            }
        }
    }
}

fn list(
    items: &[String],
    field: &'static str,
    noun: &str,
    missing: &str,
) -> (ControlStatus, String, &'static str) {
    if items.is_empty() {
        (ControlStatus::Missing, missing.to_owned(), field)
    } else {
        let noun = if items.len() == 1 {
            noun.trim_end_matches('s')
        } else {
            noun
        };
        (
            ControlStatus::Declared,
            format!("{} {noun}", items.len()),
            field,
        )
    }
}

fn with_owner(description: &str, owner: Option<&str>) -> String {
    match owner {
        Some(o) => format!("{description} (owner: {o})"),
        None => description.to_owned(),
    }
}
