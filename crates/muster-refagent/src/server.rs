//! The HTTP surface: the native JSON API, the OpenAI-compatible endpoint and the admin routes
//! drills use to plant and remove test data. Bad input always gets a JSON error, never a 500.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::RefAgentConfig;
use crate::brain::{self, Context, Conversation, Reply};
use crate::crm::Crm;
use crate::kb::{KB_VERSION, KnowledgeBase};

/// What undoes one planted fixture.
#[derive(Clone, Debug)]
enum Undo {
    Note(i64),
    ReturnNote {
        order: String,
        previous: Option<String>,
    },
    Article {
        id: String,
        version: u32,
    },
}

/// Shared state of a running agent.
pub struct AppState {
    pub(crate) crm: Crm,
    pub(crate) kb: KnowledgeBase,
    pub(crate) config: RefAgentConfig,
    conversations: std::sync::Mutex<HashMap<String, Arc<Mutex<Conversation>>>>,
    fixtures: std::sync::Mutex<HashMap<String, Undo>>,
    counter: AtomicU64,
    /// Only with a model configured.
    http: Option<reqwest::Client>,
}

impl AppState {
    pub(crate) fn new(crm: Crm, config: RefAgentConfig, http: Option<reqwest::Client>) -> Self {
        Self {
            crm,
            kb: KnowledgeBase::built_in(),
            config,
            conversations: std::sync::Mutex::new(HashMap::new()),
            fixtures: std::sync::Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            http,
        }
    }

    fn next_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{:06}",
            self.counter.fetch_add(1, Ordering::Relaxed) + 1
        )
    }

    fn conversation(&self, id: &str) -> Option<Arc<Mutex<Conversation>>> {
        self.conversations.lock().ok()?.get(id).cloned()
    }

    fn insert_conversation(&self, conv: Conversation) -> Arc<Mutex<Conversation>> {
        let id = conv.id.clone();
        let entry = Arc::new(Mutex::new(conv));
        if let Ok(mut map) = self.conversations.lock() {
            map.entry(id).or_insert_with(|| entry.clone()).clone()
        } else {
            entry
        }
    }

    fn mode(&self) -> &'static str {
        if self.config.flaws.is_empty() {
            "hardened"
        } else if self.config.flaws == crate::FlawSet::all() {
            "flawed"
        } else {
            "custom"
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/api/conversations", post(open_conversation))
        .route("/api/conversations/{id}/messages", post(native_message))
        .route("/v1/chat/completions", post(chat_completion))
        .route("/admin/fixtures/billing-notes", post(plant_note))
        .route("/admin/fixtures/order-notes", post(plant_return_note))
        .route("/admin/fixtures/kb-articles", post(plant_article))
        .route("/admin/fixtures/{id}", delete(remove_fixture))
        .route("/admin/customers", get(customer_list))
        .route("/admin/customers/{reference}", get(customer_record))
        .route("/admin/audit", get(audit))
        .route("/admin/handover-queue", get(handover_queue))
        .route("/admin/kb", get(kb_articles))
        .with_state(state)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message.into()}})),
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "crm_unavailable",
        format!("the CRM could not be reached: {e}"),
    )
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

fn string_field<'a>(body: &'a Value, name: &str) -> Result<&'a str, Response> {
    match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            format!("`{name}` must be non-empty text"),
        )),
        None => Err(error(
            StatusCode::BAD_REQUEST,
            "missing_field",
            format!("`{name}` is required"),
        )),
    }
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    Json(json!({
        "status": "ok",
        "agent": "larkspur-support",
        "mode": state.mode(),
        "flaws": state.config.flaws.iter().map(|f| f.id()).collect::<Vec<_>>(),
        "kb_version": KB_VERSION,
        "model": state.config.model.as_ref().map(|m| m.model.clone()),
    }))
    .into_response()
}

async fn open_conversation(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let customer_ref = match string_field(&body, "customer_ref") {
        Ok(c) => c.to_owned(),
        Err(r) => return r,
    };
    match state.crm.customer(&customer_ref).await {
        Err(e) => return internal(e),
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "unknown_customer",
                format!("no customer `{customer_ref}`"),
            );
        }
        Ok(Some(_)) => {}
    }
    let id = state.next_id("c");
    state.insert_conversation(Conversation {
        id: id.clone(),
        customer_ref,
        ..Conversation::default()
    });
    (StatusCode::CREATED, Json(json!({"conversation_id": id}))).into_response()
}

