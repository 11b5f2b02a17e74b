//! The embedded backend: one SQLite file in WAL mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use muster_evidence::{
    Digest, EventDraft, Field, SealedEvent, StreamChain, StreamHead, root_digest, verify_drill,
};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use tokio::sync::Mutex;

use crate::model::{DrillHeader, DrillRecord, DrillStatus, StoredEvent, StoredVerify};
use crate::{EvidenceStore, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite evidence store.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    /// Appends from this process go one at a time: each reads and extends a stream head, and SQLite
    /// has one writer anyway. Other processes are serialised by `BEGIN IMMEDIATE`.
    write_lock: Mutex<()>,
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path` and bring its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            path: path.to_owned(),
            write_lock: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying pool, for tests that tamper with the file the way an attacker would.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn resolve_drill_id(&self, id_or_prefix: &str) -> Result<String, StoreError> {
        let pattern = format!("{}%", id_or_prefix.replace(['%', '_'], ""));
        let rows =
            sqlx::query("SELECT id FROM drills WHERE id = ?1 OR id LIKE ?2 ORDER BY id LIMIT 3")
                .bind(id_or_prefix)
                .bind(&pattern)
                .fetch_all(&self.pool)
                .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
        if ids.iter().any(|id| id == id_or_prefix) {
            return Ok(id_or_prefix.to_owned());
        }
        match ids.as_slice() {
            [] => Err(StoreError::DrillNotFound(id_or_prefix.to_owned())),
            [only] => Ok(only.clone()),
            many => Err(StoreError::AmbiguousDrill {
                prefix: id_or_prefix.to_owned(),
                count: many.len(),
            }),
        }
    }

    async fn stream_heads(&self, drill_id: &str) -> Result<Vec<StreamHead>, StoreError> {
        let rows = sqlx::query(
            "SELECT stream, length, head FROM streams WHERE drill_id = ?1 ORDER BY stream",
        )
        .bind(drill_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let head: String = r.get(2);
                Ok(StreamHead {
                    stream: r.get(0),
                    length: u64::try_from(r.get::<i64, _>(1)).unwrap_or(0),
                    head: Digest::from_str(&head)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }
}

fn drill_from_row(row: &SqliteRow) -> Result<DrillRecord, StoreError> {
    let status: String = row.get("status");
    let root: Option<String> = row.get("root_digest");
    let summary: Option<String> = row.get("summary");
    Ok(DrillRecord {
        header: DrillHeader {
            id: row.get("id"),
            started_at_ns: row.get("started_at_ns"),
            agent: row.get("agent"),
            environment: row.get("environment"),
            manifest_digest: row.get("manifest_digest"),
            muster_version: row.get("muster_version"),
        },
        status: DrillStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown drill status `{status}`")))?,
        finished_at_ns: row.get("finished_at_ns"),
        root: root
            .map(|r| Digest::from_str(&r))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
        events: u64::try_from(row.get::<i64, _>("event_count")).unwrap_or(0),
    })
}

/// Rebuild a sealed event from its row. A row whose digests cannot even be read becomes an event
/// that fails verification (with zero digests) rather than an error that hides which row is bad.
fn event_from_row(row: &SqliteRow) -> StoredEvent {
    let fields_text: String = row.get("fields");
    let digests_text: String = row.get("field_digests");
    let values: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&fields_text).unwrap_or_default();
    let digests: BTreeMap<String, String> = serde_json::from_str(&digests_text).unwrap_or_default();
    let zero = Digest([0; 32]);
    let mut names: Vec<&String> = digests.keys().chain(values.keys()).collect();
    names.sort();
    names.dedup();
    let fields = names
        .into_iter()
        .map(|name| Field {
            name: name.clone(),
            value: values.get(name).cloned(),
            digest: digests
                .get(name)
                .and_then(|d| Digest::from_str(d).ok())
                .unwrap_or(zero),
        })
        .collect();
    let parse = |col: &str| Digest::from_str(&row.get::<String, _>(col)).unwrap_or(zero);
    StoredEvent {
        id: row.get("id"),
        event: SealedEvent {
            drill_id: row.get("drill_id"),
            stream: row.get("stream"),
            seq: u64::try_from(row.get::<i64, _>("seq")).unwrap_or(u64::MAX),
            time_ns: row.get("time_ns"),
            kind: row.get("kind"),
            fields,
            prev: parse("prev"),
            digest: parse("digest"),
        },
    }
}

const DRILL_COLUMNS: &str = "SELECT d.*, (SELECT COUNT(*) FROM events e WHERE e.drill_id = d.id) AS event_count FROM drills d";

#[async_trait]
impl EvidenceStore for SqliteStore {
    async fn begin_drill(&self, header: &DrillHeader) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drills (id, started_at_ns, agent, environment, manifest_digest, muster_version, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running')",
        )
        .bind(&header.id)
        .bind(header.started_at_ns)
        .bind(&header.agent)
        .bind(&header.environment)
        .bind(&header.manifest_digest)
        .bind(&header.muster_version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn append(
        &self,
        drill_id: &str,
        stream: &str,
        events: Vec<EventDraft>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM drills WHERE id = ?1")
            .bind(drill_id)
            .fetch_optional(&mut *tx)
            .await?;
        match status.as_deref() {
            None => return Err(StoreError::DrillNotFound(drill_id.to_owned())),
            Some("running") => {}
            Some(_) => return Err(StoreError::AlreadySealed(drill_id.to_owned())),
        }
        let head =
            sqlx::query("SELECT length, head FROM streams WHERE drill_id = ?1 AND stream = ?2")
                .bind(drill_id)
                .bind(stream)
                .fetch_optional(&mut *tx)
                .await?;
        let mut chain = match head {
            None => StreamChain::new(drill_id, stream),
            Some(row) => {
                let head: String = row.get(1);
                let head =
                    Digest::from_str(&head).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                StreamChain::resume(
                    drill_id,
                    stream,
                    u64::try_from(row.get::<i64, _>(0)).unwrap_or(0),
                    head,
                )
            }
        };
        let mut stored = Vec::with_capacity(events.len());
        for draft in events {
            let sealed = chain.append(draft);
            let id = uuid::Uuid::now_v7().to_string();
            let values: serde_json::Map<String, serde_json::Value> = sealed
                .fields
                .iter()
                .filter_map(|f| f.value.clone().map(|v| (f.name.clone(), v)))
                .collect();
            let digests: serde_json::Map<String, serde_json::Value> = sealed
                .fields
                .iter()
                .map(|f| (f.name.clone(), serde_json::Value::String(f.digest.to_hex())))
                .collect();
            sqlx::query(
                "INSERT INTO events (id, drill_id, stream, seq, time_ns, kind, fields, field_digests, prev, digest)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(&id)
            .bind(drill_id)
            .bind(stream)
            .bind(i64::try_from(sealed.seq).unwrap_or(i64::MAX))
            .bind(sealed.time_ns)
            .bind(&sealed.kind)
            .bind(serde_json::Value::Object(values).to_string())
            .bind(serde_json::Value::Object(digests).to_string())
            .bind(sealed.prev.to_hex())
            .bind(sealed.digest.to_hex())
            .execute(&mut *tx)
            .await?;
            stored.push(StoredEvent { id, event: sealed });
        }
        sqlx::query(
            "INSERT INTO streams (drill_id, stream, length, head) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (drill_id, stream) DO UPDATE SET length = excluded.length, head = excluded.head",
        )
        .bind(drill_id)
        .bind(stream)
        .bind(i64::try_from(chain.length()).unwrap_or(i64::MAX))
        .bind(chain.head().to_hex())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn seal_drill(
        &self,
        drill_id: &str,
        status: DrillStatus,
        finished_at_ns: i64,
        summary: &serde_json::Value,
    ) -> Result<Digest, StoreError> {
        let _guard = self.write_lock.lock().await;
        let heads = self.stream_heads(drill_id).await?;
        let tuples: Vec<(String, u64, Digest)> = heads
            .into_iter()
            .map(|h| (h.stream, h.length, h.head))
            .collect();
        let root = root_digest(drill_id, &tuples);
        let result = sqlx::query(
            "UPDATE drills SET status = ?2, finished_at_ns = ?3, root_digest = ?4, summary = ?5 WHERE id = ?1 AND status = 'running'",
        )
        .bind(drill_id)
        .bind(status.as_str())
        .bind(finished_at_ns)
        .bind(root.to_hex())
        .bind(summary.to_string())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(match self.resolve_drill_id(drill_id).await {
                Ok(_) => StoreError::AlreadySealed(drill_id.to_owned()),
                Err(e) => e,
            });
        }
        Ok(root)
    }

    async fn drills(&self) -> Result<Vec<DrillRecord>, StoreError> {
        let sql = format!("{DRILL_COLUMNS} ORDER BY d.started_at_ns DESC, d.id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(drill_from_row).collect()
    }

    async fn drill(&self, id_or_prefix: &str) -> Result<DrillRecord, StoreError> {
        let id = self.resolve_drill_id(id_or_prefix).await?;
        let sql = format!("{DRILL_COLUMNS} WHERE d.id = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
        drill_from_row(&row)
    }

    async fn events(&self, drill_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM events WHERE drill_id = ?1 ORDER BY stream, seq, rowid")
                .bind(drill_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    async fn verify(&self, drill_id: &str) -> Result<StoredVerify, StoreError> {
        let drill = self.drill(drill_id).await?;
        let id = drill.header.id.clone();
        let stored = self.events(&id).await?;
        let events: Vec<SealedEvent> = stored.iter().map(|s| s.event.clone()).collect();
        let heads = self.stream_heads(&id).await?;
        let sealed = match (drill.status, drill.root) {
            (DrillStatus::Running, _) | (_, None) => None,
            (_, Some(root)) => Some((heads.as_slice(), root)),
        };
        let report = verify_drill(&id, &events, sealed);
        let event_ids = report
            .problems
            .iter()
            .filter_map(|p| {
                let seq = p.seq?;
                let found = stored
                    .iter()
                    .find(|s| s.event.stream == p.stream && s.event.seq == seq)?;
                Some(((p.stream.clone(), seq), found.id.clone()))
            })
            .collect();
        Ok(StoredVerify {
            drill,
            report,
            event_ids,
        })
    }
}
