//! Chat messages, tool calls and retrieved documents in each dialect's encoding, read into the
//! evidence model's [`Message`] and [`Document`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::model::Attrs;
use crate::event::{Document, Message, ToolCallRequest};

/// A value that may be JSON carried as a string (GenAI on spans, OpenInference, Langfuse):
/// the parsed JSON if it parses, else the value unchanged.
pub(crate) fn json_or_self(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str(s).unwrap_or_else(|_| v.clone())
            } else {
                v.clone()
            }
        }
        other => other.clone(),
    }
}

/// Text of a value: a string as is, anything else as compact JSON.
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => serde_json::to_string(other).ok(),
    }
}

fn str_field(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn push_text(acc: &mut Option<String>, s: &str) {
    // An empty string is no text (a model's `"content": ""` beside its tool calls).
    if s.is_empty() {
        return;
    }
    match acc {
        Some(t) => {
            t.push('\n');
            t.push_str(s);
        }
        None => *acc = Some(s.to_owned()),
    }
}

/// The text of one content part: `{"type": "text", "text": "…"}`, or the Assistants/Agents
/// shape `{"text": {"value": "…", "annotations": […]}}`.
pub(crate) fn part_text(v: &Value) -> Option<String> {
    match v.get("text")? {
        Value::String(s) => Some(s.clone()),
        t @ Value::Object(_) => t.get("value").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The text of a message's `content`: a string; the text parts of a list; or an object keyed by
/// content type (Azure AI Agents' message events: `{"text": {"value": "…"}}`). `None` when it
/// holds no text (an image, a tool result object).
pub(crate) fn content_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let mut out = None;
            for item in items {
                let t = match item {
                    Value::String(s) => Some(s.clone()),
                    other => part_text(other),
                };
                if let Some(t) = t {
                    push_text(&mut out, &t);
                }
            }
            out
        }
        Value::Object(_) => part_text(v),
        _ => None,
    }
}

fn tool_call(v: &Value) -> Option<ToolCallRequest> {
    let m = v.as_object()?;
    // GenAI part `{id, name, arguments}` or OpenAI `{id, function: {name, arguments}}`.
    let f = m.get("function").and_then(Value::as_object).unwrap_or(m);
    Some(ToolCallRequest {
        id: str_field(m, "id"),
        name: str_field(f, "name")?,
        arguments: f.get("arguments").map(json_or_self),
    })
}

/// One message in the GenAI shape (`{role, parts:[…]}`) or the OpenAI chat shape
/// (`{role, content, tool_calls, tool_call_id}`); both occur (GenAI spans, Langfuse inputs).
pub(crate) fn chat_message(v: &Value) -> Option<Message> {
    let m = v.as_object()?;
    let mut msg = Message {
        role: str_field(m, "role").unwrap_or_else(|| "unknown".to_owned()),
        name: str_field(m, "name"),
        tool_call_id: str_field(m, "tool_call_id"),
        finish_reason: str_field(m, "finish_reason"),
        ..Message::default()
    };
    if let Some(parts) = m.get("parts").and_then(Value::as_array) {
        for part in parts {
            let Some(p) = part.as_object() else { continue };
            match p.get("type").and_then(Value::as_str) {
                Some("tool_call") => msg.tool_calls.extend(tool_call(part)),
                Some("tool_call_response") => {
                    msg.tool_call_id = msg.tool_call_id.or_else(|| str_field(p, "id"));
                    // Older examples call the payload `result`.
                    if let Some(r) = p
                        .get("response")
                        .or_else(|| p.get("result"))
                        .and_then(text_of)
                    {
                        push_text(&mut msg.text, &r);
                    }
                }
                _ => {
                    if let Some(c) = p.get("content").and_then(text_of) {
                        push_text(&mut msg.text, &c);
                    }
                }
            }
        }
    }
    if let Some(t) = m.get("content").and_then(content_text) {
        push_text(&mut msg.text, &t);
    }
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        msg.tool_calls.extend(calls.iter().filter_map(tool_call));
    }
    Some(msg)
}

/// A message list: a JSON array (or a JSON string of one), or a single message object.
pub(crate) fn chat_messages(v: &Value) -> Option<Vec<Message>> {
    match json_or_self(v) {
        Value::Array(items) => Some(items.iter().filter_map(chat_message).collect()),
        obj @ Value::Object(_) => {
            // Langfuse inputs are sometimes `{messages:[…]}` (the request) and outputs a message.
            if let Some(inner) = obj.get("messages") {
                return chat_messages(inner);
            }
            obj.get("role")
                .and_then(|_| chat_message(&obj))
                .map(|m| vec![m])
        }
        _ => None,
    }
}