/// Run one turn for a conversation (shared by both interfaces).
async fn turn(
    state: &AppState,
    conversation: &Arc<Mutex<Conversation>>,
    message: &str,
) -> Result<(Reply, Conversation), Response> {
    let mut conv = conversation.lock().await;
    let customer = match state.crm.customer(&conv.customer_ref).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(error(
                StatusCode::NOT_FOUND,
                "unknown_customer",
                "the conversation's customer no longer exists",
            ));
        }
        Err(e) => return Err(internal(e)),
    };
    let reply = match &state.config.model {
        Some(model) => crate::model::respond(state, model, &mut conv, &customer, message)
            .await
            .map_err(|e| error(StatusCode::BAD_GATEWAY, "model_error", e.to_string()))?,
        None => {
            let ctx = Context {
                crm: &state.crm,
                kb: &state.kb,
                flaws: state.config.flaws,
                seed: state.config.seed,
            };
            brain::respond(&ctx, &mut conv, &customer, message)
                .await
                .map_err(internal)?
        }
    };
    Ok((reply, conv.clone()))
}

fn handover_json(conv: &Conversation) -> Value {
    match &conv.handover {
        Some((ticket, queue)) => json!({"active": true, "ticket_id": ticket, "queue": queue}),
        None => json!({"active": false, "ticket_id": null, "queue": null}),
    }
}

fn kb_json(reply: &Reply) -> Value {
    json!({"version": KB_VERSION, "articles": reply.articles.iter().map(|(id, v)| json!({"id": id, "version": v})).collect::<Vec<_>>()})
}

async fn native_message(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (customer_ref, message) = match (
        string_field(&body, "customer_ref"),
        string_field(&body, "message"),
    ) {
        (Ok(c), Ok(m)) => (c.to_owned(), m.to_owned()),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let Some(conversation) = state.conversation(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_conversation",
            format!("no conversation `{id}`"),
        );
    };
    if conversation.lock().await.customer_ref != customer_ref {
        return error(
            StatusCode::FORBIDDEN,
            "wrong_customer",
            "this conversation belongs to another customer",
        );
    }
    let (reply, conv) = match turn(&state, &conversation, &message).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    Json(json!({
        "conversation_id": conv.id,
        "turn": conv.turn,
        "reply": reply.text,
        "tool_calls": reply.tool_calls.iter().map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments, "result": c.result})).collect::<Vec<_>>(),
        "handover": handover_json(&conv),
        "confidence": reply.confidence,
        "kb": kb_json(&reply),
    }))
    .into_response()
}

fn openai_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"message": message.into(), "type": "invalid_request_error", "code": null}}))).into_response()
}

fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
        ),
        _ => None,
    }
}

async fn chat_completion(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return openai_error(StatusCode::BAD_REQUEST, "the body must be a JSON object"),
    };
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "streaming is not supported by this endpoint",
        );
    }
    let Some(messages) = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "`messages` must be a non-empty list",
        );
    };
    let user_messages: Vec<String> = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .filter_map(|m| m.get("content").and_then(content_text))
        .collect();
    let Some(last) = user_messages.last().cloned() else {
        return openai_error(StatusCode::BAD_REQUEST, "there is no user message");
    };
    let customer_ref = body
        .get("user")
        .and_then(Value::as_str)
        .or_else(|| {
            body.pointer("/metadata/customer_ref")
                .and_then(Value::as_str)
        })
        .map(str::to_owned);
    let Some(customer_ref) = customer_ref.filter(|c| !c.is_empty()) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "the signed-in customer goes in `user` (or `metadata.customer_ref`)",
        );
    };
    match state.crm.customer(&customer_ref).await {
        Err(e) => return internal(e),
        Ok(None) => {
            return openai_error(
                StatusCode::NOT_FOUND,
                format!("no customer `{customer_ref}`"),
            );
        }
        Ok(Some(_)) => {}
    }
    let conversation_id = headers
        .get("x-conversation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            body.pointer("/metadata/conversation_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| {
            format!(
                "oa-{:016x}",
                stable_hash(
                    &customer_ref,
                    user_messages.first().map_or("", String::as_str)
                )
            )
        });
    let conversation = match state.conversation(&conversation_id) {
        Some(c) => c,
        None => state.insert_conversation(Conversation {
            id: conversation_id.clone(),
            customer_ref: customer_ref.clone(),
            ..Conversation::default()
        }),
    };
    if conversation.lock().await.customer_ref != customer_ref {
        return openai_error(
            StatusCode::FORBIDDEN,
            "this conversation belongs to another customer",
        );
    }
    let (reply, conv) = match turn(&state, &conversation, &last).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let created = jiff::Timestamp::now().as_second();
    let tool_calls: Vec<Value> = reply.tool_calls.iter().map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}})).collect();
    let mut message = json!({"role": "assistant", "content": reply.text});
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    let prompt_tokens: usize = messages
        .iter()
        .filter_map(|m| m.get("content").and_then(content_text))
        .map(|t| t.split_whitespace().count())
        .sum();
    let completion_tokens = reply.text.split_whitespace().count();
    Json(json!({
        "id": format!("chatcmpl-{}-{}", conv.id, conv.turn),
        "object": "chat.completion",
        "created": created,
        "model": body.get("model").cloned().unwrap_or(json!("larkspur-support")),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        "larkspur": {
            "conversation_id": conv.id,
            "tool_results": reply.tool_calls.iter().map(|c| json!({"tool_call_id": c.id, "name": c.name, "content": c.result})).collect::<Vec<_>>(),
            "handover": handover_json(&conv),
            "confidence": reply.confidence,
            "kb": kb_json(&reply),
        }
    }))
    .into_response()
}

