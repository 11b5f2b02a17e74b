//! The embedded backend: one SQLite file in WAL mode.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use muster_evidence::{Digest, EventDraft, SealedEvent, StreamChain, StreamHead, root_digest};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use crate::ingest::{
    AccessRecord, IngestBatch, IngestProgress, IngestReceipt, SearchFilters, SourceRecord,
    SourceVerify, StoredEvidence, StoredQuarantine, TimelineQuery,
};
use crate::model::{DrillHeader, DrillRecord, DrillStatus, StoredEvent, StoredVerify};
use crate::{EvidenceStore, StoreError};

mod console;
mod ingest;

use crate::checks::ADDENDA_STREAM;
use crate::rows::{drill_from_row, event_from_row, fields_columns};

pub use ingest::fts_query;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Work for the writer task.
enum WriteRequest {
    Append {
        drill_id: String,
        stream: String,
        events: Vec<EventDraft>,
        done: oneshot::Sender<Result<Vec<StoredEvent>, StoreError>>,
    },
    Seal {
        drill_id: String,
        status: DrillStatus,
        finished_at_ns: i64,
        summary: serde_json::Value,
        done: oneshot::Sender<Result<Digest, StoreError>>,
    },
    Ingest {
        batch: crate::prepare::PreparedBatch,
        done: oneshot::Sender<Result<IngestReceipt, StoreError>>,
    },
    /// A drill this process has just begun: it has no streams yet, so the writer knows every one
    /// of its streams' heads from its own commits and need not look a new stream up.
    Begun { drill_id: String },
}

/// An ingest batch submitted with [`SqliteStore::submit_ingest`], not yet committed.
#[derive(Debug)]
pub struct IngestPending(pub(crate) oneshot::Receiver<Result<IngestReceipt, StoreError>>);

impl IngestPending {
    /// Wait until the batch is committed (or has failed).
    pub async fn wait(self) -> Result<IngestReceipt, StoreError> {
        self.0.await.map_err(|_| writer_stopped())?
    }
}

/// The SQLite evidence store.
///
/// Appends go through one writer task that commits whatever has queued up in a single transaction
/// (group commit): under concurrent conversations that is one commit for many turns, instead of a
/// queue of commits. Each caller still waits until its own events are durable.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    writer: mpsc::UnboundedSender<WriteRequest>,
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteRequest::Append {
                drill_id,
                stream,
                events,
                ..
            } => write!(f, "Append({drill_id}/{stream}, {} events)", events.len()),
            WriteRequest::Seal { drill_id, .. } => write!(f, "Seal({drill_id})"),
            WriteRequest::Begun { drill_id } => write!(f, "Begun({drill_id})"),
            WriteRequest::Ingest { batch, .. } => {
                write!(f, "Ingest({}, {} events)", batch.source, batch.rows.len())
            }
        }
    }
}

/// The page size of a new store (SQLite's default is 4 KiB). An ingested event's row is ~1.7 KB
/// (its content, fields and keys) and a 4 KiB page held two, leaving a quarter of it empty; 8 KiB
/// pages hold four or five. 16 KiB pages packed ingest ~13% smaller again but slowed drills by
/// about as much (each small commit rewrites whole pages); 8 KiB cost drills nothing measurable.
/// An existing store keeps the size it was made with.
const PAGE_SIZE: u32 = 8192;

/// How much write-ahead log accumulates before it is checkpointed into the database.
const WAL_CHECKPOINT_BYTES: u32 = 32 * 1024 * 1024;

/// Checkpoint the log every `WAL_CHECKPOINT_BYTES` rather than SQLite's 1,000 pages: the pages a
/// drill rewrites in every commit (index leaves, stream heads) are copied back once per
/// checkpoint. Set on every connection, since whichever commits may checkpoint, and from the
/// store's own page size: one made before 8 KiB pages keeps its 4 KiB ones.
async fn checkpoint_by_size(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *conn)
        .await?;
    let pages = i64::from(WAL_CHECKPOINT_BYTES) / page_size.max(512);
    // The only value formatted in is an integer the database itself reported.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA wal_autocheckpoint = {pages}"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows per multi-row INSERT (10 parameters a row, well under SQLite's limit).
