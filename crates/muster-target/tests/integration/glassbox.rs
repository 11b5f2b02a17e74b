//! The `openai-model` (glass-box) adapter and muster's own models, against a scripted model on
//! 127.0.0.1 that answers in OpenAI's documented chat-completions shapes
//! (<https://platform.openai.com/docs/api-reference/chat/object>): `tool_calls` with
//! `finish_reason: "tool_calls"`, then text once it has the tool results.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use muster_model::agent::AgentManifest;
use muster_model::scenario::ScriptedResult;
use muster_model::template::Vars;
use muster_target::{ModelRole, Target, TargetError, TurnError, TurnOutcome};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<Value>>>;

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1_741_569_952,
        "model": "gpt-4.1-2025-04-14",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}
    })
}

fn tool_calls(calls: &[(&str, &str, Value)]) -> Value {
    tool_calls_saying(Value::Null, calls)
}

fn tool_calls_saying(content: Value, calls: &[(&str, &str, Value)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}})
        })
        .collect();
    completion(
        json!({"role": "assistant", "content": content, "tool_calls": calls, "refusal": null}),
        "tool_calls",
    )
}

fn text(content: &str) -> Value {
    completion(
        json!({"role": "assistant", "content": content, "refusal": null}),
        "stop",
    )
}

/// The scripted model: it calls tools on the customer's words, and answers in text once the last
/// message is a tool result (quoting it, so the test sees what was played back).
async fn model(
    axum::extract::State(seen): axum::extract::State<Seen>,
    Json(body): Json<Value>,
) -> Json<Value> {
    if let Ok(mut s) = seen.lock() {
        s.push(body.clone());
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let said = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    if said.contains("loop") {
        return Json(tool_calls(&[(
            "call_x",
            "lookup_order",
            json!({"order_ref": "ORD-1"}),
        )]));
    }
    if last["role"] == "tool" {
        let played: Vec<&str> = messages
            .iter()
            .filter(|m| m["role"] == "tool")
            .filter_map(|m| m["content"].as_str())
            .collect();
        return Json(text(&format!("Done. Tools said: {}", played.join(" | "))));
    }
    if said.contains("refund") {
        return Json(tool_calls(&[(
            "call_1",
            "process_return",
            json!({"order_ref": "ORD-20417", "amount": 749}),
        )]));
    }
    if said.contains("order") {
        return Json(tool_calls_saying(
            json!("Let me check that order."),
            &[
                ("call_2", "lookup_order", json!({"order_ref": "ORD-20417"})),
                ("call_3", "check_stock", json!({})),
            ],
        ));
    }
    Json(text("Hello, how can I help?"))
}

async fn error() -> impl IntoResponse {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(
            json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
        ),
    )
}

async fn error_in_ok() -> Json<Value> {
    Json(
        json!({"error": {"message": "Invalid 'messages': empty array.", "type": "invalid_request_error", "param": "messages", "code": "empty_array"}}),
    )
}

async fn slow() -> Json<Value> {
    tokio::time::sleep(Duration::from_secs(3)).await;
    Json(text("too late"))
}

async fn garbage() -> impl IntoResponse {
    (StatusCode::OK, "<html>bad gateway</html>")
}

async fn empty() -> Json<Value> {
    Json(text(""))
}

/// A careless endpoint that repeats the request's credentials back in its answer.
async fn echo_auth(headers: HeaderMap) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Json(text(&format!("You sent {auth}")))
}

async fn start() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(model))
        .route("/error", post(error))
        .route("/error-in-ok", post(error_in_ok))
        .route("/slow", post(slow))
        .route("/garbage", post(garbage))
        .route("/empty", post(empty))
        .route("/echo-auth", post(echo_auth))
        .with_state(seen.clone());
    (crate::server::serve(app).await, seen)
}

