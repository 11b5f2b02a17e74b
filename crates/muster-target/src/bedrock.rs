//! The `bedrock-converse` adapter: Amazon Bedrock's Converse API, signed with SigV4.
//!
//! `POST {base_url}/model/{modelId}/converse` with the whole conversation each turn (Converse is
//! stateless), read `output.message.content[]`: text blocks are the reply, `toolUse` blocks the
//! tool calls. Credentials come from the environment only and are registered as secrets, so
//! neither the secret key nor the session token can reach the evidence.

use muster_model::agent::BedrockConverseTarget;
use serde_json::{Value, json};

use crate::adapter::{Conversation, Target, TurnOutcome};
use crate::exchange::{Outgoing, Secrets};
use crate::reply::{AgentReply, ToolCall, arguments_value};
use crate::sigv4::{Credentials, signing_headers};
use crate::{TargetError, TurnError};

/// The SigV4 service name Bedrock's runtime endpoints sign with.
const SERVICE: &str = "bedrock";

/// The settings and credentials a Bedrock target is drilled with.
#[derive(Clone, Debug)]
pub(crate) struct Bedrock {
    settings: BedrockConverseTarget,
    region: String,
    credentials: Credentials,
}

impl Bedrock {
    /// Read the credentials (and, unless the manifest names one, the region) from `env`,
    /// registering the secret parts with `secrets`.
    pub(crate) fn from_env(
        settings: &BedrockConverseTarget,
        env: &dyn Fn(&str) -> Option<String>,
        secrets: &mut Secrets,
    ) -> Result<Self, TargetError> {
        let required = |name: &str| {
            env(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| TargetError::MissingSecret(name.to_owned()))
        };
        let access_key_id = required("AWS_ACCESS_KEY_ID")?;
        let secret_access_key = required("AWS_SECRET_ACCESS_KEY")?;
        let session_token = env("AWS_SESSION_TOKEN").filter(|v| !v.is_empty());
        let region = settings
            .region
            .clone()
            .or_else(|| env("AWS_REGION").filter(|v| !v.is_empty()))
            .ok_or(TargetError::MissingRegion)?;
        secrets.add(&secret_access_key);
        if let Some(token) = &session_token {
            secrets.add(token);
        }
        Ok(Self {
            settings: settings.clone(),
            region,
            credentials: Credentials {
                access_key_id,
                secret_access_key,
                session_token,
            },
        })
    }

    pub(crate) fn region(&self) -> &str {
        &self.region
    }
}

/// The endpoint path with the model id URI-encoded as one path segment: ids contain `:` and
/// inference-profile ARNs contain `/`, both of which AWS's SDKs send encoded. With `stream`, the
/// default path becomes ConverseStream's.
fn endpoint_path(settings: &BedrockConverseTarget) -> String {
    let path = if settings.stream && settings.path == DEFAULT_PATH {
        STREAM_PATH
    } else {
        settings.path.as_str()
    };
    let mut id = String::new();
    for b in settings.model_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            id.push(char::from(b));
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    path.replace("{model_id}", &id)
}

const DEFAULT_PATH: &str = "/model/{model_id}/converse";
const STREAM_PATH: &str = "/model/{model_id}/converse-stream";