const ROWS_PER_INSERT: usize = 400;

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
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("cache_size", "-16000")
            .pragma("mmap_size", "268435456");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| Box::pin(checkpoint_by_size(conn)))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        // The writer keeps one connection for itself: no pool hand-off per batch.
        let mut connection = pool
            .acquire()
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?
            .detach();
        // The writer reads only the pages it changes (through its page cache): mapping the file
        // into it would make its resident memory grow with the store (a drill of 10,000
        // conversations writes ~100 MB). Readers keep the mapping.
        // Statement journals (a multi-row insert of events keeps one, for the foreign key) are
        // kept in memory: on disk, one past 64 KB (most commits of a drill) was spilled to a
        // temporary file, created, written and deleted again in every commit.
        sqlx::query("PRAGMA mmap_size = 0; PRAGMA temp_store = MEMORY")
            .execute(&mut connection)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let (writer, requests) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(connection, requests));
        Ok(Self {
            pool,
            path: path.to_owned(),
            writer,
        })
    }

    /// The newest migration applied to this store (opening it applies every one this muster has).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue an ingest batch without waiting for it: its digests and JSON are computed now, in
    /// the caller, and the writer commits batches in the order they were submitted. Keeping one
    /// batch in flight lets the next one be read and hashed while this one commits. If a batch
    /// fails, the writer refuses the later batches of the same input, so a progress marker is
    /// never committed past a batch that was lost.
    pub fn submit_ingest(&self, batch: IngestBatch) -> Result<IngestPending, StoreError> {
        let batch = crate::prepare::prepare(batch);
        let (done, wait) = oneshot::channel();
        self.writer
            .send(WriteRequest::Ingest { batch, done })
            .map_err(|_| writer_stopped())?;
        Ok(IngestPending(wait))
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
        load_stream_heads(&self.pool, drill_id).await
    }
}

/// Every stream's sealed length and last digest for a drill, in stream order.
async fn load_stream_heads<'e, E>(
    executor: E,
    drill_id: &str,
) -> Result<Vec<StreamHead>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows =
        sqlx::query("SELECT stream, length, head FROM streams WHERE drill_id = ?1 ORDER BY stream")
            .bind(drill_id)
            .fetch_all(executor)
            .await?;
    rows.iter()
        .map(|r| {
            let (length, head) = length_and_head(r, 1)?;
            Ok(StreamHead {
                stream: r.get(0),
                length,
                head,
            })
        })
        .collect()
}

/// A stream row's `length` and `head` columns, starting at column `at`.
fn length_and_head(row: &SqliteRow, at: usize) -> Result<(u64, Digest), StoreError> {
    let head: String = row.get(at + 1);
    let head = Digest::from_str(&head).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((u64::try_from(row.get::<i64, _>(at)).unwrap_or(0), head))
}

fn writer_stopped() -> StoreError {
    StoreError::Corrupt("the evidence writer has stopped".into())
}

/// What the writer knows without asking the database: each stream's length and last digest, and
/// each drill's status. Only the writer changes either, and only after a commit succeeds.
#[derive(Default)]
struct WriterState {
    heads: HashMap<(String, String), (u64, Digest)>,
    statuses: HashMap<String, String>,
    /// Drills begun by this process whose every stream head is in `heads`: a stream of theirs
    /// missing from it is new (no look-up per new conversation). Forgotten on any failed write.
    fresh: std::collections::HashSet<String>,
    /// Each ingested source's chain length and head. Like drill streams, **a source is written by
    /// one process at a time**; a second writer's batch fails on the chain's unique position.
    sources: HashMap<String, (u64, Digest)>,
    /// Inputs (source, input) one of whose batches failed: their later batches are refused.
    failed_inputs: std::collections::HashSet<(String, String)>,
    /// Whether the writer's connection has been set up for ingest batches (`INGEST_PRAGMAS`).
    ingesting: bool,
}

