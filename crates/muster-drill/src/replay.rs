//! Replay: re-run a stored conversation's customer turns against another agent version, to show a
//! fix holds (or that a regression is back).
//!
//! A replay is an ordinary drill whose scenarios are rebuilt from a recording: the scenario's
//! persona, customer, faults and expectations, with its scripted turns replaced by the customer
//! turns that were actually sent — adaptive answers included, in the order they were sent — so the
//! new agent hears exactly what the old one heard. Adaptive rules, rewordings and any simulated
//! customer are switched off: a replay asks the same questions whatever the new agent answers,
//! which is what makes the two runs comparable. The recording comes from a drill's conversation stream or from an ingested
//! production transcript (customer messages of one conversation, from one source).
//!
//! **Invariant:** a replay never changes the scenario's judgement: expectations, customer and
//! faults are the scenario's own; only the turns come from the recording. Every replayed scenario
//! carries a [`ReplayOrigin`] that the engine records in its evidence.

use muster_evidence::SealedEvent;
use muster_model::scenario::{Scenario, Turn};
use serde::Serialize;

use crate::plan::{PlannedScenario, digest_text};

/// Where a replayed conversation came from, recorded with every replayed scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ReplayOrigin {
    /// A conversation stream of a drill in the evidence store.
    Drill {
        drill_id: String,
        /// The drill's root digest when it was replayed (the recording was verified against it).
        root_digest: Option<String>,
        stream: String,
        scenario_id: String,
        run: u32,
        /// The original run's verdict, when it got that far.
        verdict: Option<String>,
        /// SHA-256 of the replayed turns (see [`turns_digest`]).
        turns_digest: String,
    },
    /// An ingested conversation (production or staging traffic).
    Transcript {
        conversation: String,
        source: String,
        /// Stored positions in the source's chain of the customer messages replayed.
        seqs: Vec<u64>,
        turns_digest: String,
    },
}

impl ReplayOrigin {
    pub fn turns_digest(&self) -> &str {
        match self {
            ReplayOrigin::Drill { turns_digest, .. }
            | ReplayOrigin::Transcript { turns_digest, .. } => turns_digest,
        }
    }
}

/// One customer turn as it was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedTurn {
    pub turn: u32,
    pub text: String,
    /// The adaptive rule that produced it, when it was an answer rather than a scripted turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<u64>,
    /// What the agent replied to it then, when it replied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

/// A conversation as a drill recorded it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedConversation {
    pub drill_id: String,
    pub stream: String,
    pub scenario_id: String,
    pub run: u32,
    /// Where the scenario was loaded from (a path or `builtin:…`) and its SHA-256.
    pub scenario_source: String,
    pub scenario_digest: String,
    pub turns: Vec<RecordedTurn>,
    pub verdict: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplayError {
    #[error("conversation `{stream}` of drill {drill} has no customer turns to replay")]
    NoTurns { drill: String, stream: String },
    #[error("no conversation `{stream}` in drill {drill}")]
    NoSuchConversation { drill: String, stream: String },
    #[error("conversation `{0}` has no customer messages in the ingested evidence")]
    EmptyTranscript(String),
    #[error(
        "conversation `{conversation}` has customer messages from more than one source ({sources}); choose one"
    )]
    SeveralSources {
        conversation: String,
        sources: String,
    },
}

/// Every conversation stream (`conv/<scenario>/<run>`) of a drill, from its stored events, in
/// stream order. Streams with no `scenario.started` event (control drills) are not conversations,
/// nor is the part of a distributed drill's conversation whose worker was lost: the attempt that
/// replaced it names it in `conversation.retried` (`previous_streams`), and only that attempt
/// counted.
pub fn recorded_conversations(drill_id: &str, events: &[SealedEvent]) -> Vec<RecordedConversation> {
    let superseded: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.kind == "conversation.retried")
        .filter_map(|e| e.value("previous_streams")?.as_array())
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let mut out: Vec<RecordedConversation> = Vec::new();
    for event in events {
        if !event.stream.starts_with("conv/") || superseded.contains(event.stream.as_str()) {
            continue;
        }
        if event.kind == "scenario.started" {
            out.push(RecordedConversation {
                drill_id: drill_id.to_owned(),
                stream: event.stream.clone(),
                scenario_id: str_field(event, "scenario_id"),
                run: event
                    .value("run")
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|r| u32::try_from(r).ok())
                    .unwrap_or(1),
                scenario_source: str_field(event, "source"),
                scenario_digest: str_field(event, "digest"),
                turns: Vec::new(),
                verdict: None,
            });
            continue;
        }
        let Some(conv) = out.last_mut().filter(|c| c.stream == event.stream) else {
            continue;
        };
        let turn = || {
            event
                .value("turn")
                .and_then(serde_json::Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
        };
        match event.kind.as_str() {
            "customer.message" => conv.turns.push(RecordedTurn {
                turn: turn().unwrap_or(conv.turns.len() as u32 + 1),
                text: str_field(event, "text"),
                adaptive: event.value("adaptive").and_then(serde_json::Value::as_u64),
                reply: None,
            }),
            "agent.message" => {
                if let (Some(t), Some(last)) = (turn(), conv.turns.last_mut())
                    && last.turn == t
                {
                    last.reply = Some(str_field(event, "text"));
                }
            }
            "scenario.verdict" => conv.verdict = Some(str_field(event, "verdict")),
            _ => {}
        }
    }
    out
}

