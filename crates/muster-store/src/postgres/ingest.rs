//! The PostgreSQL side of ingested evidence: batches, monthly partitions, timelines, full-text
//! search (`tsvector` with a GIN index), quarantine, the access audit and chain verification.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use jiff::ToSpan;
use jiff::tz::TimeZone;
use muster_evidence::{SealedEvent, StreamChain};
use muster_ingest::RawPointer;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tokio::sync::mpsc;

use super::{IngestRequest, LOCK_PARTITIONS, LOCK_SOURCE, lock_chain};
use crate::StoreError;
use crate::ingest::{
    AccessRecord, EVIDENCE_CHAIN, IngestProgress, IngestReceipt, KeySet, KindProfile,
    SearchFilters, SourceRecord, SourceVerify, StoredEvidence, StoredQuarantine, TimeRange,
    TimelineKey, TimelineQuery,
};
use crate::prepare::{PreparedBatch, chain_new_rows, pointer_text};
use crate::rows::{digest, evidence_from_row, now_ns, sealed_from_row, to_i64};

/// Every column of an evidence row but its `tsvector`, which is only ever searched, never read.
const EVIDENCE_COLUMNS: &str = "position, source, seq, time_ns, observed_ns, system, format, kind, conversation_id, customer_ref, trace_id, span_id, ticket_id, case_id, actor, content, attributes, fields, field_digests, raw_pointer, content_digest, prev, digest";

const EVIDENCE_INSERT: &str = "INSERT INTO evidence (source, seq, time_ns, observed_ns, system, format, kind, conversation_id, customer_ref, trace_id, span_id, ticket_id, case_id, actor, content, attributes, fields, field_digests, raw_pointer, content_digest, prev, digest) ";

/// Rows per multi-row INSERT: 22 parameters a row, under PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 1000;

/// The ingest task: one batch at a time, in submission order.
pub(super) async fn ingest_loop(
    pool: PgPool,
    partitions: Arc<Mutex<HashSet<String>>>,
    mut requests: mpsc::UnboundedReceiver<IngestRequest>,
) {
    let mut failed_inputs: HashSet<(String, String)> = HashSet::new();
    while let Some(IngestRequest { batch, done }) = requests.recv().await {
        let key = (batch.source.clone(), batch.input.clone());
        if failed_inputs.contains(&key) {
            let _ = done.send(Err(StoreError::Corrupt(format!(
                "an earlier batch of {} failed, so this one was not stored; ingest again to resume",
                key.1
            ))));
            continue;
        }
        let result = write_ingest(&pool, &partitions, batch).await;
        if result.is_err() {
            failed_inputs.insert(key);
        }
        let _ = done.send(result);
    }
}

/// A calendar month (UTC) of event time: its partition's name and `[from, to)` in nanoseconds;
/// `to` is `None` for the last month an `i64` of nanoseconds reaches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Month {
    pub name: String,
    pub from_ns: i64,
    pub to_ns: Option<i64>,
}

fn ns_of(date: jiff::civil::Date) -> Option<i64> {
    let zoned = date.to_zoned_datetime(TimeZone::UTC).ok()?;
    i64::try_from(zoned.timestamp().as_nanosecond()).ok()
}

/// The month `time_ns` falls in. Every `i64` of nanoseconds is a valid time (1677–2262).
pub(crate) fn month_of(time_ns: i64) -> Month {
    let ts = jiff::Timestamp::from_nanosecond(i128::from(time_ns))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let first = ts.to_zoned_datetime(TimeZone::UTC).date().first_of_month();
    let next = first.checked_add(1.month()).ok();
    Month {
        name: format!("evidence_p{:04}{:02}", first.year(), first.month()),
        from_ns: ns_of(first).unwrap_or(i64::MIN),
        to_ns: next.and_then(ns_of),
    }
}

