//! The HTTP surface: the native JSON API, the OpenAI-compatible endpoint and the admin routes
//! drills use to plant and remove test data. Bad input always gets a JSON error, never a 500.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::{Rng, SeedableRng};

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::brain::{self, Context, Conversation, Reply};
use crate::crm::Crm;
use crate::kb::KnowledgeBase;
use crate::{RefAgentConfig, RefAgentError};

/// How long a kill-switch change takes to reach the serving fleet, as a feature flag's cache does.
const KILL_SWITCH_PROPAGATION_NS: i64 = 400_000_000;

/// The fallback every stopped conversation gets: no tool, and a route to a person.
const KILL_SWITCH_FALLBACK: &str = "Our online assistant is paused at the moment, so I can't look at or change anything on your account here. A member of our team can help: call us on 0800 048 0408 (8am-8pm) or use the contact form at larkspur.example/help.";

#[derive(Clone, Copy, Debug, Default)]
struct KillSwitch {
    /// When it was last pulled (ns), while it is engaged.
    engaged_at_ns: Option<i64>,
}

/// What undoes one planted fixture.
#[derive(Clone, Debug)]
enum Undo {
    Note(i64),
    Complaint {
        id: String,
        before: Option<crate::crm::Complaint>,
    },
    Balance {
        customer: String,
        before: f64,
    },
    Email(i64),
    OrderStatus {
        order: String,
        before: String,
    },
    ReturnNote {
        order: String,
    },
    Article {
        id: String,
        version: u32,
    },
}

#[derive(Debug)]
struct NoteLayers {
    original: crate::crm::Order,
    layers: Vec<(String, String)>,
}

/// Shared state of a running agent.
pub struct AppState {
    pub(crate) crm: Crm,
    pub(crate) kb: KnowledgeBase,
    pub(crate) config: RefAgentConfig,
    conversations: std::sync::Mutex<HashMap<String, Arc<Mutex<Conversation>>>>,
    fixtures: std::sync::Mutex<HashMap<String, Undo>>,
    /// Planted return notes, layered per order so overlapping fixtures undo cleanly, with the order
    /// as it was before the first one (a drill's refund is undone with its fixture).
    return_notes: tokio::sync::Mutex<HashMap<String, NoteLayers>>,
    counter: AtomicU64,
    kill_switch: std::sync::Mutex<KillSwitch>,
    /// Only with a model configured.
    http: Option<reqwest::Client>,
    /// Only with telemetry configured.
    telemetry: Option<crate::telemetry::Telemetry>,
}

impl AppState {
    /// A fresh agent: a newly seeded CRM, the built-in knowledge base and no conversations.
    pub async fn new(config: RefAgentConfig) -> Result<Self, RefAgentError> {
        let crm = Crm::open(config.today.unwrap_or_else(crate::today)).await?;
        let http = match (&config.model, config.telemetry.is_on()) {
            (None, false) => None,
            _ => {
                // One TLS provider process-wide (ring), as everywhere in muster.
                let _ = rustls::crypto::ring::default_provider().install_default();
                Some(
                    reqwest::Client::builder()
                        .build()
                        .map_err(|e| RefAgentError::Http(e.to_string()))?,
                )
            }
        };
        Ok(Self::from_parts(crm, config, http))
    }

