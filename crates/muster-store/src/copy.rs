//! `muster migrate-store`: copy an embedded SQLite store into a PostgreSQL one, row for row (ids,
//! positions, digests and links exactly as stored), in one transaction, then verify every chain
//! on the copy and compare its roots and heads with the original's.
//!
//! Console sessions are not copied: they are logins to the old store, not evidence.

use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::ingest::SourceRecord;
use crate::model::DrillStatus;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{ConsoleStore, EvidenceStore, StoreError};

/// How a column is read from SQLite and bound for PostgreSQL.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    /// An integer 0/1 in SQLite, a boolean in PostgreSQL.
    Flag,
}

use Kind::{Flag, Int, Text};

/// The tables copied, in an order that satisfies every foreign key, with their columns.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "drills",
        &[
            ("id", Text),
            ("started_at_ns", Int),
            ("finished_at_ns", Int),
            ("agent", Text),
            ("environment", Text),
            ("manifest_digest", Text),
            ("muster_version", Text),
            ("status", Text),
            ("root_digest", Text),
            ("summary", Text),
        ],
    ),
    (
        "streams",
        &[
            ("drill_id", Text),
            ("stream", Text),
            ("length", Int),
            ("head", Text),
        ],
    ),
    (
        "events",
        &[
            ("id", Text),
            ("drill_id", Text),
            ("stream", Text),
            ("seq", Int),
            ("time_ns", Int),
            ("kind", Text),
            ("fields", Text),
            ("field_digests", Text),
            ("prev", Text),
            ("digest", Text),
        ],
    ),
    (
        "addenda",
        &[
            ("id", Text),
            ("drill_id", Text),
            ("seq", Int),
            ("time_ns", Int),
            ("kind", Text),
            ("fields", Text),
            ("field_digests", Text),
            ("prev", Text),
            ("digest", Text),
        ],
    ),
    (
        "evidence_sources",
        &[("name", Text), ("length", Int), ("head", Text)],
    ),
    (
        "evidence",
        &[
            ("source", Text),
            ("seq", Int),
            ("time_ns", Int),
            ("observed_ns", Int),
            ("system", Text),
            ("format", Text),
            ("kind", Text),
            ("conversation_id", Text),
            ("customer_ref", Text),
            ("trace_id", Text),
            ("span_id", Text),
            ("ticket_id", Text),
            ("case_id", Text),
            ("actor", Text),
            ("content", Text),
            ("attributes", Text),
            ("fields", Text),
            ("field_digests", Text),
            ("raw_pointer", Text),
            ("content_digest", Text),
            ("prev", Text),
            ("digest", Text),
        ],
    ),
    (
        "quarantine",
        &[
            ("source", Text),
            ("format", Text),
            ("raw_pointer", Text),
            ("reason", Text),
            ("raw_excerpt", Text),
            ("recorded_ns", Int),
        ],
    ),
    (
        "ingest_batches",
        &[
            ("source", Text),
            ("input", Text),
            ("offset_reached", Int),
            ("complete", Flag),
            ("events", Int),
            ("duplicates", Int),
            ("quarantined", Int),
            ("committed_ns", Int),
            ("cursor", Text),
        ],
    ),
    (
        "access_audit",
        &[
            ("at_ns", Int),
            ("who", Text),
            ("command", Text),
            ("what", Text),
            ("why", Text),
        ],
    ),
    (
        "console_users",
        &[
            ("id", Text),
            ("username", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("role", Text),
            ("is_admin", Flag),
            ("created_at_ns", Int),
        ],
    ),
    (
        "exercises",
        &[
            ("id", Text),
            ("title", Text),
            ("created_at_ns", Int),
            ("created_by", Text),
            ("definition", Text),
        ],
    ),
    (
        "exercise_log",
        &[
            ("id", Text),
            ("exercise_id", Text),
            ("seq", Int),
            ("time_ns", Int),
            ("kind", Text),
            ("fields", Text),
            ("field_digests", Text),
            ("prev", Text),
            ("digest", Text),
            ("once_key", Text),
        ],
    ),
    (
        "severity_models",
        &[
            ("version", Int),
            ("levels", Text),
            ("edited_by", Text),
            ("edited_at_ns", Int),
        ],
    ),
];

/// Rows read and written at a time (at most 22 columns: 11,000 parameters).
const ROWS_PER_STEP: i64 = 500;

/// One table's copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
}

/// What `copy_store` did and found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<TableCopy>,
    pub drills_verified: u64,
    pub sources_verified: u64,
    pub exercise_logs_verified: u64,
    /// Every chain problem and every root or head that differs from the original, in words.
    pub problems: Vec<String>,
}

