//! `muster.lock`: what was drilled, when, against which manifest, with what verdicts, and which
//! findings are still open. Written by `muster drill`, amended by `muster accept`, read by
//! `muster gate`. Teams commit it beside the manifest so a reviewer sees the drill history in diffs.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use muster_model::common::{Mode, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fingerprint::Fingerprints;

pub const LOCK_FILE_NAME: &str = "muster.lock";
const LOCK_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("muster.lock is not valid: {0}")]
    Parse(String),
    #[error("muster.lock has version {0}; this muster reads version 1")]
    Version(u32),
    #[error("muster.lock: agent `{agent}`: {message}")]
    Invalid { agent: String, message: String },
    #[error("could not write muster.lock: {0}")]
    Write(String),
    #[error("no finding `{finding}` for agent `{agent}`")]
    UnknownFinding { agent: String, finding: String },
    #[error("no drill of agent `{0}` is recorded in muster.lock")]
    UnknownAgent(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    pub version: u32,
    /// Agent name → its drill record.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentEntry>,
}

impl Default for Lock {
    fn default() -> Self {
        Lock {
            version: LOCK_VERSION,
            agents: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentEntry {
    /// The manifest drilled, relative to the lock file.
    pub manifest: String,
    pub manifest_digest: String,
    pub tier: u8,
    pub drill_id: String,
    /// RFC 3339 time the drill finished.
    pub drilled_at: String,
    /// Root digest sealing the drill's evidence in the store.
    pub root_digest: String,
    pub verdict: String,
    /// Digest over the scenarios run (ids and file contents).
    pub scenario_set: String,
    pub fingerprints: Fingerprints,
    #[serde(default)]
    pub scenarios: Vec<ScenarioVerdict>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub acceptances: Vec<RiskAcceptance>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioVerdict {
    pub id: String,
    pub severity: Severity,
    /// `pass`, `fail` or `inconclusive`, over all of the scenario's runs.
    pub verdict: String,
    pub runs: u32,
    pub failures: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Closed,
}

/// A scenario the agent failed, open until a later drill passes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The scenario id.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub mode: Mode,
    pub status: FindingStatus,
    /// Why it failed, as the last failing drill put it.
    pub reason: String,
    /// Control-map keys.
    #[serde(default)]
    pub keys: Vec<String>,
    pub opened_at: String,
    pub opened_by: String,
    pub last_failed_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

/// A recorded decision to launch with a finding open, until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAcceptance {
    pub finding: String,
    pub owner: String,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub accepted_on: String,
    /// `YYYY-MM-DD`; the acceptance lapses at the end of this day.
    pub expires: String,
}

impl RiskAcceptance {
    pub fn expiry(&self) -> Option<Date> {
        self.expires.parse().ok()
    }
}

/// One scenario's outcome in a drill, as the lock records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioOutcome {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub mode: Mode,
    pub verdict: String,
    pub runs: u32,
    pub failures: u32,
    pub reason: String,
    pub keys: Vec<String>,
}

/// A finished drill, to record.
#[derive(Clone, Debug)]
pub struct DrillRecord {
    pub agent: String,
    pub manifest: String,
    pub manifest_digest: String,
    pub tier: u8,
    pub drill_id: String,
    pub finished_at: Timestamp,
    pub root_digest: String,
    pub verdict: String,
    pub scenario_set: String,
    pub fingerprints: Fingerprints,
    pub outcomes: Vec<ScenarioOutcome>,
}

impl Lock {
    pub fn parse(text: &str) -> Result<Lock, LockError> {
        let lock: Lock = toml::from_str(text).map_err(|e| LockError::Parse(e.to_string()))?;
        if lock.version != LOCK_VERSION {
            return Err(LockError::Version(lock.version));
        }
        for (name, entry) in &lock.agents {
            if entry.drilled_at.parse::<Timestamp>().is_err() {
                return Err(LockError::Invalid {
                    agent: name.clone(),
                    message: format!(
                        "`drilled_at = \"{}\"` is not an RFC 3339 time",
                        entry.drilled_at
                    ),
                });
            }
            for a in &entry.acceptances {
                if a.expiry().is_none() {
                    return Err(LockError::Invalid {
                        agent: name.clone(),
                        message: format!(
                            "risk acceptance of `{}` expires `{}`, which is not a YYYY-MM-DD date",
                            a.finding, a.expires
                        ),
                    });
                }
            }
        }
        Ok(lock)
    }

    pub fn render(&self) -> Result<String, LockError> {
        let body = toml::to_string_pretty(self).map_err(|e| LockError::Write(e.to_string()))?;
        Ok(format!(
            "# muster.lock: written by `muster drill` and `muster accept`, read by `muster gate`.\n\
             # Commit it beside the agent manifest. Do not edit by hand.\n\n{body}"
        ))
    }

    /// Records a drill: fingerprints and verdicts replace the previous drill's; findings open on a
    /// failure, close on a pass, and stay as they are when a scenario was inconclusive or not run.
    pub fn record_drill(&mut self, record: DrillRecord) {
        let at = record.finished_at.to_string();
        let previous = self.agents.remove(&record.agent);
        let (mut findings, acceptances) = previous
            .map(|p| (p.findings, p.acceptances))
            .unwrap_or_default();
        for outcome in &record.outcomes {
            let existing = findings.iter_mut().find(|f| f.id == outcome.id);
            match (outcome.verdict.as_str(), existing) {
                ("fail", Some(f)) => {
                    if f.status == FindingStatus::Closed {
                        f.status = FindingStatus::Open;
                        f.opened_at = at.clone();
                        f.opened_by = record.drill_id.clone();
                        f.closed_at = None;
                        f.closed_by = None;
                    }
                    f.title = outcome.title.clone();
                    f.severity = outcome.severity;
                    f.mode = outcome.mode;
                    f.reason = outcome.reason.clone();
                    f.keys = outcome.keys.clone();
                    f.last_failed_by = record.drill_id.clone();
                }
                ("fail", None) => findings.push(Finding {
                    id: outcome.id.clone(),
                    title: outcome.title.clone(),
                    severity: outcome.severity,
                    mode: outcome.mode,
                    status: FindingStatus::Open,
                    reason: outcome.reason.clone(),
                    keys: outcome.keys.clone(),
                    opened_at: at.clone(),
                    opened_by: record.drill_id.clone(),
                    last_failed_by: record.drill_id.clone(),
                    closed_at: None,
                    closed_by: None,
                }),
                ("pass", Some(f)) if f.status == FindingStatus::Open => {
                    f.status = FindingStatus::Closed;
                    f.closed_at = Some(at.clone());
                    f.closed_by = Some(record.drill_id.clone());
                }
                _ => {}
            }
        }
        findings.sort_by(|a, b| a.id.cmp(&b.id));
        let scenarios = record
            .outcomes
            .iter()
            .map(|o| ScenarioVerdict {
                id: o.id.clone(),
                severity: o.severity,
                verdict: o.verdict.clone(),
                runs: o.runs,
                failures: o.failures,
            })
            .collect();
        self.agents.insert(
            record.agent,
            AgentEntry {
                manifest: record.manifest,
                manifest_digest: record.manifest_digest,
                tier: record.tier,
                drill_id: record.drill_id,
                drilled_at: at,
                root_digest: record.root_digest,
                verdict: record.verdict,
                scenario_set: record.scenario_set,
                fingerprints: record.fingerprints,
                scenarios,
                findings,
                acceptances,
            },
        );
    }

    /// Records a risk acceptance of an open finding, replacing an earlier one for it.
    pub fn accept(&mut self, agent: &str, acceptance: RiskAcceptance) -> Result<(), LockError> {
        let entry = self
            .agents
            .get_mut(agent)
            .ok_or_else(|| LockError::UnknownAgent(agent.to_owned()))?;
        let finding = entry
            .findings
            .iter()
            .find(|f| f.id == acceptance.finding)
            .ok_or_else(|| LockError::UnknownFinding {
                agent: agent.to_owned(),
                finding: acceptance.finding.clone(),
            })?;
        if finding.status != FindingStatus::Open {
            return Err(LockError::Invalid {
                agent: agent.to_owned(),
                message: format!(
                    "finding `{}` is already closed; nothing to accept",
                    finding.id
                ),
            });
        }
        entry
            .acceptances
            .retain(|a| a.finding != acceptance.finding);
        entry.acceptances.push(acceptance);
        Ok(())
    }
}

/// Digest over a scenario set: each scenario's id and the digest of its file, sorted by id.
pub fn scenario_set_digest(scenarios: &[(&str, &str)]) -> String {
    let mut items: Vec<(&str, &str)> = scenarios.to_vec();
    items.sort();
    let mut hasher = Sha256::new();
    for (id, digest) in items {
        hasher.update(id.as_bytes());
        hasher.update(b"\0");
        hasher.update(digest.as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}
