//! Ingest batches made ready for a backend's writer: every digest and JSON text of an event is
//! computed here, in the caller's task, so the writer (SQLite's single writer, or a PostgreSQL
//! transaction) only dedupes, chains and inserts.

use std::collections::HashSet;

use muster_evidence::{Digest, PreparedEvent, SealedEvent, StreamChain};
use muster_ingest::{EvidenceEvent, Quarantined, RawPointer};

use crate::ingest::{IngestBatch, IngestReceipt};
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
    let actor = e.actor.as_ref().map(muster_ingest::Actor::label);
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

/// A row given its place in the source's chain: the row, its content digest (hex) and its sealed
/// event.
pub(crate) type ChainedRow = (PreparedRow, String, SealedEvent);

/// Chain the rows not already stored: a row whose raw pointer and content digest are in `known`
/// (stored before, or earlier in this batch) is counted as a duplicate and takes no position.
pub(crate) fn chain_new_rows(
    rows: Vec<PreparedRow>,
    known: &mut HashSet<(String, String)>,
    chain: &mut StreamChain,
    receipt: &mut IngestReceipt,
) -> Vec<ChainedRow> {
    let mut sealed = Vec::with_capacity(rows.len());
    for mut row in rows {
        let content = row.prepared.content.to_hex();
        if !known.insert((row.raw_pointer.clone(), content.clone())) {
            receipt.duplicates += 1;
            continue;
        }
        // The prepared event moves into the chain; the row keeps its columns.
        let prepared = std::mem::replace(
            &mut row.prepared,
            PreparedEvent {
                kind: String::new(),
                time_ns: 0,
                fields: Vec::new(),
                content: Digest([0; 32]),
            },
        );
        let event = chain.append_prepared(prepared);
        sealed.push((row, content, event));
    }
    receipt.stored = sealed.len() as u64;
    sealed
}
