//! Rows to records, for every backend: one reading of each table's columns, so the SQLite and
//! PostgreSQL stores rebuild events, drills and accounts identically (and verify them with the
//! same maths). Backends differ only in how a column is read, [`ReadRow`].

use std::collections::BTreeMap;
use std::str::FromStr;

use muster_evidence::{Digest, Field, SealedEvent, field_digest};
use muster_ingest::EvidenceEvent;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::StoreError;
use crate::console::{ConsoleUser, ExerciseRecord};
use crate::ingest::{EVIDENCE_CHAIN, StoredEvidence};
use crate::model::{DrillHeader, DrillRecord, DrillStatus, StoredEvent};

/// A stored row's columns by name. The schemas are muster's own, so a missing column is a
/// programming error, as with `sqlx::Row::get`.
pub(crate) trait ReadRow {
    fn text(&self, column: &str) -> String;
    fn opt_text(&self, column: &str) -> Option<String>;
    fn int(&self, column: &str) -> i64;
    fn opt_int(&self, column: &str) -> Option<i64>;
    /// A true/false column (an integer in SQLite, a boolean in PostgreSQL).
    fn flag(&self, column: &str) -> bool;
}

/// Both backends' rows read the same way; only a flag's column type differs.
macro_rules! read_row {
    ($row:ty, |$self_:ident, $column:ident| $flag:expr) => {
        impl ReadRow for $row {
            fn text(&self, column: &str) -> String {
                self.get(column)
            }
            fn opt_text(&self, column: &str) -> Option<String> {
                self.get(column)
            }
            fn int(&self, column: &str) -> i64 {
                self.get(column)
            }
            fn opt_int(&self, column: &str) -> Option<i64> {
                self.get(column)
            }
            fn flag(&$self_, $column: &str) -> bool {
                $flag
            }
        }
    };
}

read_row!(SqliteRow, |self, column| self.get::<i64, _>(column) != 0);
read_row!(PgRow, |self, column| self.get(column));

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub(crate) fn digest(text: &str) -> Result<Digest, StoreError> {
    Digest::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An event's `fields` column (each field's value by name, a removed value left out) and its
/// `field_digests` column (each field's digest), both JSON objects in name order. Written straight
/// from the fields: copying every value (whole request and reply bodies) into a map first cost
/// more than serialising it.
pub(crate) fn fields_columns(fields: &[Field]) -> (String, String) {
    struct Values<'a>(&'a [Field]);
    impl serde::Serialize for Values<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(
                self.0
                    .iter()
                    .filter_map(|f| f.value.as_ref().map(|v| (&f.name, v))),
            )
        }
    }
    struct Digests<'a>(&'a [Field]);
    impl serde::Serialize for Digests<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|f| (&f.name, &f.digest)))
        }
    }
    // Neither can fail: names are strings and values are JSON already.
    (
        serde_json::to_string(&Values(fields)).unwrap_or_default(),
        serde_json::to_string(&Digests(fields)).unwrap_or_default(),
    )
}

/// A drill row with its `event_count`.
pub(crate) fn drill_from_row(row: &impl ReadRow) -> Result<DrillRecord, StoreError> {
    let status = row.text("status");
    Ok(DrillRecord {
        header: DrillHeader {
            id: row.text("id"),
            started_at_ns: row.int("started_at_ns"),
            agent: row.text("agent"),
            environment: row.text("environment"),
            manifest_digest: row.text("manifest_digest"),
            muster_version: row.text("muster_version"),
        },
        status: DrillStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown drill status `{status}`")))?,
        finished_at_ns: row.opt_int("finished_at_ns"),
        root: row
            .opt_text("root_digest")
            .map(|r| digest(&r))
            .transpose()?,
        summary: row
            .opt_text("summary")
            .and_then(|s| serde_json::from_str(&s).ok()),
        events: u64::try_from(row.int("event_count")).unwrap_or(0),
    })
}