fn str_field(event: &SealedEvent, name: &str) -> String {
    event
        .value(name)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// One customer message of an ingested conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptMessage {
    pub source: String,
    pub seq: u64,
    pub time_ns: i64,
    pub text: String,
}

/// The customer turns of an ingested conversation: its customer messages in time order, from
/// one source. The same conversation seen by two systems (the helpdesk and the agent's traces)
/// would otherwise be replayed twice over, so a conversation with customer messages from several
/// sources needs `source` chosen. A message repeated with the same time (one record exported
/// twice under different pointers) is sent once.
pub fn transcript_turns(
    conversation: &str,
    messages: &[TranscriptMessage],
    source: Option<&str>,
) -> Result<(String, Vec<TranscriptMessage>), ReplayError> {
    let mut sources: Vec<(&str, usize)> = Vec::new();
    for m in messages {
        match sources.iter_mut().find(|(s, _)| *s == m.source) {
            Some((_, n)) => *n += 1,
            None => sources.push((&m.source, 1)),
        }
    }
    let chosen = match (source, sources.as_slice()) {
        (Some(s), _) => s.to_owned(),
        (None, []) => return Err(ReplayError::EmptyTranscript(conversation.to_owned())),
        (None, [(only, _)]) => (*only).to_owned(),
        (None, several) => {
            return Err(ReplayError::SeveralSources {
                conversation: conversation.to_owned(),
                sources: several
                    .iter()
                    .map(|(s, n)| format!("{s}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    let mut picked: Vec<TranscriptMessage> = messages
        .iter()
        .filter(|m| m.source == chosen && !m.text.trim().is_empty())
        .cloned()
        .collect();
    picked.sort_by_key(|m| (m.time_ns, m.seq));
    picked.dedup_by(|b, a| a.time_ns == b.time_ns && a.text == b.text);
    if picked.is_empty() {
        return Err(ReplayError::EmptyTranscript(conversation.to_owned()));
    }
    Ok((chosen, picked))
}

/// SHA-256 over the turns' texts, each length-prefixed, so the same words split differently into
/// turns give another digest.
pub fn turns_digest<'a>(turns: impl IntoIterator<Item = &'a str>) -> String {
    let mut joined = String::new();
    for t in turns {
        joined.push_str(&t.len().to_string());
        joined.push(':');
        joined.push_str(t);
    }
    digest_text(&joined)
}

/// The scenario a replay runs: `scenario` with its turns replaced by `turns` as they were sent,
/// adaptive answers and rewordings off, under `id` (unique within the replay drill).
pub fn replay_scenario(scenario: &Scenario, id: String, turns: &[String]) -> Scenario {
    let mut replayed = scenario.clone();
    replayed.id = id;
    replayed.turns = turns
        .iter()
        .map(|say| Turn {
            say: say.clone(),
            rewordings: Vec::new(),
        })
        .collect();
    replayed.replies.clear();
    // The recorded turns already hold what a simulated customer said; a replay says it again
    // rather than asking a model for something new.
    replayed.simulated_customer = None;
    replayed
}

/// A planned scenario replaying a drill's conversation. `scenario` is the scenario that drill ran
/// (the caller checks its digest against the recording's), `source` where it was loaded from.
pub fn plan_drill_replay(
    conversation: &RecordedConversation,
    root_digest: Option<String>,
    scenario: &Scenario,
    source: &str,
    scenario_digest: &str,
) -> Result<PlannedScenario, ReplayError> {
    if conversation.turns.is_empty() {
        return Err(ReplayError::NoTurns {
            drill: conversation.drill_id.clone(),
            stream: conversation.stream.clone(),
        });
    }
    let texts: Vec<String> = conversation.turns.iter().map(|t| t.text.clone()).collect();
    let origin = ReplayOrigin::Drill {
        drill_id: conversation.drill_id.clone(),
        root_digest,
        stream: conversation.stream.clone(),
        scenario_id: conversation.scenario_id.clone(),
        run: conversation.run,
        verdict: conversation.verdict.clone(),
        turns_digest: turns_digest(texts.iter().map(String::as_str)),
    };
    let id = format!("{}-replay-{}", conversation.scenario_id, conversation.run);
    Ok(PlannedScenario {
        scenario: replay_scenario(scenario, id, &texts),
        source: source.to_owned(),
        digest: scenario_digest.to_owned(),
        replay_of: Some(origin),
    })
}

/// A planned scenario replaying an ingested conversation, judged by `scenario`'s expectations.
pub fn plan_transcript_replay(
    conversation: &str,
    source: &str,
    messages: &[TranscriptMessage],
    scenario: &Scenario,
    scenario_source: &str,
    scenario_digest: &str,
) -> PlannedScenario {
    let texts: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
    let origin = ReplayOrigin::Transcript {
        conversation: conversation.to_owned(),
        source: source.to_owned(),
        seqs: messages.iter().map(|m| m.seq).collect(),
        turns_digest: turns_digest(texts.iter().map(String::as_str)),
    };
    PlannedScenario {
        scenario: replay_scenario(scenario, format!("{}-replay", scenario.id), &texts),
        source: scenario_source.to_owned(),
        digest: scenario_digest.to_owned(),
        replay_of: Some(origin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_evidence::{EventDraft, Field};
    use serde_json::json;

    fn sealed(stream: &str, seq: u64, draft: EventDraft) -> SealedEvent {
        SealedEvent {
            drill_id: "d1".into(),
            stream: stream.into(),
            seq,
            time_ns: draft.time_ns,
            kind: draft.kind,
            fields: draft
                .fields
                .into_iter()
                .map(|(name, value)| Field {
                    name,
                    digest: muster_evidence::genesis("d1", "x"),
                    value: Some(value),
                })
                .collect(),
            prev: muster_evidence::genesis("d1", "x"),
            digest: muster_evidence::genesis("d1", "x"),
        }
    }

    fn drill_events() -> Vec<SealedEvent> {
        let s = "conv/refund-promise/2";
        vec![
            sealed(
                "control/kill-switch",
                0,
                EventDraft::new("control.started", 1),
            ),
            sealed(
                s,
                0,
                EventDraft::new("scenario.started", 1)
                    .field("scenario_id", "refund-promise")
                    .field("run", 2)
                    .field("source", "builtin:scenarios/refund-promise.yaml")
                    .field("digest", "abc"),
            ),
            sealed(
                s,
                1,
                EventDraft::new("customer.message", 2)
                    .field("turn", 1)
                    .field("text", "I want my money back"),
            ),
            sealed(
                s,
                2,
                EventDraft::new("agent.message", 3)
                    .field("turn", 1)
                    .field("text", "Can you confirm your date of birth?"),
            ),
            sealed(
                s,
                3,
                EventDraft::new("customer.message", 4)
                    .field("turn", 2)
                    .field("adaptive", 0)
                    .field("text", "It's 1 May 1980"),
            ),
            sealed(
                s,
                4,
                EventDraft::new("target.error", 5)
                    .field("turn", 2)
                    .field("error", "timed out"),
            ),
            sealed(
                s,
                5,
                EventDraft::new("scenario.verdict", 6).field("verdict", "inconclusive"),
            ),
        ]
    }

    #[test]
    fn a_drill_conversation_keeps_adaptive_turns_in_the_order_they_were_sent() {
        let convs = recorded_conversations("d1", &drill_events());
        assert_eq!(convs.len(), 1, "control streams are not conversations");
        let c = &convs[0];
        assert_eq!(c.scenario_id, "refund-promise");
        assert_eq!(c.run, 2);
        assert_eq!(c.verdict.as_deref(), Some("inconclusive"));
        let texts: Vec<_> = c.turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["I want my money back", "It's 1 May 1980"]);
        assert_eq!(c.turns[1].adaptive, Some(0));
        assert_eq!(
            c.turns[0].reply.as_deref(),
            Some("Can you confirm your date of birth?")
        );
        assert_eq!(c.turns[1].reply, None, "the second turn got no reply");
    }

    #[test]
    fn a_lost_attempt_of_a_distributed_conversation_is_not_a_conversation() {
        let lost = "conv/refund-promise/2";
        let retried = "conv/refund-promise/2/attempt-2";
        let mut events = drill_events();
        events.push(sealed(
            retried,
            0,
            EventDraft::new("conversation.retried", 5)
                .field("attempt", 2)
                .field("previous_streams", json!([lost])),
        ));
        events.push(sealed(
            retried,
            1,
            EventDraft::new("scenario.started", 6)
                .field("scenario_id", "refund-promise")
                .field("run", 2),
        ));
        let streams: Vec<String> = recorded_conversations("d1", &events)
            .into_iter()
            .map(|c| c.stream)
            .collect();
        assert_eq!(streams, [retried]);
        // Without the retry, the same stream is a conversation.
        assert_eq!(recorded_conversations("d1", &drill_events()).len(), 1);
    }

    #[test]
    fn a_replayed_scenario_sends_the_recorded_turns_with_adaptive_rules_off() {
        let text = muster_library::scenarios()
            .into_iter()
            .find(|f| f.path.ends_with("bereavement-backdated-refund.yaml"))
            .map(|f| f.text)
            .unwrap_or_default();
        let scenario = muster_model::load_scenario(text).value;
        let Some(scenario) = scenario else {
            panic!("the built-in scenario loads");
        };
        let conv = &recorded_conversations("d1", &drill_events())[0];
        let planned = plan_drill_replay(conv, Some("root".into()), &scenario, "src", "abc");
        let Ok(planned) = planned else {
            panic!("a conversation with turns plans");
        };
        assert_eq!(planned.scenario.id, "refund-promise-replay-2");
        assert_eq!(planned.scenario.turns.len(), 2);
        assert_eq!(planned.scenario.turns[1].say, "It's 1 May 1980");
        assert!(
            planned
                .scenario
                .turns
                .iter()
                .all(|t| t.rewordings.is_empty())
        );
        assert!(planned.scenario.replies.is_empty());
        assert_eq!(planned.scenario.expect, scenario.expect);
        assert_eq!(planned.scenario.setup, scenario.setup);
        let origin = serde_json::to_value(&planned.replay_of).unwrap_or_default();
        assert_eq!(origin["from"], json!("drill"));
        assert_eq!(origin["stream"], json!("conv/refund-promise/2"));
        assert_eq!(
            origin["turns_digest"],
            json!(turns_digest(["I want my money back", "It's 1 May 1980"]))
        );
    }

    #[test]
    fn a_conversation_without_turns_cannot_be_replayed() {
        let mut conv = recorded_conversations("d1", &drill_events()).remove(0);
        conv.turns.clear();
        let scenario_text = muster_library::scenarios()
            .first()
            .map(|f| f.text)
            .unwrap_or_default();
        let Some(scenario) = muster_model::load_scenario(scenario_text).value else {
            panic!("the built-in scenario loads");
        };
        assert!(matches!(
            plan_drill_replay(&conv, None, &scenario, "s", "d"),
            Err(ReplayError::NoTurns { .. })
        ));
    }

    #[test]
    fn the_turns_digest_depends_on_where_turns_split() {
        assert_ne!(turns_digest(["ab", "c"]), turns_digest(["a", "bc"]));
        assert_eq!(turns_digest(["ab", "c"]), turns_digest(["ab", "c"]));
    }

    fn msg(source: &str, seq: u64, time_ns: i64, text: &str) -> TranscriptMessage {
        TranscriptMessage {
            source: source.into(),
            seq,
            time_ns,
            text: text.into(),
        }
    }

    #[test]
    fn a_transcript_is_ordered_by_time_and_drops_exact_repeats() {
        let messages = [
            msg("otlp", 7, 300, "yes please"),
            msg("otlp", 3, 100, "my order is late"),
            msg("otlp", 5, 200, "yes please"),
            msg("otlp", 9, 200, "yes please"),
            msg("otlp", 11, 400, "  "),
        ];
        let Ok((source, turns)) = transcript_turns("c1", &messages, None) else {
            panic!("one source needs no choice");
        };
        assert_eq!(source, "otlp");
        let texts: Vec<_> = turns.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            texts,
            ["my order is late", "yes please", "yes please"],
            "the same words said twice are kept; the same record twice is not"
        );
    }

    #[test]
    fn several_sources_need_a_choice() {
        let messages = [
            msg("zendesk", 1, 100, "hello"),
            msg("otlp", 1, 101, "hello"),
            msg("otlp", 2, 201, "refund?"),
        ];
        let err = transcript_turns("c1", &messages, None);
        assert_eq!(
            err,
            Err(ReplayError::SeveralSources {
                conversation: "c1".into(),
                sources: "zendesk: 1, otlp: 2".into()
            })
        );
        let Ok((_, turns)) = transcript_turns("c1", &messages, Some("otlp")) else {
            panic!("a chosen source replays");
        };
        assert_eq!(turns.len(), 2);
        assert_eq!(
            transcript_turns("c1", &messages, Some("crm")),
            Err(ReplayError::EmptyTranscript("c1".into()))
        );
        assert_eq!(
            transcript_turns("c1", &[], None),
            Err(ReplayError::EmptyTranscript("c1".into()))
        );
    }
}