impl CopyReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Rows the copy will write, for a progress bar.
pub async fn rows_to_copy(from: &SqliteStore) -> Result<u64, StoreError> {
    let mut total = 0u64;
    for (table, _) in TABLES {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(from.pool())
                .await?;
        total += u64::try_from(n).unwrap_or(0);
    }
    Ok(total)
}

fn bind_column(
    b: &mut sqlx::query_builder::Separated<'_, Postgres, &'static str>,
    row: &SqliteRow,
    at: usize,
    kind: Kind,
) -> Result<(), StoreError> {
    match kind {
        Text => {
            b.push_bind(row.try_get::<Option<String>, _>(at)?);
        }
        Int => {
            b.push_bind(row.try_get::<Option<i64>, _>(at)?);
        }
        Flag => {
            b.push_bind(row.try_get::<Option<i64>, _>(at)?.map(|v| v != 0));
        }
    }
    Ok(())
}

/// Copy `from` into `to` (migrated and empty) and verify the copy. `progress` is called with the
/// rows copied so far.
pub async fn copy_store(
    from: &SqliteStore,
    to: &PgStore,
    mut progress: impl FnMut(u64),
) -> Result<CopyReport, StoreError> {
    let occupied: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM drills) + (SELECT COUNT(*) FROM evidence_sources)
              + (SELECT COUNT(*) FROM exercises) + (SELECT COUNT(*) FROM console_users)
              + (SELECT COUNT(*) FROM access_audit) + (SELECT COUNT(*) FROM quarantine)",
    )
    .fetch_one(to.pool())
    .await?;
    if occupied > 0 {
        return Err(StoreError::Conflict(format!(
            "the store at {} already holds evidence or accounts; copy into an empty, migrated database",
            to.location()
        )));
    }
    let times: Vec<i64> = sqlx::query_scalar(
        // One time per day is enough to name every month; times before 1970 are taken whole.
        "SELECT DISTINCT CASE WHEN time_ns < 0 THEN time_ns ELSE time_ns - time_ns % 86400000000000 END FROM evidence",
    )
    .fetch_all(from.pool())
    .await?;
    to.ensure_partitions_for(&times).await?;

    let mut tx = to.pool().begin().await?;
    let mut copied = 0u64;
    let mut tables = Vec::with_capacity(TABLES.len());
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let list = names.join(", ");
        let mut after = i64::MIN;
        let mut rows_copied = 0u64;
        loop {
            // Only the fixed table and column names above are formatted in.
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT rowid, {list} FROM {table} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
            )))
            .bind(after)
            .bind(ROWS_PER_STEP)
            .fetch_all(from.pool())
            .await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.try_get(0)?;
            let mut insert =
                QueryBuilder::<Postgres>::new(format!("INSERT INTO {table} ({list}) "));
            let mut failure = None;
            insert.push_values(&rows, |mut b, row| {
                for (at, (_, kind)) in columns.iter().enumerate() {
                    if let Err(e) = bind_column(&mut b, row, at + 1, *kind) {
                        failure.get_or_insert(e);
                    }
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
            insert.build().execute(&mut *tx).await?;
            rows_copied += rows.len() as u64;
            copied += rows.len() as u64;
            progress(copied);
        }
        tables.push(TableCopy {
            table: (*table).to_owned(),
            rows: rows_copied,
        });
    }
    // Severity model versions are numbered by the table itself; the copy keeps their numbers.
    tx.commit().await?;

    let mut report = CopyReport {
        tables,
        drills_verified: 0,
        sources_verified: 0,
        exercise_logs_verified: 0,
        problems: Vec::new(),
    };
    for original in from.drills().await? {
        let id = &original.header.id;
        let checked = to.verify(id).await?;
        report.drills_verified += 1;
        report.problems.extend(
            checked
                .report
                .problems
                .iter()
                .map(|p| format!("drill {id}: {p}")),
        );
        if original.status != DrillStatus::Running && checked.drill.root != original.root {
            report.problems.push(format!(
                "drill {id}: the copy's root differs from the original's"
            ));
        }
    }
    let originals: Vec<SourceRecord> = from.sources().await?;
    for checked in to.verify_sources().await? {
        report.sources_verified += 1;
        report.problems.extend(
            checked
                .report
                .problems
                .iter()
                .map(|p| format!("source {}: {p}", checked.source)),
        );
    }
    let copies = to.sources().await?;
    for original in &originals {
        if !copies.iter().any(|c| {
            c.name == original.name && c.head == original.head && c.events == original.events
        }) {
            report.problems.push(format!(
                "source {}: the copy's chain head differs from the original's",
                original.name
            ));
        }
    }
    for exercise in from.exercises().await? {
        let checked = to.verify_exercise_log(&exercise.id).await?;
        report.exercise_logs_verified += 1;
        report.problems.extend(
            checked
                .problems
                .iter()
                .map(|p| format!("exercise {} log: {p}", exercise.id)),
        );
    }
    Ok(report)
}
