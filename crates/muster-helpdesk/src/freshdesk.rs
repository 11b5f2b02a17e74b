//! Freshdesk: ticket and conversation wire types (API v2) and the queue adapter.
//!
//! Reference: <https://developers.freshdesk.com/api/#tickets> (View a Ticket, Filter Tickets)
//! and <https://developers.freshdesk.com/api/#conversations>.

use std::collections::BTreeMap;

use async_trait::async_trait;
use muster_model::agent::QueueKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::flex::{Scalar, html_to_text, null_as_default, parse_timestamp};
use crate::http::{Http, below};
use crate::{HandoverQuery, HandoverQueue, HandoverTicket, Lookup, QueueError, from_json};

/// A ticket (`GET /api/v2/tickets/{id}`, and each entry of a list or filter result).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: Scalar,
    #[serde(default)]
    pub subject: Option<String>,
    /// HTML.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub description_text: Option<String>,
    /// 2 Open, 3 Pending, 4 Resolved, 5 Closed; custom statuses from 6.
    #[serde(default)]
    pub status: Option<Scalar>,
    /// 1 Low, 2 Medium, 3 High, 4 Urgent.
    #[serde(default)]
    pub priority: Option<Scalar>,
    /// 1 Email, 2 Portal, 3 Phone, 7 Chat, 9 Feedback widget, 10 Outbound email.
    #[serde(default)]
    pub source: Option<Scalar>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub requester_id: Option<Scalar>,
    #[serde(default)]
    pub responder_id: Option<Scalar>,
    #[serde(default)]
    pub group_id: Option<Scalar>,
    #[serde(default)]
    pub company_id: Option<Scalar>,
    #[serde(default)]
    pub product_id: Option<Scalar>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Keyed `cf_<name>`; values are strings, numbers, booleans or null by field type.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub is_escalated: Option<bool>,
    #[serde(default)]
    pub fr_escalated: Option<bool>,
    #[serde(default)]
    pub spam: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub due_by: Option<String>,
    #[serde(default)]
    pub fr_due_by: Option<String>,
    /// Present with `?include=conversations`.
    #[serde(default)]
    pub conversations: Option<Vec<Conversation>>,
}

impl Ticket {
    /// The priority's name (`low`, `medium`, `high`, `urgent`), or the number as sent.
    pub fn priority_name(&self) -> Option<String> {
        self.priority.as_ref().map(|p| match p.as_i64() {
            Some(1) => "low".to_owned(),
            Some(2) => "medium".to_owned(),
            Some(3) => "high".to_owned(),
            Some(4) => "urgent".to_owned(),
            _ => p.0.clone(),
        })
    }

    /// The status's name for the built-in statuses, or the number as sent.
    pub fn status_name(&self) -> Option<String> {
        self.status.as_ref().map(|s| match s.as_i64() {
            Some(2) => "open".to_owned(),
            Some(3) => "pending".to_owned(),
            Some(4) => "resolved".to_owned(),
            Some(5) => "closed".to_owned(),
            _ => s.0.clone(),
        })
    }

    pub fn custom_field(&self, key: &str) -> Option<Scalar> {
        self.custom_fields.get(key).and_then(Scalar::from_value)
    }
}

/// A reply or note (`GET /api/v2/tickets/{id}/conversations` → a JSON array of these).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: Scalar,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub body_text: Option<String>,
    /// True when it came from the customer.
    #[serde(default)]
    pub incoming: Option<bool>,
    /// True for a private note.
    #[serde(default)]
    pub private: Option<bool>,
    #[serde(default)]
    pub user_id: Option<Scalar>,
    #[serde(default)]
    pub ticket_id: Option<Scalar>,
    #[serde(default)]
    pub source: Option<Scalar>,
    #[serde(default)]
    pub category: Option<Scalar>,
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub from_email: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub to_emails: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `GET /api/v2/search/tickets?query="…"`. `results` is required.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct FilterResults {
    pub results: Vec<Value>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// Freshdesk's error body, e.g. `{"code": "invalid_credentials", "message": "…"}` or a
/// validation error `{"description": "…", "errors": [{"field", "message", "code"}]}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<Value>,
}

/// Where Freshdesk tickets carry the conversation id (`queue.conversation_field`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FreshdeskLookup {
    /// `tag` (default): the ticket is tagged with the conversation id.
    Tag,
    /// `cf_<name>`: a custom text field holds it.
    CustomField(String),
}

impl FreshdeskLookup {
    pub fn parse(field: Option<&str>) -> Result<Self, QueueError> {
        match field {
            None | Some("tag") => Ok(FreshdeskLookup::Tag),
            Some(f)
                if f.strip_prefix("cf_").is_some_and(|n| {
                    n.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                        && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                }) =>
            {
                Ok(FreshdeskLookup::CustomField(f.to_owned()))
            }
            Some(f) => Err(QueueError::Config(format!(
                "`conversation_field: {f}` is neither `tag` nor a custom field `cf_<name>`"
            ))),
        }
    }