/// Create the monthly partitions a batch needs that do not exist yet, each in its own short
/// transaction (creating a partition locks the parent table), under one advisory lock so two
/// processes never race to create the same month.
pub(super) async fn ensure_partitions(
    pool: &PgPool,
    known: &Mutex<HashSet<String>>,
    times: impl IntoIterator<Item = i64>,
) -> Result<(), StoreError> {
    let mut needed: Vec<Month> = Vec::new();
    {
        let known = known.lock().map_err(|_| poisoned())?;
        let mut seen = HashSet::new();
        for time_ns in times {
            let month = month_of(time_ns);
            if !known.contains(&month.name) && seen.insert(month.name.clone()) {
                needed.push(month);
            }
        }
    }
    for month in needed {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind(LOCK_PARTITIONS)
            .execute(&mut *tx)
            .await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(&month.name)
            .fetch_one(&mut *tx)
            .await?;
        if exists.is_none() {
            let upper = month
                .to_ns
                .map_or_else(|| "MAXVALUE".to_owned(), |n| n.to_string());
            // Only the generated name and two integers are formatted in.
            let sql = format!(
                "CREATE TABLE {} PARTITION OF evidence FOR VALUES FROM ({}) TO ({upper})",
                month.name, month.from_ns
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        known.lock().map_err(|_| poisoned())?.insert(month.name);
    }
    Ok(())
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("the partition cache was poisoned by a panic".into())
}

/// Store one batch in one transaction: the same contract as the SQLite writer's. The source's
/// chain is locked for the transaction, so any number of processes may ingest into one store.
async fn write_ingest(
    pool: &PgPool,
    partitions: &Mutex<HashSet<String>>,
    batch: PreparedBatch,
) -> Result<IngestReceipt, StoreError> {
    ensure_partitions(pool, partitions, batch.rows.iter().map(|r| r.time_ns)).await?;
    let mut tx = pool.begin().await?;
    let source = batch.source.as_str();
    lock_chain(&mut tx, LOCK_SOURCE, source).await?;
    let head = sqlx::query("SELECT length, head FROM evidence_sources WHERE name = $1")
        .bind(source)
        .fetch_optional(&mut *tx)
        .await?;
    let mut chain = match head {
        None => StreamChain::new(EVIDENCE_CHAIN, source),
        Some(row) => StreamChain::resume(
            EVIDENCE_CHAIN,
            source,
            u64::try_from(row.get::<i64, _>(0)).unwrap_or(0),
            digest(&row.get::<String, _>(1))?,
        ),
    };

    let mut known: HashSet<(String, String)> = HashSet::new();
    if chain.length() > 0 {
        for chunk in batch.rows.chunks(ROWS_PER_INSERT) {
            let pointers: Vec<&str> = chunk.iter().map(|r| r.raw_pointer.as_str()).collect();
            let rows = sqlx::query(
                "SELECT raw_pointer, content_digest FROM evidence WHERE source = $1 AND raw_pointer = ANY($2)",
            )
            .bind(source)
            .bind(&pointers)
            .fetch_all(&mut *tx)
            .await?;
            for row in rows {
                known.insert((row.get(0), row.get(1)));
            }
        }
    }

    let mut receipt = IngestReceipt::default();
    let sealed = chain_new_rows(batch.rows, &mut known, &mut chain, &mut receipt);

    for chunk in sealed.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Postgres>::new(EVIDENCE_INSERT);
        insert.push_values(chunk, |mut b, (r, content, e)| {
            b.push_bind(source)
                .push_bind(to_i64(e.seq))
                .push_bind(r.time_ns)
                .push_bind(r.observed_ns)
                .push_bind(r.system.as_str())
                .push_bind(r.format.as_str())
                .push_bind(r.kind.as_str());
            for key in &r.keys {
                b.push_bind(key.as_deref());
            }
            b.push_bind(r.actor.as_deref())
                .push_bind(r.content.as_deref())
                .push_bind(r.attributes.as_deref())
                .push_bind(r.fields.as_str())
                .push_bind(r.field_digests.as_str())
                .push_bind(r.raw_pointer.as_str())
                .push_bind(content.as_str())
                .push_bind(e.prev.to_hex())
                .push_bind(e.digest.to_hex());
        });
        insert.build().execute(&mut *tx).await?;
    }

    let recorded = now_ns();
    for chunk in batch.quarantined.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO quarantine (source, format, raw_pointer, reason, raw_excerpt, recorded_ns) ",
        );
        insert.push_values(chunk, |mut b, q| {
            b.push_bind(source)
                .push_bind(q.source_format.as_str())
                .push_bind(pointer_text(&q.pointer))
                .push_bind(q.reason.as_str())
                .push_bind(q.raw_excerpt.as_str())
                .push_bind(recorded);
        });
        insert.push(" ON CONFLICT (source, raw_pointer, reason) DO NOTHING");
        receipt.quarantined += insert.build().execute(&mut *tx).await?.rows_affected();
    }

    if receipt.stored > 0 {
        sqlx::query(
            "INSERT INTO evidence_sources (name, length, head) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET length = excluded.length, head = excluded.head",
        )
        .bind(source)
        .bind(to_i64(chain.length()))
        .bind(chain.head().to_hex())
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO ingest_batches (source, input, offset_reached, complete, events, duplicates, quarantined, committed_ns, cursor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(source)
    .bind(&batch.input)
    .bind(batch.offset_reached.map(to_i64))
    .bind(batch.complete)
    .bind(to_i64(receipt.stored))
    .bind(to_i64(receipt.duplicates))
    .bind(to_i64(receipt.quarantined))
    .bind(recorded)
    .bind(batch.cursor.as_deref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    receipt.chain_length = chain.length();
    receipt.head = (chain.length() > 0).then(|| chain.head());
    Ok(receipt)
}

pub(super) async fn progress(
    pool: &PgPool,
    source: &str,
    input: &str,
) -> Result<IngestProgress, StoreError> {
    let row = sqlx::query(
        "SELECT MAX(offset_reached), COALESCE(bool_or(complete), false) FROM ingest_batches WHERE source = $1 AND input = $2",
    )
    .bind(source)
    .bind(input)
    .fetch_one(pool)
    .await?;
    let cursor: Option<String> = sqlx::query_scalar(
        "SELECT cursor FROM ingest_batches WHERE source = $1 AND input = $2 AND cursor IS NOT NULL ORDER BY position DESC LIMIT 1",
    )
    .bind(source)
    .bind(input)
    .fetch_optional(pool)
    .await?;
    Ok(IngestProgress {
        offset_reached: row
            .get::<Option<i64>, _>(0)
            .and_then(|o| u64::try_from(o).ok()),
        complete: row.get::<bool, _>(1),
        cursor,
    })
}

/// `ORDER BY` of every evidence listing: time, then source (bytewise, as SQLite compares), then
/// chain position.
const EVIDENCE_ORDER: &str = "ORDER BY time_ns, source COLLATE \"C\", seq";

pub(super) async fn timeline(
    pool: &PgPool,
    query: &TimelineQuery,
) -> Result<Vec<StoredEvidence>, StoreError> {
    // The key's own events, and those joined through it: a conversation's traces, a customer's
    // conversations. PostgreSQL answers the OR from both partial indexes (a bitmap OR).
    let (condition, key) = match &query.key {
        TimelineKey::Conversation(id) => (
            "(conversation_id = $1 OR trace_id IN
                (SELECT DISTINCT trace_id FROM evidence WHERE conversation_id = $1 AND trace_id IS NOT NULL))",
            id,
        ),
        TimelineKey::Customer(r) => (
            "(customer_ref = $1 OR conversation_id IN
                (SELECT DISTINCT conversation_id FROM evidence WHERE customer_ref = $1 AND conversation_id IS NOT NULL))",
            r,
        ),
    };
    let sql = format!(
        "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE {condition}
         AND ($2::bigint IS NULL OR time_ns >= $2) AND ($3::bigint IS NULL OR time_ns <= $3)
         {EVIDENCE_ORDER} LIMIT $4"
    );
    // Only fixed SQL is formatted in; the key and range are bound.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .bind(query.from_ns)
        .bind(query.to_ns)
        .bind(query.limit.map(to_i64))
        .fetch_all(pool)
        .await?;
    rows.iter().map(evidence_from_row).collect()
}

