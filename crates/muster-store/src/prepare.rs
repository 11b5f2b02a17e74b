//! Ingest batches made ready for a backend's writer: every digest and JSON text of an event is
//! computed here, in the caller's task, so the writer (SQLite's single writer, or a PostgreSQL
//! transaction) only dedupes, chains and inserts.

use muster_evidence::PreparedEvent;
use muster_ingest::{EvidenceEvent, Quarantined, RawPointer};

use crate::ingest::IngestBatch;
use crate::rows::RAW_FIELD;

/// An event made ready for the writer: every digest and JSON text computed in the caller's task,
/// so the writer only dedupes, chains and inserts.
pub(crate) struct PreparedRow {
    pub raw_pointer: String,
    pub time_ns: i64,
    pub observed_ns: i64,
    pub system: String,
    pub format: String,
    pub kind: String,
    pub keys: [Option<String>; 6],
    pub actor: Option<String>,
    pub content: Option<String>,
    pub attributes: Option<String>,
    pub fields: String,
    pub field_digests: String,
    pub prepared: PreparedEvent,
}

/// A batch made ready for the writer.
pub(crate) struct PreparedBatch {
    pub source: String,
    pub input: String,
    pub rows: Vec<PreparedRow>,
    pub quarantined: Vec<Quarantined>,
    pub offset_reached: Option<u64>,
    pub complete: bool,
    pub cursor: Option<String>,
}

pub(crate) fn pointer_text(p: &RawPointer) -> String {
    serde_json::to_string(p).unwrap_or_default()
}

pub(crate) fn prepare(batch: IngestBatch) -> PreparedBatch {
    let rows = batch.events.into_iter().map(prepare_row).collect();
    PreparedBatch {
        source: batch.source,
        input: batch.input,
        rows,
        quarantined: batch.quarantined,
        offset_reached: batch.offset_reached,
        complete: batch.complete,
        cursor: batch.cursor,
    }
}

/// One event as a row. The field values are moved out of the prepared event into the row's
/// columns rather than cloned: the writer chains by names and digests only, and the ~1 KB
/// content was otherwise copied twice per event.
///
/// Every field's value is stored, so its digest is not (`field_digests` is `{}`): reading the row
/// back recomputes it, and the event digest, which commits to every field digest, still catches
/// any change. `raw` is not repeated in `fields`: the `raw_pointer` column holds the same JSON.
/// Together these were ~800 bytes of a ~2.4 KB row.
fn prepare_row(e: EvidenceEvent) -> PreparedRow {
    let mut prepared = e.to_draft().prepare();
    let mut values = serde_json::Map::new();
    let mut content = None;
    let mut attributes = None;
    for f in &mut prepared.fields {
        match (f.name.as_str(), f.value.take()) {
            ("content", Some(serde_json::Value::String(s))) => content = Some(s),
            ("attributes", Some(v)) => attributes = Some(v.to_string()),
            (RAW_FIELD, Some(_)) => {}
            (_, Some(v)) => {
                values.insert(f.name.clone(), v);
            }
            (_, None) => {}
        }
    }
    let raw_pointer = pointer_text(&e.raw);
    let actor = e.actor.as_ref().map(|a| {
        let role = serde_json::to_value(a.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match &a.id {
            Some(id) => format!("{role}:{id}"),
            None => role,
        }
    });
    let c = e.correlation;
    PreparedRow {
        raw_pointer,
        time_ns: e.time_ns,
        observed_ns: e.observed_ns,
        system: e.source.system,
        format: e.source.format,
        kind: prepared.kind.clone(),
        keys: [
            c.conversation_id,
            c.customer_ref,
            c.trace_id,
            c.span_id,
            c.ticket_id,
            c.case_id,
        ],
        actor,
        content,
        attributes,
        fields: serde_json::Value::Object(values).to_string(),
        field_digests: "{}".to_owned(),
        prepared,
    }
}
