//! The team backend: PostgreSQL, shared by several `muster` processes (servers, drill workers,
//! ingesters) on any number of machines.
//!
//! Same guarantees as the SQLite store, kept differently because writers are many processes, not
//! one writer task: every transaction that extends a chain (a drill's stream, an ingested source,
//! an exercise log, a drill's addenda) first takes a transaction-scoped advisory lock on that
//! chain, then reads its head, so appends to one chain are serialised across processes and
//! appends to different chains run in parallel. Sealing a drill takes its row `FOR UPDATE`;
//! appends hold it `FOR SHARE`, so no append lands after the root is computed.
//!
//! The schema is applied by `muster db migrate` ([`PgStore::migrate`]), never implicitly: a shared
//! database is upgraded once, deliberately. [`PgStore::connect`] refuses a schema that is behind
//! (run the migration) or one it does not know (a newer muster migrated it).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use muster_evidence::{Digest, EventDraft, StreamChain, StreamHead, root_digest};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot};

use crate::checks::ADDENDA_STREAM;
use crate::ingest::{
    AccessRecord, IngestBatch, IngestProgress, IngestReceipt, KeySet, KindProfile, SearchFilters,
    SourceRecord, SourceVerify, StoredEvidence, StoredQuarantine, TimeRange, TimelineQuery,
};
use crate::model::{DrillHeader, DrillRecord, DrillStatus, StoredEvent, StoredVerify};
use crate::rows::{digest, drill_from_row, event_from_row, fields_columns, to_i64};
use crate::sqlite::IngestPending;
use crate::{EvidenceStore, StoreError};

mod console;
mod ingest;
pub(crate) mod queue;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Advisory-lock classes (the first key of `pg_advisory_xact_lock(int, int)`); the second key is
/// `hashtext` of the chain's name. Two chains whose names hash alike only wait for each other.
const LOCK_DRILL_STREAM: i32 = 0x6d75_0001;
const LOCK_SOURCE: i32 = 0x6d75_0002;
const LOCK_EXERCISE: i32 = 0x6d75_0003;
const LOCK_SEVERITY: i32 = 0x6d75_0004;
const LOCK_PARTITIONS: i32 = 0x6d75_0005;
const LOCK_QUEUE_CLAIM: i32 = 0x6d75_0006;

/// Rows per multi-row INSERT of drill events (10 parameters a row; PostgreSQL allows 65,535).
const EVENT_ROWS_PER_INSERT: usize = 1000;

/// Where the database's schema stands against the migrations this muster carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaState {
    /// Every migration applied, none unknown.
    Current { version: i64 },
    /// Migrations this muster has that the database lacks (an empty database lacks them all).
    Behind { applied: i64, pending: Vec<i64> },
}

/// What `muster db migrate` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    pub before: i64,
    pub after: i64,
    pub applied: Vec<i64>,
}

/// The newest migration this muster knows.
pub fn known_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// A store location with any password in it replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unreadable PostgreSQL URL>".to_owned(),
    }
}

/// Work for the ingest task: batches of one store commit in the order they were submitted.
struct IngestRequest {
    batch: crate::prepare::PreparedBatch,
    done: oneshot::Sender<Result<IngestReceipt, StoreError>>,
}

/// The PostgreSQL evidence store.
#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    location: String,
    ingest: mpsc::UnboundedSender<IngestRequest>,
    /// Woken when any process appends to an exercise log (`LISTEN`), once something asks.
    log_appended: std::sync::OnceLock<Arc<tokio::sync::Notify>>,
}

/// The channel every exercise-log append is announced on, in its own transaction (so the
/// notice is delivered when, and only if, the entry is committed).
pub(crate) const EXERCISE_LOG_CHANNEL: &str = "muster_exercise_log";

impl std::fmt::Debug for IngestRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ingest({}, {} events)",
            self.batch.source,
            self.batch.rows.len()
        )
    }
}

async fn pool_for(url: &str, location: &str) -> Result<PgPool, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(|source| StoreError::Open {
        path: location.to_owned(),
        source,
    })?;
    PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.application_name("muster"))
        .await
        .map_err(|source| StoreError::Open {
            path: location.to_owned(),
            source,
        })
}