fn key_values(set: &std::collections::BTreeSet<String>) -> Vec<&str> {
    set.iter().map(String::as_str).collect()
}

pub(super) async fn events_with_keys(
    pool: &PgPool,
    keys: &KeySet,
    range: TimeRange,
    limit: Option<u64>,
) -> Result<Vec<StoredEvidence>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {EVIDENCE_COLUMNS} FROM evidence
         WHERE (conversation_id = ANY($4) OR customer_ref = ANY($5) OR trace_id = ANY($6)
                OR ticket_id = ANY($7) OR case_id = ANY($8))
         AND ($1::bigint IS NULL OR time_ns >= $1) AND ($2::bigint IS NULL OR time_ns <= $2)
         {EVIDENCE_ORDER} LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(range.from_ns)
        .bind(range.to_ns)
        .bind(limit.map(to_i64))
        .bind(key_values(&keys.conversations))
        .bind(key_values(&keys.customers))
        .bind(key_values(&keys.traces))
        .bind(key_values(&keys.tickets))
        .bind(key_values(&keys.cases))
        .fetch_all(pool)
        .await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(super) async fn events_with_attribute(
    pool: &PgPool,
    source: &str,
    attribute: &str,
    values: &[String],
    range: TimeRange,
) -> Result<Vec<StoredEvidence>, StoreError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    // `->>` takes the attribute name as one key, dots and all, and answers text.
    let sql = format!(
        "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE source = $1
         AND (attributes::jsonb ->> $2) = ANY($3)
         AND ($4::bigint IS NULL OR time_ns >= $4) AND ($5::bigint IS NULL OR time_ns <= $5)
         {EVIDENCE_ORDER}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(source)
        .bind(attribute)
        .bind(values)
        .bind(range.from_ns)
        .bind(range.to_ns)
        .fetch_all(pool)
        .await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(super) async fn evidence_profile(pool: &PgPool) -> Result<Vec<KindProfile>, StoreError> {
    let rows = sqlx::query(
        "SELECT source, kind, COUNT(*) AS n, MIN(time_ns) AS oldest, MAX(time_ns) AS newest,
                COUNT(*) FILTER (WHERE (fields::jsonb ->> 'time_basis') IS DISTINCT FROM 'observed') AS own,
                COUNT(*) FILTER (WHERE content IS NOT NULL AND content <> '') AS with_content,
                (SELECT s.content FROM evidence s
                  WHERE s.source = e.source AND s.kind = e.kind AND s.content IS NOT NULL AND s.content <> ''
                  ORDER BY s.position DESC LIMIT 1) AS sample
         FROM evidence e GROUP BY source, kind ORDER BY source COLLATE \"C\", kind COLLATE \"C\"",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| KindProfile {
            source: r.get("source"),
            kind: r.get("kind"),
            events: u64::try_from(r.get::<i64, _>("n")).unwrap_or(0),
            oldest_ns: r.get("oldest"),
            newest_ns: r.get("newest"),
            own_time: u64::try_from(r.get::<i64, _>("own")).unwrap_or(0),
            with_content: u64::try_from(r.get::<i64, _>("with_content")).unwrap_or(0),
            sample: r.get("sample"),
        })
        .collect())
}

