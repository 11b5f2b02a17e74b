//! The `anthropic-messages` adapter against a local server that checks the request the Messages API
//! documents and answers with the API's own documented example payloads.
//!
//! The payloads below are copied verbatim from Anthropic's documentation (source URL beside each),
//! as the pages read when this was written (later versions of a page may name a newer model).
//! Where a case needs a shape the documentation gives no single example of, it is built from a
//! documented payload and says so.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_target::{Target, TurnError, TurnOutcome};
use serde_json::{Value, json};

const SECRET: &str = "sk-ant-test-secret-0042";
const KEY_ENV: &str = "MUSTER_TEST_ANTHROPIC_KEY";

/// Source: https://platform.claude.com/docs/en/build-with-claude/working-with-messages
/// ("Basic request and response", the JSON response).
const TEXT_RESPONSE: &str = r#"{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "content": [
    {
      "type": "text",
      "text": "Hello!"
    }
  ],
  "model": "claude-opus-4-6",
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 12,
    "output_tokens": 6
  }
}"#;

/// Source: https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use
/// ("Example API response with a `tool_use` content block").
const TOOL_USE_RESPONSE: &str = r#"{
  "id": "msg_01Aq9w938a90dw8q",
  "model": "claude-sonnet-4-5",
  "stop_reason": "tool_use",
  "role": "assistant",
  "content": [
    {
      "type": "text",
      "text": "I'll check the current weather in San Francisco for you."
    },
    {
      "type": "tool_use",
      "id": "toolu_01A09q90qw90lq917835lq9",
      "name": "get_weather",
      "input": {"location": "San Francisco, CA", "unit": "celsius"}
    }
  ]
}"#;

/// Source: https://platform.claude.com/docs/en/build-with-claude/streaming
/// ("Basic streaming request", the response).
const STREAM_TEXT: &str = r#"event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}

"#;

/// Source: https://platform.claude.com/docs/en/build-with-claude/streaming
/// ("Streaming request with tool use", the response).
const STREAM_TOOL_USE: &str = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":","}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" let"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"'s"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" check"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" weather"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" for"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" San"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" Francisco"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":","}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" CA"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":":"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" Francisc"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"o,"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" CA\""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", "}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"unit\": \"fah"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"renheit\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}
"#;

/// Source: https://platform.claude.com/docs/en/build-with-claude/streaming ("Error events").
const STREAM_ERROR_EVENT: &str = r#"event: error
data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
"#;

/// Source: https://platform.claude.com/docs/en/api/errors ("Error shapes").
const ERROR_RESPONSE: &str = r#"{
  "type": "error",
  "error": {
    "type": "not_found_error",
    "message": "The requested resource could not be found."
  },
  "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
}"#;

fn doc(text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("a committed example is not JSON: {e}"),
    }
}

#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    /// Ways a request departed from the documented Messages API request.
    problems: Arc<Mutex<Vec<String>>>,
}

impl Seen {
    fn requests(&self) -> Vec<(HeaderMap, Value)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
    fn problems(&self) -> Vec<String> {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// What the documented request must look like: the key in `x-api-key`, an `anthropic-version`, a
/// JSON body with `model`, `max_tokens` and `messages` alternating user/assistant from and to the
/// customer.
fn check_request(headers: &HeaderMap, body: &Value) -> Vec<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut problems = Vec::new();
    if header("x-api-key") != Some(SECRET) {
        problems.push(format!("x-api-key is {:?}", header("x-api-key")));
    }
    if header("anthropic-version").is_none_or(str::is_empty) {
        problems.push("no anthropic-version header".to_owned());
    }
    if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        problems.push(format!("content-type is {:?}", header("content-type")));
    }
    if header("authorization").is_some() {
        problems.push("an Authorization header was sent as well".to_owned());
    }
    if body["model"].as_str().is_none_or(str::is_empty) {
        problems.push("no model".to_owned());
    }
    if body["max_tokens"].as_u64().is_none_or(|n| n == 0) {
        problems.push("no max_tokens".to_owned());
    }
    match body["messages"].as_array() {
        Some(messages) if messages.len() % 2 == 1 => {
            for (i, m) in messages.iter().enumerate() {
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                if m["role"] != role {
                    problems.push(format!("message {i} has role {} not {role}", m["role"]));
                }
                let empty = match &m["content"] {
                    Value::String(s) => s.is_empty(),
                    Value::Array(blocks) => blocks.is_empty(),
                    _ => true,
                };
                if empty {
                    problems.push(format!("message {i} has no content"));
                }
            }
        }
        _ => problems.push("messages is not an odd-length list".to_owned()),
    }
    problems
}