/// The migrations recorded in the database: `(version, checksum)`, or none if it has never been
/// migrated.
async fn applied_migrations(pool: &PgPool) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Compare the database's migrations with this muster's: an unknown or altered one is refused.
async fn schema_state(pool: &PgPool, location: &str) -> Result<SchemaState, StoreError> {
    let applied = applied_migrations(pool).await?;
    for (version, checksum) in &applied {
        let known = MIGRATOR.iter().find(|m| m.version == *version);
        match known {
            Some(m) if m.checksum.as_ref() == checksum.as_slice() => {}
            Some(_) => {
                return Err(StoreError::SchemaUnknown {
                    location: location.to_owned(),
                    version: *version,
                    known: known_schema_version(),
                    why: "its migration differs from the one this muster carries".to_owned(),
                });
            }
            None => {
                return Err(StoreError::SchemaUnknown {
                    location: location.to_owned(),
                    version: *version,
                    known: known_schema_version(),
                    why: "a newer muster migrated it".to_owned(),
                });
            }
        }
    }
    let done: HashSet<i64> = applied.iter().map(|(v, _)| *v).collect();
    let pending: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !done.contains(&m.version))
        .map(|m| m.version)
        .collect();
    let version = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
    Ok(if pending.is_empty() {
        SchemaState::Current { version }
    } else {
        SchemaState::Behind {
            applied: version,
            pending,
        }
    })
}

impl PgStore {
    /// Connect to a migrated database. Refuses a schema that is behind this muster (run
    /// `muster db migrate`) or that it does not know.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let location = redact_url(url);
        let pool = pool_for(url, &location).await?;
        match schema_state(&pool, &location).await? {
            SchemaState::Current { .. } => {}
            SchemaState::Behind { applied, pending } => {
                pool.close().await;
                return Err(StoreError::SchemaBehind {
                    location,
                    version: applied,
                    pending,
                });
            }
        }
        let (ingest, requests) = mpsc::unbounded_channel();
        // Evidence partitions known to exist (made by any process): no look-up once seen.
        let partitions = Arc::new(Mutex::new(HashSet::new()));
        tokio::spawn(ingest::ingest_loop(pool.clone(), partitions, requests));
        Ok(Self {
            pool,
            location,
            ingest,
            log_appended: std::sync::OnceLock::new(),
        })
    }

    /// Bring the database's schema up to date (`muster db migrate`). Refuses a schema it does
    /// not know, as `connect` does.
    pub async fn migrate(url: &str) -> Result<MigrationReport, StoreError> {
        let location = redact_url(url);
        let pool = pool_for(url, &location).await?;
        let before = match schema_state(&pool, &location).await? {
            SchemaState::Current { version } => {
                pool.close().await;
                return Ok(MigrationReport {
                    before: version,
                    after: version,
                    applied: Vec::new(),
                });
            }
            SchemaState::Behind { applied, pending } => (applied, pending),
        };
        let result = MIGRATOR.run(&pool).await;
        pool.close().await;
        result?;
        Ok(MigrationReport {
            before: before.0,
            after: known_schema_version(),
            applied: before.1,
        })
    }

    /// Where the schema of the database at `url` stands, without changing it.
    pub async fn schema(url: &str) -> Result<SchemaState, StoreError> {
        let location = redact_url(url);
        let pool = pool_for(url, &location).await?;
        let state = schema_state(&pool, &location).await;
        pool.close().await;
        state
    }

    /// The store's URL with any password redacted.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The underlying pool, for tests that tamper with rows the way an attacker would.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Queue an ingest batch without waiting for it (see [`crate::SqliteStore::submit_ingest`]):
    /// batches commit in the order submitted, and a failed batch makes the later batches of its
    /// input fail too, so progress is never recorded past a lost batch.
    pub fn submit_ingest(&self, batch: IngestBatch) -> Result<IngestPending, StoreError> {
        let batch = crate::prepare::prepare(batch);
        let (done, wait) = oneshot::channel();
        self.ingest
            .send(IngestRequest { batch, done })
            .map_err(|_| ingest_stopped())?;
        Ok(IngestPending(wait))
    }

    /// Woken whenever an entry is appended to any exercise log, by any process on this
    /// database: one connection `LISTEN`s for every server process, so event streams fan out
    /// at once instead of on the next poll. The first call starts the listener; if it cannot
    /// listen, it logs why and nothing is woken (readers still poll).
    pub fn exercise_log_notices(&self) -> Arc<tokio::sync::Notify> {
        self.log_appended
            .get_or_init(|| {
                let notify = Arc::new(tokio::sync::Notify::new());
                tokio::spawn(listen_for_appends(self.pool.clone(), Arc::clone(&notify)));
                notify
            })
            .clone()
    }

    /// Create the monthly evidence partitions these event times need.
    pub(crate) async fn ensure_partitions_for(&self, times: &[i64]) -> Result<(), StoreError> {
        let known = Mutex::new(HashSet::new());
        ingest::ensure_partitions(&self.pool, &known, times.iter().copied()).await
    }

    async fn resolve_drill_id(&self, id_or_prefix: &str) -> Result<String, StoreError> {
        let pattern = format!("{}%", id_or_prefix.replace(['%', '_', '\\'], ""));
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM drills WHERE id = $1 OR id LIKE $2 ORDER BY id COLLATE \"C\" LIMIT 3",
        )
        .bind(id_or_prefix)
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await?;
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
}

