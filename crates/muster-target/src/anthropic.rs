//! The `anthropic-messages` adapter: Anthropic's Messages API (`POST /v1/messages`), plain or
//! streamed as server-sent events, with the conversation history resent every turn.
//!
//! Replies are read the way the API documents them: `text` blocks make the reply text, `tool_use`
//! blocks are tool calls the agent service executed (black box). An error object, an error event
//! in a stream, a stream that never reaches `message_stop` or a message without a `content` list
//! is a [`TurnError`]: the turn is inconclusive, never judged.

use std::collections::BTreeMap;

use muster_model::agent::{AnthropicMessagesTarget, IdentityPlacement};
use muster_model::template::Vars;
use serde_json::{Map, Value, json};

use crate::TurnError;
use crate::adapter::{Conversation, Target, TurnOutcome, customer_ref, place_identity};
use crate::reply::{AgentReply, ToolCall, arguments_value, flag_at, number_at, string_at};

impl Target {
    pub(crate) async fn send_anthropic(
        &self,
        a: &AnthropicMessagesTarget,
        conversation: &mut Conversation,
        message: &str,
        vars: &Vars,
    ) -> TurnOutcome {
        let url = match self.resolve(&a.path, vars) {
            Ok(u) => u,
            Err(e) => return TurnOutcome::unsent(e),
        };
        let customer = customer_ref(vars);
        let mut messages = conversation.history.clone();
        messages.push(json!({"role": "user", "content": message}));
        let mut body = json!({"model": a.model, "max_tokens": a.max_tokens, "messages": messages});
        if let Some(system) = &a.system_prompt {
            body["system"] = Value::String(system.clone());
        }
        if a.stream {
            body["stream"] = Value::Bool(true);
        }
        let mut headers = vec![
            ("anthropic-version".to_owned(), a.anthropic_version.clone()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        // The API has no top-level `user` (nor OpenAI's `safety_identifier`); its documented place
        // for the end user is `metadata.user_id`.
        let identity = match &a.identity {
            IdentityPlacement::User | IdentityPlacement::SafetyIdentifier => {
                IdentityPlacement::Metadata("user_id".to_owned())
            }
            other => other.clone(),
        };
        if let Some(fields) = body.as_object_mut() {
            place_identity(
                &identity,
                a.session.as_ref(),
                customer,
                &conversation.id,
                fields,
                &mut headers,
            );
        }
        let mut out = self.outgoing(reqwest::Method::POST, url, headers, Some(body));
        out.event_stream = a.stream;
        let (exchanges, result) = self.post(out).await;
        let read = result.and_then(|doc| read_response(&doc, a));
        let reply = match read {
            Ok((reply, content)) => {
                conversation
                    .history
                    .push(json!({"role": "user", "content": message}));
                // Resend what the customer saw; a reply that was only tool calls has no text, and
                // the API refuses empty text, so its blocks go back as they came.
                let said = if reply.text.is_empty() {
                    Value::Array(content)
                } else {
                    Value::String(reply.text.clone())
                };
                conversation
                    .history
                    .push(json!({"role": "assistant", "content": said}));
                Ok(reply)
            }
            Err(e) => Err(e),
        };
        TurnOutcome { exchanges, reply }
    }
}

/// Read a response: a Message object, or (when streaming) the events that build one. Returns the
/// reply and the message's content blocks.
fn read_response(
    doc: &Value,
    a: &AnthropicMessagesTarget,
) -> Result<(AgentReply, Vec<Value>), TurnError> {
    match doc.get("event_stream") {
        Some(Value::Array(events)) if a.stream => read_message(&assemble(events)?, a),
        // A service may answer a streaming request with a whole message; that reads the same.
        _ => read_message(doc, a),
    }
}

/// Read a Message: `text` blocks joined into the reply text, `tool_use` blocks as tool calls, plus
/// the service's extensions.
fn read_message(
    doc: &Value,
    a: &AnthropicMessagesTarget,
) -> Result<(AgentReply, Vec<Value>), TurnError> {
    if doc.get("type").and_then(Value::as_str) == Some("error")
        || doc.get("error").is_some_and(|e| !e.is_null())
    {
        return Err(TurnError::Malformed(format!(
            "the agent answered with an error: {}",
            describe_error(doc.get("error"))
        )));
    }
    let Some(Value::Array(content)) = doc.get("content") else {
        return Err(TurnError::Malformed(
            "the message has no `content` list".to_owned(),
        ));
    };
    match doc.get("stop_reason") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(_) => {
            return Err(TurnError::Malformed(
                "the message's `stop_reason` is not text".to_owned(),
            ));
        }
    }
    let results: Vec<&Value> = match a.tool_results.as_ref().and_then(|p| p.select_one(doc)) {
        Some(Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    let mut text = String::new();
    let mut calls = Vec::new();
    for (i, block) in content.iter().enumerate() {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => match block.get("text") {
                Some(Value::String(s)) => text.push_str(s),
                _ => {
                    return Err(TurnError::Malformed(format!(
                        "content block #{} is a text block without text",
                        i + 1
                    )));
                }
            },
            Some("tool_use") => {
                let name = block
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        TurnError::Malformed(format!("tool_use block #{} has no `name`", i + 1))
                    })?;
                let id = block.get("id").and_then(Value::as_str).map(str::to_owned);
                let result = results
                    .iter()
                    .find(|r| {
                        id.is_some()
                            && r.get("tool_use_id").and_then(Value::as_str) == id.as_deref()
                    })
                    .map(|r| r.get("content").cloned().unwrap_or(Value::Null));
                calls.push(ToolCall {
                    id,
                    name: name.to_owned(),
                    arguments: arguments_value(block.get("input")),
                    result,
                });
            }
            // Thinking, server-tool and future block types are not what the customer is shown.
            _ => {}
        }
    }
    if text.is_empty() && calls.is_empty() {
        return Err(TurnError::Malformed(
            "the message has neither text nor tool calls".to_owned(),
        ));
    }
    let reply = AgentReply {
        text,
        tool_calls: calls,
        handover: flag_at(doc, a.handover.as_ref())?,
        confidence: number_at(doc, a.confidence.as_ref()),
        content_version: string_at(doc, a.content_version.as_ref()),
    };
    Ok((reply, content.clone()))
}

