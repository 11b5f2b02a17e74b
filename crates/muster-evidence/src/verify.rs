//! Checking a drill's stored evidence: every field, every event, every link, every stream head and
//! the sealed root. Reports the first problem per stream, in storage order, naming the event.

use std::collections::BTreeMap;

use crate::chain::SealedEvent;
use crate::digest::{Digest, field_digest, genesis, root_digest};

/// A stream's sealed length and head, as recorded when the drill was sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamHead {
    pub stream: String,
    pub length: u64,
    pub head: Digest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A field's value no longer matches its digest.
    FieldAltered { field: String },
    /// The event's own digest does not match its contents (time, kind, position, fields). A field
    /// whose digest is not stored beside its value (ingested evidence) is reported this way too.
    EventAltered,
    /// The event does not follow the one before it (an event was removed, inserted or moved).
    BrokenLink,
    /// A position in the stream is missing.
    MissingEvent { expected_seq: u64 },
    /// Events found beyond the sealed end of the stream, or the stream ends early.
    LengthMismatch { sealed: u64, found: u64 },
    /// The stream's last digest differs from the sealed head.
    HeadMismatch,
    /// A sealed stream has no events, or events belong to a stream that was never sealed.
    UnknownStream,
    /// The root over all streams differs from the sealed root.
    RootMismatch,
    /// The drill was never sealed (interrupted before it finished).
    Unsealed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub stream: String,
    /// Position of the offending event, when one is to blame.
    pub seq: Option<u64>,
    pub kind: ProblemKind,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = match self.seq {
            Some(seq) => format!("stream `{}` event #{seq}", self.stream),
            None => format!("stream `{}`", self.stream),
        };
        match &self.kind {
            ProblemKind::FieldAltered { field } => write!(f, "{at}: field `{field}` was altered"),
            ProblemKind::EventAltered => {
                write!(
                    f,
                    "{at}: the event was altered (its time, kind, position or a field's value)"
                )
            }
            ProblemKind::BrokenLink => write!(
                f,
                "{at}: does not follow the previous event (an event was removed, inserted or reordered)"
            ),
            ProblemKind::MissingEvent { expected_seq } => {
                write!(f, "{at}: event #{expected_seq} is missing")
            }
            ProblemKind::LengthMismatch { sealed, found } => {
                write!(f, "{at}: sealed with {sealed} events, {found} found")
            }
            ProblemKind::HeadMismatch => {
                write!(f, "{at}: the last event differs from the sealed head")
            }
            ProblemKind::UnknownStream => write!(f, "{at}: not part of the sealed drill"),
            ProblemKind::RootMismatch => write!(
                f,
                "the drill's sealed root digest does not match its streams"
            ),
            ProblemKind::Unsealed => write!(
                f,
                "the drill was never sealed (it was interrupted); its events were checked link by link"
            ),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub events_checked: u64,
    pub streams_checked: u64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// True when nothing is wrong. An unsealed drill is reported but is not tampering.
    pub fn is_intact(&self) -> bool {
        self.problems
            .iter()
            .all(|p| p.kind == ProblemKind::Unsealed)
    }
}

