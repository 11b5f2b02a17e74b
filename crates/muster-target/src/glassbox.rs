//! The `openai-model` adapter: a glass-box drill of a model, its system prompt and its tools,
//! before the service around them exists.
//!
//! Each customer turn sends the system prompt, the manifest's tools as function schemas and the
//! conversation to an OpenAI-compatible chat-completions endpoint. While the model answers with
//! `tool_calls`, muster plays each call — the scenario's scripted result, or a fixed error when
//! none is scripted — and asks again, up to `max_steps` model calls. The turn's reply is the
//! model's final text with every call it made; each played result is recorded as an exchange
//! (method `TOOL`) beside the HTTP exchanges, so the evidence shows exactly what the model saw.

use std::collections::BTreeMap;

use muster_model::agent::{AgentManifest, OpenAiModelTarget};
use muster_model::scenario::ScriptedResult;
use muster_model::template::{Vars, render_str};
use serde_json::{Value, json};

use crate::adapter::{
    ChatMessage, Conversation, Target, TurnOutcome, chat_body, read_chat_message,
};
use crate::exchange::{Exchange, now_ns};
use crate::reply::{AgentReply, ToolCall};
use crate::{TargetError, TurnError};

/// What a tool returns when the scenario scripts no result for the call. An error rather than
/// an empty success, so the model is not told an action it asked for went through.
pub const UNSCRIPTED_RESULT: &str = "error: this tool is not available right now";

/// The adapter's settings, once the loader has read any prompt file into `system_prompt`.
pub(crate) fn settings(o: &OpenAiModelTarget) -> Result<OpenAiModelTarget, TargetError> {
    match (&o.system_prompt, &o.system_prompt_file) {
        (None, Some(file)) => Err(TargetError::UnreadPromptFile(file.clone())),
        _ => Ok(o.clone()),
    }
}

/// The manifest's tools as chat-completions function definitions. A tool without a `parameters`
/// schema takes any object, so the model can still call it.
pub(crate) fn tools(manifest: &AgentManifest) -> Vec<Value> {
    manifest
        .tools
        .iter()
        .map(|t| {
            let mut function = serde_json::Map::new();
            function.insert("name".into(), json!(t.name));
            if let Some(description) = &t.description {
                function.insert("description".into(), json!(description));
            }
            function.insert(
                "parameters".into(),
                t.parameters
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            );
            json!({"type": "function", "function": function})
        })
        .collect()
}

/// The scripted result for a call: the first entry for the tool whose `arguments` all match, with
/// its index; `None` when nothing is scripted for it.
pub(crate) fn scripted<'a>(
    results: &'a BTreeMap<String, Vec<ScriptedResult>>,
    call: &ToolCall,
) -> Option<(usize, &'a Value)> {
    results
        .get(&call.name)?
        .iter()
        .enumerate()
        .find(|(_, r)| {
            r.arguments.as_ref().is_none_or(|wanted| {
                wanted
                    .iter()
                    .all(|(k, v)| call.arguments.get(k).is_some_and(|got| same(got, v)))
            })
        })
        .map(|(i, r)| (i, &r.result))
}