/// Read a ConverseStream answer into the shape of a Converse one, so one reader judges both and
/// the evidence records the assembled reply. Exceptions in the stream and damaged framing are
/// errors.
fn assemble_stream(bytes: &[u8]) -> Result<Value, String> {
    let messages = crate::eventstream::decode_all(bytes)
        .map_err(|e| format!("the event stream is damaged: {e}"))?;
    let mut role = Value::String("assistant".to_owned());
    // Content blocks by index: text so far, or a tool use with its input text so far.
    let mut blocks: std::collections::BTreeMap<u64, (Value, String)> = Default::default();
    let mut stop = Value::Null;
    let mut usage = Value::Null;
    for (n, m) in messages.iter().enumerate() {
        let payload: Value = if m.payload.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&m.payload)
                .map_err(|e| format!("event {} of the stream is not JSON: {e}", n + 1))?
        };
        match m.header(":message-type") {
            Some("event") => {}
            Some("exception") => {
                return Err(format!(
                    "the stream carries {}: {}",
                    m.header(":exception-type").unwrap_or("an exception"),
                    payload
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("no message")
                ));
            }
            other => {
                return Err(format!(
                    "the stream carries an error ({}): {}",
                    other.unwrap_or("no message type"),
                    m.header(":error-message").unwrap_or("no message")
                ));
            }
        }
        let index = payload
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match m.header(":event-type") {
            Some("messageStart") => {
                if let Some(r) = payload.get("role") {
                    role = r.clone();
                }
            }
            Some("contentBlockStart") => {
                if let Some(tool) = payload.pointer("/start/toolUse") {
                    blocks.insert(index, (json!({"toolUse": tool}), String::new()));
                }
            }
            Some("contentBlockDelta") => {
                // Only text and tool input are kept; other deltas (reasoning) start no block, so
                // they cannot add empty text to the reply.
                if let Some(text) = payload.pointer("/delta/text").and_then(Value::as_str) {
                    blocks
                        .entry(index)
                        .or_insert_with(|| (json!({"text": ""}), String::new()))
                        .1
                        .push_str(text);
                } else if let Some(input) = payload
                    .pointer("/delta/toolUse/input")
                    .and_then(Value::as_str)
                {
                    match blocks.get_mut(&index) {
                        Some(entry) if entry.0.get("toolUse").is_some() => entry.1.push_str(input),
                        _ => {
                            return Err(format!(
                                "tool input for block {index} arrived before its contentBlockStart"
                            ));
                        }
                    }
                }
            }
            Some("messageStop") => {
                stop = payload.get("stopReason").cloned().unwrap_or(Value::Null);
            }
            Some("metadata") => usage = payload.get("usage").cloned().unwrap_or(Value::Null),
            _ => {}
        }
    }
    let mut content = Vec::new();
    for (index, (mut block, text)) in blocks {
        if let Some(tool) = block.get_mut("toolUse") {
            // Tool input arrives as JSON text in pieces; the whole must parse.
            let input = if text.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&text).map_err(|e| {
                    format!("the streamed input of tool-use block {index} is not JSON: {e}")
                })?
            };
            tool["input"] = input;
        } else {
            block["text"] = Value::String(text);
        }
        content.push(block);
    }
    Ok(json!({
        "output": {"message": {"role": role, "content": content}},
        "stopReason": stop,
        "usage": usage,
        "streamEvents": messages.len(),
    }))
}

/// The request body: system prompt, the history so far and the new customer message.
fn request_body(settings: &BedrockConverseTarget, history: &[Value], message: &str) -> Value {
    let mut messages = history.to_vec();
    messages.push(json!({"role": "user", "content": [{"text": message}]}));
    let mut body = json!({ "messages": messages });
    if let Some(system) = &settings.system_prompt {
        body["system"] = json!([{ "text": system }]);
    }
    if let Some(config) = &settings.inference_config {
        body["inferenceConfig"] = config.clone();
    }
    body
}

impl Target {
    pub(crate) async fn send_bedrock(
        &self,
        bedrock: &Bedrock,
        conversation: &mut Conversation,
        message: &str,
        vars: &muster_model::template::Vars,
    ) -> TurnOutcome {
        let failed = TurnOutcome::unsent;
        let url = match self.resolve(&endpoint_path(&bedrock.settings), vars) {
            Ok(u) => u,
            Err(e) => return failed(e),
        };
        let body = request_body(&bedrock.settings, conversation.history(), message);
        // The signature covers these exact bytes; reqwest serialises the body with the same
        // `serde_json::to_vec`, so what is sent is what was signed.
        let payload = match serde_json::to_vec(&body) {
            Ok(p) => p,
            Err(e) => return failed(TurnError::Request(e.to_string())),
        };
        let signed = match signing_headers(
            "POST",
            &url,
            &payload,
            &bedrock.credentials,
            &bedrock.region,
            SERVICE,
            jiff::Timestamp::now(),
        ) {
            Ok(h) => h,
            Err(e) => return failed(TurnError::Request(format!("could not sign: {e}"))),
        };
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(signed);
        let out = Outgoing {
            method: reqwest::Method::POST,
            url,
            headers,
            // The whole `Authorization` value is withheld from evidence, not only the secret in it.
            secret_headers: vec![
                "authorization".to_owned(),
                "x-amz-security-token".to_owned(),
            ],
            body: Some(body),
            timeout: self.timeout(),
            event_stream: false,
            decode: if bedrock.settings.stream {
                Some(assemble_stream)
            } else {
                None
            },
        };
        let (exchanges, result) = self.post(out).await;
        let reply = result.and_then(|doc| {
            let reply = read_converse(&doc)?;
            // Converse is stateless: the next turn resends this turn, with the assistant's
            // message exactly as Bedrock returned it (as AWS documents for multi-turn chats).
            let assistant = doc
                .pointer("/output/message")
                .cloned()
                .unwrap_or(Value::Null);
            conversation
                .history_mut()
                .push(json!({"role": "user", "content": [{"text": message}]}));
            conversation.history_mut().push(assistant);
            Ok(reply)
        });
        TurnOutcome { exchanges, reply }
    }
}