    fn from_parts(crm: Crm, config: RefAgentConfig, http: Option<reqwest::Client>) -> Self {
        let telemetry = match (&http, config.telemetry.is_on()) {
            (Some(client), true) => Some(crate::telemetry::Telemetry::start(
                config.telemetry.clone(),
                client.clone(),
            )),
            _ => None,
        };
        Self {
            telemetry,
            crm,
            kb: KnowledgeBase::built_in(),
            config,
            conversations: std::sync::Mutex::new(HashMap::new()),
            fixtures: std::sync::Mutex::new(HashMap::new()),
            return_notes: tokio::sync::Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            kill_switch: std::sync::Mutex::new(KillSwitch::default()),
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

    fn insert_conversation(&self, mut conv: Conversation) -> Arc<Mutex<Conversation>> {
        if conv.opened_at_ns == 0 {
            conv.opened_at_ns = crate::now_ns();
        }
        let id = conv.id.clone();
        let entry = Arc::new(Mutex::new(conv));
        if let Ok(mut map) = self.conversations.lock() {
            map.entry(id).or_insert_with(|| entry.clone()).clone()
        } else {
            entry
        }
    }

    /// The flaws a new conversation has: every configured one, or at `flaw_rate` each one drawn
    /// from the seed and the conversation's sequence number.
    fn draw_flaws(&self) -> crate::FlawSet {
        let configured = self.config.flaws;
        if self.config.flaw_rate >= 1.0 {
            return configured;
        }
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            self.config.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        crate::Flaw::ALL
            .into_iter()
            .filter(|f| configured.contains(*f))
            .fold(crate::FlawSet::none(), |set, f| {
                if rng.random_bool(self.config.flaw_rate.clamp(0.0, 1.0)) {
                    set.with(f)
                } else {
                    set
                }
            })
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

/// Every route of the agent. Served by [`crate::start`], the admin routes answer only callers on
/// this machine; used in-process (no peer address known) they answer everyone.
pub fn router(state: AppState) -> Router {
    let state = Arc::new(state);
    let admin = Router::new()
        .route("/admin/fixtures/billing-notes", post(plant_note))
        .route("/admin/fixtures/order-notes", post(plant_return_note))
        .route("/admin/fixtures/kb-articles", post(plant_article))
        .route("/admin/fixtures/emails", post(plant_email))
        .route("/admin/fixtures/complaints", post(plant_complaint))
        .route("/admin/fixtures/balances", post(plant_balance))
        .route(
            "/admin/fixtures/delivered-orders",
            post(plant_delivered_order),
        )
        .route("/admin/fixtures/{id}", delete(remove_fixture))
        .route("/admin/customers", get(customer_list))
        .route("/admin/customers/{reference}", get(customer_record))
        .route("/admin/audit", get(audit))
        .route("/admin/handover-queue", get(handover_queue))
        .route("/admin/kb", get(kb_articles))
        .route("/admin/kb/rollback", post(kb_rollback))
        .route("/admin/kb/restore", post(kb_restore))
        .route(
            "/admin/kill-switch",
            get(kill_switch_state).post(set_kill_switch),
        )
        .route(
            "/admin/handover-queue/api/v2/tickets.json",
            get(crate::helpdesk::list_tickets),
        )
        .route(
            "/admin/handover-queue/api/v2/tickets/{id}",
            get(crate::helpdesk::show_ticket),
        )
        .route(
            "/admin/handover-queue/api/v2/search.json",
            get(crate::helpdesk::search),
        )
        .route(
            "/admin/export/salesforce/account-history.json",
            get(crate::exports::salesforce_account_history),
        )
        .route(
            "/admin/export/datadog/monitor-webhooks.jsonl",
            get(crate::exports::datadog_monitor_webhooks),
        )
        .route_layer(middleware::from_fn(loopback_only))
        .with_state(state.clone());
    Router::new()
        .route("/healthz", get(health))
        .route("/api/conversations", post(open_conversation))
        .route("/api/conversations/{id}/messages", post(native_message))
        .route("/v1/chat/completions", post(chat_completion))
        .with_state(state)
        .merge(admin)
}

/// Every route, with each conversation reply held back by `delay` first: a stand-in for a real
/// agent's model latency, so a benchmark measures how a drill copes with waiting rather than how
/// fast this agent answers on this machine.
pub fn router_with_reply_delay(state: AppState, delay: std::time::Duration) -> Router {
    let app = router(state);
    if delay.is_zero() {
        return app;
    }
    app.layer(middleware::from_fn(
        move |request: Request, next: Next| async move {
            let path = request.uri().path();
            if path == "/v1/chat/completions"
                || (path.starts_with("/api/conversations/") && path.ends_with("/messages"))
            {
                tokio::time::sleep(delay).await;
            }
            next.run(request).await
        },
    ))
}

/// Test-data fixtures and customer records are for drills run on this machine only.
async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    if peer.is_some_and(|addr| !is_loopback(addr.ip())) {
        return error(
            StatusCode::FORBIDDEN,
            "admin_loopback_only",
            "the admin routes answer only requests from this machine",
        )
        .into_response();
    }
    next.run(request).await
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// An error answer: the native API's `{"error": {code, message}}`, or OpenAI's shape.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    openai: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.openai {
            json!({"error": {"message": self.message, "type": "invalid_request_error", "code": null}})
        } else {
            json!({"error": {"code": self.code, "message": self.message}})
        };
        (self.status, Json(body)).into_response()
    }
}

type Answer = Result<Response, ApiError>;

fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
        openai: false,
    }
}

fn openai_error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code: "invalid_request_error",
        message: message.into(),
        openai: true,
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "crm_unavailable",
        format!("the CRM could not be reached: {e}"),
    )
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
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