fn manifest(base: &str, path: &str, environment: &str) -> AgentManifest {
    let yaml = format!(
        r#"version: 1
kind: agent
name: glass
owner: {{name: Test}}
environment: {environment}
hosts: [127.0.0.1]
model: {{provider: openai, name: gpt-4.1, version: "2025-04-14"}}
target:
  adapter: openai-model
  base_url: {base}
  timeout: 500ms
  retries: 0
  auth: {{env: MODEL_KEY}}
  openai_model:
    path: {path}
    model: gpt-4.1
    system_prompt: "You help {{{{customer.name}}}}. Refunds over £100 go to the Returns team."
    parameters: {{temperature: 0, seed: 7}}
    max_steps: 3
tools:
  - name: lookup_order
    effect: read
    description: Look up an order
    parameters: {{type: object, properties: {{order_ref: {{type: string}}}}, required: [order_ref]}}
  - name: process_return
    effect: money
  - name: check_stock
    effect: read
models:
  customer: {{url: /echo-auth, model: sim, auth: {{env: SIM_KEY}}, timeout: 500ms}}
  judge: {{url: /garbage, model: judge}}
"#
    );
    let loaded = muster_model::load_agent(&yaml);
    match loaded.value {
        Some(m) if !loaded.has_errors() => m,
        _ => panic!("test manifest invalid: {:#?}", loaded.diagnostics),
    }
}

fn env(name: &str) -> Option<String> {
    match name {
        "MODEL_KEY" => Some("sk-model-key-123".into()),
        "SIM_KEY" => Some("sk-simulator-456".into()),
        _ => None,
    }
}

