//! The simulated customer: after the scripted turns, a model (the manifest's `models.customer`)
//! plays the scenario's persona, with the ticket and the scenario's `goal` as its brief, for up
//! to `turns` more turns.
//!
//! It stops early when the agent's reply meets `stop_when` (a pattern, or a handover), when the
//! model ends the conversation itself (answers `[END]`: goal met, or given up), or when the
//! drill is stopped. Every generated turn and every exchange with the model is evidence, and the
//! conversation is marked nondeterministic: the same scenario need not produce the same words
//! again. A model that cannot be reached or answers unreadably ends the conversation with a turn
//! that has no reply, so the run is inconclusive, never a pass.

use muster_evidence::EventDraft;
use muster_model::agent::AgentManifest;
use muster_model::scenario::{Scenario, SimulatedCustomer};
use muster_target::{AgentReply, ModelRole, Target, TurnError};
use regex::Regex;
use serde_json::{Value, json};

use crate::judge::TurnRecord;

/// What the model answers to leave the conversation.
const END: &str = "[END]";

/// What the simulated customer does next.
pub(crate) enum Next {
    Say(String),
    /// The model ended the conversation.
    Ended,
    /// The model could not be asked or gave no usable message.
    Failed(TurnError),
}

/// One conversation's simulated customer.
pub(crate) struct Simulator<'a> {
    spec: &'a SimulatedCustomer,
    scenario: &'a Scenario,
    stop: Option<Regex>,
    handover_tools: Vec<&'a str>,
    left: u32,
    stopped: bool,
}

impl<'a> Simulator<'a> {
    pub(crate) fn new(scenario: &'a Scenario, manifest: &'a AgentManifest) -> Option<Self> {
        let spec = scenario.simulated_customer.as_ref()?;
        Some(Simulator {
            spec,
            scenario,
            // Validated when the scenario was loaded; an invalid pattern never stops.
            stop: spec
                .stop_when
                .matches
                .as_deref()
                .and_then(|p| Regex::new(&format!("(?i){p}")).ok()),
            handover_tools: manifest.handover_tools(),
            left: spec.turns,
            stopped: false,
        })
    }

    /// After each agent reply: whether it meets a stop condition.
    pub(crate) fn observe(&mut self, reply: &AgentReply) {
        let handed_over = reply.handover == Some(true)
            || reply
                .tool_calls
                .iter()
                .any(|c| self.handover_tools.contains(&c.name.as_str()));
        if (self.spec.stop_when.handover && handed_over)
            || self
                .stop
                .as_ref()
                .is_some_and(|re| re.is_match(&reply.text))
        {
            self.stopped = true;
        }
    }

    /// The customer's next move, with the evidence of asking for it; `None` when the simulated
    /// customer is done (its turns are used up or a stop condition held).
    pub(crate) async fn next(
        &mut self,
        target: &Target,
        transcript: &[TurnRecord],
    ) -> Option<(Vec<EventDraft>, Next)> {
        if self.stopped || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let turn = transcript.last().map_or(1, |t| t.turn + 1);
        let answer = target
            .ask_model(ModelRole::Customer, self.messages(transcript))
            .await;
        let mut events =
            crate::engine::exchange_events_as("customer.exchange", Some(turn), &answer.exchanges);
        let next = match answer.text {
            Ok(text) if text.contains(END) => {
                self.stopped = true;
                events.push(
                    EventDraft::new("customer.ended", crate::engine::now_ns())
                        .field("turn", turn)
                        .field("text", target.secrets().redact(&text)),
                );
                Next::Ended
            }
            // Whatever the model writes is sent and recorded: never a key it might echo.
            Ok(text) => Next::Say(target.secrets().redact(text.trim())),
            Err(e) => Next::Failed(TurnError::Request(format!(
                "the simulated customer's model gave no message: {}",
                e.detail()
            ))),
        };
        Some((events, next))
    }

    /// The brief as the system message, then the conversation from the customer's side: the
    /// agent's replies are the model's `user` turns, the customer's lines its own.
    fn messages(&self, transcript: &[TurnRecord]) -> Vec<Value> {
        let persona = &self.scenario.persona;
        let mut brief = format!(
            "You are playing a customer in a rehearsal of a company's customer-support chat. \
             Stay in character as this customer throughout.\n\nWho you are: {}",
            persona.name
        );
        if let Some(description) = &persona.description {
            brief.push_str(&format!(", {description}"));
        }
        if let Some(mood) = persona.mood {
            brief.push_str(&format!(
                ". Mood: {}",
                serde_json::to_value(mood)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ));
        }
        if !persona.vulnerability.is_empty() {
            brief.push_str(&format!(
                ". Circumstances: {}",
                persona.vulnerability.join(", ")
            ));
        }
        brief.push_str(&format!(
            ".\n\nYour situation, as the support ticket tells it:\n{}\n\nWhat you want: {}\n",
            self.scenario.ticket.trim(),
            self.spec.goal.trim()
        ));
        if let Some(instructions) = &self.spec.instructions {
            brief.push_str(&format!("\n{}\n", instructions.trim()));
        }
        brief.push_str(&format!(
            "\nWrite only your next message to the assistant, as the customer would type it, in \
             one to three sentences. When you have what you want, or you would give up and \
             leave, answer exactly {END}."
        ));
        let mut messages = vec![json!({"role": "system", "content": brief})];
        for record in transcript {
            messages.push(json!({"role": "assistant", "content": record.customer}));
            if let Ok(reply) = &record.reply {
                messages.push(json!({"role": "user", "content": reply.text}));
            }
        }
        messages
    }
}
