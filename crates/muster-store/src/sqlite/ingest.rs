//! The SQLite side of ingested evidence: the writer's batch, timelines, search, quarantine, the
//! access audit and chain verification. All of its SQL is here (SQLite-only: FTS5, `json`).

use std::collections::{HashMap, HashSet};

use muster_evidence::{Digest, SealedEvent, StreamChain};
use muster_ingest::{Quarantined, RawPointer};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use crate::StoreError;
use crate::ingest::{
    AccessRecord, EVIDENCE_CHAIN, IngestProgress, IngestReceipt, SearchFilters, SourceRecord,
    SourceVerify, StoredEvidence, StoredQuarantine, TimelineKey, TimelineQuery,
};
use crate::prepare::{PreparedBatch, chain_new_rows, pointer_text};
use crate::rows::{digest, evidence_from_row, now_ns, sealed_from_row, to_i64};

/// Columns a stored event row has, in insert order (24 binds a row).
const EVIDENCE_INSERT: &str = "INSERT INTO evidence (source, seq, time_ns, observed_ns, system, format, kind, conversation_id, customer_ref, trace_id, span_id, ticket_id, case_id, actor, content, attributes, fields, field_digests, raw_pointer, content_digest, prev, digest) ";

/// Rows per multi-row INSERT: 22 parameters a row, under SQLite's 32,766.
const ROWS_PER_INSERT: usize = 500;