fn string_field(body: &Value, name: &str) -> Result<String, ApiError> {
    match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
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

async fn known_customer(
    state: &AppState,
    reference: &str,
) -> Result<crate::crm::Customer, ApiError> {
    state
        .crm
        .customer(reference)
        .await
        .map_err(internal)?
        .ok_or_else(|| unknown_customer(reference))
}

fn unknown_customer(reference: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "unknown_customer",
        format!("no customer `{reference}`"),
    )
}

fn unknown_order(reference: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "unknown_order",
        format!("no order `{reference}`"),
    )
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    Json(json!({
        "status": "ok",
        "agent": "larkspur-support",
        "mode": state.mode(),
        "flaws": state.config.flaws.iter().map(crate::Flaw::id).collect::<Vec<_>>(),
        "kb_version": state.kb.release(),
        "kill_switch": state.kill_switch_engaged_at().is_some(),
        "model": state.config.model.as_ref().map(|m| m.model.clone()),
    }))
    .into_response()
}

async fn open_conversation(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let customer_ref = string_field(&body, "customer_ref")?;
    known_customer(&state, &customer_ref).await?;
    let id = state.next_id("c");
    state.insert_conversation(Conversation {
        id: id.clone(),
        customer_ref,
        flaws: state.draw_flaws(),
        ..Conversation::default()
    });
    Ok((StatusCode::CREATED, Json(json!({"conversation_id": id}))).into_response())
}

/// Run one turn for a conversation (shared by both interfaces), and report it in the agent's
/// telemetry when that is on.
async fn turn(
    state: &AppState,
    conversation: &Arc<Mutex<Conversation>>,
    message: &str,
) -> Result<(Reply, Conversation), ApiError> {
    let started_ns = crate::now_ns();
    let (reply, conv) = turn_inner(state, conversation, message).await?;
    if let Some(telemetry) = &state.telemetry {
        // This turn's two transcript entries are the last two; the history is what came before.
        let before = conv.transcript.len().saturating_sub(2);
        let history = conv.transcript[..before]
            .iter()
            .map(|e| {
                let role = if e["role"] == "customer" {
                    "user"
                } else {
                    "assistant"
                };
                (role, e["text"].as_str().unwrap_or_default().to_owned())
            })
            .collect();
        let model = state
            .config
            .model
            .as_ref()
            .map_or("larkspur-support-rules", |m| m.model.as_str());
        telemetry.turn(&crate::telemetry::TurnTrace {
            conversation_id: &conv.id,
            customer_ref: &conv.customer_ref,
            model,
            history,
            message,
            reply: &reply.text,
            tool_calls: &reply.tool_calls,
            started_ns,
            ended_ns: crate::now_ns(),
        });
    }
    Ok((reply, conv))
}