fn describe_error(error: Option<&Value>) -> String {
    let kind = error
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("error");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .or_else(|| error.and_then(Value::as_str))
        .unwrap_or("unspecified");
    format!("{kind}: {message}")
}

/// One content block being streamed: its `content_block_start` object and the deltas so far.
struct Block {
    start: Map<String, Value>,
    text: String,
    partial_json: String,
}

/// Build the Message a stream describes: `message_start` gives the message, each block is its
/// `content_block_start` with its `text_delta`s or `input_json_delta`s applied (tool input JSON is
/// concatenated, then parsed), `message_delta` changes top-level fields such as `stop_reason`.
/// Only a stream that reaches `message_stop` is complete.
fn assemble(events: &[Value]) -> Result<Value, TurnError> {
    let mut message: Option<Map<String, Value>> = None;
    let mut blocks: BTreeMap<u64, Block> = BTreeMap::new();
    let mut stopped = false;
    for event in events {
        let data = event.get("data").unwrap_or(&Value::Null);
        // Each event's data repeats its name as `type`; the SSE name covers data without one.
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| event.get("event").and_then(Value::as_str))
            .unwrap_or_default();
        match kind {
            "message_start" => {
                let Some(Value::Object(m)) = data.get("message") else {
                    return Err(TurnError::Malformed(
                        "`message_start` carries no message".to_owned(),
                    ));
                };
                let mut m = m.clone();
                if let Some(Value::Array(initial)) = m.remove("content") {
                    for (i, b) in initial.into_iter().enumerate() {
                        if let Value::Object(start) = b {
                            blocks.insert(u64::try_from(i).unwrap_or(u64::MAX), new_block(start));
                        }
                    }
                }
                message = Some(m);
            }
            "content_block_start" => {
                let index = index_of(data, kind)?;
                let Some(Value::Object(start)) = data.get("content_block") else {
                    return Err(TurnError::Malformed(format!(
                        "`content_block_start` for block {index} carries no content block"
                    )));
                };
                blocks.insert(index, new_block(start.clone()));
            }
            "content_block_delta" => {
                let index = index_of(data, kind)?;
                let block = blocks.get_mut(&index).ok_or_else(|| {
                    TurnError::Malformed(format!(
                        "a delta for content block {index}, which never started"
                    ))
                })?;
                let delta = data.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => match delta.get("text") {
                        Some(Value::String(s)) => block.text.push_str(s),
                        _ => {
                            return Err(TurnError::Malformed(format!(
                                "a text delta for block {index} has no text"
                            )));
                        }
                    },
                    Some("input_json_delta") => match delta.get("partial_json") {
                        Some(Value::String(s)) => block.partial_json.push_str(s),
                        _ => {
                            return Err(TurnError::Malformed(format!(
                                "an input JSON delta for block {index} has no `partial_json`"
                            )));
                        }
                    },
                    // Thinking, signature and citation deltas do not change what is judged.
                    _ => {}
                }
            }
            "message_delta" => {
                let Some(m) = message.as_mut() else {
                    return Err(TurnError::Malformed(
                        "`message_delta` before `message_start`".to_owned(),
                    ));
                };
                if let Some(Value::Object(delta)) = data.get("delta") {
                    for (k, v) in delta {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            "message_stop" => {
                stopped = true;
                break;
            }
            "error" => {
                return Err(TurnError::Malformed(format!(
                    "the stream carries an error: {}",
                    describe_error(data.get("error"))
                )));
            }
            // `ping`, `content_block_stop` and event types added later (the API says to expect
            // them) change nothing.
            _ => {}
        }
    }
    if !stopped {
        return Err(TurnError::Malformed(
            "the stream ended without `message_stop`; the reply is incomplete".to_owned(),
        ));
    }
    let Some(mut message) = message else {
        return Err(TurnError::Malformed(
            "the stream has no `message_start`".to_owned(),
        ));
    };
    let mut content = Vec::with_capacity(blocks.len());
    for (index, block) in blocks {
        let mut b = block.start;
        match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                let mut text = b
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                text.push_str(&block.text);
                b.insert("text".into(), Value::String(text));
            }
            Some("tool_use") if !block.partial_json.trim().is_empty() => {
                let input: Value = serde_json::from_str(&block.partial_json).map_err(|e| {
                    TurnError::Malformed(format!(
                        "the streamed input of tool_use block {index} is not JSON: {e}"
                    ))
                })?;
                b.insert("input".into(), input);
            }
            _ => {}
        }
        content.push(Value::Object(b));
    }
    message.insert("content".into(), Value::Array(content));
    Ok(Value::Object(message))
}

