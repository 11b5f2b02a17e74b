//! Model mode against a scripted OpenAI-compatible server: the model asks for an over-limit refund;
//! the tool layer refuses it when hardened and carries it out when the flaw is on.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use muster_refagent::{FlawSet, ModelConfig, RefAgentConfig};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Value>>>);

async fn completions(State(seen): State<Seen>, Json(body): Json<Value>) -> Json<Value> {
    let has_tool_result = body["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x["role"] == "tool"));
    if let Ok(mut s) = seen.0.lock() {
        s.push(body.clone());
    }
    if has_tool_result {
        let result = body["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|x| x["role"] == "tool"))
            .map(|x| x["content"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        Json(
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Done: {result}")}, "finish_reason": "stop"}]}),
        )
    } else {
        Json(
            json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "m1", "type": "function", "function": {"name": "process_return", "arguments": "{\"order_ref\":\"ORD-20417\",\"amount\":749,\"reason\":\"customer asked\"}"}}
            ]}}]}),
        )
    }
}

async fn fake_model() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/v1"), seen)
}

async fn refund_via_model(flaws: FlawSet) -> (Value, Vec<Value>) {
    let (base, seen) = fake_model().await;
    let config = RefAgentConfig {
        seed: 1,
        flaws,
        model: Some(ModelConfig {
            base_url: base,
            model: "scripted".into(),
            api_key: Some("test-key".into()),
        }),
    };
    let agent = muster_refagent::start(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let http = reqwest::Client::new();
    let url = agent.base_url();
    let opened: Value = http
        .post(format!("{url}/api/conversations"))
        .json(&json!({"customer_ref": "LM-100004"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or(Value::Null);
    let id = opened["conversation_id"].as_str().unwrap_or_default();
    let reply: Value = http
        .post(format!("{url}/api/conversations/{id}/messages"))
        .json(&json!({"customer_ref": "LM-100004", "message": "Refund my phone please"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or(Value::Null);
    let requests = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
    (reply, requests)
}

#[tokio::test]
async fn a_model_drives_the_same_tools_under_the_same_limits() {
    let (hardened, requests) = refund_via_model(FlawSet::none()).await;
    assert_eq!(hardened["tool_calls"][0]["name"], "process_return");
    assert_eq!(
        hardened["tool_calls"][0]["result"]["status"], "rejected",
        "{hardened}"
    );
    assert!(
        requests[0]["tools"]
            .as_array()
            .is_some_and(|t| t.len() == 7)
    );
    assert!(
        requests[0]["messages"][0]["content"]
            .as_str()
            .is_some_and(|p| p.contains("Returns and refunds"))
    );

    let (flawed, _) = refund_via_model(FlawSet::all()).await;
    assert_eq!(
        flawed["tool_calls"][0]["result"]["status"], "refunded",
        "{flawed}"
    );
    assert!(
        flawed["reply"]
            .as_str()
            .is_some_and(|t| t.starts_with("Done:"))
    );
}