/// How a field's digest missing from `field_digests` is filled in.
#[derive(Clone, Copy)]
enum MissingDigest {
    /// Drill events store every field's digest: a missing one is damage, read as zero.
    Zero,
    /// Ingested rows store a digest only for a field whose value is not (older rows stored every
    /// one): the others are recomputed, and the event digest decides whether they are right.
    Recompute,
}

/// Fields from a `fields` column (values) and a `field_digests` column (digests by name). What
/// cannot be read becomes a zero digest, which fails verification and names the row, rather than
/// an error that hides which row is bad.
fn fields_from(
    values: BTreeMap<String, serde_json::Value>,
    digests_text: &str,
    missing: MissingDigest,
) -> Vec<Field> {
    let digests: BTreeMap<String, String> = serde_json::from_str(digests_text).unwrap_or_default();
    let zero = Digest([0; 32]);
    let mut names: Vec<&String> = digests.keys().chain(values.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let value = values.get(name).cloned();
            let digest = match (digests.get(name), &value) {
                (Some(d), _) => Digest::from_str(d).unwrap_or(zero),
                (None, Some(v)) if matches!(missing, MissingDigest::Recompute) => {
                    field_digest(name, v)
                }
                (None, _) => zero,
            };
            Field {
                name: name.clone(),
                value,
                digest,
            }
        })
        .collect()
}

fn digest_or_zero(row: &impl ReadRow, column: &str) -> Digest {
    Digest::from_str(&row.text(column)).unwrap_or(Digest([0; 32]))
}

/// Rebuild a sealed drill event (or addendum, or exercise-log entry: columns `id`, `drill_id`,
/// `stream`, `seq`, `time_ns`, `kind`, `fields`, `field_digests`, `prev`, `digest`).
pub(crate) fn event_from_row(row: &impl ReadRow) -> StoredEvent {
    let values: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&row.text("fields")).unwrap_or_default();
    StoredEvent {
        id: row.text("id"),
        event: SealedEvent {
            drill_id: row.text("drill_id"),
            stream: row.text("stream"),
            seq: to_u64(row.int("seq")),
            time_ns: row.int("time_ns"),
            kind: row.text("kind"),
            fields: fields_from(values, &row.text("field_digests"), MissingDigest::Zero),
            prev: digest_or_zero(row, "prev"),
            digest: digest_or_zero(row, "digest"),
        },
    }
}

/// The field the raw pointer is, in an event's JSON shape; stored in its own column.
pub(crate) const RAW_FIELD: &str = "raw";

/// A row's `raw` field: from `fields` in rows written before it moved out, else its own column.
fn restore_raw(row: &impl ReadRow, fields: &mut serde_json::Map<String, serde_json::Value>) {
    if !fields.contains_key(RAW_FIELD)
        && let Ok(raw) = serde_json::from_str(&row.text("raw_pointer"))
    {
        fields.insert(RAW_FIELD.into(), raw);
    }
}

pub(crate) fn evidence_from_row(row: &impl ReadRow) -> Result<StoredEvidence, StoreError> {
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.text("fields"))
            .map_err(|e| StoreError::Corrupt(format!("stored evidence fields: {e}")))?;
    restore_raw(row, &mut fields);
    if let Some(content) = row.opt_text("content") {
        fields.insert("content".into(), content.into());
    }
    if let Some(attributes) = row.opt_text("attributes") {
        let value = serde_json::from_str(&attributes)
            .map_err(|e| StoreError::Corrupt(format!("stored evidence attributes: {e}")))?;
        fields.insert("attributes".into(), value);
    }
    let event: EvidenceEvent = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| StoreError::Corrupt(format!("stored evidence event: {e}")))?;
    Ok(StoredEvidence {
        source: row.text("source"),
        seq: to_u64(row.int("seq")),
        event,
        digest: digest(&row.text("digest"))?,
    })
}

