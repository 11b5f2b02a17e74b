//! Zendesk Support: ticket wire types (Tickets API list/show, Search API results) and the queue
//! adapter, which the reference agent's queue also speaks.
//!
//! Reference: <https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/> and
//! <https://developer.zendesk.com/api-reference/ticketing/ticket-management/search/>.

use async_trait::async_trait;
use muster_model::agent::QueueKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::flex::{Scalar, null_as_default, parse_timestamp};
use crate::http::{Http, below};
use crate::{HandoverQuery, HandoverQueue, HandoverTicket, Lookup, QueueError, from_json};

/// A ticket (`GET /api/v2/tickets/{id}.json` → `{"ticket": …}`, and each entry of a list).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: Scalar,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub external_id: Option<Scalar>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub raw_subject: Option<String>,
    /// The first comment; for a handover, usually the transcript or summary.
    #[serde(default)]
    pub description: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    #[serde(default)]
    pub priority: Option<String>,
    /// `new`, `open`, `pending`, `hold`, `solved` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub requester_id: Option<Scalar>,
    #[serde(default)]
    pub submitter_id: Option<Scalar>,
    #[serde(default)]
    pub assignee_id: Option<Scalar>,
    #[serde(default)]
    pub organization_id: Option<Scalar>,
    #[serde(default)]
    pub group_id: Option<Scalar>,
    #[serde(default)]
    pub brand_id: Option<Scalar>,
    #[serde(default)]
    pub ticket_form_id: Option<Scalar>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Vec<CustomField>,
    #[serde(default)]
    pub via: Option<Via>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Present on Search API results: `ticket`, `user`, `group`, `organization`.
    #[serde(default)]
    pub result_type: Option<String>,
}

impl Ticket {
    /// The value of custom field `id`, as text.
    pub fn custom_field(&self, id: &str) -> Option<Scalar> {
        self.custom_fields
            .iter()
            .find(|f| f.id.as_str() == id)
            .and_then(|f| f.value.as_ref())
            .and_then(Scalar::from_value)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    pub id: Scalar,
    /// A string, number, boolean, list (multi-select) or null, depending on the field's type.
    #[serde(default)]
    pub value: Option<Value>,
}

/// How the ticket was created: `channel` (`web`, `email`, `api`, `chat`…) and its `source`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Via {
    #[serde(default)]
    pub channel: Option<Scalar>,
    #[serde(default)]
    pub source: Option<Value>,
}

/// `GET /api/v2/tickets/{id}.json`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ShowTicket {
    pub ticket: Ticket,
}

/// `GET /api/v2/tickets.json` (offset or cursor pagination). `tickets` is required: a body
/// without it is not a ticket list.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TicketList {
    pub tickets: Vec<Ticket>,
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub previous_page: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
}

/// `GET /api/v2/search.json`: results of mixed types (`result_type`), kept raw so each can be
/// read as its own type.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SearchResults {
    pub results: Vec<Value>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub previous_page: Option<String>,
    #[serde(default)]
    pub facets: Option<Value>,
}

/// Zendesk's error body, e.g. `{"error": "Couldn't authenticate you"}` or
/// `{"error": "unavailable", "description": "…"}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ApiError {
    pub error: Value,
    #[serde(default)]
    pub description: Option<String>,
}

/// A ticket audit (`GET /api/v2/tickets/{id}/audits` → `{"audits": […]}`): one update of a
/// ticket, with the events it made (`Create`, `Change`, `Comment`, `Notification`…). Events are
/// kept raw: Zendesk has about forty event types and adds more, and each is read on its own.
/// Reference: <https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/>.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub id: Scalar,
    #[serde(default)]
    pub ticket_id: Option<Scalar>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub author_id: Option<Scalar>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub via: Option<Via>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<Value>,
}

/// `GET /api/v2/tickets/{id}/audits` (cursor pagination). `audits` is required; entries stay
/// raw so one bad audit does not spoil the page.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AuditList {
    pub audits: Vec<Value>,
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub previous_page: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
}

