//! Intercom: conversation wire types (REST API 2.x, including Fin's `ai_agent`) and the queue
//! adapter.
//!
//! Reference: the MIT-licensed OpenAPI description `intercom/Intercom-OpenAPI`
//! (`descriptions/2.14/api.intercom.io.yaml`): `GET /conversations/{id}`,
//! `POST /conversations/search`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use muster_model::agent::QueueKind;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::flex::{Scalar, html_to_text, null_as_default, parse_timestamp};
use crate::http::{Http, below};
use crate::{HandoverQuery, HandoverQueue, HandoverTicket, Lookup, QueueError, from_json};

/// Intercom's API host (US region); EU and AU workspaces set `queue.url`.
pub const API_BASE: &str = "https://api.intercom.io";

/// The `resolution_state` Fin sets when it hands the conversation to a team.
pub const ROUTED_TO_TEAM: &str = "routed_to_team";

/// Part types that (re)assign a conversation.
const ASSIGNMENT_PARTS: &[&str] = &["assignment", "assign_and_reopen", "default_assignment"];

/// A conversation (`GET /conversations/{id}`, and each entry of a search). Times are epoch
/// seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub id: Scalar,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub created_at: Option<Scalar>,
    #[serde(default)]
    pub updated_at: Option<Scalar>,
    #[serde(default)]
    pub waiting_since: Option<Scalar>,
    #[serde(default)]
    pub snoozed_until: Option<Scalar>,
    #[serde(default)]
    pub open: Option<bool>,
    /// `open`, `closed` or `snoozed`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub read: Option<bool>,
    /// `priority` or `not_priority`.
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub admin_assignee_id: Option<Scalar>,
    #[serde(default)]
    pub team_assignee_id: Option<Scalar>,
    #[serde(default)]
    pub tags: Option<TagList>,
    #[serde(default)]
    pub contacts: Option<ContactList>,
    #[serde(default)]
    pub source: Option<Source>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_attributes: BTreeMap<String, Value>,
    #[serde(default)]
    pub ai_agent_participated: Option<bool>,
    /// Fin's part in the conversation; null when Fin was not involved.
    #[serde(default)]
    pub ai_agent: Option<AiAgent>,
    #[serde(default)]
    pub conversation_parts: Option<PartList>,
    #[serde(default)]
    pub statistics: Option<Value>,
}

impl Conversation {
    /// Why this conversation counts as handed to people, if it does.
    pub fn handover_reason(&self) -> Option<String> {
        if let Some(state) = self
            .ai_agent
            .as_ref()
            .and_then(|a| a.resolution_state.as_deref())
            && state == ROUTED_TO_TEAM
        {
            return Some(format!("ai_agent.resolution_state is {ROUTED_TO_TEAM}"));
        }
        if let Some(team) = assigned(&self.team_assignee_id) {
            return Some(format!("assigned to team {team}"));
        }
        assigned(&self.admin_assignee_id).map(|admin| format!("assigned to admin {admin}"))
    }

    pub fn parts(&self) -> &[Part] {
        self.conversation_parts
            .as_ref()
            .map_or(&[], |p| p.conversation_parts.as_slice())
    }

    pub fn tag_names(&self) -> Vec<String> {
        self.tags
            .as_ref()
            .map(|t| t.tags.iter().filter_map(|t| t.name.clone()).collect())
            .unwrap_or_default()
    }

