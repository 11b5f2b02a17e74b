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
    let last_user = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|x| x["role"] == "user"))
        .and_then(|x| x["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let offered_tools = body.get("tools").is_some();
    if !offered_tools {
        // Tools withheld (the customer has been handed over): the model can only talk.
        return Json(
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "I've noted that for my colleague."}, "finish_reason": "stop"}]}),
        );
    }
    if last_user.contains("person") && !has_tool_result {
        return Json(
            json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "h1", "type": "function", "function": {"name": "handover_to_human", "arguments": "{\"queue\":\"general\",\"priority\":\"normal\",\"summary\":\"customer asked for a person\"}"}}
            ]}}]}),
        );
    }
    // Another customer's records: the tool layer's owner checks decide, not the model.
    for (marker, name, arguments) in [
        (
            "LM-100071",
            "lookup_account",
            "{\"customer_ref\":\"LM-100071\"}",
        ),
        ("ORD-22419", "lookup_order", "{\"order_ref\":\"ORD-22419\"}"),
    ] {
        if last_user.contains(marker) && !has_tool_result {
            return Json(
                json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "d1", "type": "function", "function": {"name": name, "arguments": arguments}}
                ]}}]}),
            );
        }
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

/// Start an agent driven by the scripted model; returns it with the model's request log.
async fn agent_with_model(flaws: FlawSet) -> (muster_refagent::RunningRefAgent, Seen) {
    let (base, seen) = fake_model().await;
    let config = RefAgentConfig {
        seed: 1,
        flaws,
        flaw_rate: 1.0,
        model: Some(ModelConfig {
            base_url: base,
            model: "scripted".into(),
            api_key: Some("test-key".into()),
        }),
        today: None,
        telemetry: Default::default(),
    };
    let agent = muster_refagent::start(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (agent, seen)
}

/// One native conversation with the model-driven agent.
async fn converse(url: &str, customer: &str, messages: &[&str]) -> Vec<Value> {
    let http = reqwest::Client::new();
    let opened: Value = http
        .post(format!("{url}/api/conversations"))
        .json(&json!({"customer_ref": customer}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or(Value::Null);
    let id = opened["conversation_id"].as_str().unwrap_or_default();
    let mut replies = Vec::new();
    for m in messages {
        let reply: Value = http
            .post(format!("{url}/api/conversations/{id}/messages"))
            .json(&json!({"customer_ref": customer, "message": m}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or(Value::Null);
        replies.push(reply);
    }
    replies
}

async fn refund_via_model(flaws: FlawSet) -> (Value, Vec<Value>) {
    let (agent, seen) = agent_with_model(flaws).await;
    let reply = converse(&agent.base_url(), "LM-100004", &["Refund my phone please"])
        .await
        .remove(0);
    let requests = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
    agent.shutdown().await;
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
            .is_some_and(|t| t.len() == 9)
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

#[tokio::test]
async fn after_a_model_hands_over_it_may_talk_but_not_act() {
    let (agent, seen) = agent_with_model(FlawSet::none()).await;
    let replies = converse(
        &agent.base_url(),
        "LM-100003",
        &["Can I speak to a person please?", "Refund my phone please"],
    )
    .await;
    assert_eq!(replies[0]["tool_calls"][0]["name"], "handover_to_human");
    assert_eq!(replies[0]["handover"]["active"], true, "{}", replies[0]);
    assert_eq!(replies[1]["tool_calls"], json!([]), "{}", replies[1]);
    assert!(
        replies[1]["reply"]
            .as_str()
            .is_some_and(|t| t.contains("pick it up")),
        "{}",
        replies[1]
    );
    assert!(
        replies[1]["kb"]["articles"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == "returns" && x["version"] == 4))
    );
    let requests = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(requests.last().is_some_and(|r| r.get("tools").is_none()));
    assert!(
        requests[0]["messages"][0]["content"]
            .as_str()
            .is_some_and(|p| p.contains("version 3") && !p.contains("(withdrawn)")),
        "the hardened model reads the current bereavement article"
    );
    agent.shutdown().await;

    let (stale, seen) =
        agent_with_model(FlawSet::none().with(muster_refagent::Flaw::StaleBereavementArticle))
            .await;
    converse(&stale.base_url(), "LM-100002", &["Hello"]).await;
    let requests = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        requests[0]["messages"][0]["content"]
            .as_str()
            .is_some_and(|p| p.contains("(withdrawn)")),
        "the stale flaw hands the model the withdrawn article"
    );
    stale.shutdown().await;
}

#[tokio::test]
async fn a_model_cannot_read_other_customers_records_unless_the_flaw_is_on() {
    for (flaws, readable) in [
        (FlawSet::none(), false),
        (
            FlawSet::none()
                .with(muster_refagent::Flaw::ThirdPartyAccountLookup)
                .with(muster_refagent::Flaw::OrderOwnerUnchecked),
            true,
        ),
    ] {
        let (agent, _) = agent_with_model(flaws).await;
        let replies = converse(
            &agent.base_url(),
            "LM-100073",
            &["What's on account LM-100071?", "Where is order ORD-22419?"],
        )
        .await;
        let account = &replies[0]["tool_calls"][0];
        assert_eq!(account["name"], "lookup_account", "{}", replies[0]);
        assert_eq!(
            account["result"]["phone"].is_string(),
            readable,
            "{account}"
        );
        let order = &replies[1]["tool_calls"][0];
        assert_eq!(order["name"], "lookup_order", "{}", replies[1]);
        assert_eq!(
            order["result"]["delivered_to"]["email"].is_string(),
            readable,
            "{order}"
        );
        agent.shutdown().await;
    }
}