/// One record of the incremental ticket event export
/// (`GET /api/v2/incremental/ticket_events.json?start_time=…`): an update of a ticket, its time
/// as epoch seconds (`timestamp`) and ISO (`created_at`), and its `child_events`. A `Change`
/// child names the changed field as its own key (`"status": "solved"`) with `previous_value`.
/// Reference: <https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-event-export>.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncrementalTicketEvent {
    pub id: Scalar,
    #[serde(default)]
    pub ticket_id: Option<Scalar>,
    #[serde(default)]
    pub timestamp: Option<Value>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updater_id: Option<Scalar>,
    #[serde(default)]
    pub via: Option<Value>,
    #[serde(default)]
    pub system: Option<Value>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub child_events: Vec<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub merged_ticket_ids: Vec<Value>,
}

/// `{"ticket_events": […], "count", "end_of_stream", "end_time", "next_page"}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct IncrementalTicketEvents {
    pub ticket_events: Vec<Value>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub end_of_stream: Option<bool>,
    #[serde(default)]
    pub end_time: Option<Value>,
    #[serde(default)]
    pub next_page: Option<String>,
}

/// Where Zendesk tickets carry the conversation id (`queue.conversation_field`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZendeskLookup {
    /// `external_id` (default): List Tickets filtered by external id. Not indexed, so no delay.
    ExternalId,
    /// `custom_field:<id>`: the Search API (indexing delay of up to a few minutes).
    CustomField(String),
}

impl ZendeskLookup {
    pub fn parse(field: Option<&str>) -> Result<Self, QueueError> {
        match field {
            None | Some("external_id") => Ok(ZendeskLookup::ExternalId),
            Some(f) => match f.strip_prefix("custom_field:") {
                Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(ZendeskLookup::CustomField(id.to_owned()))
                }
                _ => Err(QueueError::Config(format!(
                    "`conversation_field: {f}` is neither `external_id` nor `custom_field:<numeric field id>`"
                ))),
            },
        }
    }
}

/// Zendesk's (and the reference agent's) queue.
#[derive(Debug)]
pub struct ZendeskQueue {
    system: QueueKind,
    http: Http,
    base: Url,
    lookup: ZendeskLookup,
}

impl ZendeskQueue {
    pub(crate) fn new(system: QueueKind, http: Http, base: Url, lookup: ZendeskLookup) -> Self {
        Self {
            system,
            http,
            base,
            lookup,
        }
    }

    fn request_url(&self, conversation: &str) -> Result<Url, QueueError> {
        let mut url = match &self.lookup {
            ZendeskLookup::ExternalId => below(&self.base, "api/v2/tickets.json")?,
            ZendeskLookup::CustomField(_) => below(&self.base, "api/v2/search.json")?,
        };
        match &self.lookup {
            ZendeskLookup::ExternalId => {
                url.query_pairs_mut()
                    .append_pair("external_id", conversation);
            }
            ZendeskLookup::CustomField(id) => {
                let quoted = conversation.replace('"', "\\\"");
                url.query_pairs_mut().append_pair(
                    "query",
                    &format!("type:ticket custom_field_{id}:\"{quoted}\""),
                );
            }
        }
        Ok(url)
    }

    /// The tickets in a body, each with its raw JSON; a body of the wrong shape is an error.
    fn tickets(&self, url: &str, body: Value) -> Result<Vec<(Ticket, Value)>, QueueError> {
        let system = self.http.system;
        let raw: Vec<Value> = match &self.lookup {
            ZendeskLookup::ExternalId => {
                let list: RawList =
                    from_json(system, url, body, "a ticket list `{\"tickets\": […]}`")?;
                list.tickets
            }
            ZendeskLookup::CustomField(_) => {
                let found: SearchResults =
                    from_json(system, url, body, "search results `{\"results\": […]}`")?;
                found
                    .results
                    .into_iter()
                    .filter(|r| r.get("result_type").and_then(Value::as_str) == Some("ticket"))
                    .collect()
            }
        };
        raw.into_iter()
            .map(|value| {
                let ticket: Ticket = from_json(system, url, value.clone(), "tickets with an `id`")?;
                Ok((ticket, value))
            })
            .collect()
    }

    fn carries(&self, ticket: &Ticket, conversation: &str) -> bool {
        match &self.lookup {
            ZendeskLookup::ExternalId => ticket
                .external_id
                .as_ref()
                .is_some_and(|e| e.as_str() == conversation),
            ZendeskLookup::CustomField(id) => ticket
                .custom_field(id)
                .is_some_and(|v| v.as_str() == conversation),
        }
    }
}