    /// The Filter Tickets query. Custom fields are named without their `cf_` prefix there.
    fn query(&self, conversation: &str) -> String {
        match self {
            FreshdeskLookup::Tag => format!("\"tag:'{conversation}'\""),
            FreshdeskLookup::CustomField(f) => {
                format!("\"{}:'{conversation}'\"", f.trim_start_matches("cf_"))
            }
        }
    }
}

#[derive(Debug)]
pub struct FreshdeskQueue {
    http: Http,
    base: Url,
    lookup: FreshdeskLookup,
}

impl FreshdeskQueue {
    pub(crate) fn new(http: Http, base: Url, lookup: FreshdeskLookup) -> Self {
        Self { http, base, lookup }
    }

    fn carries(&self, t: &Ticket, conversation: &str) -> bool {
        match &self.lookup {
            FreshdeskLookup::Tag => t.tags.iter().any(|tag| tag == conversation),
            FreshdeskLookup::CustomField(f) => t
                .custom_field(f)
                .is_some_and(|v| v.as_str() == conversation),
        }
    }
}

#[async_trait]
impl HandoverQueue for FreshdeskQueue {
    async fn find_handover(&self, query: &HandoverQuery) -> Lookup {
        let conversation = &query.conversation_id;
        // The filter language quotes values with `'` and has no escape for it.
        if conversation.contains(['\'', '"']) {
            return Lookup::failed(
                QueueError::Config(format!(
                    "the conversation id `{conversation}` contains a quote, which Freshdesk's filter query cannot carry"
                )),
                vec![],
            );
        }
        let mut url = match below(&self.base, "api/v2/search/tickets") {
            Ok(url) => url,
            Err(err) => return Lookup::failed(err, vec![]),
        };
        url.query_pairs_mut()
            .append_pair("query", &self.lookup.query(conversation));
        let (exchange, body) = self.http.get(url).await;
        let shown = exchange.url.clone();
        let system = self.http.system;
        let outcome = body.and_then(|body| {
            let found: FilterResults = from_json(
                system,
                &shown,
                body,
                "filter results `{\"results\": […], \"total\": n}`",
            )?;
            let mut matching = Vec::new();
            for raw in found.results {
                let t: Ticket = from_json(system, &shown, raw.clone(), "tickets with an `id`")?;
                if self.carries(&t, conversation) {
                    matching.push((t, raw));
                }
            }
            matching.sort_by_key(|(t, _)| t.created_at.as_deref().and_then(parse_timestamp));
            Ok(matching.into_iter().next().map(|(t, raw)| HandoverTicket {
                system: QueueKind::Freshdesk,
                priority: t.priority_name(),
                id: t.id.0,
                created_at: t.created_at.as_deref().and_then(parse_timestamp),
                conversation_id: Some(conversation.clone()),
                customer_ref: t.requester_id.map(|r| r.0),
                context: t
                    .description_text
                    .or_else(|| t.description.as_deref().map(html_to_text))
                    .filter(|d| !d.trim().is_empty()),
                tags: t.tags,
                queue: t.group_id.map(|g| g.0),
                raw,
            }))
        });
        Lookup::new(outcome, vec![exchange])
    }

    fn describe(&self) -> String {
        let how = match &self.lookup {
            FreshdeskLookup::Tag => "tickets tagged with the conversation id".to_owned(),
            FreshdeskLookup::CustomField(f) => format!("tickets whose {f} is the conversation id"),
        };
        format!("Freshdesk at {} ({how})", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_names() {
        let t: Ticket = serde_json::from_str(
            r#"{"id": 1, "priority": 4, "status": "2", "custom_fields": null, "tags": ["a"]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.priority_name().as_deref(), Some("urgent"));
        assert_eq!(t.status_name().as_deref(), Some("open"));
        assert!(t.custom_fields.is_empty());
        let odd: Ticket = serde_json::from_str(r#"{"id": 2, "priority": 9, "status": 7}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(odd.priority_name().as_deref(), Some("9"));
        assert_eq!(odd.status_name().as_deref(), Some("7"));
    }

    #[test]
    fn conversations_read_as_an_array() {
        let list: Vec<Conversation> = serde_json::from_str(
            r#"[{"id": 3, "body": "<div>Hi</div>", "body_text": "Hi", "incoming": true, "private": false,
                 "user_id": 1, "ticket_id": 20, "to_emails": null, "created_at": "2015-08-24T11:59:05Z"}]"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list[0].incoming, Some(true));
        assert!(list[0].to_emails.is_empty());
    }

    #[test]
    fn the_filter_query_names_custom_fields_without_prefix() {
        assert_eq!(FreshdeskLookup::Tag.query("c-1"), "\"tag:'c-1'\"");
        assert_eq!(
            FreshdeskLookup::CustomField("cf_conversation".into()).query("c-1"),
            "\"conversation:'c-1'\""
        );
        assert!(FreshdeskLookup::parse(Some("conversation")).is_err());
        assert!(FreshdeskLookup::parse(Some("cf_")).is_err());
    }
}
