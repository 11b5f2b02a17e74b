//! The `openai-responses` adapter: the OpenAI Responses API (`POST /v1/responses`), plain or
//! streamed, as documented at <https://platform.openai.com/docs/api-reference/responses/create>
//! and <https://platform.openai.com/docs/api-reference/responses-streaming>.
//!
//! The reply is the text of the `message` output items; `function_call` items are, in a black-box
//! drill, actions the agent service has executed. Anything but a `completed` response (an `error`
//! object, `failed`, `incomplete`, a stream that stops early) is a [`TurnError`], so the turn is
//! inconclusive rather than judged on part of an answer.

use std::collections::BTreeMap;

use muster_model::agent::{OpenAiResponsesTarget, ResponsesConversation};
use muster_model::template::Vars;
use serde_json::{Map, Value, json};

use crate::TurnError;
use crate::adapter::{Conversation, Target, TurnOutcome, customer_ref, place_identity};
use crate::exchange::send_text;
use crate::reply::{AgentReply, ToolCall, arguments_value, flag_at, number_at, string_at};

impl Target {
    pub(crate) async fn send_responses(
        &self,
        o: &OpenAiResponsesTarget,
        conversation: &mut Conversation,
        message: &str,
        vars: &Vars,
    ) -> TurnOutcome {
        let url = match self.resolve(&o.path, vars) {
            Ok(u) => u,
            Err(e) => return TurnOutcome::unsent(e),
        };
        let customer = customer_ref(vars);
        let user_item = json!({"role": "user", "content": message});
        let mut input = Vec::new();
        if o.conversation == ResponsesConversation::ResendInput {
            input.extend(conversation.history.iter().cloned());
        }
        input.push(user_item.clone());
        let mut body = Map::new();
        body.insert("model".into(), Value::String(o.model.clone()));
        body.insert("input".into(), Value::Array(input));
        // Sent every turn: the API does not carry `instructions` over from a previous response.
        if let Some(instructions) = &o.instructions {
            body.insert("instructions".into(), Value::String(instructions.clone()));
        }
        if o.conversation == ResponsesConversation::PreviousResponseId
            && let Some(previous) = &conversation.previous_response_id
        {
            body.insert(
                "previous_response_id".into(),
                Value::String(previous.clone()),
            );
        }
        body.insert("stream".into(), Value::Bool(o.stream));
        let mut headers = Vec::new();
        place_identity(
            &o.identity,
            o.session.as_ref(),
            customer,
            &conversation.id,
            &mut body,
            &mut headers,
        );
        if o.stream {
            headers.push(("Accept".to_owned(), "text/event-stream".to_owned()));
        }
        let out = self.outgoing(
            reqwest::Method::POST,
            url,
            headers,
            Some(Value::Object(body)),
        );
        let (exchanges, doc) = if o.stream {
            let (exchanges, text) = send_text(
                self.client(),
                self.interlock(),
                self.secrets(),
                self.traffic(),
                out,
            )
            .await;
            (exchanges, text.and_then(|t| assemble_stream(&t)))
        } else {
            self.post(out).await
        };
        let reply = doc.and_then(|doc| {
            let reply = read_response(&doc, o)?;
            match o.conversation {
                ResponsesConversation::PreviousResponseId => {
                    // Without the id the next turn would silently start a new conversation.
                    let id = doc
                        .get("id")
                        .and_then(Value::as_str)
                        .filter(|id| !id.is_empty())
                        .ok_or_else(|| {
                            TurnError::Malformed(
                                "the response has no `id` to continue the conversation from"
                                    .to_owned(),
                            )
                        })?;
                    conversation.previous_response_id = Some(id.to_owned());
                }
                ResponsesConversation::ResendInput => {
                    conversation.history.push(user_item);
                    // Only the text goes back: a resent `function_call` item would need its
                    // `function_call_output`, which a black-box drill does not have.
                    if !reply.text.is_empty() {
                        conversation
                            .history
                            .push(json!({"role": "assistant", "content": reply.text}));
                    }
                }
            }
            Ok(reply)
        });
        TurnOutcome { exchanges, reply }
    }
}