async fn turn_inner(
    state: &AppState,
    conversation: &Arc<Mutex<Conversation>>,
    message: &str,
) -> Result<(Reply, Conversation), ApiError> {
    let mut conv = conversation.lock().await;
    let customer = known_customer(state, &conv.customer_ref).await?;
    if let Some(engaged_at) = state.kill_switch_in_force() {
        let under_way = conv.opened_at_ns < engaged_at;
        if !(under_way && conv.flaws.contains(crate::Flaw::KillSwitchInFlight)) {
            conv.turn += 1;
            conv.transcript
                .push(json!({"role": "customer", "text": message}));
            conv.transcript
                .push(json!({"role": "agent", "text": KILL_SWITCH_FALLBACK}));
            let reply = Reply {
                text: KILL_SWITCH_FALLBACK.to_owned(),
                confidence: 1.0,
                ..Reply::default()
            };
            return Ok((reply, conv.clone()));
        }
    }
    let reply = match &state.config.model {
        Some(model) => crate::model::respond(state, model, &mut conv, &customer, message)
            .await
            .map_err(|e| error(StatusCode::BAD_GATEWAY, "model_error", e.to_string()))?,
        None => {
            let ctx = Context {
                crm: &state.crm,
                kb: &state.kb,
                flaws: conv.flaws,
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

fn kb_json(state: &AppState, reply: &Reply) -> Value {
    json!({"version": state.kb.release(), "articles": reply.articles.iter().map(|(id, v)| json!({"id": id, "version": v})).collect::<Vec<_>>()})
}

async fn native_message(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let body = parse_body(&body)?;
    let customer_ref = string_field(&body, "customer_ref")?;
    let message = string_field(&body, "message")?;
    let conversation = state.conversation(&id).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "unknown_conversation",
            format!("no conversation `{id}`"),
        )
    })?;
    if conversation.lock().await.customer_ref != customer_ref {
        return Err(error(
            StatusCode::FORBIDDEN,
            "wrong_customer",
            "this conversation belongs to another customer",
        ));
    }
    let (reply, conv) = turn(&state, &conversation, &message).await?;
    Ok(Json(json!({
        "conversation_id": conv.id,
        "turn": conv.turn,
        "reply": reply.text,
        "tool_calls": reply.tool_calls.iter().map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments, "result": c.result})).collect::<Vec<_>>(),
        "handover": handover_json(&conv),
        "confidence": reply.confidence,
        "kb": kb_json(&state, &reply),
    }))
    .into_response())
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
) -> Answer {
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Err(openai_error(
                StatusCode::BAD_REQUEST,
                "the body must be a JSON object",
            ));
        }
    };
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        return Err(openai_error(
            StatusCode::BAD_REQUEST,
            "streaming is not supported by this endpoint",
        ));
    }
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            openai_error(
                StatusCode::BAD_REQUEST,
                "`messages` must be a non-empty list",
            )
        })?;
    let user_messages: Vec<String> = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .filter_map(|m| m.get("content").and_then(content_text))
        .collect();
    let last = user_messages
        .last()
        .cloned()
        .ok_or_else(|| openai_error(StatusCode::BAD_REQUEST, "there is no user message"))?;
    let customer_ref = body
        .get("user")
        .and_then(Value::as_str)
        .or_else(|| {
            body.pointer("/metadata/customer_ref")
                .and_then(Value::as_str)
        })
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            openai_error(
                StatusCode::BAD_REQUEST,
                "the signed-in customer goes in `user` (or `metadata.customer_ref`)",
            )
        })?;
    known_customer(&state, &customer_ref)
        .await
        .map_err(|e| ApiError { openai: true, ..e })?;
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
            flaws: state.draw_flaws(),
            ..Conversation::default()
        }),
    };
    if conversation.lock().await.customer_ref != customer_ref {
        return Err(openai_error(
            StatusCode::FORBIDDEN,
            "this conversation belongs to another customer",
        ));
    }
    let (reply, conv) = turn(&state, &conversation, &last).await?;
    let tool_calls: Vec<Value> = reply
        .tool_calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
        .collect();
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
    Ok(Json(json!({
        "id": format!("chatcmpl-{}-{}", conv.id, conv.turn),
        "object": "chat.completion",
        "created": jiff::Timestamp::now().as_second(),
        "model": body.get("model").cloned().unwrap_or(json!("larkspur-support")),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        "larkspur": {
            "conversation_id": conv.id,
            "tool_results": reply.tool_calls.iter().map(|c| json!({"tool_call_id": c.id, "name": c.name, "content": c.result})).collect::<Vec<_>>(),
            "handover": handover_json(&conv),
            "confidence": reply.confidence,
            "kb": kb_json(&state, &reply),
        }
    }))
    .into_response())
}

/// FNV-1a over the customer and first message: a stable id for clients that send no conversation id.
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

async fn plant_note(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let customer = string_field(&body, "customer_ref")?;
    let topic = string_field(&body, "topic")?;
    let text = string_field(&body, "text")?;
    // `visibility`: `customer` (the default) or `internal` (colleagues only, e.g. fraud markers).
    let internal_only = match body.get("visibility").and_then(Value::as_str) {
        None | Some("customer") => false,
        Some("internal") => true,
        Some(other) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "bad_visibility",
                format!("visibility must be `customer` or `internal`, not `{other}`"),
            ));
        }
    };
    known_customer(&state, &customer).await?;
    let id = state
        .crm
        .add_note_for(&customer, &topic, &text, internal_only)
        .await
        .map_err(internal)?;
    Ok(remember(&state, Undo::Note(id)))
}

/// An inbound support email on a customer's account (the ticket it opened).
async fn plant_email(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let customer = string_field(&body, "customer_ref")?;
    let subject = string_field(&body, "subject")?;
    let text = string_field(&body, "body")?;
    known_customer(&state, &customer).await?;
    let id = state
        .crm
        .add_email(&customer, &subject, &text)
        .await
        .map_err(internal)?;
    Ok(remember(&state, Undo::Email(id)))
}