async fn messages(
    State(seen): State<Seen>,
    Path(case): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let problems = check_request(&headers, &body);
    if let Ok(mut r) = seen.requests.lock() {
        r.push((headers, body));
    }
    if !problems.is_empty() {
        if let Ok(mut p) = seen.problems.lock() {
            p.extend(problems.iter().cloned());
        }
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": problems.join("; ")}})),
        )
            .into_response();
    }
    let sse = |text: String| ([(header::CONTENT_TYPE, "text/event-stream")], text).into_response();
    match case.as_str() {
        "text" => Json(doc(TEXT_RESPONSE)).into_response(),
        "tool" => Json(doc(TOOL_USE_RESPONSE)).into_response(),
        // Built from the documented tool-use response: an agent service's own extension fields
        // (results of the tools it ran, a handover flag, a content version) added beside it.
        "tool-ext" => {
            let mut reply = doc(TOOL_USE_RESPONSE);
            reply["ext"] = json!({
                "results": [{"tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": {"temperature": 18}}],
                "handover": false,
                "kb": "kb-12",
            });
            Json(reply).into_response()
        }
        "stream-text" => sse(STREAM_TEXT.to_owned()),
        "stream-tool" => sse(STREAM_TOOL_USE.to_owned()),
        // Built from documented events: the basic stream's opening, then the documented error event.
        "stream-error" => {
            let opening: String = STREAM_TEXT
                .split("\n\n")
                .take(4)
                .map(|e| format!("{e}\n\n"))
                .collect();
            sse(format!("{opening}{STREAM_ERROR_EVENT}\n"))
        }
        // The documented basic stream cut off before its `message_stop` event.
        "stream-cut" => sse(
            STREAM_TEXT
                .split("event: message_stop")
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        "error-body" => Json(doc(ERROR_RESPONSE)).into_response(),
        // 529 is the API's documented status for `overloaded_error`; the body is the documented
        // error event's data.
        "overloaded" => (
            StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            Json(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
        )
            .into_response(),
        // The documented text response without its `content` list.
        "no-content" => {
            let mut reply = doc(TEXT_RESPONSE);
            if let Some(m) = reply.as_object_mut() {
                m.remove("content");
            }
            Json(reply).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/{case}/v1/messages", post(messages))
        .with_state(seen.clone());
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
    (format!("http://{addr}"), seen)
}

fn manifest(base: &str, case: &str, settings: &str) -> AgentManifest {
    manifest_with_auth(base, case, settings, &format!("{{env: {KEY_ENV}}}"))
}

fn manifest_with_auth(base: &str, case: &str, settings: &str, auth: &str) -> AgentManifest {
    let yaml = format!(
        r#"version: 1
kind: agent
name: t
owner: {{name: Test}}
environment: sandbox
hosts: ["127.0.0.1"]
model: {{provider: anthropic, name: claude-sonnet-4-5, version: "1"}}
target:
  adapter: anthropic-messages
  base_url: {base}
  timeout: 2s
  retries: 0
  auth: {auth}
  anthropic_messages:
    path: /{case}/v1/messages
    model: claude-sonnet-4-5
{settings}"#
    );
    let loaded = muster_model::load_agent(&yaml);
    match loaded.value {
        Some(m) => m,
        None => panic!("test manifest invalid: {:#?}", loaded.diagnostics),
    }
}

fn target(base: &str, case: &str, settings: &str) -> Target {
    let env = |name: &str| (name == KEY_ENV).then(|| SECRET.to_owned());
    match Target::with_env(&manifest(base, case, settings), None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn vars() -> Vars {
    let mut v = Vars::new();
    v.insert("customer.ref".into(), json!("LM-100004"));
    v
}

/// Open a conversation and send each message in turn.
async fn converse(target: &Target, said: &[&str]) -> Vec<TurnOutcome> {
    let (_, opened) = target.open(vars()).await;
    let mut conversation = match opened {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let mut outcomes = Vec::new();
    for (i, message) in said.iter().enumerate() {
        let turn = u32::try_from(i + 1).unwrap_or(u32::MAX);
        outcomes.push(target.send(&mut conversation, message, turn).await);
    }
    outcomes
}

async fn failed_turn(case: &str, settings: &str) -> (TurnError, TurnOutcome) {
    let (base, seen) = start().await;
    let target = target(&base, case, settings);
    let mut outcomes = converse(&target, &["hello"]).await;
    assert_eq!(seen.problems(), Vec::<String>::new());
    let Some(outcome) = outcomes.pop() else {
        panic!("no outcome")
    };
    match &outcome.reply {
        Ok(r) => panic!("{case}: a broken answer was taken as a reply: {r:?}"),
        Err(e) => (e.clone(), outcome),
    }
}

#[tokio::test]
async fn text_reply_from_the_documented_request_with_history_resent() {
    let (base, seen) = start().await;
    let target = target(
        &base,
        "text",
        "    system_prompt: You are Larkspur's support agent.\n",
    );
    let outcomes = converse(&target, &["hello", "and again"]).await;
    assert_eq!(seen.problems(), Vec::<String>::new());
    for outcome in &outcomes {
        match &outcome.reply {
            Ok(r) => {
                assert_eq!(r.text, "Hello!");
                assert!(r.tool_calls.is_empty());
            }
            Err(e) => panic!("{e}"),
        }
    }
    let requests = seen.requests();
    assert_eq!(requests.len(), 2);
    let (headers, first) = &requests[0];
    assert_eq!(
        headers.get("x-api-key").and_then(|v| v.to_str().ok()),
        Some(SECRET)
    );
    assert_eq!(
        headers
            .get("anthropic-version")
            .and_then(|v| v.to_str().ok()),
        Some("2023-06-01")
    );
    assert_eq!(
        first,
        &json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": "You are Larkspur's support agent.",
            "messages": [{"role": "user", "content": "hello"}],
            "metadata": {"user_id": "LM-100004"},
        })
    );
    assert_eq!(
        requests[1].1["messages"],
        json!([
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "and again"},
        ]),
        "the second turn resends the history"
    );
    // The key reaches the agent but never the evidence.
    for outcome in &outcomes {
        let recorded = outcome.exchanges[0].to_json().to_string();
        assert!(!recorded.contains(SECRET), "{recorded}");
        assert!(recorded.contains("[redacted]"), "{recorded}");
        assert!(recorded.contains("anthropic-version"), "{recorded}");
    }
}

#[tokio::test]
async fn tool_use_blocks_become_tool_calls_with_their_input_and_results() {
    let (base, seen) = start().await;
    let settings = "    tool_results: /ext/results\n    handover: /ext/handover\n    content_version: /ext/kb\n";
    let target = target(&base, "tool-ext", settings);
    let outcomes = converse(&target, &["what's the weather?", "thanks"]).await;
    assert_eq!(seen.problems(), Vec::<String>::new());
    let reply = match &outcomes[0].reply {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        reply.text,
        "I'll check the current weather in San Francisco for you."
    );
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(call.id.as_deref(), Some("toolu_01A09q90qw90lq917835lq9"));
    assert_eq!(call.name, "get_weather");
    assert_eq!(
        call.arguments,
        json!({"location": "San Francisco, CA", "unit": "celsius"})
    );
    assert_eq!(call.result, Some(json!({"temperature": 18})));
    assert_eq!(reply.handover, Some(false));
    assert_eq!(reply.content_version.as_deref(), Some("kb-12"));
    assert!(outcomes[1].reply.is_ok(), "{:?}", outcomes[1].reply);
}

#[tokio::test]
async fn tool_use_without_extensions_has_no_results() {
    let (base, seen) = start().await;
    let target = target(&base, "tool", "");
    let outcomes = converse(&target, &["what's the weather?"]).await;
    assert_eq!(seen.problems(), Vec::<String>::new());
    let reply = match &outcomes[0].reply {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(reply.tool_calls[0].result, None);
    assert_eq!(reply.handover, None);
}

#[tokio::test]
async fn a_streamed_text_reply_is_assembled() {
    let (base, seen) = start().await;
    let settings = "    stream: true\n    identity: {header: X-Customer}\n    session: {header: X-Conversation-Id}\n";
    let target = target(&base, "stream-text", settings);
    let outcomes = converse(&target, &["hello", "and again"]).await;
    assert_eq!(seen.problems(), Vec::<String>::new());
    for outcome in &outcomes {
        match &outcome.reply {
            Ok(r) => assert_eq!(r.text, "Hello!"),
            Err(e) => panic!("{e}"),
        }
    }
    let requests = seen.requests();
    assert_eq!(requests[0].1["stream"], json!(true));
    assert_eq!(requests[0].1.get("metadata"), None);
    assert_eq!(
        requests[0]
            .0
            .get("x-customer")
            .and_then(|v| v.to_str().ok()),
        Some("LM-100004")
    );
    assert!(requests[0].0.get("x-conversation-id").is_some());
    assert_eq!(requests[1].1["messages"][1]["content"], "Hello!");
    // The evidence keeps the events, readable as JSON.
    let body = outcomes[0].exchanges[0].response_body.clone();
    let events = body
        .as_ref()
        .and_then(|b| b.get("event_stream"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    assert_eq!(events, 8, "{body:?}");
}

#[tokio::test]
async fn a_streamed_tool_input_is_concatenated_then_parsed() {
    let (base, seen) = start().await;
    let target = target(&base, "stream-tool", "    stream: true\n");
    let outcomes = converse(&target, &["what's the weather?"]).await;
    assert_eq!(seen.problems(), Vec::<String>::new());
    let reply = match &outcomes[0].reply {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        reply.text,
        "Okay, let's check the weather for San Francisco, CA:"
    );
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(
        reply.tool_calls[0].id.as_deref(),
        Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6")
    );
    assert_eq!(reply.tool_calls[0].name, "get_weather");
    assert_eq!(
        reply.tool_calls[0].arguments,
        json!({"location": "San Francisco, CA", "unit": "fahrenheit"})
    );
}

#[tokio::test]
async fn an_error_body_is_inconclusive() {
    let (error, outcome) = failed_turn("error-body", "").await;
    assert!(
        matches!(&error, TurnError::Malformed(m) if m.contains("not_found_error")),
        "{error:?}"
    );
    // The evidence still shows what the agent said.
    assert_eq!(outcome.exchanges[0].status, Some(200));
}

#[tokio::test]
async fn overloaded_is_inconclusive() {
    let (error, outcome) = failed_turn("overloaded", "").await;
    assert!(
        matches!(&error, TurnError::Status { status: 529, excerpt } if excerpt.contains("overloaded_error")),
        "{error:?}"
    );
    // These manifests set `retries: 0`; with retries a 529 is repeated like a 503 (see traffic.rs).
    assert_eq!(outcome.exchanges.len(), 1);
}

#[tokio::test]
async fn a_message_without_content_is_inconclusive() {
    let (error, _) = failed_turn("no-content", "").await;
    assert!(
        matches!(&error, TurnError::Malformed(m) if m.contains("content")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stream_with_an_error_event_is_inconclusive() {
    let (error, _) = failed_turn("stream-error", "    stream: true\n").await;
    assert!(
        matches!(&error, TurnError::Malformed(m) if m.contains("overloaded_error")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_is_inconclusive() {
    let (error, _) = failed_turn("stream-cut", "    stream: true\n").await;
    assert!(
        matches!(&error, TurnError::Malformed(m) if m.contains("message_stop")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stream_is_not_read_when_a_plain_message_was_asked_for() {
    let (error, _) = failed_turn("stream-text", "").await;
    assert!(matches!(&error, TurnError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn a_failed_turn_is_not_added_to_the_history() {
    let (base, seen) = start().await;
    let target = target(&base, "error-body", "");
    let outcomes = converse(&target, &["hello", "again"]).await;
    assert!(outcomes.iter().all(|o| o.reply.is_err()));
    // Had the failed turn been kept, the second request would carry three messages.
    assert_eq!(
        seen.requests()[1].1["messages"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(seen.problems(), Vec::<String>::new());
}

#[tokio::test]
async fn a_named_auth_header_carries_the_key_instead_of_x_api_key() {
    let (base, seen) = start().await;
    let manifest = manifest_with_auth(
        &base,
        "text",
        "",
        &format!("{{env: {KEY_ENV}, header: X-Gateway-Key, scheme: \"\"}}"),
    );
    let env = |name: &str| (name == KEY_ENV).then(|| SECRET.to_owned());
    let target = match Target::with_env(&manifest, None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let outcomes = converse(&target, &["hello"]).await;
    let requests = seen.requests();
    let headers = &requests[0].0;
    assert_eq!(
        headers.get("x-gateway-key").and_then(|v| v.to_str().ok()),
        Some(SECRET)
    );
    assert!(headers.get("x-api-key").is_none());
    // The local server insists on Anthropic's own header, so it refused the turn.
    assert!(outcomes[0].reply.is_err());
    let recorded = outcomes[0].exchanges[0].to_json().to_string();
    assert!(!recorded.contains(SECRET), "{recorded}");
}