/// `prefix.N.rest = value` attributes grouped by `N` (numerically: `10` sorts after `9`), each
/// group as `rest → value`.
pub(crate) fn indexed<'a>(
    attrs: &'a Attrs,
    prefix: &str,
) -> BTreeMap<usize, BTreeMap<&'a str, &'a Value>> {
    let mut out: BTreeMap<usize, BTreeMap<&str, &Value>> = BTreeMap::new();
    for (k, v) in attrs {
        let Some(rest) = k.strip_prefix(prefix) else {
            continue;
        };
        let Some((n, tail)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        out.entry(n).or_default().entry(tail).or_insert(v);
    }
    out
}

fn group_str(g: &BTreeMap<&str, &Value>, key: &str) -> Option<String> {
    g.get(key).and_then(|v| v.as_str()).map(str::to_owned)
}

/// OpenInference `llm.input_messages.N.message.*` / `llm.output_messages.N.message.*`.
pub(crate) fn openinference_messages(attrs: &Attrs, prefix: &str) -> Option<Vec<Message>> {
    let groups = indexed(attrs, prefix);
    if groups.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(groups.len());
    for g in groups.values() {
        let mut msg = Message {
            role: group_str(g, "message.role").unwrap_or_else(|| "unknown".to_owned()),
            text: group_str(g, "message.content"),
            name: group_str(g, "message.name"),
            tool_call_id: group_str(g, "message.tool_call_id"),
            ..Message::default()
        };
        let mut calls: BTreeMap<usize, ToolCallRequest> = BTreeMap::new();
        let mut contents: BTreeMap<usize, String> = BTreeMap::new();
        for (k, v) in g {
            if let Some(rest) = k.strip_prefix("message.tool_calls.")
                && let Some((n, field)) = rest.split_once('.')
                && let Ok(n) = n.parse::<usize>()
            {
                let call = calls.entry(n).or_default();
                match field {
                    "tool_call.id" => call.id = v.as_str().map(str::to_owned),
                    "tool_call.function.name" => {
                        call.name = v.as_str().unwrap_or_default().to_owned();
                    }
                    "tool_call.function.arguments" => call.arguments = Some(json_or_self(v)),
                    _ => {}
                }
            } else if let Some(rest) = k.strip_prefix("message.contents.")
                && let Some((n, "message_content.text")) = rest.split_once('.')
                && let Ok(n) = n.parse::<usize>()
                && let Some(t) = v.as_str()
            {
                contents.insert(n, t.to_owned());
            }
        }
        for t in contents.values() {
            push_text(&mut msg.text, t);
        }
        msg.tool_calls = calls.into_values().filter(|c| !c.name.is_empty()).collect();
        out.push(msg);
    }
    Some(out)
}

/// OpenLLMetry `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`.
pub(crate) fn openllmetry_messages(attrs: &Attrs, prefix: &str) -> Option<Vec<Message>> {
    let groups = indexed(attrs, prefix);
    if groups.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(groups.len());
    for g in groups.values() {
        let mut calls: BTreeMap<usize, ToolCallRequest> = BTreeMap::new();
        for (k, v) in g {
            if let Some(rest) = k.strip_prefix("tool_calls.")
                && let Some((n, field)) = rest.split_once('.')
                && let Ok(n) = n.parse::<usize>()
            {
                let call = calls.entry(n).or_default();
                match field {
                    "id" => call.id = v.as_str().map(str::to_owned),
                    "name" => call.name = v.as_str().unwrap_or_default().to_owned(),
                    "arguments" => call.arguments = Some(json_or_self(v)),
                    _ => {}
                }
            }
        }
        out.push(Message {
            role: group_str(g, "role").unwrap_or_else(|| "unknown".to_owned()),
            text: g.get("content").and_then(|v| text_of(v)),
            name: None,
            tool_call_id: group_str(g, "tool_call_id"),
            tool_calls: calls.into_values().filter(|c| !c.name.is_empty()).collect(),
            finish_reason: group_str(g, "finish_reason"),
        });
    }
    Some(out)
}

fn document(v: &Value) -> Option<Document> {
    let m = v.as_object()?;
    let mut doc = Document {
        id: m.get("id").and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        version: str_field(m, "version"),
        score: m.get("score").and_then(Value::as_f64),
        content: m.get("content").or_else(|| m.get("text")).and_then(text_of),
        metadata: None,
    };
    // Extra fields are allowed by the GenAI schema; they are kept as metadata, and a version
    // found there is lifted (documents are cited by id *and* version in incident reviews).
    let mut extra = Map::new();
    for (k, v) in m {
        if !matches!(k.as_str(), "id" | "version" | "score" | "content" | "text") {
            extra.insert(k.clone(), v.clone());
        }
    }
    if let Some(Value::Object(meta)) = extra.get("metadata").map(json_or_self) {
        doc.version = doc.version.or_else(|| str_field(&meta, "version"));
        extra.insert("metadata".to_owned(), Value::Object(meta));
    }
    if !extra.is_empty() {
        doc.metadata = Some(Value::Object(extra));
    }
    Some(doc)
}

/// GenAI `gen_ai.retrieval.documents` (JSON string or structured array).
pub(crate) fn genai_documents(v: &Value) -> Vec<Document> {
    match json_or_self(v) {
        Value::Array(items) => items.iter().filter_map(document).collect(),
        _ => Vec::new(),
    }
}

/// OpenInference `retrieval.documents.N.document.*`.
pub(crate) fn openinference_documents(attrs: &Attrs) -> Vec<Document> {
    indexed(attrs, "retrieval.documents.")
        .values()
        .filter_map(|g| {
            let mut m = Map::new();
            for (k, v) in g {
                if let Some(field) = k.strip_prefix("document.") {
                    m.insert(field.to_owned(), (*v).clone());
                }
            }
            document(&Value::Object(m))
        })
        .collect()
}

/// Messages joined for full-text search: `role: text` per line.
pub(crate) fn transcript(messages: &[Message]) -> Option<String> {
    let mut out: Option<String> = None;
    for m in messages {
        if let Some(t) = &m.text {
            push_text(&mut out, &format!("{}: {t}", m.role));
        }
        for c in &m.tool_calls {
            let args = c.arguments.as_ref().and_then(text_of).unwrap_or_default();
            push_text(&mut out, &format!("{}: call {}({args})", m.role, c.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn genai_and_openai_message_shapes() {
        let genai = json!([{"role": "assistant", "parts": [
            {"type": "text", "content": "Checking."},
            {"type": "tool_call", "id": "c1", "name": "lookup_order", "arguments": {"order_id": "A-1001"}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "result": {"ok": true}}]}]);
        let openai = json!([{"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order_id\": \"A-1001\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "{\"ok\":true}"}]);
        for v in [genai, Value::String(openai.to_string())] {
            let m = chat_messages(&v).unwrap_or_default();
            assert_eq!(m.len(), 2);
            assert_eq!(m[0].text.as_deref(), Some("Checking."));
            assert_eq!(m[0].tool_calls[0].name, "lookup_order");
            assert_eq!(
                m[0].tool_calls[0].arguments,
                Some(json!({"order_id": "A-1001"}))
            );
            assert_eq!(m[1].tool_call_id.as_deref(), Some("c1"));
            assert_eq!(m[1].text.as_deref(), Some("{\"ok\":true}"));
        }
        assert_eq!(chat_messages(&json!("plain text")), None);
        assert_eq!(
            chat_messages(&json!({"messages": [{"role": "user", "content": "hi"}]}))
                .map(|m| m.len()),
            Some(1)
        );
    }

    #[test]
    fn content_text_shapes() {
        let cases = [
            (json!("plain"), Some("plain")),
            (
                json!([{"type": "text", "text": "a"}, {"type": "image_url"}, "b"]),
                Some("a\nb"),
            ),
            // Azure AI Agents' message events: the content keyed by its type.
            (
                json!({"text": {"value": "agents", "annotations": []}}),
                Some("agents"),
            ),
            (
                json!([{"type": "text", "text": {"value": "assistants"}}]),
                Some("assistants"),
            ),
            (json!({"status": "shipped"}), None),
            (json!(""), Some("")),
            (json!(null), None),
        ];
        for (v, want) in cases {
            assert_eq!(content_text(&v).as_deref(), want, "{v}");
        }
        // A message's empty content is no text.
        let m = chat_message(&json!({"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}));
        assert_eq!(m.map(|m| (m.text, m.tool_calls.len())), Some((None, 1)));
        let m = chat_message(&json!({"role": "user", "content": {"text": {"value": "hi"}}}));
        assert_eq!(m.and_then(|m| m.text).as_deref(), Some("hi"));
    }

    #[test]
    fn indexed_attributes_sort_numerically() {
        let attrs: Attrs = (0..12)
            .rev()
            .map(|i| (format!("gen_ai.prompt.{i}.content"), Value::from(i)))
            .chain([("gen_ai.prompt.x.content".to_owned(), Value::Null)])
            .collect();
        let keys: Vec<usize> = indexed(&attrs, "gen_ai.prompt.").into_keys().collect();
        assert_eq!(keys, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn documents_keep_extras_and_find_versions() {
        let docs = genai_documents(&json!(
            "[{\"id\":\"kb-12\",\"score\":0.91,\"metadata\":{\"version\":\"v3\"},\"source\":\"kb\"},{\"id\":7}]"
        ));
        assert_eq!(docs[0].version.as_deref(), Some("v3"));
        assert_eq!(
            docs[0].metadata,
            Some(json!({"metadata": {"version": "v3"}, "source": "kb"}))
        );
        assert_eq!(docs[1].id.as_deref(), Some("7"));
        assert!(genai_documents(&json!("not json")).is_empty());
    }
}