fn new_block(start: Map<String, Value>) -> Block {
    Block {
        start,
        text: String::new(),
        partial_json: String::new(),
    }
}

fn index_of(data: &Value, kind: &str) -> Result<u64, TurnError> {
    data.get("index")
        .and_then(Value::as_u64)
        .ok_or_else(|| TurnError::Malformed(format!("`{kind}` has no block `index`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streaming settings with every default, as the manifest loader gives them.
    fn settings() -> AnthropicMessagesTarget {
        match serde_json::from_value(json!({"model": "m", "stream": true})) {
            Ok(s) => s,
            Err(e) => panic!("settings: {e}"),
        }
    }

    fn events(list: Value) -> Vec<Value> {
        match list {
            Value::Array(items) => items
                .into_iter()
                .map(|data| {
                    let name = data["type"].as_str().unwrap_or_default().to_owned();
                    json!({"event": name, "data": data})
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn start() -> Value {
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "stop_reason": null}})
    }

    fn malformed(result: Result<Value, TurnError>) -> String {
        match result {
            Err(TurnError::Malformed(m)) => m,
            other => panic!("expected a malformed stream, got {other:?}"),
        }
    }

    #[test]
    fn a_delta_for_a_block_that_never_started_is_malformed() {
        let m = malformed(assemble(&events(json!([
            start(),
            {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": "hi"}},
            {"type": "message_stop"}
        ]))));
        assert!(m.contains("block 3"), "{m}");
    }

    #[test]
    fn a_tool_input_that_does_not_parse_is_malformed() {
        let m = malformed(assemble(&events(json!([
            start(),
            {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "refund", "input": {}}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"amount\": 4"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "message_stop"}
        ]))));
        assert!(m.contains("not JSON"), "{m}");
    }

    #[test]
    fn a_stream_without_message_start_is_malformed() {
        for list in [
            json!([{"type": "message_stop"}]),
            json!([{"type": "message_delta", "delta": {"stop_reason": "end_turn"}}, {"type": "message_stop"}]),
        ] {
            let m = malformed(assemble(&events(list)));
            assert!(m.contains("message_start"), "{m}");
        }
    }

    #[test]
    fn thinking_and_unknown_events_leave_the_reply_alone() {
        let message = match assemble(&events(json!([
            start(),
            {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "refund?"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "some_future_event", "index": 0},
            {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "No refund"}},
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": " is due."}},
            {"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "t", "name": "lookup", "input": {}}},
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}},
            {"type": "message_stop"},
            {"type": "error", "error": {"type": "late", "message": "after the end"}}
        ]))) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(message["stop_reason"], "tool_use");
        let (reply, content) = match read_message(&message, &settings()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(reply.text, "No refund is due.");
        assert_eq!(content.len(), 3);
        // A tool call whose input never streamed keeps the empty object it started with.
        assert_eq!(reply.tool_calls[0].arguments, json!({}));
    }

    #[test]
    fn broken_blocks_are_malformed_not_skipped() {
        let a = settings();
        for (doc, expect) in [
            (json!({"content": [{"type": "text"}]}), "without text"),
            (
                json!({"content": [{"type": "tool_use", "id": "t", "input": {}}]}),
                "no `name`",
            ),
            (
                json!({"content": [{"type": "text", "text": "hi"}], "stop_reason": 7}),
                "stop_reason",
            ),
            (json!({"content": []}), "neither text nor tool calls"),
            (json!({"content": "hi"}), "no `content` list"),
            (
                json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}),
                "rate_limit_error: slow",
            ),
        ] {
            match read_message(&doc, &a) {
                Err(TurnError::Malformed(m)) => assert!(m.contains(expect), "{m} / {expect}"),
                other => panic!("{doc}: expected malformed, got {other:?}"),
            }
        }
    }
}