fn stable_hash(a: &str, b: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in a.bytes().chain([0xff]).chain(b.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn remember(state: &AppState, undo: Undo) -> Response {
    let id = state.next_id("fx");
    if let Ok(mut map) = state.fixtures.lock() {
        map.insert(id.clone(), undo);
    }
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn plant_note(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (customer, topic, text) = match (
        string_field(&body, "customer_ref"),
        string_field(&body, "topic"),
        string_field(&body, "text"),
    ) {
        (Ok(c), Ok(t), Ok(x)) => (c.to_owned(), t.to_owned(), x.to_owned()),
        (Err(r), ..) | (_, Err(r), _) | (.., Err(r)) => return r,
    };
    match state.crm.customer(&customer).await {
        Err(e) => return internal(e),
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "unknown_customer",
                format!("no customer `{customer}`"),
            );
        }
        Ok(Some(_)) => {}
    }
    match state.crm.add_note(&customer, &topic, &text).await {
        Ok(id) => remember(&state, Undo::Note(id)),
        Err(e) => internal(e),
    }
}

async fn plant_return_note(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (order, note) = match (
        string_field(&body, "order_ref"),
        string_field(&body, "note"),
    ) {
        (Ok(o), Ok(n)) => (o.to_owned(), n.to_owned()),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    match state.crm.set_return_note(&order, Some(&note)).await {
        Ok(Some(previous)) => remember(&state, Undo::ReturnNote { order, previous }),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "unknown_order",
            format!("no order `{order}`"),
        ),
        Err(e) => internal(e),
    }
}

async fn plant_article(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (id, title, text) = match (
        string_field(&body, "id"),
        string_field(&body, "title"),
        string_field(&body, "body"),
    ) {
        (Ok(i), Ok(t), Ok(b)) => (i.to_owned(), t.to_owned(), b.to_owned()),
        (Err(r), ..) | (_, Err(r), _) | (.., Err(r)) => return r,
    };
    let version = state.kb.publish(&id, &title, &text);
    remember(&state, Undo::Article { id, version })
}

async fn remove_fixture(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let undo = state.fixtures.lock().ok().and_then(|mut m| m.remove(&id));
    let Some(undo) = undo else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_fixture",
            format!("no fixture `{id}`"),
        );
    };
    let done = match undo {
        Undo::Note(note) => state.crm.delete_note(note).await.map(|_| ()),
        Undo::ReturnNote { order, previous } => state
            .crm
            .set_return_note(&order, previous.as_deref())
            .await
            .map(|_| ()),
        Undo::Article { id, version } => {
            state.kb.unpublish(&id, version);
            Ok(())
        }
    };
    match done {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => internal(e),
    }
}

async fn customer_record(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
) -> Response {
    let customer = match state.crm.customer(&reference).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "unknown_customer",
                format!("no customer `{reference}`"),
            );
        }
        Err(e) => return internal(e),
    };
    let (orders, notes, complaints) = match (
        state.crm.orders_of(&reference).await,
        state.crm.notes_of(&reference, None).await,
        state.crm.complaints_of(&reference).await,
    ) {
        (Ok(o), Ok(n), Ok(c)) => (o, n, c),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return internal(e),
    };
    let mut doc = serde_json::to_value(&customer).unwrap_or(Value::Null);
    doc["orders"] = serde_json::to_value(&orders).unwrap_or(Value::Null);
    doc["billing_notes"] = serde_json::to_value(&notes).unwrap_or(Value::Null);
    doc["complaints"] = serde_json::to_value(&complaints).unwrap_or(Value::Null);
    Json(doc).into_response()
}

async fn customer_list(State(state): State<Arc<AppState>>) -> Response {
    match state.crm.all_customers().await {
        Ok(customers) => Json(json!({"customers": customers})).into_response(),
        Err(e) => internal(e),
    }
}

async fn audit(State(state): State<Arc<AppState>>) -> Response {
    match state.crm.audit_log().await {
        Ok(entries) => Json(json!({"entries": entries})).into_response(),
        Err(e) => internal(e),
    }
}

async fn handover_queue(State(state): State<Arc<AppState>>) -> Response {
    match state.crm.tickets().await {
        Ok(tickets) => Json(json!({"tickets": tickets})).into_response(),
        Err(e) => internal(e),
    }
}

async fn kb_articles(State(state): State<Arc<AppState>>) -> Response {
    Json(json!({"version": KB_VERSION, "articles": state.kb.all()})).into_response()
}

impl AppState {
    pub(crate) fn http(&self) -> Option<&reqwest::Client> {
        self.http.as_ref()
    }
}
