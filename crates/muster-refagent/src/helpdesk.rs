//! The handover queue served in Zendesk's ticket shape (Tickets API and Search API), so the control
//! drill reads the reference agent's queue with the same adapter it uses on a real Zendesk.
//!
//! Served under `/admin/handover-queue` (the queue's `url` in the reference manifest):
//! `GET …/api/v2/tickets.json?external_id=…` (List Tickets by external id),
//! `GET …/api/v2/tickets/{id}.json` (Show Ticket) and `GET …/api/v2/search.json?query=…` (Search,
//! `type:ticket`, `external_id:`, `tags:` and free words). The conversation id is the ticket's
//! `external_id`; the customer reference is the requester (`requester_id`) and custom field
//! [`CUSTOMER_REF_FIELD`].

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::crm::Ticket;
use crate::server::AppState;

/// The custom field holding the customer's account reference.
pub const CUSTOMER_REF_FIELD: u64 = 360_000_000_001;

/// Zendesk group ids for the agent's queues.
fn group_id(queue: &str) -> u64 {
    match queue {
        "vulnerable-customers" => 360_000_000_101,
        "bereavement" => 360_000_000_102,
        "financial-support" => 360_000_000_103,
        "returns" => 360_000_000_104,
        "fraud-security" => 360_000_000_105,
        "complaints" => 360_000_000_106,
        _ => 360_000_000_100,
    }
}

fn number(id: &str) -> u64 {
    id.trim_start_matches("HT-").parse().unwrap_or(0)
}

/// The ticket's first comment: the summary and the transcript, as a chat integration writes them.
fn description(t: &Ticket) -> String {
    if t.summary.is_empty() && t.transcript.is_empty() {
        // What an integration that drops the chat payload leaves behind.
        return "Conversation transferred from web chat.".to_owned();
    }
    let mut text = format!("Summary: {}\n\nTranscript:\n", t.summary);
    for line in &t.transcript {
        let role = match line.get("role").and_then(Value::as_str) {
            Some("customer") => "Customer",
            Some("agent") => "Assistant",
            _ => "Note",
        };
        let said = line.get("text").and_then(Value::as_str).unwrap_or_default();
        text.push_str(&format!("{role}: {said}\n"));
    }
    text
}

fn ticket_json(base: &str, t: &Ticket) -> Value {
    let id = number(&t.id);
    json!({
        "url": format!("{base}/admin/handover-queue/api/v2/tickets/{id}.json"),
        "id": id,
        "external_id": t.conversation_id,
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": null}},
        "created_at": t.created_at,
        "updated_at": t.created_at,
        "type": "question",
        "subject": format!("Chat handover: {}", t.queue),
        "raw_subject": format!("Chat handover: {}", t.queue),
        "description": description(t),
        "priority": t.priority,
        "status": "new",
        "recipient": null,
        "requester_id": t.customer_ref,
        "submitter_id": 0,
        "assignee_id": null,
        "organization_id": null,
        "group_id": group_id(&t.queue),
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": null,
        "problem_id": null,
        "has_incidents": false,
        "is_public": true,
        "due_at": null,
        "tags": ["ai-handover", t.queue.replace('-', "_")],
        "custom_fields": [{"id": CUSTOMER_REF_FIELD, "value": t.customer_ref}],
        "satisfaction_rating": null,
        "sharing_agreement_ids": [],
        "fields": [{"id": CUSTOMER_REF_FIELD, "value": t.customer_ref}],
        "followup_ids": [],
        "brand_id": 360_000_000_001u64,
        "allow_channelback": false,
        "allow_attachments": true,
        "from_messaging_channel": false
    })
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn zendesk_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "description": description})),
    )
        .into_response()
}

async fn tickets(state: &AppState) -> Result<Vec<Ticket>, Response> {
    state.crm.tickets().await.map_err(|e| {
        zendesk_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "DatabaseError",
            &e.to_string(),
        )
    })
}

/// `GET /api/v2/tickets.json`, optionally filtered by `external_id`.
pub(crate) async fn list_tickets(
    State(state): State<std::sync::Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let all = match tickets(&state).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let base = base_url(&headers);
    let wanted = params.get("external_id");
    let found: Vec<Value> = all
        .iter()
        .filter(|t| wanted.is_none_or(|w| &t.conversation_id == w))
        .map(|t| ticket_json(&base, t))
        .collect();
    Json(json!({"tickets": found, "next_page": null, "previous_page": null, "count": found.len()}))
        .into_response()
}

/// `GET /api/v2/tickets/{id}.json`.
pub(crate) async fn show_ticket(
    State(state): State<std::sync::Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let all = match tickets(&state).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let wanted: u64 = id.trim_end_matches(".json").parse().unwrap_or(0);
    match all.iter().find(|t| number(&t.id) == wanted) {
        Some(t) => Json(json!({"ticket": ticket_json(&base_url(&headers), t)})).into_response(),
        None => zendesk_error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found"),
    }
}

/// `GET /api/v2/search.json?query=…`: tickets only, by `external_id:`, `tags:` and free words.
pub(crate) async fn search(
    State(state): State<std::sync::Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query").filter(|q| !q.trim().is_empty()) else {
        return zendesk_error(
            StatusCode::BAD_REQUEST,
            "InvalidEndpoint",
            "Search query is required",
        );
    };
    let all = match tickets(&state).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let base = base_url(&headers);
    let terms: Vec<&str> = query.split_whitespace().collect();
    let wants_other_type = terms
        .iter()
        .any(|t| t.strip_prefix("type:").is_some_and(|ty| ty != "ticket"));
    let results: Vec<Value> = if wants_other_type {
        Vec::new()
    } else {
        all.iter()
            .map(|t| ticket_json(&base, t))
            .filter(|doc| terms.iter().all(|term| search_term_matches(doc, term)))
            .map(|mut doc| {
                if let Some(o) = doc.as_object_mut() {
                    o.insert("result_type".into(), json!("ticket"));
                }
                doc
            })
            .collect()
    };
    Json(json!({"results": results, "facets": null, "next_page": null, "previous_page": null, "count": results.len()}))
        .into_response()
}

fn search_term_matches(doc: &Value, term: &str) -> bool {
    let unquote = |s: &str| s.trim_matches('"').to_owned();
    if term.starts_with("type:") {
        return true;
    }
    if let Some(v) = term.strip_prefix("external_id:") {
        return doc.get("external_id").and_then(Value::as_str) == Some(unquote(v).as_str());
    }
    if let Some(v) = term
        .strip_prefix("tags:")
        .or_else(|| term.strip_prefix("tag:"))
    {
        let v = unquote(v);
        return doc
            .get("tags")
            .and_then(Value::as_array)
            .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(v.as_str())));
    }
    let word = unquote(term).to_lowercase();
    doc.to_string().to_lowercase().contains(&word)
}