/// An ingested row as a sealed event for verification.
pub(crate) fn sealed_from_row(row: &impl ReadRow) -> SealedEvent {
    let mut stored: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.text("fields")).unwrap_or_default();
    restore_raw(row, &mut stored);
    let mut values: BTreeMap<String, serde_json::Value> = stored.into_iter().collect();
    if let Some(content) = row.opt_text("content") {
        values.insert("content".into(), content.into());
    }
    if let Some(attributes) = row.opt_text("attributes")
        && let Ok(v) = serde_json::from_str(&attributes)
    {
        values.insert("attributes".into(), v);
    }
    SealedEvent {
        drill_id: EVIDENCE_CHAIN.to_owned(),
        stream: row.text("source"),
        seq: to_u64(row.int("seq")),
        time_ns: row.int("time_ns"),
        kind: row.text("kind"),
        fields: fields_from(values, &row.text("field_digests"), MissingDigest::Recompute),
        prev: digest_or_zero(row, "prev"),
        digest: digest_or_zero(row, "digest"),
    }
}

pub(crate) fn user_from_row(row: &impl ReadRow) -> ConsoleUser {
    ConsoleUser {
        id: row.text("id"),
        username: row.text("username"),
        display_name: row.text("display_name"),
        password_hash: row.text("password_hash"),
        role: row.text("role"),
        is_admin: row.flag("is_admin"),
        created_at_ns: row.int("created_at_ns"),
    }
}

pub(crate) fn exercise_from_row(row: &impl ReadRow) -> Result<ExerciseRecord, StoreError> {
    Ok(ExerciseRecord {
        id: row.text("id"),
        title: row.text("title"),
        created_at_ns: row.int("created_at_ns"),
        created_by: row.text("created_by"),
        definition: serde_json::from_str(&row.text("definition"))
            .map_err(|e| StoreError::Corrupt(format!("exercise definition: {e}")))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_evidence::{EventDraft, StreamChain};
    use serde_json::json;

    #[test]
    fn fields_columns_are_the_json_objects_of_the_fields() {
        let event = StreamChain::new("d", "s").append(
            EventDraft::new("agent.exchange", 1)
                .field(
                    "exchange",
                    json!({"z": [1, 2.5, null], "a": {"é": "\"quoted\"\n"}}),
                )
                .field("turn", 3)
                .field("text", "£100 – “curly” \u{1F600}")
                .field("empty", json!({}))
                .field("gone", "redacted below"),
        );
        let event = event.redacted("gone");
        // What the columns held when they were built as maps of copied values.
        let values: serde_json::Map<String, serde_json::Value> = event
            .fields
            .iter()
            .filter_map(|f| f.value.clone().map(|v| (f.name.clone(), v)))
            .collect();
        let digests: serde_json::Map<String, serde_json::Value> = event
            .fields
            .iter()
            .map(|f| (f.name.clone(), serde_json::Value::String(f.digest.to_hex())))
            .collect();
        let (v, d) = fields_columns(&event.fields);
        assert_eq!(v, serde_json::Value::Object(values).to_string());
        assert_eq!(d, serde_json::Value::Object(digests).to_string());
        assert!(!v.contains("gone") && d.contains("gone"));
    }

    proptest::proptest! {
        /// A float in an event reads back as the same value, so its digest verifies: this needs
        /// serde_json's `float_roundtrip` (without it, some values parse one bit off).
        #[test]
        fn stored_floats_read_back_exactly(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let event = StreamChain::new("d", "s").append(EventDraft::new("k", 1).field("x", x));
            let (values, _) = fields_columns(&event.fields);
            let values: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&values).unwrap_or_default();
            let rebuilt = fields_from(values, "{}", MissingDigest::Recompute);
            proptest::prop_assert_eq!(rebuilt, event.fields);
        }
    }

    #[test]
    fn fields_rebuild_values_and_recompute_missing_digests() {
        let event = StreamChain::new("d", "s").append(
            EventDraft::new("k", 1)
                .field("kept", "value")
                .field("gone", "redacted below"),
        );
        let event = event.redacted("gone");
        let (values, _) = fields_columns(&event.fields);
        let values: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&values).unwrap_or_default();
        let gone_only = json!({ "gone": event.fields[0].digest.to_hex() }).to_string();
        let rebuilt = fields_from(values, &gone_only, MissingDigest::Recompute);
        assert_eq!(rebuilt, event.fields);
    }
}