/// Wake `notify` on every exercise-log notice. sqlx's listener reconnects by itself; a notice
/// lost while it does is made up for by the readers' own polling.
async fn listen_for_appends(pool: PgPool, notify: Arc<tokio::sync::Notify>) {
    let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for exercise-log notices; polling only");
            return;
        }
    };
    if let Err(e) = listener.listen(EXERCISE_LOG_CHANNEL).await {
        tracing::warn!(error = %e, "cannot listen for exercise-log notices; polling only");
        return;
    }
    loop {
        match listener.recv().await {
            // One stored permit is enough: the reader catches up on everything new.
            Ok(_) => notify.notify_one(),
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "exercise-log notices interrupted");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn ingest_stopped() -> StoreError {
    StoreError::Corrupt("the evidence ingest task has stopped".into())
}

/// Every stream's length and head for a drill, in stream order (bytewise, as SQLite sorts).
async fn load_stream_heads<'e, E>(
    executor: E,
    drill_id: &str,
) -> Result<Vec<StreamHead>, StoreError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let rows = sqlx::query(
        "SELECT stream, length, head FROM streams WHERE drill_id = $1 ORDER BY stream COLLATE \"C\"",
    )
    .bind(drill_id)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StreamHead {
                stream: r.get(0),
                length: u64::try_from(r.get::<i64, _>(1)).unwrap_or(0),
                head: digest(&r.get::<String, _>(2))?,
            })
        })
        .collect()
}