/// Verify one drill. `events` are in storage order; `sealed` is `None` for a drill that never sealed.
pub fn verify_drill(
    drill_id: &str,
    events: &[SealedEvent],
    sealed: Option<(&[StreamHead], Digest)>,
) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut by_stream: BTreeMap<&str, Vec<&SealedEvent>> = BTreeMap::new();
    for e in events {
        by_stream.entry(e.stream.as_str()).or_default().push(e);
    }
    let mut found_heads: Vec<(String, u64, Digest)> = Vec::new();

    for (stream, stream_events) in &by_stream {
        report.streams_checked += 1;
        let mut expected_prev = genesis(drill_id, stream);
        let mut expected_seq = 0u64;
        let mut first_problem: Option<Problem> = None;
        for e in stream_events {
            report.events_checked += 1;
            if first_problem.is_some() {
                continue;
            }
            let problem = |kind| Problem {
                stream: (*stream).to_owned(),
                seq: Some(e.seq),
                kind,
            };
            if e.drill_id != drill_id {
                first_problem = Some(problem(ProblemKind::UnknownStream));
            } else if let Some(f) = e.fields.iter().find(|f| {
                f.value
                    .as_ref()
                    .is_some_and(|v| field_digest(&f.name, v) != f.digest)
            }) {
                first_problem = Some(problem(ProblemKind::FieldAltered {
                    field: f.name.clone(),
                }));
            } else if e.recompute() != e.digest {
                first_problem = Some(problem(ProblemKind::EventAltered));
            } else if e.seq != expected_seq {
                first_problem = Some(if e.seq > expected_seq && e.prev != expected_prev {
                    Problem {
                        stream: (*stream).to_owned(),
                        seq: Some(e.seq),
                        kind: ProblemKind::MissingEvent { expected_seq },
                    }
                } else {
                    problem(ProblemKind::BrokenLink)
                });
            } else if e.prev != expected_prev {
                first_problem = Some(problem(ProblemKind::BrokenLink));
            }
            expected_prev = e.digest;
            expected_seq = e.seq + 1;
        }
        found_heads.push((
            (*stream).to_owned(),
            stream_events.len() as u64,
            expected_prev,
        ));
        if let Some(p) = first_problem {
            report.problems.push(p);
        }
    }

    match sealed {
        None => report.problems.push(Problem {
            stream: String::new(),
            seq: None,
            kind: ProblemKind::Unsealed,
        }),
        Some((heads, root)) => {
            let tampered_streams: Vec<String> =
                report.problems.iter().map(|p| p.stream.clone()).collect();
            for head in heads {
                match found_heads.iter().find(|(s, _, _)| *s == head.stream) {
                    None => report.problems.push(Problem {
                        stream: head.stream.clone(),
                        seq: None,
                        kind: ProblemKind::UnknownStream,
                    }),
                    Some((_, length, last)) => {
                        if tampered_streams.contains(&head.stream) {
                            continue;
                        }
                        if *length != head.length {
                            report.problems.push(Problem {
                                stream: head.stream.clone(),
                                seq: None,
                                kind: ProblemKind::LengthMismatch {
                                    sealed: head.length,
                                    found: *length,
                                },
                            });
                        } else if *last != head.head {
                            report.problems.push(Problem {
                                stream: head.stream.clone(),
                                seq: None,
                                kind: ProblemKind::HeadMismatch,
                            });
                        }
                    }
                }
            }
            for (stream, _, _) in &found_heads {
                if !heads.iter().any(|h| h.stream == *stream) {
                    report.problems.push(Problem {
                        stream: stream.clone(),
                        seq: None,
                        kind: ProblemKind::UnknownStream,
                    });
                }
            }
            let sealed_heads: Vec<(String, u64, Digest)> = heads
                .iter()
                .map(|h| (h.stream.clone(), h.length, h.head))
                .collect();
            if root_digest(drill_id, &sealed_heads) != root {
                report.problems.push(Problem {
                    stream: String::new(),
                    seq: None,
                    kind: ProblemKind::RootMismatch,
                });
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{EventDraft, StreamChain};
    use proptest::prelude::*;
    use serde_json::json;

    fn drill(n_streams: usize, n_events: usize) -> (Vec<SealedEvent>, Vec<StreamHead>, Digest) {
        let mut events = Vec::new();
        let mut heads = Vec::new();
        for s in 0..n_streams {
            let name = format!("conv/{s}");
            let mut chain = StreamChain::new("d1", &name);
            for i in 0..n_events {
                events.push(
                    chain.append(
                        EventDraft::new("agent.message", 1_000 + i as i64)
                            .field("text", format!("reply {s}/{i}"))
                            .field("turn", i as u64),
                    ),
                );
            }
            heads.push(StreamHead {
                stream: name,
                length: chain.length(),
                head: chain.head(),
            });
        }
        let tuples: Vec<(String, u64, Digest)> = heads
            .iter()
            .map(|h| (h.stream.clone(), h.length, h.head))
            .collect();
        let root = root_digest("d1", &tuples);
        (events, heads, root)
    }

    fn check(events: &[SealedEvent], heads: &[StreamHead], root: Digest) -> VerifyReport {
        verify_drill("d1", events, Some((heads, root)))
    }

    #[test]
    fn an_untouched_drill_verifies() {
        let (events, heads, root) = drill(3, 4);
        let report = check(&events, &heads, root);
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.events_checked, 12);
    }

    #[test]
    fn redacted_fields_still_verify() {
        let (mut events, heads, root) = drill(1, 3);
        events[1] = events[1].clone().redacted("text");
        assert!(check(&events, &heads, root).is_intact());
    }

    #[test]
    fn an_altered_value_is_named() {
        let (mut events, heads, root) = drill(2, 3);
        events[4].fields[0].value = Some(json!("I can refund you in full"));
        let report = check(&events, &heads, root);
        assert_eq!(
            report.problems[0],
            Problem {
                stream: "conv/1".into(),
                seq: Some(1),
                kind: ProblemKind::FieldAltered {
                    field: "text".into()
                }
            }
        );
    }

    #[test]
    fn deleting_the_last_event_is_caught_by_the_seal() {
        let (mut events, heads, root) = drill(1, 3);
        events.pop();
        let report = check(&events, &heads, root);
        assert!(matches!(
            report.problems[0].kind,
            ProblemKind::LengthMismatch {
                sealed: 3,
                found: 2
            }
        ));
    }

    #[test]
    fn an_unsealed_drill_is_reported_but_links_still_checked() {
        let (mut events, _, _) = drill(1, 3);
        let report = verify_drill("d1", &events, None);
        assert!(report.is_intact());
        events.swap(0, 1);
        let report = verify_drill("d1", &events, None);
        assert!(!report.is_intact());
    }

    proptest! {
        #[test]
        fn any_single_change_is_caught(stream in 0usize..3, index in 0usize..5, change in 0u8..6, n in 1i64..1000) {
            let (mut events, heads, root) = drill(3, 5);
            let at = stream * 5 + index;
            match change {
                0 => events[at].fields[0].value = Some(json!(format!("tampered {n}"))),
                1 => events[at].time_ns += n,
                2 => events[at].kind.push('x'),
                3 => { events.remove(at); }
                4 => {
                    let other = if index == 4 { at - 1 } else { at + 1 };
                    events.swap(at, other);
                }
                _ => events[at].fields[1].value = Some(json!(n + 100)),
            }
            prop_assert!(!check(&events, &heads, root).is_intact());
        }

        #[test]
        fn problems_name_the_tampered_stream(stream in 0usize..3, index in 0usize..5) {
            let (mut events, heads, root) = drill(3, 5);
            events[stream * 5 + index].fields[0].value = Some(json!("x"));
            let report = check(&events, &heads, root);
            prop_assert_eq!(&report.problems[0].stream, &format!("conv/{stream}"));
            prop_assert_eq!(report.problems[0].seq, Some(index as u64));
        }
    }
}

/// Checks one chain that starts from `start` instead of its genesis (a drill's addenda start from
/// its root digest): every field present, every event digest, positions from 0, every link.
/// Returns the first problem, naming the event.
pub fn verify_chain_from(
    drill_id: &str,
    stream: &str,
    events: &[SealedEvent],
    start: Digest,
) -> Option<Problem> {
    let mut expected_prev = start;
    for (position, e) in events.iter().enumerate() {
        let problem = |kind| Problem {
            stream: stream.to_owned(),
            seq: Some(e.seq),
            kind,
        };
        if e.drill_id != drill_id || e.stream != stream {
            return Some(problem(ProblemKind::UnknownStream));
        }
        if let Some(f) = e.fields.iter().find(|f| {
            f.value
                .as_ref()
                .is_some_and(|v| field_digest(&f.name, v) != f.digest)
        }) {
            return Some(problem(ProblemKind::FieldAltered {
                field: f.name.clone(),
            }));
        }
        if e.recompute() != e.digest {
            return Some(problem(ProblemKind::EventAltered));
        }
        if e.seq != position as u64 {
            return Some(problem(ProblemKind::MissingEvent {
                expected_seq: position as u64,
            }));
        }
        if e.prev != expected_prev {
            return Some(problem(ProblemKind::BrokenLink));
        }
        expected_prev = e.digest;
    }
    None
}

#[cfg(test)]
mod chain_from_tests {
    use super::*;
    use crate::chain::{EventDraft, StreamChain};

    fn chain(start: Digest, n: usize) -> Vec<SealedEvent> {
        let mut c = StreamChain::resume("d", "addenda", 0, start);
        (0..n)
            .map(|i| c.append(EventDraft::new("comms.approval", i as i64).field("role", "legal")))
            .collect()
    }

    #[test]
    fn a_chain_from_its_start_verifies_and_any_change_is_named() {
        let start = Digest([7; 32]);
        let events = chain(start, 3);
        assert_eq!(verify_chain_from("d", "addenda", &events, start), None);
        // Another start: the first link is broken.
        let other = verify_chain_from("d", "addenda", &events, Digest([8; 32]));
        assert_eq!(
            other.map(|p| (p.seq, p.kind)),
            Some((Some(0), ProblemKind::BrokenLink))
        );
        // A value changed.
        let mut changed = events.clone();
        changed[1].fields[0].value = Some(serde_json::json!("comms-lead"));
        let p = verify_chain_from("d", "addenda", &changed, start);
        assert_eq!(p.map(|p| p.seq), Some(Some(1)));
        // An event removed.
        let removed = vec![events[0].clone(), events[2].clone()];
        let p = verify_chain_from("d", "addenda", &removed, start);
        assert_eq!(p.map(|p| p.seq), Some(Some(2)));
    }
}
