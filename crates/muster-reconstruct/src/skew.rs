//! Clock skew between sources, estimated where two systems recorded the same thing: the same
//! customer or agent message of the same conversation, seen by the agent's traces and by the
//! helpdesk, say. The median of the time differences is the estimate; a timeline can then be read
//! knowing one system's clock runs ahead of another's.

use std::collections::BTreeMap;

use muster_ingest::EventKind;
use serde::Serialize;

use crate::LinkedEvent;

/// How far `source`'s clock is from `reference`'s: positive when `source` records later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkewEstimate {
    pub reference: String,
    pub source: String,
    /// Median of `source`'s time minus `reference`'s over the pairs.
    pub offset_ns: i64,
    /// Events seen by both.
    pub pairs: usize,
    /// Smallest and largest difference, to judge how steady the offset is.
    pub min_ns: i64,
    pub max_ns: i64,
}

/// Messages are matched on their kind, conversation and text (whitespace-normalised); only text
/// long enough to be unlikely to repeat by chance is used.
const MIN_TEXT: usize = 12;

fn message_key(e: &LinkedEvent) -> Option<(&'static str, String, String)> {
    let ev = &e.event.event;
    let kind = match ev.kind {
        EventKind::CustomerMessage { .. } => "customer",
        EventKind::AgentMessage { .. } => "agent",
        _ => return None,
    };
    let text: String = ev
        .content
        .as_deref()?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() < MIN_TEXT {
        return None;
    }
    Some((
        kind,
        ev.correlation.conversation_id.clone().unwrap_or_default(),
        text,
    ))
}

/// Skew of every source against the source with the most matched messages, from `events`.
pub fn clock_skew(events: &[LinkedEvent]) -> Vec<SkewEstimate> {
    // key → source → first time seen.
    let mut seen: BTreeMap<(&'static str, String, String), BTreeMap<&str, i64>> = BTreeMap::new();
    for e in events.iter().filter(|e| !e.link.is_inferred()) {
        if let Some(key) = message_key(e) {
            seen.entry(key)
                .or_default()
                .entry(e.event.source.as_str())
                .or_insert(e.event.event.time_ns);
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for by_source in seen.values().filter(|m| m.len() > 1) {
        for s in by_source.keys() {
            *counts.entry(s).or_default() += 1;
        }
    }
    let Some((&reference, _)) = counts
        .iter()
        .max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)))
    else {
        return Vec::new();
    };
    let mut diffs: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for by_source in seen.values() {
        let Some(&at_ref) = by_source.get(reference) else {
            continue;
        };
        for (&source, &at) in by_source {
            if source != reference {
                diffs.entry(source).or_default().push(at - at_ref);
            }
        }
    }
    diffs
        .into_iter()
        .map(|(source, mut d)| {
            d.sort_unstable();
            let mid = d.len() / 2;
            let median = if d.len() % 2 == 1 {
                d[mid]
            } else {
                d[mid - 1] / 2 + d[mid] / 2
            };
            SkewEstimate {
                reference: reference.to_owned(),
                source: source.to_owned(),
                offset_ns: median,
                pairs: d.len(),
                min_ns: d.first().copied().unwrap_or_default(),
                max_ns: d.last().copied().unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Link;
    use muster_store::StoredEvidence;
    use serde_json::json;

    fn message(source: &str, seq: u64, kind: &str, at: i64, text: &str) -> LinkedEvent {
        let event = serde_json::from_value(json!({
            "time_ns": at, "observed_ns": at,
            "source": {"system": source, "format": "test"},
            "kind": {"type": kind},
            "correlation": {"conversation_id": "c1"},
            "content": text,
            "raw": {"origin": "t", "part": 0},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        LinkedEvent {
            event: StoredEvidence {
                source: source.into(),
                seq,
                event,
                digest: muster_evidence::genesis("evidence", source),
            },
            link: Link::Key,
        }
    }

    #[test]
    fn the_helpdesk_two_seconds_behind_the_traces_is_estimated_from_shared_messages() {
        let s = 1_000_000_000;
        let events = vec![
            message(
                "otlp",
                0,
                "customer_message",
                10 * s,
                "I want to cancel my contract today",
            ),
            message(
                "zendesk",
                0,
                "customer_message",
                12 * s,
                "I want to cancel  my contract today",
            ),
            message(
                "otlp",
                1,
                "agent_message",
                11 * s,
                "I can help you cancel your contract.",
            ),
            message(
                "zendesk",
                1,
                "agent_message",
                13 * s + 100,
                "I can help you cancel your contract.",
            ),
            message(
                "otlp",
                2,
                "customer_message",
                20 * s,
                "Thank you, please go ahead.",
            ),
            message(
                "zendesk",
                2,
                "customer_message",
                22 * s - 100,
                "Thank you, please go ahead.",
            ),
            // Too short to match by chance-free text.
            message("otlp", 3, "customer_message", 30 * s, "yes"),
            message("zendesk", 3, "customer_message", 90 * s, "yes"),
        ];
        let skew = clock_skew(&events);
        assert_eq!(skew.len(), 1);
        let z = &skew[0];
        assert_eq!(
            (z.reference.as_str(), z.source.as_str()),
            ("otlp", "zendesk")
        );
        assert_eq!(z.pairs, 3);
        assert_eq!(z.offset_ns, 2 * s);
        assert_eq!((z.min_ns, z.max_ns), (2 * s - 100, 2 * s + 100));
    }

    #[test]
    fn one_source_alone_has_no_skew() {
        let events = vec![message(
            "otlp",
            0,
            "customer_message",
            1,
            "I want to cancel my contract today",
        )];
        assert!(clock_skew(&events).is_empty());
    }
}