/// The writer's settings once it stores ingest batches: a 64 MB page cache, so most of a
/// 5,000-event batch (~22 MB of rows plus index and FTS pages) commits without spilling (96 MB
/// measured no faster and cost 70 MB more peak memory). (Statement journals are in memory for
/// every write: `PRAGMA temp_store = MEMORY` when the writer opens.)
const INGEST_PRAGMAS: &str = "PRAGMA cache_size = -65536";

/// The writer: take everything queued, commit the appends in one transaction, answer every caller.
/// Seals are done in order with the appends around them.
async fn write_loop(
    mut conn: SqliteConnection,
    mut requests: mpsc::UnboundedReceiver<WriteRequest>,
) {
    let mut state = WriterState::default();
    while let Some(first) = requests.recv().await {
        let mut pending = vec![first];
        // Let the tasks that are about to append do so first: every commit rewrites the pages it
        // touches (table, indexes, stream heads), so one commit of many appends costs little more
        // than one of a single append.
        tokio::task::yield_now().await;
        while pending.len() < 512
            && let Ok(more) = requests.try_recv()
        {
            pending.push(more);
        }
        let mut appends = Vec::new();
        for request in pending {
            match request {
                WriteRequest::Append {
                    drill_id,
                    stream,
                    events,
                    done,
                } => appends.push((drill_id, stream, events, done)),
                WriteRequest::Seal {
                    drill_id,
                    status,
                    finished_at_ns,
                    summary,
                    done,
                } => {
                    flush(&mut conn, &mut state, std::mem::take(&mut appends)).await;
                    let result = seal(
                        &mut conn,
                        &mut state,
                        &drill_id,
                        status,
                        finished_at_ns,
                        &summary,
                    )
                    .await;
                    let _ = done.send(result);
                }
                WriteRequest::Begun { drill_id } => {
                    state
                        .statuses
                        .insert(drill_id.clone(), "running".to_owned());
                    state.fresh.insert(drill_id);
                }
                WriteRequest::Ingest { batch, done } => {
                    flush(&mut conn, &mut state, std::mem::take(&mut appends)).await;
                    let key = (batch.source.clone(), batch.input.clone());
                    if state.failed_inputs.contains(&key) {
                        let _ = done.send(Err(StoreError::Corrupt(format!(
                            "an earlier batch of {} failed, so this one was not stored; ingest again to resume",
                            key.1
                        ))));
                        continue;
                    }
                    if !state.ingesting {
                        // An ingest batch (thousands of ~4 KB rows, their index entries and FTS
                        // segments) overflows the default 16 MB page cache mid-transaction, and
                        // SQLite then spills pages to the WAL before the commit writes them again.
                        // Only a process that ingests pays the larger cache; a failure here only
                        // leaves the defaults in place.
                        let _ = sqlx::query(INGEST_PRAGMAS).execute(&mut conn).await;
                        state.ingesting = true;
                    }
                    let result = ingest::write_ingest(&mut conn, &mut state.sources, batch).await;
                    if result.is_err() {
                        // Nothing of the batch was stored; re-read the head next time.
                        state.sources.clear();
                        state.failed_inputs.insert(key);
                    }
                    let _ = done.send(result);
                }
            }
        }
        flush(&mut conn, &mut state, appends).await;
    }
}

type Append = (
    String,
    String,
    Vec<EventDraft>,
    oneshot::Sender<Result<Vec<StoredEvent>, StoreError>>,
);

async fn flush(conn: &mut SqliteConnection, state: &mut WriterState, appends: Vec<Append>) {
    if appends.is_empty() {
        return;
    }
    let mut drafts = Vec::with_capacity(appends.len());
    let mut replies = Vec::with_capacity(appends.len());
    for (drill_id, stream, events, done) in appends {
        drafts.push((drill_id, stream, events));
        replies.push(done);
    }
    match write_batch(conn, state, drafts).await {
        Ok(results) => {
            for (done, result) in replies.into_iter().zip(results) {
                let _ = done.send(result);
            }
        }
        Err(e) => {
            // Nothing in the transaction was stored; forget what we thought the heads were.
            state.heads.clear();
            state.fresh.clear();
            let message = e.to_string();
            for done in replies {
                let _ = done.send(Err(StoreError::Corrupt(format!(
                    "evidence could not be written: {message}"
                ))));
            }
        }
    }
}