/// JSON equality where `749` and `749.0` are the same number: models write both.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A tool message's content is text: a scripted string as is, anything else as JSON text.
fn content(result: &Value) -> String {
    match result {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Target {
    pub(crate) async fn send_glass_box(
        &self,
        o: &OpenAiModelTarget,
        tools: &[Value],
        conversation: &mut Conversation,
        message: &str,
        vars: &Vars,
    ) -> TurnOutcome {
        let url = match self.resolve(&o.path, vars) {
            Ok(u) => u,
            Err(e) => return TurnOutcome::unsent(e),
        };
        let mut messages = Vec::new();
        if let Some(system) = &o.system_prompt {
            // Validated at load; a prompt that cannot be filled is sent as written.
            let system = render_str(system, vars).unwrap_or_else(|_| system.clone());
            messages.push(json!({"role": "system", "content": system}));
        }
        let first_new = messages.len() + conversation.history().len();
        messages.extend(conversation.history().iter().cloned());
        messages.push(json!({"role": "user", "content": message}));
        let mut exchanges = Vec::new();
        let mut calls = Vec::new();
        // Text the model writes beside its tool calls reaches the customer too, so it is judged.
        let mut said = Vec::new();
        for _ in 0..o.max_steps {
            let mut body = chat_body(&o.model, messages.clone(), &o.parameters);
            if !tools.is_empty() {
                body.insert("tools".into(), Value::Array(tools.to_vec()));
            }
            let out = self.outgoing(
                reqwest::Method::POST,
                url.clone(),
                Vec::new(),
                Some(Value::Object(body)),
            );
            let (sent, doc) = self.post(out).await;
            exchanges.extend(sent);
            let ChatMessage {
                text,
                calls: asked,
                message: assistant,
            } = match doc.and_then(|d| read_chat_message(&d)) {
                Ok(m) => m,
                Err(e) => {
                    return TurnOutcome {
                        exchanges,
                        reply: Err(e),
                    };
                }
            };
            if asked.is_empty() {
                if text.trim().is_empty() {
                    return TurnOutcome {
                        exchanges,
                        reply: Err(TurnError::Malformed(
                            "the model answered with neither text nor tool calls".to_owned(),
                        )),
                    };
                }
                messages.push(json!({"role": "assistant", "content": text}));
                said.push(text);
                // The history keeps the tool rounds, so later turns see what the model did.
                conversation
                    .history_mut()
                    .extend(messages.drain(first_new..));
                return TurnOutcome {
                    exchanges,
                    reply: Ok(AgentReply {
                        text: said.join("\n\n"),
                        tool_calls: calls,
                        ..AgentReply::default()
                    }),
                };
            }
            if !text.trim().is_empty() {
                said.push(text);
            }
            messages.push(assistant);
            for mut call in asked {
                let (result, rule) = match scripted(&conversation.tool_results, &call) {
                    Some((i, r)) => (r.clone(), Some(i)),
                    None => (Value::String(UNSCRIPTED_RESULT.to_owned()), None),
                };
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": content(&result),
                }));
                exchanges.push(played(&call, &result, rule));
                call.result = Some(result);
                calls.push(call);
            }
        }
        TurnOutcome {
            exchanges,
            reply: Err(TurnError::Malformed(format!(
                "the model was still calling tools after {} steps (`max_steps`)",
                o.max_steps
            ))),
        }
    }
}

/// A played tool result as evidence: which call, what muster returned, and which scripted entry
/// (`null`: none was scripted, so the fixed error was returned).
fn played(call: &ToolCall, result: &Value, rule: Option<usize>) -> Exchange {
    Exchange {
        method: "TOOL".to_owned(),
        url: format!("tool:{}", call.name),
        request_headers: Vec::new(),
        request_body: Some(json!({"id": call.id, "name": call.name, "arguments": call.arguments})),
        status: None,
        response_body: Some(json!({"result": result, "scripted": rule})),
        started_at_ns: now_ns(),
        elapsed: std::time::Duration::ZERO,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> BTreeMap<String, Vec<ScriptedResult>> {
        serde_json::from_value(json!({
            "lookup_order": [
                {"arguments": {"order_ref": "ORD-20417"}, "result": {"amount": 749}},
                {"result": "no such order"}
            ]
        }))
        .unwrap_or_default()
    }

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: None,
            name: name.to_owned(),
            arguments,
            result: None,
        }
    }

    #[test]
    fn the_first_matching_entry_is_played() {
        let rules = rules();
        assert_eq!(
            scripted(
                &rules,
                &call("lookup_order", json!({"order_ref": "ORD-20417"}))
            ),
            Some((0, &json!({"amount": 749})))
        );
        assert_eq!(
            scripted(&rules, &call("lookup_order", json!({"order_ref": "ORD-1"}))),
            Some((1, &json!("no such order")))
        );
        assert_eq!(scripted(&rules, &call("issue_credit", json!({}))), None);
    }

    #[test]
    fn numbers_match_by_value() {
        assert!(same(&json!(749), &json!(749.0)));
        assert!(!same(&json!("749"), &json!(749)));
    }
}