pub(super) async fn search(
    pool: &PgPool,
    text: &str,
    filters: &SearchFilters,
) -> Result<Vec<StoredEvidence>, StoreError> {
    if text.split_whitespace().next().is_none() {
        return Ok(Vec::new());
    }
    // `plainto_tsquery` takes the text as words (its own operators are not read) and wants every
    // one of them, as the SQLite store's quoted FTS5 words do.
    let sql = format!(
        "SELECT {EVIDENCE_COLUMNS} FROM evidence
         WHERE content_tsv @@ plainto_tsquery('simple', $1)
           AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR source = $3)
           AND ($4::text IS NULL OR conversation_id = $4)
         {EVIDENCE_ORDER} LIMIT $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(text)
        .bind(filters.kind.as_deref())
        .bind(filters.source.as_deref())
        .bind(filters.conversation.as_deref())
        .bind(filters.limit.map(to_i64))
        .fetch_all(pool)
        .await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(super) async fn quarantined(
    pool: &PgPool,
    source: Option<&str>,
) -> Result<Vec<StoredQuarantine>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM quarantine WHERE ($1::text IS NULL OR source = $1) ORDER BY position",
    )
    .bind(source)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let pointer: RawPointer = serde_json::from_str(&r.get::<String, _>("raw_pointer"))
                .map_err(|e| StoreError::Corrupt(format!("quarantine pointer: {e}")))?;
            Ok(StoredQuarantine {
                source: r.get("source"),
                record: muster_ingest::Quarantined {
                    source_format: r.get("format"),
                    pointer,
                    reason: r.get("reason"),
                    raw_excerpt: r.get("raw_excerpt"),
                },
                recorded_ns: r.get("recorded_ns"),
            })
        })
        .collect()
}

