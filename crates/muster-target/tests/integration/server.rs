//! A scripted agent on 127.0.0.1:0 that records what it received.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Clone, Default)]
pub struct Seen {
    pub requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    /// Calls to the retry routes so far.
    pub calls: Arc<AtomicUsize>,
    /// Requests in progress now, and the most seen at once.
    pub in_flight: Arc<AtomicUsize>,
    pub most_in_flight: Arc<AtomicUsize>,
}

impl Seen {
    pub fn all(&self) -> Vec<(HeaderMap, Value)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
    fn push(&self, headers: HeaderMap, body: Value) {
        if let Ok(mut r) = self.requests.lock() {
            r.push((headers, body));
        }
    }
}

async fn open(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    seen.push(headers, body);
    (
        StatusCode::CREATED,
        Json(json!({"conversation_id": "conv-42"})),
    )
}

async fn message(
    State(seen): State<Seen>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    seen.push(headers, body.clone());
    let text = body["message"].as_str().unwrap_or_default().to_owned();
    Json(json!({
        "data": {
            "answer": format!("[{id}] you said: {text}"),
            "actions": [{"tool": "process_return", "args": "{\"amount\": 749}", "outcome": {"status": "refunded"}}],
            "state": {"human": text.contains("human"), "kb": "kb-7", "score": 0.4}
        }
    }))
}

async fn chat(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    seen.push(headers, body.clone());
    let turns = body["messages"].as_array().map_or(0, Vec::len);
    Json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant",
            "content": format!("seen {turns} messages"),
            "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "issue_credit", "arguments": "{\"amount\": 20}"}}]
        }}],
        "ext": {"results": [{"tool_call_id": "call_9", "content": {"credited": 20}}], "handover": {"active": false}, "kb": "v3"}
    }))
}

async fn slow() -> impl IntoResponse {
    tokio::time::sleep(Duration::from_secs(3)).await;
    Json(json!({"reply": "too late"}))
}

async fn not_json() -> impl IntoResponse {
    (StatusCode::OK, "<html>maintenance</html>")
}

async fn unavailable() -> impl IntoResponse {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": "overloaded"})),
    )
}

async fn wrong_shape() -> impl IntoResponse {
    Json(json!({"reply": {"nested": true}}))
}

fn answer(text: &str) -> Value {
    json!({"data": {"answer": text, "actions": [], "state": {"human": false, "kb": "kb-7", "score": 0.9}}})
}

/// 503 with `Retry-After: 0` twice, then an answer.
async fn flaky(State(seen): State<Seen>) -> axum::response::Response {
    if seen.calls.fetch_add(1, Ordering::SeqCst) < 2 {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "0")],
            Json(json!({"error": "warming up"})),
        )
            .into_response()
    } else {
        Json(answer("third time lucky")).into_response()
    }
}

/// Always 429, asking for a one-second pause.
async fn busy(State(seen): State<Seen>) -> impl IntoResponse {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "1")],
        Json(json!({"error": "slow down"})),
    )
}

/// Always 429, asking for an hour.
async fn busy_long(State(seen): State<Seen>) -> impl IntoResponse {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "3600")],
        Json(json!({"error": "come back later"})),
    )
}

/// A 500 is never retried.
async fn broken(State(seen): State<Seen>) -> impl IntoResponse {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": "boom"})),
    )
}

/// Holds each request 100 ms and records the most in flight at once.
async fn held(State(seen): State<Seen>) -> impl IntoResponse {
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    seen.most_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    Json(answer("held"))
}

async fn redirect() -> impl IntoResponse {
    (StatusCode::FOUND, [("location", "http://example.com/")], "")
}

pub async fn start() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/api/conversations", post(open))
        .route("/api/conversations/{id}/messages", post(message))
        .route("/v1/chat/completions", post(chat))
        .route("/slow", post(slow))
        .route("/not-json", post(not_json))
        .route("/unavailable", post(unavailable))
        .route("/wrong-shape", post(wrong_shape))
        .route("/redirect", post(redirect))
        .route("/flaky", post(flaky))
        .route("/busy", post(busy))
        .route("/busy-long", post(busy_long))
        .route("/broken", post(broken))
        .route("/held", post(held))
        .with_state(seen.clone());
    (serve(app).await, seen)
}

/// Serve `app` on a free port of 127.0.0.1; its base URL.
pub async fn serve(app: Router) -> String {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