/// An open complaint on a customer's account — a new one, or one a previous run closed, reopened —
/// so a drill that may close it starts from an open complaint. Undone to what it was.
async fn plant_complaint(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let customer = string_field(&body, "customer_ref")?;
    let id = string_field(&body, "complaint")?;
    let summary = string_field(&body, "summary")?;
    known_customer(&state, &customer).await?;
    let complaint = crate::crm::Complaint {
        id: id.clone(),
        customer_ref: customer,
        status: "open".to_owned(),
        summary,
    };
    let before = state
        .crm
        .put_complaint(&complaint)
        .await
        .map_err(internal)?;
    Ok(remember(&state, Undo::Complaint { id, before }))
}

/// What a customer owes, so a drill that may clear a balance starts from one; undone to what it was.
async fn plant_balance(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let customer = string_field(&body, "customer_ref")?;
    // Fixture parameters arrive as text ("126"); a JSON number is accepted too.
    let balance = match body.get("balance_due") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(t)) => t.trim().trim_start_matches('£').parse::<f64>().ok(),
        _ => None,
    }
    .filter(|b| b.is_finite() && *b >= 0.0)
    .ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_balance",
            "balance_due must be an amount of at least 0, e.g. \"126\" or 126".to_owned(),
        )
    })?;
    let before = state
        .crm
        .set_balance(&customer, balance)
        .await
        .map_err(internal)?
        .ok_or_else(|| unknown_customer(&customer))?;
    Ok(remember(&state, Undo::Balance { customer, before }))
}

/// An order delivered and not returned, so a drill that may refund it starts from a returnable
/// order whatever an earlier run refunded; undone to the status it had.
async fn plant_delivered_order(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let order = string_field(&body, "order_ref")?;
    let before = state
        .crm
        .set_order_status(&order, "delivered")
        .await
        .map_err(internal)?
        .ok_or_else(|| unknown_order(&order))?;
    Ok(remember(&state, Undo::OrderStatus { order, before }))
}

async fn plant_return_note(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let order = string_field(&body, "order_ref")?;
    let note = string_field(&body, "note")?;
    let mut overlays = state.return_notes.lock().await;
    let original = match overlays.get(&order) {
        Some(o) => o.original.clone(),
        None => state
            .crm
            .order(&order)
            .await
            .map_err(internal)?
            .ok_or_else(|| unknown_order(&order))?,
    };
    state
        .crm
        .set_return_note(&order, Some(&note))
        .await
        .map_err(internal)?;
    let id = state.next_id("fx");
    overlays
        .entry(order.clone())
        .or_insert_with(|| NoteLayers {
            original,
            layers: Vec::new(),
        })
        .layers
        .push((id.clone(), note));
    if let Ok(mut map) = state.fixtures.lock() {
        map.insert(id.clone(), Undo::ReturnNote { order });
    }
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn plant_article(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let id = string_field(&body, "id")?;
    let title = string_field(&body, "title")?;
    let text = string_field(&body, "body")?;
    let version = state.kb.publish(&id, &title, &text);
    Ok(remember(&state, Undo::Article { id, version }))
}

async fn remove_fixture(
    State(state): State<Arc<AppState>>,
    Path(fixture_id): Path<String>,
) -> Answer {
    let undo = state
        .fixtures
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&fixture_id));
    let undo = undo.ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "unknown_fixture",
            format!("no fixture `{fixture_id}`"),
        )
    })?;
    match undo {
        Undo::Note(note) => {
            state.crm.delete_note(note).await.map_err(internal)?;
        }
        Undo::Email(email) => {
            state.crm.delete_email(email).await.map_err(internal)?;
        }
        Undo::Complaint { id, before } => {
            match before {
                Some(complaint) => state.crm.put_complaint(&complaint).await.map(|_| ()),
                None => state.crm.delete_complaint(&id).await.map(|_| ()),
            }
            .map_err(internal)?;
        }
        Undo::Balance { customer, before } => {
            state
                .crm
                .set_balance(&customer, before)
                .await
                .map_err(internal)?;
        }
        Undo::Article { id, version } => {
            state.kb.unpublish(&id, version);
        }
        Undo::OrderStatus { order, before } => {
            state
                .crm
                .set_order_status(&order, &before)
                .await
                .map_err(internal)?;
        }
        Undo::ReturnNote { order } => {
            let mut overlays = state.return_notes.lock().await;
            if let Some(overlay) = overlays.get_mut(&order) {
                overlay.layers.retain(|(fx, _)| *fx != fixture_id);
                match overlay.layers.last() {
                    Some((_, note)) => {
                        state
                            .crm
                            .set_return_note(&order, Some(note))
                            .await
                            .map_err(internal)?;
                    }
                    None => {
                        // The last layer is gone: put the order back as it was, undoing any refund.
                        let original = overlay.original.clone();
                        overlays.remove(&order);
                        state.crm.restore_order(&original).await.map_err(internal)?;
                    }
                }
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn customer_record(
    State(state): State<Arc<AppState>>,
    Path(reference): Path<String>,
) -> Answer {
    let customer = known_customer(&state, &reference).await?;
    let orders = state.crm.orders_of(&reference).await.map_err(internal)?;
    let notes = state
        .crm
        .notes_of(&reference, None)
        .await
        .map_err(internal)?;
    let complaints = state
        .crm
        .complaints_of(&reference)
        .await
        .map_err(internal)?;
    let mut doc = serde_json::to_value(&customer).unwrap_or(Value::Null);
    doc["orders"] = serde_json::to_value(&orders).unwrap_or(Value::Null);
    doc["billing_notes"] = serde_json::to_value(&notes).unwrap_or(Value::Null);
    doc["complaints"] = serde_json::to_value(&complaints).unwrap_or(Value::Null);
    Ok(Json(doc).into_response())
}

async fn customer_list(State(state): State<Arc<AppState>>) -> Answer {
    let customers = state.crm.all_customers().await.map_err(internal)?;
    Ok(Json(json!({"customers": customers})).into_response())
}

async fn audit(State(state): State<Arc<AppState>>) -> Answer {
    let entries = state.crm.audit_log().await.map_err(internal)?;
    Ok(Json(json!({"entries": entries})).into_response())
}

async fn handover_queue(State(state): State<Arc<AppState>>) -> Answer {
    let tickets = state.crm.tickets().await.map_err(internal)?;
    Ok(Json(json!({"tickets": tickets})).into_response())
}

async fn kb_articles(State(state): State<Arc<AppState>>) -> Response {
    Json(json!({"version": state.kb.release(), "releases": state.kb.releases(), "articles": state.kb.all()})).into_response()
}

async fn kb_rollback(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let version = string_field(&body, "version")?;
    let release = state.kb.roll_back_to(&version).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "unknown_release",
            format!(
                "no content release `{version}`; releases: {}",
                state.kb.releases().join(", ")
            ),
        )
    })?;
    Ok(Json(json!({"version": release})).into_response())
}

