//! The evidence-chain audit: for each of the seven artefacts an incident review needs, is it
//! present, time-stamped, searchable, retained as long as the manifest claims, and
//! access-controlled — each cell *measured* from the evidence where it can be, and shown as
//! claimed-but-unverified where only the manifest says so.
//!
//! The manifest's `logs:` entries are matched to ingested sources by id: ingest each log source
//! with `--source <id>`.

use std::collections::BTreeMap;

use muster_model::agent::{AgentManifest, Artefact};
use muster_store::KindProfile;
use serde::Serialize;

/// The artefacts, in the order a review reads them.
pub const ARTEFACTS: [Artefact; 7] = [
    Artefact::Prompt,
    Artefact::RetrievedDocuments,
    Artefact::ModelResponse,
    Artefact::ToolCalls,
    Artefact::AccountChanges,
    Artefact::ConfidenceSignals,
    Artefact::EscalationDecision,
];

/// The evidence kinds that hold an artefact.
pub fn kinds_of(artefact: Artefact) -> &'static [&'static str] {
    match artefact {
        Artefact::Prompt => &["prompt"],
        Artefact::RetrievedDocuments => &["retrieval"],
        Artefact::ModelResponse => &["agent.message", "model.call"],
        Artefact::ToolCalls => &["tool.call"],
        Artefact::AccountChanges => &["account.change"],
        Artefact::ConfidenceSignals => &["confidence.signal"],
        Artefact::EscalationDecision => &["escalation.decision", "ticket.event"],
    }
}

pub fn artefact_name(artefact: Artefact) -> &'static str {
    match artefact {
        Artefact::Prompt => "prompt",
        Artefact::RetrievedDocuments => "retrieved documents",
        Artefact::ModelResponse => "model response",
        Artefact::ToolCalls => "tool calls",
        Artefact::AccountChanges => "account changes",
        Artefact::ConfidenceSignals => "confidence signals",
        Artefact::EscalationDecision => "escalation decision",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellStatus {
    /// Shown by the evidence itself.
    Measured,
    /// Only the manifest says so.
    Claimed,
    /// Missing or contradicted.
    Gap,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub status: CellStatus,
    pub detail: String,
}

fn cell(status: CellStatus, detail: impl Into<String>) -> Cell {
    Cell {
        status,
        detail: detail.into(),
    }
}

/// One artefact's row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRow {
    pub artefact: &'static str,
    /// The manifest's log sources that claim to hold it.
    pub sources: Vec<String>,
    pub present: Cell,
    pub time_stamped: Cell,
    pub searchable: Cell,
    pub retained: Cell,
    pub access_controlled: Cell,
    /// What to do about its gaps and unverified claims.
    pub fix: Vec<String>,
}

/// How a search for evidence of one source and kind went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchProbe {
    /// A drill's canary was found in it by full-text search.
    Canary(String),
    /// A word from one of its own records found that record again.
    Index(String),
    /// The search did not find what it looked for.
    Missed(String),
}

/// What the audit reads.
pub struct AuditInput<'a> {
    pub manifest: &'a AgentManifest,
    pub profile: &'a [KindProfile],
    /// Per `(source, kind)`, the search probe the caller ran.
    pub probes: &'a BTreeMap<(String, String), SearchProbe>,
    /// Raw reads recorded in the access audit.
    pub access_rows: usize,
    pub now_ns: i64,
}

const DAY_NS: i64 = 86_400_000_000_000;

fn days(ns: i64) -> String {
    format!("{:.0} days", ns as f64 / DAY_NS as f64)
}

pub fn audit(input: &AuditInput<'_>) -> Vec<AuditRow> {
    ARTEFACTS
        .iter()
        .map(|&artefact| audit_one(input, artefact))
        .collect()
}

