//! Model request/response logs: JSON Lines of `{"request": …, "response": …}` pairs, as an
//! application or gateway logs its calls to OpenAI Chat Completions, the OpenAI Responses API
//! or Anthropic Messages. Each pair is one record; which API it is, is told from the bodies
//! (`choices` → Chat Completions, `output` → Responses, `content` blocks with `stop_reason` →
//! Anthropic Messages).
//!
//! Times: the pair's own `timestamp` / `time` / `created_at` (any encoding), else the
//! response's `created` / `created_at` (epoch seconds). Keys: `metadata` on the pair or the
//! request (`conversation_id`, `session_id`, `thread_id`; `customer_id`, `user_id`), the
//! Responses API's `conversation`, Chat Completions' `user`, Anthropic's `metadata.user_id`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::chat::{content_text, exchange_events, messages};
use crate::common::{
    Doc, Ev, Out, Rec, attr_key, epoch_seconds_at, maybe_json, parse_body, str_at, text, time_at,
};
use crate::event::{ActorRole, Correlation, EventKind, EvidenceEvent, Message, ToolCallRequest};
use crate::lines::LineReader;
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};

const FORMAT: &str = "model-request-response-jsonl";

/// Request parameters kept on the model call, by their API names.
const PARAMETERS: [&str; 10] = [
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "tool_choice",
];

/// Read a JSON Lines file of pairs, one line at a time.
pub fn read_lines<R: std::io::BufRead>(input: R, origin: impl Into<String>) -> LineReader<R> {
    LineReader::new(input, origin, FORMAT, read_body)
}

/// Read one pair (one line or one file).
pub fn read_body(origin: &str, body: &[u8], at: BodyLocation) -> (Vec<Item>, ReadStats) {
    let mut out = Out::default();
    out.stats.bodies = 1;
    let d = Doc {
        origin,
        system: "model-api",
        format: FORMAT,
        at,
    };
    match parse_body(body) {
        Err(reason) => out.body_failed(&d, reason, body),
        Ok(Value::Object(o)) => {
            let (system, result) = map_pair(&d, &o);
            let d = Doc { system, ..d };
            out.record(&d, "", &Value::Object(o), result);
        }
        Ok(_) => out.body_failed(&d, "a log entry is not a JSON object".to_owned(), body),
    }
    out.finish()
}

enum Api {
    Chat,
    Responses,
    Anthropic,
}

fn map_pair(
    d: &Doc<'_>,
    o: &Map<String, Value>,
) -> (&'static str, Result<Vec<EvidenceEvent>, String>) {
    let (Some(req), Some(res)) = (
        o.get("request").and_then(Value::as_object),
        o.get("response").and_then(Value::as_object),
    ) else {
        return (
            "model-api",
            Err("not a pair: `request` and `response` objects are required".to_owned()),
        );
    };
    let api = if res.contains_key("choices")
        || req.contains_key("messages")
            && !res.contains_key("content")
            && !res.contains_key("output")
    {
        Api::Chat
    } else if res.contains_key("output") || str_at(res, "object") == Some("response") {
        Api::Responses
    } else if res.contains_key("content") || str_at(res, "type") == Some("message") {
        Api::Anthropic
    } else {
        return (
            "model-api",
            Err("neither a Chat Completions, Responses nor Anthropic Messages response".to_owned()),
        );
    };
    let system = match api {
        Api::Chat | Api::Responses => "openai",
        Api::Anthropic => "anthropic",
    };
    let d = Doc { system, ..*d };
    (system, map_api(&d, o, req, res, api))
}

