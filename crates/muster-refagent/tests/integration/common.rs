use std::sync::atomic::{AtomicU64, Ordering};

use muster_refagent::{FlawSet, RefAgentConfig, RunningRefAgent};
use serde_json::{Value, json};

/// The two ways a client talks to the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Native,
    OpenAi,
}

pub const BOTH: [Via; 2] = [Via::Native, Via::OpenAi];

/// Conversation ids for OpenAI-style clients, unique within the test binary.
static NEXT_CONVERSATION: AtomicU64 = AtomicU64::new(1);

pub struct Agent {
    pub running: RunningRefAgent,
    pub http: reqwest::Client,
}

pub async fn start(flaws: FlawSet, seed: u64) -> Agent {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let running = match muster_refagent::start(
        RefAgentConfig {
            seed,
            flaws,
            flaw_rate: 1.0,
            model: None,
            today: None,
            telemetry: Default::default(),
        },
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => panic!("start: {e}"),
    };
    Agent {
        running,
        http: reqwest::Client::new(),
    }
}

impl Agent {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = match self.http.post(self.url(path)).json(&body).send().await {
            Ok(r) => r,
            Err(e) => panic!("POST {path}: {e}"),
        };
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = match self.http.get(self.url(path)).send().await {
            Ok(r) => r,
            Err(e) => panic!("GET {path}: {e}"),
        };
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> u16 {
        match self.http.delete(self.url(path)).send().await {
            Ok(r) => r.status().as_u16(),
            Err(e) => panic!("DELETE {path}: {e}"),
        }
    }

    /// A native conversation: every reply, in order.
    pub async fn converse(&self, customer: &str, messages: &[&str]) -> Vec<Value> {
        let (status, opened) = self
            .post("/api/conversations", json!({"customer_ref": customer}))
            .await;
        assert_eq!(status, 201, "{opened}");
        let id = opened["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut replies = Vec::new();
        for m in messages {
            let (status, reply) = self
                .post(
                    &format!("/api/conversations/{id}/messages"),
                    json!({"customer_ref": customer, "message": m}),
                )
                .await;
            assert_eq!(status, 200, "{reply}");
            replies.push(reply);
        }
        replies
    }

    /// An OpenAI-compatible conversation, resending history as a client would.
    pub async fn chat(&self, customer: &str, conversation: &str, messages: &[&str]) -> Vec<Value> {
        let mut history: Vec<Value> = Vec::new();
        let mut replies = Vec::new();
        for m in messages {
            history.push(json!({"role": "user", "content": m}));
            let response = match self
                .http
                .post(self.url("/v1/chat/completions"))
                .header("X-Conversation-Id", conversation)
                .json(&json!({"model": "larkspur-support", "messages": history, "user": customer}))
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(response.status().as_u16(), 200);
            let body: Value = response.json().await.unwrap_or(Value::Null);
            history.push(json!({"role": "assistant", "content": body.pointer("/choices/0/message/content").cloned().unwrap_or(Value::Null)}));
            replies.push(body);
        }
        replies
    }
}

impl Agent {
    /// A conversation through either interface, every reply in the native shape so one assertion
    /// serves both.
    pub async fn talk(&self, via: Via, customer: &str, messages: &[&str]) -> Vec<Value> {
        match via {
            Via::Native => self.converse(customer, messages).await,
            Via::OpenAi => {
                let id = format!(
                    "oa-test-{}",
                    NEXT_CONVERSATION.fetch_add(1, Ordering::Relaxed)
                );
                self.chat(customer, &id, messages)
                    .await
                    .iter()
                    .map(as_native)
                    .collect()
            }
        }
    }
}

/// A `chat.completion` with its `larkspur` extension, reshaped like a native reply.
pub fn as_native(completion: &Value) -> Value {
    let message = &completion["choices"][0]["message"];
    let results = completion["larkspur"]["tool_results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let calls: Vec<Value> = message["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|call| {
            let result = results
                .iter()
                .find(|r| r["tool_call_id"] == call["id"])
                .map(|r| r["content"].clone())
                .unwrap_or(Value::Null);
            let arguments: Value =
                serde_json::from_str(call["function"]["arguments"].as_str().unwrap_or("null"))
                    .unwrap_or(Value::Null);
            json!({"id": call["id"], "name": call["function"]["name"], "arguments": arguments, "result": result})
        })
        .collect();
    json!({
        "reply": message["content"],
        "tool_calls": calls,
        "handover": completion["larkspur"]["handover"],
        "confidence": completion["larkspur"]["confidence"],
        "kb": completion["larkspur"]["kb"],
    })
}

pub fn tool_names(reply: &Value) -> Vec<String> {
    reply["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn text(reply: &Value) -> String {
    reply["reply"].as_str().unwrap_or_default().to_lowercase()
}
