//! The evidence an exercise reviews: the conversations of its drill, redacted unless the caller
//! may read raw content and has given a reason (audited by the route before this is called).

use muster_store::StoredEvent;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::app::Backend;
use crate::error::Result;
use crate::state::ExerciseState;

/// Kinds shown to the team; the rest of a drill's evidence stays in the store and the pack.
const SHOWN: &[&str] = &[
    "customer.message",
    "agent.message",
    "tool.call",
    "target.error",
    "scenario.verdict",
    "control.measured",
];

/// At most this many events are shown.
const LIMIT: usize = 400;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct EvidenceView {
    pub drill_id: Option<String>,
    pub raw: bool,
    pub events: Vec<EvidenceItem>,
    pub truncated: bool,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct EvidenceItem {
    pub stream: String,
    pub seq: u64,
    pub time_ns: i64,
    pub kind: String,
    /// The event's text (message, error or verdict reason), redacted unless raw.
    pub text: String,
    pub fields: Value,
}

fn redacted(text: &str) -> String {
    muster_detect::redact_personal(text)
}

fn item(event: &StoredEvent, raw: bool) -> EvidenceItem {
    let e = &event.event;
    let mut fields: serde_json::Map<String, Value> = e
        .fields
        .iter()
        .filter_map(|f| f.value.clone().map(|v| (f.name.clone(), v)))
        .collect();
    let text = if e.kind == "tool.call" {
        let name = fields.get("name").and_then(Value::as_str).unwrap_or("tool");
        let arguments = fields
            .get("arguments")
            .map(Value::to_string)
            .unwrap_or_default();
        let result = fields
            .get("result")
            .map(Value::to_string)
            .unwrap_or_default();
        format!("{name}({arguments}) → {result}")
    } else {
        ["text", "error", "reason"]
            .iter()
            .find_map(|k| fields.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned()
    };
    let mut fields = Value::Object(std::mem::take(&mut fields));
    let text = if raw {
        text
    } else {
        muster_detect::redact_personal_json(&mut fields);
        redacted(&text)
    };
    EvidenceItem {
        stream: e.stream.clone(),
        seq: e.seq,
        time_ns: e.time_ns,
        kind: e.kind.clone(),
        text,
        fields,
    }
}

pub async fn evidence_view(
    store: &dyn Backend,
    exercise: &ExerciseState,
    raw: bool,
) -> Result<EvidenceView> {
    let Some(drill_id) = exercise.definition.drill_id.clone() else {
        return Ok(EvidenceView {
            drill_id: None,
            raw,
            events: Vec::new(),
            truncated: false,
        });
    };
    let events = store.events(&drill_id).await?;
    let shown: Vec<&StoredEvent> = events
        .iter()
        .filter(|e| SHOWN.contains(&e.event.kind.as_str()))
        .collect();
    let truncated = shown.len() > LIMIT;
    Ok(EvidenceView {
        drill_id: Some(drill_id),
        raw,
        events: shown
            .into_iter()
            .take(LIMIT)
            .map(|e| item(e, raw))
            .collect(),
        truncated,
    })
}

/// Personal data in `text` masked, for text leaving the console (notifications).
pub fn redact_text(text: &str) -> String {
    redacted(text)
}