/// Store one batch in one transaction: records already stored are skipped (same source, raw
/// pointer and content digest), the rest extend the source's chain, the full-text index is
/// filled by trigger in the same transaction, and the batch's progress is recorded with it.
/// `heads` is the writer's cache of source chains, changed only after a commit.
pub(crate) async fn write_ingest(
    conn: &mut SqliteConnection,
    heads: &mut HashMap<String, (u64, Digest)>,
    batch: PreparedBatch,
) -> Result<IngestReceipt, StoreError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let source = batch.source.as_str();
    let mut chain = match heads.get(source) {
        Some((length, head)) => StreamChain::resume(EVIDENCE_CHAIN, source, *length, *head),
        None => {
            let row = sqlx::query("SELECT length, head FROM evidence_sources WHERE name = ?1")
                .bind(source)
                .fetch_optional(&mut *tx)
                .await?;
            match row {
                None => StreamChain::new(EVIDENCE_CHAIN, source),
                Some(row) => StreamChain::resume(
                    EVIDENCE_CHAIN,
                    source,
                    u64::try_from(row.get::<i64, _>(0)).unwrap_or(0),
                    digest(&row.get::<String, _>(1))?,
                ),
            }
        }
    };

    // Which of these records are already stored: one indexed probe per chunk.
    let mut known: HashSet<(String, String)> = HashSet::new();
    if chain.length() > 0 {
        for chunk in batch.rows.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT raw_pointer, content_digest FROM evidence WHERE source = ",
            );
            q.push_bind(source).push(" AND raw_pointer IN (");
            let mut list = q.separated(", ");
            for r in chunk {
                list.push_bind(r.raw_pointer.as_str());
            }
            q.push(")");
            for row in q.build().fetch_all(&mut *tx).await? {
                known.insert((row.get(0), row.get(1)));
            }
        }
    }

    let mut receipt = IngestReceipt::default();
    let sealed = chain_new_rows(batch.rows, &mut known, &mut chain, &mut receipt);

    for chunk in sealed.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(EVIDENCE_INSERT);
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
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO quarantine (source, format, raw_pointer, reason, raw_excerpt, recorded_ns) ",
        );
        insert.push_values(chunk, |mut b, q| {
            b.push_bind(source)
                .push_bind(q.source_format.as_str())
                .push_bind(pointer_text(&q.pointer))
                .push_bind(q.reason.as_str())
                .push_bind(q.raw_excerpt.as_str())
                .push_bind(recorded);
        });
        receipt.quarantined += insert.build().execute(&mut *tx).await?.rows_affected();
    }

    if receipt.stored > 0 {
        sqlx::query("INSERT INTO evidence_sources (name, length, head) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET length = excluded.length, head = excluded.head")
            .bind(source)
            .bind(to_i64(chain.length()))
            .bind(chain.head().to_hex())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO ingest_batches (source, input, offset_reached, complete, events, duplicates, quarantined, committed_ns, cursor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
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
    if chain.length() > 0 {
        heads.insert(batch.source, (chain.length(), chain.head()));
    }
    Ok(receipt)
}

pub(crate) async fn progress(
    pool: &SqlitePool,
    source: &str,
    input: &str,
) -> Result<IngestProgress, StoreError> {
    let row = sqlx::query("SELECT MAX(offset_reached), MAX(complete) FROM ingest_batches WHERE source = ?1 AND input = ?2")
        .bind(source)
        .bind(input)
        .fetch_one(pool)
        .await?;
    let cursor: Option<String> = sqlx::query_scalar("SELECT cursor FROM ingest_batches WHERE source = ?1 AND input = ?2 AND cursor IS NOT NULL ORDER BY rowid DESC LIMIT 1")
        .bind(source)
        .bind(input)
        .fetch_optional(pool)
        .await?;
    Ok(IngestProgress {
        offset_reached: row
            .get::<Option<i64>, _>(0)
            .and_then(|o| u64::try_from(o).ok()),
        complete: row.get::<Option<i64>, _>(1).unwrap_or(0) != 0,
        cursor,
    })
}

pub(crate) async fn timeline(
    pool: &SqlitePool,
    query: &TimelineQuery,
) -> Result<Vec<StoredEvidence>, StoreError> {
    // The key's own events, and those joined through it: a conversation's traces, a customer's
    // conversations. Each arm is an indexed lookup; UNION removes the overlap.
    let (sql, key) = match &query.key {
        TimelineKey::Conversation(id) => (
            "SELECT * FROM evidence WHERE rowid IN (
                SELECT rowid FROM evidence WHERE conversation_id = ?1
                UNION SELECT rowid FROM evidence WHERE trace_id IN
                    (SELECT DISTINCT trace_id FROM evidence WHERE conversation_id = ?1 AND trace_id IS NOT NULL))
             AND (?2 IS NULL OR time_ns >= ?2) AND (?3 IS NULL OR time_ns <= ?3)
             ORDER BY time_ns, source, seq LIMIT ?4",
            id,
        ),
        TimelineKey::Customer(r) => (
            "SELECT * FROM evidence WHERE rowid IN (
                SELECT rowid FROM evidence WHERE customer_ref = ?1
                UNION SELECT rowid FROM evidence WHERE conversation_id IN
                    (SELECT DISTINCT conversation_id FROM evidence WHERE customer_ref = ?1 AND conversation_id IS NOT NULL))
             AND (?2 IS NULL OR time_ns >= ?2) AND (?3 IS NULL OR time_ns <= ?3)
             ORDER BY time_ns, source, seq LIMIT ?4",
            r,
        ),
    };
    let rows = sqlx::query(sql)
        .bind(key)
        .bind(query.from_ns)
        .bind(query.to_ns)
        .bind(query.limit.map_or(-1, to_i64))
        .fetch_all(pool)
        .await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(crate) async fn events_with_keys(
    pool: &SqlitePool,
    keys: &crate::KeySet,
    range: crate::TimeRange,
    limit: Option<u64>,
) -> Result<Vec<StoredEvidence>, StoreError> {
    // One indexed lookup per key column; UNION removes events found through two keys.
    let columns: [(&str, &std::collections::BTreeSet<String>); 5] = [
        ("conversation_id", &keys.conversations),
        ("customer_ref", &keys.customers),
        ("trace_id", &keys.traces),
        ("ticket_id", &keys.tickets),
        ("case_id", &keys.cases),
    ];
    let mut arms = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for (column, set) in columns {
        if set.is_empty() {
            continue;
        }
        let first = values.len() + 4;
        let marks: Vec<String> = (first..first + set.len())
            .map(|i| format!("?{i}"))
            .collect();
        arms.push(format!(
            "SELECT rowid FROM evidence WHERE {column} IN ({})",
            marks.join(", ")
        ));
        values.extend(set.iter().map(String::as_str));
    }
    if arms.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT * FROM evidence WHERE rowid IN ({})
         AND (?1 IS NULL OR time_ns >= ?1) AND (?2 IS NULL OR time_ns <= ?2)
         ORDER BY time_ns, source, seq LIMIT ?3",
        arms.join(" UNION ")
    );
    // Only fixed column names and numbered placeholders are formatted in; values are bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(range.from_ns)
        .bind(range.to_ns)
        .bind(limit.map_or(-1, to_i64));
    for v in values {
        q = q.bind(v);
    }
    let rows = q.fetch_all(pool).await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(crate) async fn events_with_attribute(
    pool: &SqlitePool,
    source: &str,
    attribute: &str,
    values: &[String],
    range: crate::TimeRange,
) -> Result<Vec<StoredEvidence>, StoreError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (5..5 + values.len()).map(|i| format!("?{i}")).collect();
    // The attribute name is one JSON object key, dots and all: quoted in the path.
    let path = format!("$.\"{}\"", attribute.replace('"', "\\\""));
    let sql = format!(
        "SELECT * FROM evidence WHERE source = ?1
         AND json_extract(attributes, ?2) IN ({})
         AND (?3 IS NULL OR time_ns >= ?3) AND (?4 IS NULL OR time_ns <= ?4)
         ORDER BY time_ns, source, seq",
        marks.join(", ")
    );
    // Only numbered placeholders are formatted in; the path and values are bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(source)
        .bind(path)
        .bind(range.from_ns)
        .bind(range.to_ns);
    for v in values {
        q = q.bind(v);
    }
    let rows = q.fetch_all(pool).await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(crate) async fn evidence_profile(
    pool: &SqlitePool,
) -> Result<Vec<crate::KindProfile>, StoreError> {
    let rows = sqlx::query(
        "SELECT source, kind, COUNT(*) AS n, MIN(time_ns) AS oldest, MAX(time_ns) AS newest,
                SUM(CASE WHEN json_extract(fields, '$.time_basis') = 'observed' THEN 0 ELSE 1 END) AS own,
                SUM(CASE WHEN content IS NOT NULL AND content != '' THEN 1 ELSE 0 END) AS with_content,
                (SELECT s.content FROM evidence s
                  WHERE s.source = e.source AND s.kind = e.kind AND s.content IS NOT NULL AND s.content != ''
                  ORDER BY s.rowid DESC LIMIT 1) AS sample
         FROM evidence e GROUP BY source, kind ORDER BY source, kind",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| crate::KindProfile {
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

/// Text as an FTS5 query that matches every word, whatever characters it holds: each word becomes
/// a quoted string, so FTS5's own syntax (`AND`, `*`, `:`, quotes) in the text is taken literally.
pub fn fts_query(text: &str) -> String {
    text.split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) async fn search(
    pool: &SqlitePool,
    text: &str,
    filters: &SearchFilters,
) -> Result<Vec<StoredEvidence>, StoreError> {
    let query = fts_query(text);
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT e.* FROM evidence_fts f JOIN evidence e ON e.rowid = f.rowid
         WHERE evidence_fts MATCH ?1
           AND (?2 IS NULL OR e.kind = ?2) AND (?3 IS NULL OR e.source = ?3)
           AND (?4 IS NULL OR e.conversation_id = ?4)
         ORDER BY e.time_ns, e.source, e.seq LIMIT ?5",
    )
    .bind(&query)
    .bind(filters.kind.as_deref())
    .bind(filters.source.as_deref())
    .bind(filters.conversation.as_deref())
    .bind(filters.limit.map_or(-1, to_i64))
    .fetch_all(pool)
    .await?;
    rows.iter().map(evidence_from_row).collect()
}

pub(crate) async fn quarantined(
    pool: &SqlitePool,
    source: Option<&str>,
) -> Result<Vec<StoredQuarantine>, StoreError> {
    let rows =
        sqlx::query("SELECT * FROM quarantine WHERE (?1 IS NULL OR source = ?1) ORDER BY rowid")
            .bind(source)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| {
            let pointer: RawPointer = serde_json::from_str(&r.get::<String, _>("raw_pointer"))
                .map_err(|e| StoreError::Corrupt(format!("quarantine pointer: {e}")))?;
            Ok(StoredQuarantine {
                source: r.get("source"),
                record: Quarantined {
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

pub(crate) async fn record_access(
    pool: &SqlitePool,
    record: &AccessRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_audit (at_ns, who, command, what, why) VALUES (?1, ?2, ?3, ?4, ?5)",
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

pub(crate) async fn access_log(pool: &SqlitePool) -> Result<Vec<AccessRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT at_ns, who, command, what, why FROM access_audit ORDER BY rowid")
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

pub(crate) async fn sources(pool: &SqlitePool) -> Result<Vec<SourceRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.name, s.length, s.head, (SELECT COUNT(*) FROM quarantine q WHERE q.source = s.name)
         FROM evidence_sources s ORDER BY s.name",
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
pub(crate) async fn verify_source(
    pool: &SqlitePool,
    source: &SourceRecord,
) -> Result<SourceVerify, StoreError> {
    let rows = sqlx::query("SELECT * FROM evidence WHERE source = ?1 ORDER BY seq, rowid")
        .bind(&source.name)
        .fetch_all(pool)
        .await?;
    let events: Vec<SealedEvent> = rows.iter().map(sealed_from_row).collect();
    Ok(crate::checks::source_report(source, &events))
}