/// What the writer's transaction has done so far. It is begun by the first statement that needs
/// it — a look-up the writer cannot answer itself, else the first insert, as
/// `BEGIN IMMEDIATE; INSERT …` — and committed by the last (`…; COMMIT`): a plain batch is two
/// calls to the connection's thread, not four (each is a hand-off between threads).
struct Tx {
    begun: bool,
}

impl Tx {
    /// Begin now, for a look-up that must see the database as the transaction will write it.
    async fn begin(&mut self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        if !self.begun {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            self.begun = true;
        }
        Ok(())
    }

    /// The start of the next statement: `BEGIN IMMEDIATE; ` if nothing has begun the
    /// transaction yet (it is begun once that statement runs).
    fn prefix(&mut self) -> &'static str {
        if std::mem::replace(&mut self.begun, true) {
            ""
        } else {
            "BEGIN IMMEDIATE; "
        }
    }
}

async fn drill_status(
    conn: &mut SqliteConnection,
    tx: &mut Tx,
    state: &mut WriterState,
    drill_id: &str,
) -> Result<Option<String>, StoreError> {
    if let Some(s) = state.statuses.get(drill_id) {
        return Ok(Some(s.clone()));
    }
    tx.begin(conn).await?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM drills WHERE id = ?1")
        .bind(drill_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(s) = &status {
        state.statuses.insert(drill_id.to_owned(), s.clone());
    }
    Ok(status)
}

/// Chain and insert a batch in one transaction: a few statements whatever its size. A request for
/// an unknown or sealed drill fails alone. If anything fails, nothing of the batch is stored.
async fn write_batch(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    batch: Vec<(String, String, Vec<EventDraft>)>,
) -> Result<Vec<Result<Vec<StoredEvent>, StoreError>>, StoreError> {
    let result = write_batch_in(conn, state, batch).await;
    if result.is_err() {
        // A statement failed inside the transaction (or its commit did): end it. If it never
        // began, or SQLite has rolled it back already, this fails, harmlessly.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result
}

async fn write_batch_in(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    batch: Vec<(String, String, Vec<EventDraft>)>,
) -> Result<Vec<Result<Vec<StoredEvent>, StoreError>>, StoreError> {
    let mut tx = Tx { begun: false };
    let mut chains: HashMap<(String, String), StreamChain> = HashMap::new();
    // Per request: how many of `rows` are its events, or why it failed alone.
    let mut results: Vec<Result<usize, StoreError>> = Vec::with_capacity(batch.len());
    let mut rows: Vec<(String, SealedEvent)> = Vec::new();
    for (drill_id, stream, events) in batch {
        match drill_status(conn, &mut tx, state, &drill_id)
            .await?
            .as_deref()
        {
            None => {
                results.push(Err(StoreError::DrillNotFound(drill_id)));
                continue;
            }
            Some("running") => {}
            Some(_) => {
                results.push(Err(StoreError::AlreadySealed(drill_id)));
                continue;
            }
        }
        let key = (drill_id, stream);
        if !chains.contains_key(&key) {
            let chain = match state.heads.get(&key) {
                Some((length, head)) => StreamChain::resume(&key.0, &key.1, *length, *head),
                None if state.fresh.contains(&key.0) => StreamChain::new(&key.0, &key.1),
                None => {
                    tx.begin(conn).await?;
                    let row = sqlx::query(
                        "SELECT length, head FROM streams WHERE drill_id = ?1 AND stream = ?2",
                    )
                    .bind(&key.0)
                    .bind(&key.1)
                    .fetch_optional(&mut *conn)
                    .await?;
                    match row {
                        None => StreamChain::new(&key.0, &key.1),
                        Some(row) => {
                            let (length, head) = length_and_head(&row, 0)?;
                            StreamChain::resume(&key.0, &key.1, length, head)
                        }
                    }
                }
            };
            chains.insert(key.clone(), chain);
        }
        let Some(chain) = chains.get_mut(&key) else {
            continue;
        };
        results.push(Ok(events.len()));
        for draft in events {
            rows.push((uuid::Uuid::now_v7().to_string(), chain.append(draft)));
        }
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(tx.prefix());
        insert.push(
            "INSERT INTO events (id, drill_id, stream, seq, time_ns, kind, fields, field_digests, prev, digest) ",
        );
        insert.push_values(chunk, |mut row, (id, e)| {
            let (values, digests) = fields_columns(&e.fields);
            row.push_bind(id.clone())
                .push_bind(e.drill_id.clone())
                .push_bind(e.stream.clone())
                .push_bind(i64::try_from(e.seq).unwrap_or(i64::MAX))
                .push_bind(e.time_ns)
                .push_bind(e.kind.clone())
                .push_bind(values)
                .push_bind(digests)
                .push_bind(e.prev.to_hex())
                .push_bind(e.digest.to_hex());
        });
        insert.build().execute(&mut *conn).await?;
    }
    let streams: Vec<(&(String, String), &StreamChain)> = chains.iter().collect();
    let last = streams.len().div_ceil(ROWS_PER_INSERT);
    for (n, chunk) in streams.chunks(ROWS_PER_INSERT).enumerate() {
        let mut upsert = QueryBuilder::<Sqlite>::new(tx.prefix());
        upsert.push("INSERT INTO streams (drill_id, stream, length, head) ");
        upsert.push_values(chunk, |mut row, ((drill_id, stream), chain)| {
            row.push_bind(drill_id.clone())
                .push_bind(stream.clone())
                .push_bind(i64::try_from(chain.length()).unwrap_or(i64::MAX))
                .push_bind(chain.head().to_hex());
        });
        upsert.push(" ON CONFLICT (drill_id, stream) DO UPDATE SET length = excluded.length, head = excluded.head");
        if n + 1 == last {
            upsert.push("; COMMIT");
        }
        upsert.build().execute(&mut *conn).await?;
    }
    if streams.is_empty() && tx.begun {
        // Only look-ups (every request failed alone): nothing to store.
        sqlx::query("COMMIT").execute(&mut *conn).await?;
    }
    for (key, chain) in chains {
        state.heads.insert(key, (chain.length(), chain.head()));
    }
    // The rows go back to their callers once committed (moved, not copied: events carry whole
    // request and reply bodies).
    let mut rows = rows.into_iter();
    Ok(results
        .into_iter()
        .map(|r| {
            r.map(|n| {
                rows.by_ref()
                    .take(n)
                    .map(|(id, event)| StoredEvent { id, event })
                    .collect()
            })
        })
        .collect())
}

async fn seal(
    conn: &mut SqliteConnection,
    state: &mut WriterState,
    drill_id: &str,
    status: DrillStatus,
    finished_at_ns: i64,
    summary: &serde_json::Value,
) -> Result<Digest, StoreError> {
    let tuples: Vec<(String, u64, Digest)> = load_stream_heads(&mut *conn, drill_id)
        .await?
        .into_iter()
        .map(|h| (h.stream, h.length, h.head))
        .collect();
    let root = root_digest(drill_id, &tuples);
    let result = sqlx::query("UPDATE drills SET status = ?2, finished_at_ns = ?3, root_digest = ?4, summary = ?5 WHERE id = ?1 AND status = 'running'")
        .bind(drill_id)
        .bind(status.as_str())
        .bind(finished_at_ns)
        .bind(root.to_hex())
        .bind(summary.to_string())
        .execute(&mut *conn)
        .await?;
    if result.rows_affected() == 0 {
        let exists: Option<String> = sqlx::query_scalar("SELECT status FROM drills WHERE id = ?1")
            .bind(drill_id)
            .fetch_optional(&mut *conn)
            .await?;
        return Err(match exists {
            Some(_) => StoreError::AlreadySealed(drill_id.to_owned()),
            None => StoreError::DrillNotFound(drill_id.to_owned()),
        });
    }
    state
        .statuses
        .insert(drill_id.to_owned(), status.as_str().to_owned());
    state.heads.retain(|(d, _), _| d != drill_id);
    state.fresh.remove(drill_id);
    Ok(root)
}

const DRILL_COLUMNS: &str = "SELECT d.*, (SELECT COUNT(*) FROM events e WHERE e.drill_id = d.id) AS event_count FROM drills d";

#[async_trait]
impl EvidenceStore for SqliteStore {
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
        keys: &crate::KeySet,
        range: crate::TimeRange,
        limit: Option<u64>,
    ) -> Result<Vec<StoredEvidence>, StoreError> {
        ingest::events_with_keys(&self.pool, keys, range, limit).await
    }

    async fn events_with_attribute(
        &self,
        source: &str,
        attribute: &str,
        values: &[String],
        range: crate::TimeRange,
    ) -> Result<Vec<StoredEvidence>, StoreError> {
        ingest::events_with_attribute(&self.pool, source, attribute, values, range).await
    }

    async fn evidence_profile(&self) -> Result<Vec<crate::KindProfile>, StoreError> {
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
        let last = sqlx::query(
            "SELECT seq, digest FROM addenda WHERE drill_id = ?1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut chain = match last {
            None => StreamChain::resume(&id, ADDENDA_STREAM, 0, root),
            Some(row) => {
                let seq = u64::try_from(row.get::<i64, _>("seq")).unwrap_or(0);
                let head = Digest::from_str(&row.get::<String, _>("digest"))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                StreamChain::resume(&id, ADDENDA_STREAM, seq + 1, head)
            }
        };
        let mut stored = Vec::with_capacity(events.len());
        for draft in events {
            let e = chain.append(draft);
            let event_id = uuid::Uuid::now_v7().to_string();
            let (values, digests) = fields_columns(&e.fields);
            sqlx::query("INSERT INTO addenda (id, drill_id, seq, time_ns, kind, fields, field_digests, prev, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .bind(&event_id)
                .bind(&id)
                .bind(i64::try_from(e.seq).unwrap_or(i64::MAX))
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
        let rows =
            sqlx::query("SELECT *, ?2 AS stream FROM addenda WHERE drill_id = ?1 ORDER BY seq")
                .bind(&id)
                .bind(ADDENDA_STREAM)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

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
        // Queued ahead of any append of this drill. If the writer has stopped, the first append
        // reports it.
        let _ = self.writer.send(WriteRequest::Begun {
            drill_id: header.id.clone(),
        });
        Ok(())
    }

    async fn append(
        &self,
        drill_id: &str,
        stream: &str,
        events: Vec<EventDraft>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (done, wait) = oneshot::channel();
        let request = WriteRequest::Append {
            drill_id: drill_id.to_owned(),
            stream: stream.to_owned(),
            events,
            done,
        };
        self.writer.send(request).map_err(|_| writer_stopped())?;
        wait.await.map_err(|_| writer_stopped())?
    }

    async fn seal_drill(
        &self,
        drill_id: &str,
        status: DrillStatus,
        finished_at_ns: i64,
        summary: &serde_json::Value,
    ) -> Result<Digest, StoreError> {
        let (done, wait) = oneshot::channel();
        let request = WriteRequest::Seal {
            drill_id: drill_id.to_owned(),
            status,
            finished_at_ns,
            summary: summary.clone(),
            done,
        };
        self.writer.send(request).map_err(|_| writer_stopped())?;
        wait.await.map_err(|_| writer_stopped())?
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
        let heads = self.stream_heads(&id).await?;
        let addenda = match drill.root.filter(|_| drill.status != DrillStatus::Running) {
            Some(_) => self.addenda(&id).await?,
            None => Vec::new(),
        };
        Ok(crate::checks::drill_report(
            drill, &stored, &heads, &addenda,
        ))
    }
}
