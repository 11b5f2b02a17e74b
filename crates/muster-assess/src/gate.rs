//! The drill gate: may this agent ship today, given `muster.lock`?

use jiff::Timestamp;
use jiff::civil::Date;
use muster_model::agent::AgentManifest;
use muster_model::common::Severity;
use serde::Serialize;

use crate::cadence::Cadence;
use crate::fingerprint::{FieldChange, compare_fingerprints, fingerprint};
use crate::lock::{FindingStatus, Lock};
use crate::tier::tier;

#[derive(Clone, Debug)]
pub struct GateOptions {
    pub today: Date,
    /// Open findings at or above this severity block (default: critical).
    pub block_on: Severity,
    /// Digest of the scenario set the team drills today; a different set than the one drilled
    /// is a trigger.
    pub scenario_set: Option<String>,
}

/// Why the gate stops a release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum GateReason {
    NeverDrilled {
        agent: String,
    },
    TriggerFired {
        field: String,
        change: String,
    },
    ScenarioSetChanged {
        drilled: String,
        now: String,
    },
    CadenceLapsed {
        cadence: String,
        last_drill: Date,
        due: Date,
    },
    AcceptanceExpired {
        finding: String,
        owner: String,
        expired: Date,
    },
    OpenFinding {
        finding: String,
        title: String,
        severity: Severity,
        since: String,
    },
    Unproven {
        scenario: String,
        severity: Severity,
    },
}

impl GateReason {
    pub fn code(&self) -> &'static str {
        match self {
            GateReason::NeverDrilled { .. } => "never-drilled",
            GateReason::TriggerFired { .. } => "trigger-fired",
            GateReason::ScenarioSetChanged { .. } => "scenario-set-changed",
            GateReason::CadenceLapsed { .. } => "cadence-lapsed",
            GateReason::AcceptanceExpired { .. } => "acceptance-expired",
            GateReason::OpenFinding { .. } => "open-finding",
            GateReason::Unproven { .. } => "unproven",
        }
    }

    pub fn message(&self) -> String {
        match self {
            GateReason::NeverDrilled { agent } => {
                format!("`{agent}` has never been drilled (no entry in muster.lock)")
            }
            GateReason::TriggerFired { field, change } => {
                format!("re-drill trigger: {change} ({field})")
            }
            GateReason::ScenarioSetChanged { .. } => {
                "re-drill trigger: the scenario set differs from the one drilled".into()
            }
            GateReason::CadenceLapsed {
                cadence,
                last_drill,
                due,
            } => format!("cadence lapsed: drilled {last_drill}, due again by {due} ({cadence})"),
            GateReason::AcceptanceExpired {
                finding,
                owner,
                expired,
            } => format!("risk acceptance of `{finding}` by {owner} expired on {expired}"),
            GateReason::OpenFinding {
                finding,
                title,
                severity,
                since,
            } => format!(
                "{severity} finding `{finding}` open since {}: {title}",
                since.get(..10).unwrap_or(since)
            ),
            GateReason::Unproven { scenario, severity } => format!(
                "{severity} scenario `{scenario}` was inconclusive in the last drill: unproven"
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GateReport {
    pub agent: String,
    pub pass: bool,
    pub tier: u8,
    pub cadence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due: Option<Date>,
    pub reasons: Vec<GateReason>,
    /// Open findings a live risk acceptance lets through, with the acceptance's expiry.
    pub accepted: Vec<(String, Date)>,
}

pub fn gate(manifest: &AgentManifest, lock: &Lock, options: &GateOptions) -> GateReport {
    let (tier, _) = tier(manifest);
    let cadence = Cadence::for_tier(tier);
    let mut report = GateReport {
        agent: manifest.name.clone(),
        pass: false,
        tier: tier.number(),
        cadence: cadence.label.to_owned(),
        last_drill: None,
        next_due: None,
        reasons: Vec::new(),
        accepted: Vec::new(),
    };
    let Some(entry) = lock.agents.get(&manifest.name) else {
        report.reasons.push(GateReason::NeverDrilled {
            agent: manifest.name.clone(),
        });
        return report;
    };
    report.last_drill = Some(entry.drill_id.clone());
    for FieldChange { field, change } in
        compare_fingerprints(&entry.fingerprints, &fingerprint(manifest))
    {
        report
            .reasons
            .push(GateReason::TriggerFired { field, change });
    }
    if let Some(now) = &options.scenario_set
        && *now != entry.scenario_set
    {
        report.reasons.push(GateReason::ScenarioSetChanged {
            drilled: entry.scenario_set.clone(),
            now: now.clone(),
        });
    }
    if let Ok(at) = entry.drilled_at.parse::<Timestamp>() {
        let last = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let due = cadence.next_due(last);
        report.next_due = Some(due);
        if options.today > due {
            report.reasons.push(GateReason::CadenceLapsed {
                cadence: cadence.label.to_owned(),
                last_drill: last,
                due,
            });
        }
    }
    for finding in entry
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open)
    {
        let acceptance = entry.acceptances.iter().find(|a| a.finding == finding.id);
        match acceptance.and_then(|a| a.expiry().map(|e| (a, e))) {
            Some((_, expiry)) if expiry >= options.today => {
                report.accepted.push((finding.id.clone(), expiry));
            }
            Some((a, expiry)) => report.reasons.push(GateReason::AcceptanceExpired {
                finding: finding.id.clone(),
                owner: a.owner.clone(),
                expired: expiry,
            }),
            None if finding.severity >= options.block_on => {
                report.reasons.push(GateReason::OpenFinding {
                    finding: finding.id.clone(),
                    title: finding.title.clone(),
                    severity: finding.severity,
                    since: finding.opened_at.clone(),
                });
            }
            None => {}
        }
    }
    for s in &entry.scenarios {
        if s.verdict == "inconclusive" && s.severity >= options.block_on {
            report.reasons.push(GateReason::Unproven {
                scenario: s.id.clone(),
                severity: s.severity,
            });
        }
    }
    report.pass = report.reasons.is_empty();
    report
}
