//! OpenAI Chat Completions messages (`{role, content, tool_calls, tool_call_id}`), the shape the
//! Agents SDK's `generation` spans and LangSmith's `llm` runs carry, and the events one model
//! exchange gives: the prompt, the customer's new messages, tool results handed back, the reply
//! and the tool calls the model asked for — the same split the OTLP mapping makes.

use serde_json::Value;

use crate::common::{Ev, Rec, maybe_json, text};
use crate::event::{ActorRole, EventKind, Message, ToolCallPhase, ToolCallRequest};

/// Chat messages from a JSON array; entries that are not objects are skipped (they carry no
/// message), and content given as a list of parts is joined.
pub(crate) fn messages(v: Option<&Value>) -> Vec<Message> {
    let Some(Value::Array(list)) = v else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_object)
        .map(|m| Message {
            role: m
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned(),
            text: content_text(m.get("content")),
            name: text(m.get("name")),
            tool_call_id: text(m.get("tool_call_id")),
            tool_calls: tool_calls(m.get("tool_calls")),
            finish_reason: text(m.get("finish_reason")),
        })
        .collect()
}

/// `content` as text: a string, or the text of a list of parts (`{type:"text", text}`,
/// `{type:"output_text", text}`, Anthropic's `{type:"text", text}`).
pub(crate) fn content_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) => o.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

/// `tool_calls: [{id, type:"function", function:{name, arguments (JSON string)}}]`.
pub(crate) fn tool_calls(v: Option<&Value>) -> Vec<ToolCallRequest> {
    let Some(Value::Array(list)) = v else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_object)
        .map(|c| {
            let f = c.get("function").and_then(Value::as_object);
            ToolCallRequest {
                id: text(c.get("id")),
                name: f
                    .and_then(|f| f.get("name"))
                    .or_else(|| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                arguments: f
                    .and_then(|f| f.get("arguments"))
                    .or_else(|| c.get("arguments"))
                    .map(maybe_json),
            }
        })
        .collect()
}

/// The events of one model exchange, pushed after the record's primary event. `input` is the
/// prompt; only what is *new* in it (after the last assistant turn) becomes customer messages
/// and returned tool results, so a conversation replayed in every prompt is not repeated.
pub(crate) fn exchange_events(
    rec: &mut Rec<'_>,
    time_ns: i64,
    end_ns: Option<i64>,
    agent: Option<String>,
    input: Vec<Message>,
    output: Vec<Message>,
) {
    let new_from = input
        .iter()
        .rposition(|m| m.role == "assistant")
        .map_or(0, |i| i + 1);
    let customer = rec.corr.customer_ref.clone();
    let new: Vec<Message> = input[new_from..].to_vec();
    if !input.is_empty() {
        rec.push(Ev::new(
            time_ns,
            EventKind::Prompt {
                messages: input,
                input: None,
            },
        ));
    }
    for m in new {
        match m.role.as_str() {
            "user" => rec.push(
                Ev::new(time_ns, EventKind::CustomerMessage { channel: None })
                    .by(ActorRole::Customer, customer.clone())
                    .content(m.text),
            ),
            "tool" => rec.push(
                Ev::new(
                    time_ns,
                    EventKind::ToolCall {
                        phase: ToolCallPhase::Returned,
                        name: m.name.clone(),
                        arguments: None,
                        result: m
                            .text
                            .as_ref()
                            .map(|t| maybe_json(&Value::String(t.clone()))),
                        error: None,
                    },
                )
                .by(ActorRole::Tool, m.name)
                .call_id(m.tool_call_id),
            ),
            _ => {}
        }
    }
    let at = end_ns.unwrap_or(time_ns);
    for m in output {
        if m.text.as_deref().is_some_and(|t| !t.is_empty()) {
            rec.push(
                Ev::new(
                    at,
                    EventKind::AgentMessage {
                        finish_reason: m.finish_reason.clone(),
                    },
                )
                .by(ActorRole::Agent, agent.clone())
                .content(m.text),
            );
        }
        for call in m.tool_calls {
            let handoff = call.name.starts_with("transfer_to_");
            rec.push(
                Ev::new(
                    at,
                    EventKind::ToolCall {
                        phase: ToolCallPhase::Requested,
                        name: Some(call.name.clone()),
                        arguments: call.arguments,
                        result: None,
                        error: None,
                    },
                )
                .by(ActorRole::Model, None)
                // The Agents SDK hands over by a tool call named `transfer_to_<agent>`; marking
                // it lets a timeline show the handoff even where no handoff span was exported.
                .attr("handoff", handoff.then_some(Value::Bool(true)))
                .call_id(call.id),
            );
        }
    }
}