    /// The opening message and every part's body, as plain text, in order.
    pub fn transcript(&self) -> Option<String> {
        let opening = self.source.as_ref().and_then(|s| s.body.as_deref());
        let lines: Vec<String> = opening
            .into_iter()
            .chain(self.parts().iter().filter_map(|p| p.body.as_deref()))
            .map(html_to_text)
            .filter(|t| !t.is_empty())
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// Intercom sends unassigned as null, 0 or "0" depending on the endpoint and version.
fn assigned(id: &Option<Scalar>) -> Option<&str> {
    id.as_ref()
        .map(Scalar::as_str)
        .filter(|s| !s.is_empty() && *s != "0")
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TagList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(default)]
    pub id: Option<Scalar>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub applied_at: Option<Scalar>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub contacts: Vec<ContactRef>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactRef {
    #[serde(default)]
    pub id: Option<Scalar>,
    #[serde(default)]
    pub external_id: Option<Scalar>,
}

/// The message that opened the conversation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<Scalar>,
    #[serde(default)]
    pub delivered_as: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    /// HTML.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub redacted: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Author {
    /// `admin`, `bot`, `user`, `lead` or `team`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<Scalar>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub from_ai_agent: Option<bool>,
    #[serde(default)]
    pub is_ai_answer: Option<bool>,
}

/// Fin's involvement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AiAgent {
    #[serde(default)]
    pub source_type: Option<String>,
    #[serde(default)]
    pub source_title: Option<String>,
    /// `ai_answer`, `custom_answer` or null.
    #[serde(default)]
    pub last_answer_type: Option<String>,
    /// `assumed_resolution`, `confirmed_resolution`, `routed_to_team`, `abandoned` or null.
    #[serde(default)]
    pub resolution_state: Option<String>,
    #[serde(default)]
    pub rating: Option<Scalar>,
    #[serde(default)]
    pub rating_remark: Option<String>,
    #[serde(default)]
    pub content_sources: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub conversation_parts: Vec<Part>,
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// One event in a conversation: a message, note, assignment, state change, Fin action…
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Part {
    #[serde(default)]
    pub id: Option<Scalar>,
    /// `comment`, `note`, `assignment`, `open`, `close`, `custom_action_started`… (the live API
    /// has more than the spec lists).
    #[serde(default)]
    pub part_type: Option<String>,
    /// HTML.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub created_at: Option<Scalar>,
    #[serde(default)]
    pub updated_at: Option<Scalar>,
    #[serde(default)]
    pub notified_at: Option<Scalar>,
    #[serde(default)]
    pub assigned_to: Option<Value>,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub external_id: Option<Scalar>,
    #[serde(default)]
    pub redacted: Option<bool>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub event_details: Option<Value>,
    #[serde(default)]
    pub app_package_code: Option<String>,
}

/// `POST /conversations/search`. `conversations` is required.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SearchResults {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub conversations: Vec<Value>,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub pages: Option<Value>,
}

/// Intercom's error body: `{"type": "error.list", "request_id", "errors": [{"code", "message"}]}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ErrorList {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<Value>,
}

/// Which Intercom conversation is the agent's (`queue.conversation_field`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntercomLookup {
    /// `id` (default): the agent's conversation id is the Intercom conversation id.
    Id,
    /// `custom_attribute:<name>`: a conversation attribute holds it (searched).
    CustomAttribute(String),
}

impl IntercomLookup {
    pub fn parse(field: Option<&str>) -> Result<Self, QueueError> {
        match field {
            None | Some("id") => Ok(IntercomLookup::Id),
            Some(f) => match f.strip_prefix("custom_attribute:") {
                Some(name) if !name.trim().is_empty() => {
                    Ok(IntercomLookup::CustomAttribute(name.to_owned()))
                }
                _ => Err(QueueError::Config(format!(
                    "`conversation_field: {f}` is neither `id` nor `custom_attribute:<name>`"
                ))),
            },
        }
    }
}

#[derive(Debug)]
pub struct IntercomQueue {
    http: Http,
    base: Url,
    lookup: IntercomLookup,
}

impl IntercomQueue {
    pub(crate) fn new(http: Http, base: Url, lookup: IntercomLookup) -> Self {
        Self { http, base, lookup }
    }

    async fn fetch(
        &self,
        conversation: &str,
    ) -> (
        Vec<muster_target::Exchange>,
        Result<Option<Value>, QueueError>,
    ) {
        let system = self.http.system;
        match &self.lookup {
            IntercomLookup::Id => {
                let url = match below(&self.base, "conversations/") {
                    Ok(mut url) => {
                        // A path segment, so an id can never reach another endpoint.
                        if let Ok(mut segments) = url.path_segments_mut() {
                            segments.pop_if_empty().push(conversation);
                        }
                        url
                    }
                    Err(err) => return (vec![], Err(err)),
                };
                let (exchange, body) = self.http.get(url).await;
                let outcome = match body {
                    Ok(body) => Ok(Some(body)),
                    // The agent's conversation is the Intercom conversation, so it must exist:
                    // 404 means the ids do not line up, which waiting will not fix.
                    Err(QueueError::Status {
                        system,
                        url,
                        status: 404,
                        excerpt,
                    }) => Err(QueueError::Status {
                        system,
                        url,
                        status: 404,
                        excerpt: format!(
                            "{excerpt} (no conversation `{conversation}`: with `conversation_field: id` the agent's conversation id must be the Intercom conversation id)"
                        ),
                    }),
                    Err(err) => Err(err),
                };
                (vec![exchange], outcome)
            }
            IntercomLookup::CustomAttribute(name) => {
                let url = match below(&self.base, "conversations/search") {
                    Ok(url) => url,
                    Err(err) => return (vec![], Err(err)),
                };
                let body = json!({"query": {
                    "field": format!("custom_attributes.{name}"),
                    "operator": "=",
                    "value": conversation,
                }});
                let (exchange, body) = self.http.post(url, body).await;
                let shown = exchange.url.clone();
                let outcome = body.and_then(|body| {
                    let found: SearchResults = from_json(
                        system,
                        &shown,
                        body,
                        "a conversation list `{\"conversations\": […]}`",
                    )?;
                    let mut first = None;
                    for raw in found.conversations {
                        let c: Conversation =
                            from_json(system, &shown, raw.clone(), "conversations with an `id`")?;
                        let carries = c
                            .custom_attributes
                            .get(name)
                            .and_then(Scalar::from_value)
                            .is_some_and(|v| v.as_str() == conversation);
                        if carries && first.is_none() {
                            first = Some(raw);
                        }
                    }
                    Ok(first)
                });
                (vec![exchange], outcome)
            }
        }
    }
}