/// Read a `response` object: the text of its `message` items, its `function_call` items and the
/// service's extensions. Anything but `status: completed` is an error.
pub(crate) fn read_response(
    doc: &Value,
    o: &OpenAiResponsesTarget,
) -> Result<AgentReply, TurnError> {
    if let Some(error) = doc.get("error").filter(|e| !e.is_null()) {
        return Err(TurnError::Malformed(format!(
            "the response carries an error: {}",
            error_message(error)
        )));
    }
    match doc.get("status").and_then(Value::as_str) {
        Some("completed") => {}
        Some("incomplete") => {
            let reason = doc
                .pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(TurnError::Malformed(format!(
                "the response is incomplete ({reason})"
            )));
        }
        Some(other) => {
            return Err(TurnError::Malformed(format!(
                "the response's status is `{other}`, not `completed`"
            )));
        }
        None => {
            return Err(TurnError::Malformed(
                "the response has no `status`".to_owned(),
            ));
        }
    }
    let Some(Value::Array(output)) = doc.get("output") else {
        return Err(TurnError::Malformed(
            "the response has no `output` list".to_owned(),
        ));
    };
    let mut results: Vec<&Value> = match o.tool_results.as_ref().and_then(|p| p.select_one(doc)) {
        Some(Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    results.extend(
        output
            .iter()
            .filter(|item| item_type(item) == Some("function_call_output")),
    );
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (i, item) in output.iter().enumerate() {
        match item_type(item) {
            Some("message") => texts.push(message_text(item, i)?),
            Some("function_call") => {
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        TurnError::Malformed(format!("output item #{} has no `name`", i + 1))
                    })?;
                let id = item
                    .get("call_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let result = results
                    .iter()
                    .find(|r| {
                        id.is_some() && r.get("call_id").and_then(Value::as_str) == id.as_deref()
                    })
                    .map(|r| {
                        r.get("output")
                            .or_else(|| r.get("content"))
                            .cloned()
                            .unwrap_or(Value::Null)
                    });
                calls.push(ToolCall {
                    id,
                    name: name.to_owned(),
                    arguments: arguments_value(item.get("arguments")),
                    result,
                });
            }
            // Reasoning, built-in tool calls and the like are not what the customer sees.
            _ => {}
        }
    }
    let text = texts
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if text.is_empty() && calls.is_empty() {
        return Err(TurnError::Malformed(
            "the response has neither text nor function calls".to_owned(),
        ));
    }
    Ok(AgentReply {
        text,
        tool_calls: calls,
        handover: flag_at(doc, o.handover.as_ref())?,
        confidence: number_at(doc, o.confidence.as_ref()),
        content_version: string_at(doc, o.content_version.as_ref()),
    })
}

fn item_type(item: &Value) -> Option<&str> {
    item.get("type").and_then(Value::as_str)
}

/// The text of one `message` item: its `output_text` parts, and any `refusal`, which the customer
/// would see just the same.
fn message_text(item: &Value, i: usize) -> Result<String, TurnError> {
    let Some(Value::Array(parts)) = item.get("content") else {
        return Err(TurnError::Malformed(format!(
            "message item #{} has no `content` list",
            i + 1
        )));
    };
    let mut text = String::new();
    for part in parts {
        let field = match item_type(part) {
            Some("output_text") => "text",
            Some("refusal") => "refusal",
            _ => continue,
        };
        match part.get(field) {
            Some(Value::String(s)) => text.push_str(s),
            _ => {
                return Err(TurnError::Malformed(format!(
                    "a content part of message item #{} has no `{field}` text",
                    i + 1
                )));
            }
        }
    }
    Ok(text)
}

fn error_message(error: &Value) -> String {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .unwrap_or("unspecified error");
    match error.get("code").and_then(Value::as_str) {
        Some(code) => format!("{message} ({code})"),
        None => message.to_owned(),
    }
}

/// One server-sent event: its `event:` name and its `data:` lines joined.
struct SseEvent {
    name: Option<String>,
    data: String,
}

/// Split an event stream into events (<https://html.spec.whatwg.org/multipage/server-sent-events.html>):
/// blank lines end events, `:` lines are comments, unknown fields are ignored.
fn sse_events(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let mut name = None;
    let mut data: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            match data.take() {
                Some(data) => events.push(SseEvent {
                    name: name.take(),
                    data,
                }),
                None => name = None,
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match data.as_mut() {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    // A last event without its blank line is kept: its JSON still has to parse whole.
    if let Some(data) = data {
        events.push(SseEvent { name, data });
    }
    events
}

/// What the stream said about one output item.
#[derive(Default)]
struct Slot {
    item: Option<Value>,
    done: bool,
    text: BTreeMap<u64, String>,
    text_done: BTreeMap<u64, String>,
    arguments: String,
    arguments_done: Option<String>,
}

impl Slot {
    /// The finished item: as `response.output_item.done` gave it, else built from the deltas.
    fn finish(self) -> Option<Value> {
        let mut item = self.item?;
        if self.done {
            return Some(item);
        }
        let kind = item_type(&item).map(str::to_owned);
        let fields = item.as_object_mut()?;
        match kind.as_deref() {
            Some("message") => {
                let mut parts = self.text;
                parts.extend(self.text_done);
                if !parts.is_empty() {
                    fields.insert(
                        "content".into(),
                        Value::Array(
                            parts
                                .into_values()
                                .map(|text| json!({"type": "output_text", "text": text}))
                                .collect(),
                        ),
                    );
                }
            }
            Some("function_call") => {
                let arguments = self.arguments_done.unwrap_or(self.arguments);
                fields.insert("arguments".into(), Value::String(arguments));
            }
            _ => {}
        }
        Some(item)
    }
}

/// Assemble a streamed response into the `response` object it describes: the one carried by
/// `response.completed`, with its `output` made up from the item events. A stream that fails,
/// carries an error or ends before `response.completed` is [`TurnError::Malformed`].
pub(crate) fn assemble_stream(text: &str) -> Result<Value, TurnError> {
    let mut slots: BTreeMap<u64, Slot> = BTreeMap::new();
    let mut completed = None;
    for event in sse_events(text) {
        if event.data.trim() == "[DONE]" {
            continue;
        }
        let v: Value = serde_json::from_str(&event.data)
            .map_err(|e| TurnError::Malformed(format!("a stream event's data is not JSON: {e}")))?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(event.name.as_deref())
            .unwrap_or_default()
            .to_owned();
        let text_of = |field: &str| {
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| TurnError::Malformed(format!("`{kind}` without `{field}` text")))
        };
        let content_index = v.get("content_index").and_then(Value::as_u64).unwrap_or(0);
        match kind.as_str() {
            "response.output_item.added" | "response.output_item.done" => {
                let item = v
                    .get("item")
                    .filter(|i| i.is_object())
                    .cloned()
                    .ok_or_else(|| TurnError::Malformed(format!("`{kind}` without an `item`")))?;
                let slot = slots.entry(output_index(&v, &kind)?).or_default();
                slot.item = Some(item);
                slot.done = kind == "response.output_item.done";
            }
            "response.output_text.delta" => {
                let delta = text_of("delta")?;
                slots
                    .entry(output_index(&v, &kind)?)
                    .or_default()
                    .text
                    .entry(content_index)
                    .or_default()
                    .push_str(&delta);
            }
            "response.output_text.done" => {
                let done = text_of("text")?;
                slots
                    .entry(output_index(&v, &kind)?)
                    .or_default()
                    .text_done
                    .insert(content_index, done);
            }
            "response.function_call_arguments.delta" => {
                let delta = text_of("delta")?;
                slots
                    .entry(output_index(&v, &kind)?)
                    .or_default()
                    .arguments
                    .push_str(&delta);
            }
            "response.function_call_arguments.done" => {
                let done = text_of("arguments")?;
                slots
                    .entry(output_index(&v, &kind)?)
                    .or_default()
                    .arguments_done = Some(done);
            }
            "response.completed" => {
                completed = Some(v.get("response").cloned().ok_or_else(|| {
                    TurnError::Malformed("`response.completed` without a `response`".to_owned())
                })?);
                break;
            }
            "response.failed" => {
                let error = v.pointer("/response/error").unwrap_or(&Value::Null);
                return Err(TurnError::Malformed(format!(
                    "the response failed: {}",
                    error_message(error)
                )));
            }
            "response.incomplete" => {
                let reason = v
                    .pointer("/response/incomplete_details/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                return Err(TurnError::Malformed(format!(
                    "the response is incomplete ({reason})"
                )));
            }
            "error" => {
                let error = v.get("error").unwrap_or(&v);
                return Err(TurnError::Malformed(format!(
                    "the stream carries an error: {}",
                    error_message(error)
                )));
            }
            _ => {}
        }
    }
    let Some(mut response) = completed else {
        return Err(TurnError::Malformed(
            "the stream ended without `response.completed`".to_owned(),
        ));
    };
    let assembled: Vec<Value> = slots.into_values().filter_map(Slot::finish).collect();
    if !assembled.is_empty() {
        let Some(fields) = response.as_object_mut() else {
            return Err(TurnError::Malformed(
                "`response.completed` carries no response object".to_owned(),
            ));
        };
        fields.insert("output".into(), Value::Array(assembled));
    }
    Ok(response)
}