pub(super) async fn record_access(pool: &PgPool, record: &AccessRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_audit (at_ns, who, command, what, why) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(record.at_ns)
    .bind(&record.who)
    .bind(&record.command)
    .bind(&record.what)
    .bind(&record.why)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn access_log(pool: &PgPool) -> Result<Vec<AccessRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT at_ns, who, command, what, why FROM access_audit ORDER BY position")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .iter()
        .map(|r| AccessRecord {
            at_ns: r.get(0),
            who: r.get(1),
            command: r.get(2),
            what: r.get(3),
            why: r.get(4),
        })
        .collect())
}

pub(super) async fn sources(pool: &PgPool) -> Result<Vec<SourceRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.name, s.length, s.head, (SELECT COUNT(*) FROM quarantine q WHERE q.source = s.name)
         FROM evidence_sources s ORDER BY s.name COLLATE \"C\"",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SourceRecord {
                name: r.get(0),
                events: u64::try_from(r.get::<i64, _>(1)).unwrap_or(0),
                head: digest(&r.get::<String, _>(2))?,
                quarantined: u64::try_from(r.get::<i64, _>(3)).unwrap_or(0),
            })
        })
        .collect()
}

/// Check a source's chain: every field, event and link, and the stored head and length.
pub(super) async fn verify_source(
    pool: &PgPool,
    source: &SourceRecord,
) -> Result<SourceVerify, StoreError> {
    let sql =
        format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE source = $1 ORDER BY seq, position");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&source.name)
        .fetch_all(pool)
        .await?;
    let events: Vec<SealedEvent> = rows.iter().map(sealed_from_row).collect();
    Ok(crate::checks::source_report(source, &events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_bound_their_partitions() {
        // 2026-11-27T12:00:00Z
        let m = month_of(1_795_780_800_000_000_000);
        assert_eq!(m.name, "evidence_p202611");
        assert_eq!(m.from_ns, 1_793_491_200_000_000_000); // 2026-11-01T00:00:00Z
        assert_eq!(m.to_ns, Some(1_796_083_200_000_000_000)); // 2026-12-01T00:00:00Z
        assert_eq!(month_of(m.from_ns), m);
        assert_eq!(month_of(m.to_ns.unwrap_or(0) - 1), m);
        assert_eq!(month_of(0).name, "evidence_p197001");
        // The extremes an i64 of nanoseconds reaches still have a month, the last one open-ended.
        assert_eq!(month_of(i64::MAX).to_ns, None);
        assert_eq!(month_of(i64::MAX).name, "evidence_p226204");
        assert_eq!(month_of(i64::MIN).name, "evidence_p167709");
        assert!(month_of(i64::MIN).from_ns <= i64::MIN + 1);
    }

    #[test]
    fn every_time_falls_inside_its_month() {
        for t in [
            -1,
            1,
            86_399_999_999_999,
            1_700_000_000_123_456_789,
            i64::MAX - 1,
            i64::MIN + 1,
        ] {
            let m = month_of(t);
            assert!(m.from_ns <= t, "{t}: {m:?}");
            assert!(m.to_ns.is_none_or(|to| t < to), "{t}: {m:?}");
        }
    }
}