#[async_trait]
impl HandoverQueue for IntercomQueue {
    async fn find_handover(&self, query: &HandoverQuery) -> Lookup {
        let conversation = &query.conversation_id;
        let (exchanges, body) = self.fetch(conversation).await;
        let system = self.http.system;
        let shown = exchanges.first().map(|e| e.url.clone()).unwrap_or_default();
        let outcome = body.and_then(|raw| {
            let Some(raw) = raw else { return Ok(None) };
            let c: Conversation =
                from_json(system, &shown, raw.clone(), "a conversation with an `id`")?;
            if self.lookup == IntercomLookup::Id && c.id.as_str() != conversation {
                return Err(QueueError::Malformed {
                    system,
                    url: shown.clone(),
                    reason: format!("asked for conversation `{conversation}`, got `{}`", c.id),
                });
            }
            if c.handover_reason().is_none() {
                return Ok(None);
            }
            let assigned_at = c
                .parts()
                .iter()
                .find(|p| {
                    p.part_type
                        .as_deref()
                        .is_some_and(|t| ASSIGNMENT_PARTS.contains(&t))
                })
                .and_then(|p| p.created_at.as_ref())
                .or(c.updated_at.as_ref())
                .and_then(|t| parse_timestamp(t.as_str()));
            let contact = c.contacts.as_ref().and_then(|l| l.contacts.first());
            Ok(Some(HandoverTicket {
                system: QueueKind::Intercom,
                id: c.id.0.clone(),
                created_at: assigned_at,
                conversation_id: Some(conversation.clone()),
                customer_ref: contact
                    .and_then(|k| k.external_id.clone().or_else(|| k.id.clone()))
                    .map(|s| s.0),
                context: c.transcript(),
                priority: c.priority.clone(),
                tags: c.tag_names(),
                queue: assigned(&c.team_assignee_id).map(str::to_owned),
                raw,
            }))
        });
        Lookup::new(outcome, exchanges)
    }

    fn describe(&self) -> String {
        let how = match &self.lookup {
            IntercomLookup::Id => "the conversation with the agent's id".to_owned(),
            IntercomLookup::CustomAttribute(name) => {
                format!("conversations whose custom attribute {name} is the conversation id")
            }
        };
        format!(
            "Intercom at {} ({how}; handed over = routed to a team or assigned)",
            self.base
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(json: &str) -> Conversation {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn fin_routing_or_an_assignee_is_a_handover() {
        let routed = conversation(
            r#"{"id": "1", "ai_agent": {"resolution_state": "routed_to_team"}, "team_assignee_id": null}"#,
        );
        assert!(routed.handover_reason().is_some());
        let team =
            conversation(r#"{"id": 2, "team_assignee_id": 5017691, "admin_assignee_id": 0}"#);
        assert_eq!(
            team.handover_reason().as_deref(),
            Some("assigned to team 5017691")
        );
        let fin_only = conversation(
            r#"{"id": "3", "ai_agent": {"resolution_state": "assumed_resolution"}, "team_assignee_id": "0", "admin_assignee_id": null}"#,
        );
        assert_eq!(fin_only.handover_reason(), None);
    }

    #[test]
    fn the_transcript_is_plain_text_in_order() {
        let c = conversation(
            r#"{"id": "1", "source": {"body": "<p>I want to cancel</p>"},
                "conversation_parts": {"conversation_parts": [
                  {"part_type": "comment", "body": "<p>Let me pass you to a person.</p>"},
                  {"part_type": "assignment", "body": null, "created_at": 1740141851}]}}"#,
        );
        assert_eq!(
            c.transcript().as_deref(),
            Some("I want to cancel\nLet me pass you to a person.")
        );
    }

    #[test]
    fn the_shipped_spec_example_reads() {
        let c: Conversation = serde_json::from_str(include_str!(
            "../tests/data/intercom/conversation-found.json"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.id.as_str(), "503");
        assert_eq!(c.tag_names(), ["Test tag"]);
        assert!(c.parts().len() >= 3);
        assert!(c.handover_reason().is_some());
    }
}
