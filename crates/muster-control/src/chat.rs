//! Conversations a control drill holds with the agent, every turn recorded in the control's stream.

use muster_evidence::EventDraft;
use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_store::StoreError;
use muster_target::{AgentReply, Conversation, Exchange, Target, TurnError};
use serde_json::{Value, json};

use crate::record::{Recorder, now_ns};

/// One conversation, opened for a customer.
pub struct Chat {
    conversation: Option<Conversation>,
    open_error: Option<TurnError>,
    turn: u32,
    /// What the conversation is for, in the evidence (e.g. `under-way`, `new`).
    pub role: String,
}

/// The drill engine's exchange events, each naming which of the control's conversations it was.
fn exchange_events(turn: Option<u32>, role: &str, exchanges: &[Exchange]) -> Vec<EventDraft> {
    muster_drill::exchange_events(turn, exchanges)
        .into_iter()
        .map(|e| e.field("conversation_role", role))
        .collect()
}

/// The placeholder values a conversation for `customer` carries.
pub fn customer_vars(customer: Option<&str>, drill_id: &str) -> Vars {
    let mut vars = Vars::new();
    vars.insert("customer.ref".into(), json!(customer.unwrap_or_default()));
    for key in [
        "customer.name",
        "customer.email",
        "customer.phone",
        "customer.postcode",
        "customer.date_of_birth",
    ] {
        vars.insert(key.into(), Value::Null);
    }
    vars.insert("drill.id".into(), json!(drill_id));
    vars.insert("scenario.id".into(), json!("control-drill"));
    vars
}

impl Chat {
    pub async fn open(
        target: &Target,
        rec: &Recorder,
        vars: Vars,
        role: &str,
    ) -> Result<Chat, StoreError> {
        let (exchanges, opened) = target.open(vars).await;
        let mut events = exchange_events(None, role, &exchanges);
        let chat = match opened {
            Ok(conversation) => {
                events.push(
                    EventDraft::new("conversation.opened", now_ns())
                        .field("conversation_id", conversation.id.clone())
                        .field("conversation_role", role),
                );
                Chat {
                    conversation: Some(conversation),
                    open_error: None,
                    turn: 0,
                    role: role.to_owned(),
                }
            }
            Err(e) => {
                events.push(
                    EventDraft::new("target.error", now_ns())
                        .field("stage", "open")
                        .field("conversation_role", role)
                        .field("error", e.to_string()),
                );
                Chat {
                    conversation: None,
                    open_error: Some(e),
                    turn: 0,
                    role: role.to_owned(),
                }
            }
        };
        rec.write(events).await?;
        Ok(chat)
    }

    pub fn id(&self) -> Option<&str> {
        self.conversation.as_ref().map(|c| c.id.as_str())
    }

    pub fn turns(&self) -> u32 {
        self.turn
    }

    /// Send one message; the reply, or why there is none (an error is never a reply).
    pub async fn say(
        &mut self,
        target: &Target,
        rec: &Recorder,
        text: &str,
    ) -> Result<Result<AgentReply, TurnError>, StoreError> {
        let Some(conversation) = self.conversation.as_mut() else {
            let e = self
                .open_error
                .clone()
                .unwrap_or_else(|| TurnError::Transport("the conversation never opened".into()));
            return Ok(Err(e));
        };
        self.turn += 1;
        let turn = self.turn;
        let customer_at = now_ns();
        let outcome = target.send(conversation, text, turn).await;
        let mut events = vec![
            EventDraft::new("customer.message", customer_at)
                .field("turn", turn)
                .field("conversation_role", self.role.clone())
                .field("conversation_id", conversation.id.clone())
                .field("text", text),
        ];
        events.extend(exchange_events(Some(turn), &self.role, &outcome.exchanges));
        let at = now_ns();
        match &outcome.reply {
            Ok(reply) => {
                events.push(
                    EventDraft::new("agent.message", at)
                        .field("turn", turn)
                        .field("conversation_role", self.role.clone())
                        .field("text", reply.text.clone())
                        .field("handover", reply.handover)
                        .field("content_version", reply.content_version.clone()),
                );
                for call in &reply.tool_calls {
                    events.push(
                        EventDraft::new("tool.call", at)
                            .field("turn", turn)
                            .field("conversation_role", self.role.clone())
                            .field("name", call.name.clone())
                            .field("arguments", call.arguments.clone())
                            .field("result", call.result.clone()),
                    );
                }
            }
            Err(e) => events.push(
                EventDraft::new("target.error", at)
                    .field("turn", turn)
                    .field("conversation_role", self.role.clone())
                    .field("error", e.to_string()),
            ),
        }
        rec.write(events).await?;
        Ok(outcome.reply)
    }
}

/// Whether a reply hands the customer to a person: the agent says so, or calls a handover tool.
pub fn hands_over(manifest: &AgentManifest, reply: &AgentReply) -> bool {
    let tools = manifest.handover_tools();
    reply.handover == Some(true)
        || reply
            .tool_calls
            .iter()
            .any(|c| tools.contains(&c.name.as_str()))
}