fn output_index(event: &Value, kind: &str) -> Result<u64, TurnError> {
    event
        .get("output_index")
        .and_then(Value::as_u64)
        .ok_or_else(|| TurnError::Malformed(format!("`{kind}` without `output_index`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_join_data_lines_and_skip_comments() {
        let events = sse_events(
            ": keep-alive\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\n...\n\ndata: [DONE]",
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].name.as_deref(), Some("a"));
        assert_eq!(events[0].data, "{\"x\":\n1}");
        assert_eq!(events[1].data, "[DONE]");
    }

    #[test]
    fn deltas_alone_make_up_an_item_that_never_finished() {
        let stream = concat!(
            "data: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"message\",\"role\":\"assistant\",\"content\":[]}}\n\n",
            "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\"}\n\n",
            "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"lo\"}\n\n",
            "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"status\":\"completed\",\"output\":[]}}\n\n",
        );
        let doc = match assemble_stream(stream) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            doc.pointer("/output/0/content/0/text"),
            Some(&json!("Hello"))
        );
    }

    #[test]
    fn a_non_object_item_is_malformed_not_a_panic() {
        let stream =
            "data: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":\"x\"}\n\n";
        assert!(matches!(
            assemble_stream(stream),
            Err(TurnError::Malformed(_))
        ));
    }
}