/// Take a chain's advisory lock for the rest of the transaction.
async fn lock_chain(
    conn: &mut sqlx::PgConnection,
    class: i32,
    name: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(class)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

const DRILL_COLUMNS: &str = "SELECT d.*, (SELECT COUNT(*) FROM events e WHERE e.drill_id = d.id) AS event_count FROM drills d";

#[async_trait]
impl EvidenceStore for PgStore {
    async fn begin_drill(&self, header: &DrillHeader) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drills (id, started_at_ns, agent, environment, manifest_digest, muster_version, status)
             VALUES ($1, $2, $3, $4, $5, $6, 'running')",
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
        let mut tx = self.pool.begin().await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM drills WHERE id = $1 FOR SHARE")
                .bind(drill_id)
                .fetch_optional(&mut *tx)
                .await?;
        match status.as_deref() {
            None => return Err(StoreError::DrillNotFound(drill_id.to_owned())),
            Some("running") => {}
            Some(_) => return Err(StoreError::AlreadySealed(drill_id.to_owned())),
        }
        lock_chain(&mut tx, LOCK_DRILL_STREAM, &format!("{drill_id}/{stream}")).await?;
        let head =
            sqlx::query("SELECT length, head FROM streams WHERE drill_id = $1 AND stream = $2")
                .bind(drill_id)
                .bind(stream)
                .fetch_optional(&mut *tx)
                .await?;
        let mut chain = match head {
            None => StreamChain::new(drill_id, stream),
            Some(row) => StreamChain::resume(
                drill_id,
                stream,
                u64::try_from(row.get::<i64, _>(0)).unwrap_or(0),
                digest(&row.get::<String, _>(1))?,
            ),
        };
        let stored: Vec<StoredEvent> = events
            .into_iter()
            .map(|draft| StoredEvent {
                id: uuid::Uuid::now_v7().to_string(),
                event: chain.append(draft),
            })
            .collect();
        for chunk in stored.chunks(EVENT_ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO events (id, drill_id, stream, seq, time_ns, kind, fields, field_digests, prev, digest) ",
            );
            insert.push_values(chunk, |mut row, s| {
                let e = &s.event;
                let (values, digests) = fields_columns(&e.fields);
                row.push_bind(s.id.clone())
                    .push_bind(e.drill_id.clone())
                    .push_bind(e.stream.clone())
                    .push_bind(to_i64(e.seq))
                    .push_bind(e.time_ns)
                    .push_bind(e.kind.clone())
                    .push_bind(values)
                    .push_bind(digests)
                    .push_bind(e.prev.to_hex())
                    .push_bind(e.digest.to_hex());
            });
            insert.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO streams (drill_id, stream, length, head) VALUES ($1, $2, $3, $4)
             ON CONFLICT (drill_id, stream) DO UPDATE SET length = excluded.length, head = excluded.head",
        )
        .bind(drill_id)
        .bind(stream)
        .bind(to_i64(chain.length()))
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
        let mut tx = self.pool.begin().await?;
        // Waits for appends in flight (they hold the row FOR SHARE) and keeps new ones out.
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM drills WHERE id = $1 FOR UPDATE")
                .bind(drill_id)
                .fetch_optional(&mut *tx)
                .await?;
        match current.as_deref() {
            None => return Err(StoreError::DrillNotFound(drill_id.to_owned())),
            Some("running") => {}
            Some(_) => return Err(StoreError::AlreadySealed(drill_id.to_owned())),
        }
        let tuples: Vec<(String, u64, Digest)> = load_stream_heads(&mut *tx, drill_id)
            .await?
            .into_iter()
            .map(|h| (h.stream, h.length, h.head))
            .collect();
        let root = root_digest(drill_id, &tuples);
        sqlx::query(
            "UPDATE drills SET status = $2, finished_at_ns = $3, root_digest = $4, summary = $5 WHERE id = $1",
        )
        .bind(drill_id)
        .bind(status.as_str())
        .bind(finished_at_ns)
        .bind(root.to_hex())
        .bind(summary.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(root)
    }

    async fn drills(&self) -> Result<Vec<DrillRecord>, StoreError> {
        let sql = format!("{DRILL_COLUMNS} ORDER BY d.started_at_ns DESC, d.id COLLATE \"C\" DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(drill_from_row).collect()
    }

    async fn drill(&self, id_or_prefix: &str) -> Result<DrillRecord, StoreError> {
        let id = self.resolve_drill_id(id_or_prefix).await?;
        let sql = format!("{DRILL_COLUMNS} WHERE d.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
        drill_from_row(&row)
    }

    async fn events(&self, drill_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE drill_id = $1 ORDER BY stream COLLATE \"C\", seq, position",
        )
        .bind(drill_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    async fn verify(&self, drill_id: &str) -> Result<StoredVerify, StoreError> {
        let drill = self.drill(drill_id).await?;
        let id = drill.header.id.clone();
        let stored = self.events(&id).await?;
        let heads = load_stream_heads(&self.pool, &id).await?;
        let addenda = match drill.root.filter(|_| drill.status != DrillStatus::Running) {
            Some(_) => self.addenda(&id).await?,
            None => Vec::new(),
        };
        Ok(crate::checks::drill_report(
            drill, &stored, &heads, &addenda,
        ))
    }

    async fn append_addenda(
        &self,
        drill_id: &str,
        events: Vec<EventDraft>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let drill = self.drill(drill_id).await?;
        let id = drill.header.id.clone();
        let Some(root) = drill.root.filter(|_| drill.status != DrillStatus::Running) else {
            return Err(StoreError::NotSealed(id));
        };
        let mut tx = self.pool.begin().await?;
        lock_chain(
            &mut tx,
            LOCK_DRILL_STREAM,
            &format!("{id}/{ADDENDA_STREAM}"),
        )
        .await?;
        let last = sqlx::query(
            "SELECT seq, digest FROM addenda WHERE drill_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut chain = match last {
            None => StreamChain::resume(&id, ADDENDA_STREAM, 0, root),
            Some(row) => {
                let seq = u64::try_from(row.get::<i64, _>(0)).unwrap_or(0);
                StreamChain::resume(
                    &id,
                    ADDENDA_STREAM,
                    seq + 1,
                    digest(&row.get::<String, _>(1))?,
                )
            }
        };
        let mut stored = Vec::with_capacity(events.len());
        for draft in events {
            let e = chain.append(draft);
            let event_id = uuid::Uuid::now_v7().to_string();
            let (values, digests) = fields_columns(&e.fields);
            sqlx::query(
                "INSERT INTO addenda (id, drill_id, seq, time_ns, kind, fields, field_digests, prev, digest)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&event_id)
            .bind(&id)
            .bind(to_i64(e.seq))
            .bind(e.time_ns)
            .bind(&e.kind)
            .bind(values)
            .bind(digests)
            .bind(e.prev.to_hex())
            .bind(e.digest.to_hex())
            .execute(&mut *tx)
            .await?;
            stored.push(StoredEvent {
                id: event_id,
                event: e,
            });
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn addenda(&self, drill_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let id = self.resolve_drill_id(drill_id).await?;
        let rows = sqlx::query(
            "SELECT *, $2::text AS stream FROM addenda WHERE drill_id = $1 ORDER BY seq, position",
        )
        .bind(&id)
        .bind(ADDENDA_STREAM)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    async fn ingest_batch(&self, batch: IngestBatch) -> Result<IngestReceipt, StoreError> {
        self.submit_ingest(batch)?.wait().await
    }

    async fn ingest_progress(
        &self,
        source: &str,
        input: &str,
    ) -> Result<IngestProgress, StoreError> {
        ingest::progress(&self.pool, source, input).await
    }

    async fn timeline(&self, query: &TimelineQuery) -> Result<Vec<StoredEvidence>, StoreError> {
        ingest::timeline(&self.pool, query).await
    }

    async fn events_with_keys(
        &self,
        keys: &KeySet,
        range: TimeRange,
        limit: Option<u64>,
    ) -> Result<Vec<StoredEvidence>, StoreError> {
        ingest::events_with_keys(&self.pool, keys, range, limit).await
    }

    async fn events_with_attribute(
        &self,
        source: &str,
        attribute: &str,
        values: &[String],
        range: TimeRange,
    ) -> Result<Vec<StoredEvidence>, StoreError> {
        ingest::events_with_attribute(&self.pool, source, attribute, values, range).await
    }

    async fn evidence_profile(&self) -> Result<Vec<KindProfile>, StoreError> {
        ingest::evidence_profile(&self.pool).await
    }

    async fn search(
        &self,
        text: &str,
        filters: &SearchFilters,
    ) -> Result<Vec<StoredEvidence>, StoreError> {
        ingest::search(&self.pool, text, filters).await
    }

    async fn quarantined(&self, source: Option<&str>) -> Result<Vec<StoredQuarantine>, StoreError> {
        ingest::quarantined(&self.pool, source).await
    }

    async fn record_access(&self, record: &AccessRecord) -> Result<(), StoreError> {
        ingest::record_access(&self.pool, record).await
    }

    async fn access_log(&self) -> Result<Vec<AccessRecord>, StoreError> {
        ingest::access_log(&self.pool).await
    }

    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        ingest::sources(&self.pool).await
    }

    async fn verify_sources(&self) -> Result<Vec<SourceVerify>, StoreError> {
        let mut out = Vec::new();
        for source in ingest::sources(&self.pool).await? {
            out.push(ingest::verify_source(&self.pool, &source).await?);
        }
        Ok(out)
    }
}