fn target(base: &str, path: &str) -> Target {
    match Target::with_env(&manifest(base, path, "sandbox"), None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn script() -> std::collections::BTreeMap<String, Vec<ScriptedResult>> {
    match serde_json::from_value(json!({
        "lookup_order": [
            {"arguments": {"order_ref": "ORD-20417"}, "result": {"status": "delivered", "amount": 749}},
            {"result": "no such order"}
        ],
        "process_return": [{"result": {"refunded": true}}]
    })) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

async fn turn(target: &Target, message: &str) -> TurnOutcome {
    let mut vars = Vars::new();
    vars.insert("customer.ref".into(), json!("LM-100004"));
    vars.insert("customer.name".into(), json!("Tom Whitaker"));
    let (_, opened) = target.open(vars).await;
    let Ok(mut conversation) = opened else {
        panic!("open failed")
    };
    conversation.play_tool_results(script());
    target.send(&mut conversation, message, 1).await
}

#[tokio::test]
async fn the_model_calls_tools_muster_plays_them_and_the_calls_are_the_reply() {
    let (base, seen) = start().await;
    let target = target(&base, "/v1/chat/completions");
    let outcome = turn(&target, "Where is my order ORD-20417?").await;
    let reply = match &outcome.reply {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    // Both calls are judged, with what muster played back: the matching scripted entry, and the
    // fixed error for a tool the scenario does not script.
    let calls: Vec<(&str, Option<&Value>)> = reply
        .tool_calls
        .iter()
        .map(|c| (c.name.as_str(), c.result.as_ref()))
        .collect();
    assert_eq!(
        calls,
        vec![
            (
                "lookup_order",
                Some(&json!({"status": "delivered", "amount": 749}))
            ),
            (
                "check_stock",
                Some(&json!("error: this tool is not available right now"))
            ),
        ]
    );
    assert!(
        reply
            .text
            .contains(r#"{"status":"delivered","amount":749}"#),
        "{}",
        reply.text
    );
    // What the model said beside its calls reached the customer, so it is part of the reply.
    assert!(
        reply.text.starts_with("Let me check that order.\n\nDone."),
        "{}",
        reply.text
    );

    // Two model calls; the first offered the manifest's tools as function schemas, with the
    // rendered system prompt and the parameters.
    let requests = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first["temperature"], 0);
    assert_eq!(first["model"], "gpt-4.1");
    assert_eq!(
        first["messages"][0]["content"],
        "You help Tom Whitaker. Refunds over £100 go to the Returns team."
    );
    assert_eq!(first["tools"][0]["function"]["name"], "lookup_order");
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["required"][0],
        "order_ref"
    );
    assert_eq!(
        first["tools"][1]["function"]["parameters"]["type"],
        "object"
    );
    // The second carries the assistant's tool calls and one tool message per call.
    let second = requests[1]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(second[2]["tool_calls"][0]["id"], "call_2");
    assert_eq!(second[3]["role"], "tool");
    assert_eq!(second[3]["tool_call_id"], "call_2");

    // Evidence: two HTTP exchanges and, between them, one `TOOL` exchange per played result.
    let kinds: Vec<&str> = outcome
        .exchanges
        .iter()
        .map(|x| x.method.as_str())
        .collect();
    assert_eq!(kinds, vec!["POST", "TOOL", "TOOL", "POST"]);
    assert_eq!(
        outcome.exchanges[1].response_body,
        Some(json!({"result": {"status": "delivered", "amount": 749}, "scripted": 0}))
    );
    assert_eq!(
        outcome.exchanges[2]
            .response_body
            .as_ref()
            .map(|b| b["scripted"].clone()),
        Some(Value::Null)
    );
    let recorded = serde_json::to_string(
        &outcome
            .exchanges
            .iter()
            .map(muster_target::Exchange::to_json)
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    assert!(!recorded.contains("sk-model-key-123"), "{recorded}");
}

#[tokio::test]
async fn a_model_that_never_stops_calling_tools_or_answers_badly_is_a_turn_error() {
    let (base, _) = start().await;
    let looping = turn(&target(&base, "/v1/chat/completions"), "loop forever").await;
    assert!(
        matches!(&looping.reply, Err(TurnError::Malformed(m)) if m.contains("max_steps")),
        "{:?}",
        looping.reply
    );
    assert_eq!(
        looping
            .exchanges
            .iter()
            .filter(|x| x.method == "POST")
            .count(),
        3
    );
    for (path, expected) in [
        ("/error", "status"),
        ("/error-in-ok", "malformed"),
        ("/slow", "timeout"),
        ("/garbage", "malformed"),
        ("/empty", "malformed"),
    ] {
        let outcome = turn(&target(&base, path), "hello").await;
        let kind = match &outcome.reply {
            Ok(r) => panic!("{path} produced a reply: {r:?}"),
            Err(TurnError::Status { .. }) => "status",
            Err(TurnError::Malformed(_)) => "malformed",
            Err(TurnError::Timeout(_)) => "timeout",
            Err(e) => panic!("{path}: {e}"),
        };
        assert_eq!(kind, expected, "{path}");
        assert!(
            !outcome.exchanges.is_empty(),
            "{path}: the exchange is recorded"
        );
    }
}

#[tokio::test]
async fn glass_box_drills_pass_the_interlock_first() {
    let (base, _) = start().await;
    let production = manifest(&base, "/v1/chat/completions", "production");
    assert!(matches!(
        Target::with_env(&production, None, &env),
        Err(TargetError::Interlock(_))
    ));
    // muster's own models are held to the declared hosts too.
    let mut elsewhere = manifest(&base, "/v1/chat/completions", "sandbox");
    if let Some(judge) = elsewhere.models.judge.as_mut() {
        judge.url = "http://localhost:9/v1/chat/completions".into();
    }
    assert!(matches!(
        Target::with_env(&elsewhere, None, &env),
        Err(TargetError::Interlock(_))
    ));
    // A key named in the manifest must be set.
    assert!(matches!(
        Target::with_env(&manifest(&base, "/v1/chat/completions", "sandbox"), None, &|n| {
            (n == "MODEL_KEY").then(|| "sk-model-key-123".to_owned())
        }),
        Err(TargetError::MissingSecret(var)) if var == "SIM_KEY"
    ));
}

#[tokio::test]
async fn muster_models_answer_in_text_and_their_keys_never_reach_the_evidence() {
    let (base, _) = start().await;
    let target = target(&base, "/v1/chat/completions");
    assert!(target.has_model(ModelRole::Customer));
    let answer = target
        .ask_model(
            ModelRole::Customer,
            vec![json!({"role": "user", "content": "hi"})],
        )
        .await;
    // The answer itself is the model's; what is recorded is redacted.
    assert_eq!(
        answer.text.as_deref().ok(),
        Some("You sent Bearer sk-simulator-456")
    );
    let recorded = serde_json::to_string(&answer.exchanges[0].to_json()).unwrap_or_default();
    assert!(!recorded.contains("sk-simulator-456"), "{recorded}");
    assert!(recorded.contains("[redacted]"), "{recorded}");
    let judged = target
        .ask_model(
            ModelRole::Judge,
            vec![json!({"role": "user", "content": "grade"})],
        )
        .await;
    assert!(matches!(judged.text, Err(TurnError::Malformed(_))));
}