/// The list envelope with tickets left raw, so each keeps its JSON for evidence.
#[derive(Deserialize)]
struct RawList {
    tickets: Vec<Value>,
}

#[async_trait]
impl HandoverQueue for ZendeskQueue {
    async fn find_handover(&self, query: &HandoverQuery) -> Lookup {
        let url = match self.request_url(&query.conversation_id) {
            Ok(url) => url,
            Err(err) => return Lookup::failed(err, vec![]),
        };
        let (exchange, body) = self.http.get(url).await;
        let shown = exchange.url.clone();
        let outcome = body.and_then(|body| {
            let tickets = self.tickets(&shown, body)?;
            let mut matching: Vec<(Ticket, Value)> = tickets
                .into_iter()
                .filter(|(t, _)| self.carries(t, &query.conversation_id))
                .collect();
            // Several tickets may carry one external id; the handover is the first created.
            matching.sort_by_key(|(t, _)| t.created_at.as_deref().and_then(parse_timestamp));
            Ok(matching
                .into_iter()
                .next()
                .map(|(t, raw)| to_handover(self.system, t, raw, &query.conversation_id)))
        });
        Lookup::new(outcome, vec![exchange])
    }

    fn describe(&self) -> String {
        let how = match &self.lookup {
            ZendeskLookup::ExternalId => "tickets by external_id".to_owned(),
            ZendeskLookup::CustomField(id) => format!("ticket search on custom field {id}"),
        };
        let what = match self.system {
            QueueKind::Reference => "reference agent queue (Zendesk shape)",
            _ => "Zendesk",
        };
        format!("{what} at {} ({how})", self.base)
    }
}

fn to_handover(system: QueueKind, t: Ticket, raw: Value, conversation: &str) -> HandoverTicket {
    HandoverTicket {
        system,
        id: t.id.0,
        created_at: t.created_at.as_deref().and_then(parse_timestamp),
        conversation_id: Some(conversation.to_owned()),
        customer_ref: t.requester_id.map(|r| r.0),
        context: t.description.filter(|d| !d.trim().is_empty()),
        priority: t.priority,
        tags: t.tags,
        queue: t.group_id.map(|g| g.0),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_reads_with_numbers_or_strings_and_nulls() {
        let t: Ticket = serde_json::from_str(
            r#"{"id": "35436", "external_id": 77, "tags": null, "custom_fields": [
                {"id": 27642, "value": "745"}, {"id": "27648", "value": true}, {"id": 1, "value": null}],
                "via": {"channel": "web"}, "group_id": null, "unknown_field": {"x": 1}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.id.as_str(), "35436");
        assert_eq!(t.external_id.as_ref().map(Scalar::as_str), Some("77"));
        assert!(t.tags.is_empty());
        assert_eq!(t.custom_field("27642").map(|s| s.0), Some("745".into()));
        assert_eq!(t.custom_field("27648").map(|s| s.0), Some("true".into()));
        assert_eq!(t.custom_field("1"), None);
        assert_eq!(t.group_id, None);
    }

    #[test]
    fn a_list_without_tickets_is_not_an_empty_list() {
        assert!(serde_json::from_str::<TicketList>(r#"{"results": []}"#).is_err());
        assert!(serde_json::from_str::<TicketList>(r#"{"tickets": {"id": 1}}"#).is_err());
        assert!(
            serde_json::from_str::<TicketList>(r#"{"tickets": [{"subject": "no id"}]}"#).is_err()
        );
        let empty: TicketList = serde_json::from_str(r#"{"tickets": [], "count": 0}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(empty.tickets.is_empty());
    }

    #[test]
    fn the_conversation_field_setting() {
        assert_eq!(
            ZendeskLookup::parse(None).ok(),
            Some(ZendeskLookup::ExternalId)
        );
        assert_eq!(
            ZendeskLookup::parse(Some("custom_field:360001")).ok(),
            Some(ZendeskLookup::CustomField("360001".into()))
        );
        assert!(ZendeskLookup::parse(Some("custom_field:abc")).is_err());
        assert!(ZendeskLookup::parse(Some("tags")).is_err());
    }
}