async fn kb_restore(State(state): State<Arc<AppState>>) -> Response {
    Json(json!({"version": state.kb.restore_latest()})).into_response()
}

fn kill_switch_json(state: &AppState) -> Value {
    let engaged_at = state.kill_switch_engaged_at();
    json!({
        "engaged": engaged_at.is_some(),
        "engaged_at": engaged_at.map(crate::rfc3339),
    })
}

async fn kill_switch_state(State(state): State<Arc<AppState>>) -> Response {
    Json(kill_switch_json(&state)).into_response()
}

/// `{"engaged": true}` pulls the switch, `{"engaged": false}` restores service.
async fn set_kill_switch(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    let engaged = body
        .get("engaged")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body needs `engaged`: true or false",
            )
        })?;
    if let Ok(mut k) = state.kill_switch.lock() {
        match (engaged, k.engaged_at_ns) {
            (true, None) => k.engaged_at_ns = Some(crate::now_ns()),
            (false, _) => k.engaged_at_ns = None,
            (true, Some(_)) => {}
        }
    }
    Ok(Json(kill_switch_json(&state)).into_response())
}

impl AppState {
    /// When the switch was pulled, while it is engaged.
    fn kill_switch_engaged_at(&self) -> Option<i64> {
        self.kill_switch.lock().ok().and_then(|k| k.engaged_at_ns)
    }

    /// The switch as the serving fleet sees it: engaged once the change has propagated.
    fn kill_switch_in_force(&self) -> Option<i64> {
        self.kill_switch_engaged_at()
            .filter(|at| crate::now_ns() >= at + KILL_SWITCH_PROPAGATION_NS)
    }

    pub(crate) fn http(&self) -> Option<&reqwest::Client> {
        self.http.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        assert!(is_loopback(IpAddr::from([127, 0, 0, 1])));
        assert!(is_loopback(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)));
        assert!(is_loopback(IpAddr::from(
            std::net::Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped()
        )));
        assert!(!is_loopback(IpAddr::from([192, 168, 1, 20])));
        assert!(!is_loopback(IpAddr::from([0, 0, 0, 0])));
    }
}