fn map_api(
    d: &Doc<'_>,
    o: &Map<String, Value>,
    req: &Map<String, Value>,
    res: &Map<String, Value>,
    api: Api,
) -> Result<Vec<EvidenceEvent>, String> {
    let mut t = None;
    for k in ["timestamp", "time", "created_at", "request_time"] {
        if let Some(v) = time_at(o, k)? {
            t = Some(v);
            break;
        }
    }
    let t = match t {
        Some(t) => t,
        None => epoch_seconds_at(res, "created")?
            .or(epoch_seconds_at(res, "created_at")?)
            .ok_or("no time: the pair has no `timestamp` and the response no `created`")?,
    };
    let end = time_at(o, "response_time")?;
    let corr = keys(o, req);
    let (operation, provider) = match api {
        Api::Chat => ("chat", "openai"),
        Api::Responses => ("responses", "openai"),
        Api::Anthropic => ("chat", "anthropic"),
    };
    let (input, output) = match api {
        Api::Chat => {
            let choices = res.get("choices").and_then(Value::as_array);
            let out: Vec<Value> = choices
                .map(|c| {
                    c.iter()
                        .filter_map(|c| {
                            let mut m = c.get("message")?.clone();
                            if let (Value::Object(mo), Some(f)) = (&mut m, c.get("finish_reason")) {
                                mo.insert("finish_reason".to_owned(), f.clone());
                            }
                            Some(m)
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                messages(req.get("messages")),
                messages(Some(&Value::Array(out))),
            )
        }
        Api::Responses => (responses_input(req), responses_output(res)),
        Api::Anthropic => (anthropic_input(req), anthropic_output(res)),
    };
    let finish_reasons: Vec<String> = output
        .iter()
        .filter_map(|m| m.finish_reason.clone())
        .chain(text(res.get("stop_reason")))
        .collect();
    let usage: BTreeMap<String, Value> = match res.get("usage") {
        Some(Value::Object(u)) => u
            .iter()
            .filter(|(_, v)| v.is_number())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let parameters = PARAMETERS
        .iter()
        .filter_map(|k| {
            req.get(*k)
                .filter(|v| !v.is_null())
                .map(|v| ((*k).to_owned(), v.clone()))
        })
        .collect();
    let error = res
        .get("error")
        .filter(|e| !e.is_null())
        .map(|e| text(e.get("message")).unwrap_or_else(|| e.to_string()));
    let mut rec = Rec::new(d, String::new(), d.source(None), corr, end.unwrap_or(t));
    rec.push(
        Ev::new(
            t,
            EventKind::ModelCall {
                operation: Some(operation.to_owned()),
                provider: Some(provider.to_owned()),
                request_model: text(req.get("model")),
                response_model: text(res.get("model")),
                response_id: text(res.get("id")),
                parameters,
                usage,
                finish_reasons,
                error,
            },
        )
        .ending(end)
        .by(
            ActorRole::Model,
            text(res.get("model")).or_else(|| text(req.get("model"))),
        ),
    );
    exchange_events(&mut rec, t, end, None, input, output);
    Ok(rec.finish())
}

fn keys(o: &Map<String, Value>, req: &Map<String, Value>) -> Correlation {
    let mut c = Correlation::default();
    let metas = [
        ("metadata", o.get("metadata")),
        ("request.metadata", req.get("metadata")),
    ];
    for (where_, meta) in metas {
        let Some(m) = meta.and_then(Value::as_object) else {
            continue;
        };
        if c.conversation_id.is_none()
            && let Some((v, k)) = ["conversation_id", "session_id", "thread_id"]
                .iter()
                .find_map(|k| text(m.get(*k)).map(|v| (v, *k)))
        {
            c.conversation_id = Some(v);
            c.conversation_from = attr_key(&format!("{where_}.{k}"));
        }
        if c.customer_ref.is_none()
            && let Some((v, k)) = ["customer_id", "user_id", "customer"]
                .iter()
                .find_map(|k| text(m.get(*k)).map(|v| (v, *k)))
        {
            c.customer_ref = Some(v);
            c.customer_from = attr_key(&format!("{where_}.{k}"));
        }
    }
    if c.conversation_id.is_none() {
        // The Responses API's conversation: an id, or `{"id": …}`.
        let conv = req
            .get("conversation")
            .and_then(|v| text(Some(v)).or_else(|| text(v.get("id"))));
        if let Some(v) = conv {
            c.conversation_id = Some(v);
            c.conversation_from = attr_key("request.conversation");
        }
    }
    if c.customer_ref.is_none()
        && let Some(u) = text(req.get("user"))
    {
        c.customer_ref = Some(u);
        c.customer_from = attr_key("request.user");
    }
    c
}

/// Responses API input: a string, or items (`{role, content}` messages, `function_call`,
/// `function_call_output`).
fn responses_input(req: &Map<String, Value>) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(i) = text(req.get("instructions")) {
        out.push(Message {
            role: "system".to_owned(),
            text: Some(i),
            ..Message::default()
        });
    }
    match req.get("input") {
        Some(Value::String(s)) => out.push(Message {
            role: "user".to_owned(),
            text: Some(s.clone()),
            ..Message::default()
        }),
        Some(Value::Array(items)) => {
            for item in items.iter().filter_map(Value::as_object) {
                match str_at(item, "type") {
                    Some("function_call") => out.push(Message {
                        role: "assistant".to_owned(),
                        tool_calls: vec![ToolCallRequest {
                            id: text(item.get("call_id")),
                            name: text(item.get("name")).unwrap_or_default(),
                            arguments: item.get("arguments").map(maybe_json),
                        }],
                        ..Message::default()
                    }),
                    Some("function_call_output") => out.push(Message {
                        role: "tool".to_owned(),
                        text: content_text(item.get("output")),
                        tool_call_id: text(item.get("call_id")),
                        ..Message::default()
                    }),
                    _ => out.push(Message {
                        role: text(item.get("role")).unwrap_or_else(|| "user".to_owned()),
                        text: content_text(item.get("content")),
                        ..Message::default()
                    }),
                }
            }
        }
        _ => {}
    }
    out
}

fn responses_output(res: &Map<String, Value>) -> Vec<Message> {
    let mut out = Vec::new();
    for item in res
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(item) = item.as_object() else {
            continue;
        };
        match str_at(item, "type") {
            Some("message") => out.push(Message {
                role: "assistant".to_owned(),
                text: content_text(item.get("content")),
                ..Message::default()
            }),
            Some("function_call") => out.push(Message {
                role: "assistant".to_owned(),
                tool_calls: vec![ToolCallRequest {
                    id: text(item.get("call_id")),
                    name: text(item.get("name")).unwrap_or_default(),
                    arguments: item.get("arguments").map(maybe_json),
                }],
                ..Message::default()
            }),
            _ => {}
        }
    }
    out
}

/// Anthropic content: a string or blocks (`text`, `tool_use`, `tool_result`). A user turn of
/// tool results becomes tool messages, as the Chat Completions shape has them.
fn anthropic_blocks(role: &str, content: Option<&Value>) -> Vec<Message> {
    let blocks = match content {
        Some(Value::String(s)) => {
            return vec![Message {
                role: role.to_owned(),
                text: Some(s.clone()),
                ..Message::default()
            }];
        }
        Some(Value::Array(b)) => b,
        _ => return Vec::new(),
    };
    let mut main = Message {
        role: role.to_owned(),
        ..Message::default()
    };
    let mut texts = Vec::new();
    let mut out = Vec::new();
    let results_first = blocks
        .first()
        .is_some_and(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"));
    for b in blocks.iter().filter_map(Value::as_object) {
        match str_at(b, "type") {
            Some("text") => texts.extend(text(b.get("text"))),
            Some("tool_use") => main.tool_calls.push(ToolCallRequest {
                id: text(b.get("id")),
                name: text(b.get("name")).unwrap_or_default(),
                arguments: b.get("input").cloned(),
            }),
            Some("tool_result") => out.push(Message {
                role: "tool".to_owned(),
                text: content_text(b.get("content")),
                tool_call_id: text(b.get("tool_use_id")),
                ..Message::default()
            }),
            _ => {}
        }
    }
    if !texts.is_empty() {
        main.text = Some(texts.join("\n"));
    }
    if main.text.is_some() || !main.tool_calls.is_empty() {
        // Keep the turn's order: results handed back first (as the APIs require) stay first.
        if results_first {
            out.push(main);
        } else {
            out.insert(0, main);
        }
    }
    out
}

pub(crate) fn anthropic_input(req: &Map<String, Value>) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(s) = content_text(req.get("system")) {
        out.push(Message {
            role: "system".to_owned(),
            text: Some(s),
            ..Message::default()
        });
    }
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        out.extend(anthropic_blocks(role, m.get("content")));
    }
    out
}

pub(crate) fn anthropic_output(res: &Map<String, Value>) -> Vec<Message> {
    let mut out = anthropic_blocks("assistant", res.get("content"));
    if let Some(first) = out.first_mut() {
        first.finish_reason = text(res.get("stop_reason"));
    }
    out
}