fn audit_one(input: &AuditInput<'_>, artefact: Artefact) -> AuditRow {
    let name = artefact_name(artefact);
    let kinds = kinds_of(artefact);
    let logs: Vec<_> = input
        .manifest
        .logs
        .iter()
        .filter(|l| l.holds.contains(&artefact))
        .collect();
    let sources: Vec<String> = logs.iter().map(|l| l.id.clone()).collect();
    let mut fix = Vec::new();
    if logs.is_empty() {
        let none = || cell(CellStatus::Gap, "no log source is declared to hold it");
        fix.push(format!(
            "declare the system that keeps the {name} under `logs:` in the manifest, with its retention and access"
        ));
        return AuditRow {
            artefact: name,
            sources,
            present: none(),
            time_stamped: none(),
            searchable: none(),
            retained: none(),
            access_controlled: none(),
            fix,
        };
    }
    let held: Vec<&KindProfile> = input
        .profile
        .iter()
        .filter(|p| sources.contains(&p.source) && kinds.contains(&p.kind.as_str()))
        .collect();
    let events: u64 = held.iter().map(|p| p.events).sum();

    let present = if events > 0 {
        cell(
            CellStatus::Measured,
            format!("{events} records from {}", join_sources(&held)),
        )
    } else {
        fix.push(format!(
            "ingest {} with `muster ingest … --source <id>` (ids: {}), or fix the logging that should produce {name}",
            if sources.len() == 1 { "it" } else { "them" },
            sources.join(", ")
        ));
        cell(
            CellStatus::Gap,
            format!("claimed by {}, but none ingested", sources.join(", ")),
        )
    };

    let own: u64 = held.iter().map(|p| p.own_time).sum();
    let time_stamped = if events == 0 {
        cell(CellStatus::Claimed, "nothing to check")
    } else if own == events {
        cell(CellStatus::Measured, "every record has its own event time")
    } else {
        fix.push(format!(
            "make the source record when {name} happened, not only when it was logged"
        ));
        cell(
            CellStatus::Gap,
            format!(
                "{} of {events} records have only the time they were logged",
                events - own
            ),
        )
    };

    let probes: Vec<&SearchProbe> = held
        .iter()
        .filter_map(|p| input.probes.get(&(p.source.clone(), p.kind.clone())))
        .collect();
    let with_content: u64 = held.iter().map(|p| p.with_content).sum();
    let searchable = if let Some(SearchProbe::Canary(c)) =
        probes.iter().find(|p| matches!(p, SearchProbe::Canary(_)))
    {
        cell(
            CellStatus::Measured,
            format!("drill canary {c} found by search"),
        )
    } else if let Some(SearchProbe::Index(w)) =
        probes.iter().find(|p| matches!(p, SearchProbe::Index(_)))
    {
        cell(
            CellStatus::Measured,
            format!("found again by searching for \"{w}\" (no drill canary reached it)"),
        )
    } else if events == 0 {
        cell(CellStatus::Claimed, "nothing to search")
    } else if with_content == 0 {
        fix.push(format!(
            "capture the content of the {name} (the records hold no text to search)"
        ));
        cell(CellStatus::Gap, "the records hold no text to search")
    } else {
        let why = probes
            .iter()
            .find_map(|p| match p {
                SearchProbe::Missed(why) => Some(why.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "not probed".into());
        fix.push(format!(
            "the full-text index does not find the {name}: {why}"
        ));
        cell(CellStatus::Gap, why)
    };

    // Retention: the oldest record kept against the shortest claim among the sources.
    let claim = logs.iter().map(|l| l.retention.0).min().unwrap_or_default();
    let claim_ns = i64::try_from(claim.as_nanos()).unwrap_or(i64::MAX);
    let oldest = held.iter().map(|p| p.oldest_ns).min();
    let retained = match oldest {
        Some(oldest) if input.now_ns - oldest >= claim_ns => cell(
            CellStatus::Measured,
            format!(
                "oldest record is {} old; {} claimed",
                days(input.now_ns - oldest),
                days(claim_ns)
            ),
        ),
        Some(oldest) => cell(
            CellStatus::Claimed,
            format!(
                "{} claimed; the evidence reaches back only {}, so it cannot show it yet",
                days(claim_ns),
                days(input.now_ns - oldest)
            ),
        ),
        None => cell(CellStatus::Claimed, format!("{} claimed", days(claim_ns))),
    };
    if retained.status == CellStatus::Claimed && events > 0 {
        fix.push(format!(
            "ingest the oldest {name} still kept (an export from {} ago) to show the retention",
            days(claim_ns)
        ));
    }

    let roles: Vec<String> = logs.iter().flat_map(|l| l.access.clone()).collect();
    let access_controlled = if roles.is_empty() {
        fix.push(format!(
            "declare who may read raw {name} (`access:` on its log source)"
        ));
        cell(CellStatus::Gap, "no roles declared for raw access")
    } else if input.access_rows > 0 {
        cell(
            CellStatus::Measured,
            format!(
                "raw access limited to {}; {} raw reads recorded in the access audit",
                roles.join(", "),
                input.access_rows
            ),
        )
    } else {
        cell(
            CellStatus::Claimed,
            format!(
                "raw access limited to {}; no raw read recorded yet to show the audit works",
                roles.join(", ")
            ),
        )
    };

    AuditRow {
        artefact: name,
        sources,
        present,
        time_stamped,
        searchable,
        retained,
        access_controlled,
        fix,
    }
}

fn join_sources(held: &[&KindProfile]) -> String {
    let mut s: Vec<&str> = held.iter().map(|p| p.source.as_str()).collect();
    s.sort_unstable();
    s.dedup();
    s.join(", ")
}

/// A word from `text` distinctive enough to probe the index with: the longest alphanumeric word
/// of at least five characters.
pub fn probe_word(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 5)
        .max_by_key(|w| w.len())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> AgentManifest {
        let text = include_str!("../../../library/reference/agent.yaml");
        match muster_model::load_agent(text).value {
            Some(m) => m,
            None => panic!("the reference manifest loads"),
        }
    }

    fn profile(kind: &str, events: u64, own: u64, oldest_days: i64) -> KindProfile {
        KindProfile {
            source: "crm-audit".into(),
            kind: kind.into(),
            events,
            oldest_ns: NOW - oldest_days * DAY_NS,
            newest_ns: NOW,
            own_time: own,
            with_content: events,
            sample: Some("Refund processed for order ORD-20417".into()),
        }
    }

    const NOW: i64 = 1_800_000_000_000_000_000;

    #[test]
    fn each_cell_is_measured_claimed_or_a_gap_for_the_right_reason() {
        let m = manifest();
        let profile = [
            profile("tool.call", 10, 10, 500),
            profile("account.change", 4, 3, 30),
        ];
        let mut probes = BTreeMap::new();
        probes.insert(
            ("crm-audit".to_owned(), "tool.call".to_owned()),
            SearchProbe::Canary("MUSTER-CANARY-0123456789AB".into()),
        );
        probes.insert(
            ("crm-audit".to_owned(), "account.change".to_owned()),
            SearchProbe::Index("processed".into()),
        );
        let rows = audit(&AuditInput {
            manifest: &m,
            profile: &profile,
            probes: &probes,
            access_rows: 0,
            now_ns: NOW,
        });
        let row = |name: &str| {
            rows.iter()
                .find(|r| r.artefact == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        let tools = row("tool calls");
        assert_eq!(tools.present.status, CellStatus::Measured);
        assert_eq!(tools.time_stamped.status, CellStatus::Measured);
        assert!(tools.searchable.detail.contains("MUSTER-CANARY"));
        assert_eq!(
            tools.retained.status,
            CellStatus::Measured,
            "500 days ≥ 400 claimed"
        );
        assert_eq!(
            tools.access_controlled.status,
            CellStatus::Claimed,
            "no raw read audited yet"
        );

        let changes = row("account changes");
        assert_eq!(
            changes.time_stamped.status,
            CellStatus::Gap,
            "one record has only its log time"
        );
        assert_eq!(changes.searchable.status, CellStatus::Measured);
        assert_eq!(
            changes.retained.status,
            CellStatus::Claimed,
            "30 days of evidence cannot show 400"
        );

        let escalation = row("escalation decision");
        assert_eq!(
            escalation.present.status,
            CellStatus::Gap,
            "claimed, none ingested"
        );
        assert!(!escalation.fix.is_empty());

        let prompt = row("prompt");
        assert_eq!(prompt.present.status, CellStatus::Gap);
        assert!(prompt.present.detail.contains("no log source"));
    }

    #[test]
    fn the_probe_word_is_long_and_alphanumeric() {
        assert_eq!(
            probe_word("Refund processed for ORD-20417, thanks"),
            Some("processed".into())
        );
        assert_eq!(probe_word("ok a b"), None);
    }
}