/// Read a Converse response: text blocks joined, `toolUse` blocks as tool calls. An error body, a
/// missing message, a reply cut off by `maxTokens` or one with nothing in it is not judgeable.
pub(crate) fn read_converse(doc: &Value) -> Result<AgentReply, TurnError> {
    if doc.get("output").is_none()
        && let Some(message) = doc.get("message").and_then(Value::as_str)
    {
        let kind = doc.get("__type").and_then(Value::as_str).unwrap_or("error");
        return Err(TurnError::Malformed(format!(
            "Bedrock answered with an error ({kind}): {message}"
        )));
    }
    let stop = doc
        .get("stopReason")
        .and_then(Value::as_str)
        .ok_or_else(|| TurnError::Malformed("the response has no `stopReason`".to_owned()))?;
    // A reply cut short may not yet have said what the scenario looks for: inconclusive, not
    // judged as though it were complete.
    if stop == "max_tokens" {
        return Err(TurnError::Malformed(
            "the reply was cut off at `maxTokens` (stopReason max_tokens)".to_owned(),
        ));
    }
    let message = doc
        .pointer("/output/message")
        .ok_or_else(|| TurnError::Malformed("the response has no `output.message`".to_owned()))?;
    if let Some(role) = message.get("role").and_then(Value::as_str)
        && role != "assistant"
    {
        return Err(TurnError::Malformed(format!(
            "`output.message.role` is `{role}`, not `assistant`"
        )));
    }
    let Some(Value::Array(blocks)) = message.get("content") else {
        return Err(TurnError::Malformed(
            "`output.message.content` is not a list".to_owned(),
        ));
    };
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        if let Some(text) = block.get("text") {
            let text = text.as_str().ok_or_else(|| {
                TurnError::Malformed(format!("content block #{} has a non-text `text`", i + 1))
            })?;
            if !text.is_empty() {
                texts.push(text);
            }
        } else if let Some(tool) = block.get("toolUse") {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    TurnError::Malformed(format!("toolUse block #{} has no `name`", i + 1))
                })?;
            calls.push(ToolCall {
                id: tool
                    .get("toolUseId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                name: name.to_owned(),
                arguments: arguments_value(tool.get("input")),
                result: None,
            });
        }
        // Other blocks (reasoning, images, citations) carry nothing muster judges.
    }
    let text = texts.join("\n");
    if text.trim().is_empty() && calls.is_empty() {
        return Err(TurnError::Malformed(format!(
            "the response has neither text nor tool use (stopReason {stop})"
        )));
    }
    Ok(AgentReply {
        text,
        tool_calls: calls,
        handover: None,
        confidence: None,
        content_version: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(model_id: &str) -> BedrockConverseTarget {
        BedrockConverseTarget {
            model_id: model_id.to_owned(),
            region: None,
            path: "/model/{model_id}/converse".to_owned(),
            system_prompt: Some("Be brief.".to_owned()),
            inference_config: Some(json!({"maxTokens": 256})),
            stream: false,
        }
    }

    #[test]
    fn model_ids_and_arns_are_one_encoded_segment() {
        assert_eq!(
            endpoint_path(&settings("anthropic.claude-3-haiku-20240307-v1:0")),
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        );
        assert_eq!(
            endpoint_path(&settings(
                "arn:aws:bedrock:eu-west-2:123456789012:inference-profile/eu.x"
            )),
            "/model/arn%3Aaws%3Abedrock%3Aeu-west-2%3A123456789012%3Ainference-profile%2Feu.x/converse"
        );
    }

    #[test]
    fn streaming_uses_converse_stream_unless_the_path_is_set() {
        let mut s = settings("m:1");
        s.stream = true;
        assert_eq!(endpoint_path(&s), "/model/m%3A1/converse-stream");
        s.path = "/proxy/{model_id}/chat".to_owned();
        assert_eq!(endpoint_path(&s), "/proxy/m%3A1/chat");
    }

    #[test]
    fn body_carries_system_config_history_and_the_new_message() {
        let history = vec![
            json!({"role": "user", "content": [{"text": "hi"}]}),
            json!({"role": "assistant", "content": [{"text": "hello"}]}),
        ];
        let body = request_body(&settings("m"), &history, "refund please");
        assert_eq!(body["system"], json!([{"text": "Be brief."}]));
        assert_eq!(body["inferenceConfig"], json!({"maxTokens": 256}));
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            body["messages"][2],
            json!({"role": "user", "content": [{"text": "refund please"}]})
        );
    }

    #[test]
    fn text_blocks_are_joined_around_tool_use_and_other_blocks_ignored() {
        let doc = json!({"output": {"message": {"role": "assistant", "content": [
            {"text": "<thinking>The user wants a refund.</thinking>"},
            {"reasoningContent": {"reasoningText": {"text": "hidden"}}},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "process_return", "input": {"amount": 749}}},
            {"text": "I have started your refund."}
        ]}}, "stopReason": "tool_use"});
        let reply = match read_converse(&doc) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            reply.text,
            "<thinking>The user wants a refund.</thinking>\nI have started your refund."
        );
        assert_eq!(reply.tool_calls.len(), 1);
        assert_eq!(reply.tool_calls[0].number_argument("amount"), Some(749.0));
        // A guardrail's intervention is what the customer sees: it is judged like any reply.
        let guarded = json!({"output": {"message": {"role": "assistant", "content": [{"text": "Sorry, I can't help with that."}]}}, "stopReason": "guardrail_intervened"});
        assert!(read_converse(&guarded).is_ok());
        let nameless = json!({"output": {"message": {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "input": {}}}]}}, "stopReason": "tool_use"});
        assert!(read_converse(&nameless).is_err());
    }

    fn frame(kind: &str, payload: &str) -> Vec<u8> {
        crate::eventstream::encode(
            &[(":event-type", kind), (":message-type", "event")],
            payload.as_bytes(),
        )
    }

    #[test]
    fn streams_without_an_end_or_with_bad_events_are_not_judged() {
        let reasoning = [
            frame("messageStart", r#"{"role":"assistant"}"#),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hmm"}}}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"text":"Hello."}}"#,
            ),
            frame("messageStop", r#"{"stopReason":"end_turn"}"#),
        ]
        .concat();
        let doc = assemble_stream(&reasoning).unwrap_or_default();
        assert_eq!(read_converse(&doc).map(|r| r.text), Ok("Hello.".to_owned()));

        // Cut before messageStop: no stopReason, so not a reply.
        let unfinished = [
            frame("messageStart", r#"{"role":"assistant"}"#),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"I will ref"}}"#,
            ),
        ]
        .concat();
        let doc = assemble_stream(&unfinished).unwrap_or_default();
        assert!(read_converse(&doc).is_err());

        assert!(assemble_stream(&frame("contentBlockDelta", "not json")).is_err());
        let orphan = frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{}"}}}"#,
        );
        assert!(assemble_stream(&orphan).is_err());
        let bad_input = [
            frame(
                "contentBlockStart",
                r#"{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t","name":"refund"}}}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"amount\": 7"}}}"#,
            ),
            frame("messageStop", r#"{"stopReason":"tool_use"}"#),
        ]
        .concat();
        assert!(assemble_stream(&bad_input).is_err());
    }

    #[test]
    fn truncated_empty_and_error_replies_are_not_judged() {
        let cut = json!({"output": {"message": {"role": "assistant", "content": [{"text": "Sure, I"}]}}, "stopReason": "max_tokens"});
        assert!(matches!(read_converse(&cut), Err(TurnError::Malformed(_))));
        let empty = json!({"output": {"message": {"role": "assistant", "content": []}}, "stopReason": "end_turn"});
        assert!(matches!(
            read_converse(&empty),
            Err(TurnError::Malformed(_))
        ));
        let error = json!({"message": "The security token included in the request is invalid.", "__type": "UnrecognizedClientException"});
        match read_converse(&error) {
            Err(TurnError::Malformed(m)) => assert!(m.contains("UnrecognizedClientException")),
            other => panic!("expected an error, got {other:?}"),
        }
        let no_stop =
            json!({"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}});
        assert!(read_converse(&no_stop).is_err());
    }
}
