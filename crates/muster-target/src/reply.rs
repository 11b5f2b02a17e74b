//! The agent's reply as muster judges it, read out of whatever shape the agent answers in.

use muster_model::agent::{ReplyMapping, ToolCallMapping};
use muster_model::common::FieldPath;
use serde_json::{Value, json};

use crate::TurnError;

/// A tool call the agent service executed (black box: muster observes, it does not run tools).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    pub arguments: Value,
    pub result: Option<Value>,
}

impl ToolCall {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "arguments": self.arguments, "result": self.result})
    }

    /// A numeric argument by dotted path (`amount`, `refund.amount`); numbers written as text count.
    pub fn number_argument(&self, path: &str) -> Option<f64> {
        let mut value = &self.arguments;
        for part in path.split('.') {
            value = value.get(part)?;
        }
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s
                .trim()
                .trim_start_matches(['£', '$', '€'])
                .replace(',', "")
                .parse()
                .ok(),
            _ => None,
        }
    }
}

/// What the agent said and did in one turn.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AgentReply {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    /// Whether the customer has been handed to a person, when the agent reports it.
    pub handover: Option<bool>,
    pub confidence: Option<f64>,
    pub content_version: Option<String>,
}

impl AgentReply {
    pub fn to_json(&self) -> Value {
        json!({
            "text": self.text,
            "tool_calls": self.tool_calls.iter().map(ToolCall::to_json).collect::<Vec<_>>(),
            "handover": self.handover,
            "confidence": self.confidence,
            "content_version": self.content_version,
        })
    }
}

pub(crate) fn text_at(doc: &Value, path: &FieldPath) -> Result<String, TurnError> {
    match path.select_one(doc) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Null) => Ok(String::new()),
        Some(other) => Err(TurnError::Malformed(format!(
            "the reply text at `{}` is {}, not text",
            path.as_str(),
            kind(other)
        ))),
        None => Err(TurnError::Malformed(format!(
            "no reply text at `{}`",
            path.as_str()
        ))),
    }
}

pub(crate) fn flag_at(doc: &Value, path: Option<&FieldPath>) -> Result<Option<bool>, TurnError> {
    let Some(path) = path else { return Ok(None) };
    match path.select_one(doc) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if matches!(s.as_str(), "true" | "yes" | "active") => Ok(Some(true)),
        Some(Value::String(s)) if matches!(s.as_str(), "false" | "no" | "inactive") => {
            Ok(Some(false))
        }
        Some(Value::Number(n)) => Ok(Some(n.as_f64().is_some_and(|x| x != 0.0))),
        Some(other) => Err(TurnError::Malformed(format!(
            "the handover flag at `{}` is {}, not true/false",
            path.as_str(),
            kind(other)
        ))),
    }
}

pub(crate) fn number_at(doc: &Value, path: Option<&FieldPath>) -> Option<f64> {
    match path?.select_one(doc)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn string_at(doc: &Value, path: Option<&FieldPath>) -> Option<String> {
    match path?.select_one(doc)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Arguments arrive as an object or as JSON text (OpenAI style); keep unparseable text as text.
pub(crate) fn arguments_value(raw: Option<&Value>) -> Value {
    match raw {
        Some(Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        Some(v) => v.clone(),
        None => Value::Object(serde_json::Map::new()),
    }
}

pub(crate) fn tool_calls(
    doc: &Value,
    mapping: &ToolCallMapping,
) -> Result<Vec<ToolCall>, TurnError> {
    let list = match mapping.at.select_one(doc) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(TurnError::Malformed(format!(
                "tool calls at `{}` are {}, not a list",
                mapping.at.as_str(),
                kind(other)
            )));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, call)| {
            let name = match mapping.name.select_one(call) {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => {
                    return Err(TurnError::Malformed(format!(
                        "tool call #{} has no name at `{}`",
                        i + 1,
                        mapping.name.as_str()
                    )));
                }
            };
            Ok(ToolCall {
                id: call.get("id").and_then(Value::as_str).map(str::to_owned),
                name,
                arguments: arguments_value(mapping.arguments.select_one(call)),
                result: mapping
                    .result
                    .as_ref()
                    .and_then(|p| p.select_one(call))
                    .cloned(),
            })
        })
        .collect()
}

pub(crate) fn from_mapping(doc: &Value, mapping: &ReplyMapping) -> Result<AgentReply, TurnError> {
    Ok(AgentReply {
        text: text_at(doc, &mapping.text)?,
        tool_calls: match &mapping.tool_calls {
            Some(m) => tool_calls(doc, m)?,
            None => Vec::new(),
        },
        handover: flag_at(doc, mapping.handover.as_ref())?,
        confidence: number_at(doc, mapping.confidence.as_ref()),
        content_version: string_at(doc, mapping.content_version.as_ref()),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
