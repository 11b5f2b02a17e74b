//! The evidence store: where every drill's events are appended, chained and sealed.
//!
//! [`EvidenceStore`] is the interface the rest of muster uses. Two backends keep it with the same
//! behaviour: [`SqliteStore`], the embedded default (a WAL-mode SQLite file, `.muster/evidence.db`),
//! and [`PgStore`], PostgreSQL for a team (several processes on several machines, one store).
//! [`StoreLocation`] opens either as a [`Store`].
//!
//! Ingested evidence (events read from the real stack by `muster-ingest`) is kept beside drills:
//! one append-only chain per source, a full-text index updated in the same transaction, a
//! quarantine, per-batch progress for idempotent, resumable ingest, and an access audit.
//!
//! **Invariants:** events are only ever appended; addenda to a sealed drill go to their own chain,
//! which starts from the drill's root digest, so the sealed drill never changes; each append extends its stream's hash chain in
//! the same transaction that stores the event; a drill is sealed once, into a root digest over its
//! streams. Digests are computed by `muster-evidence`, never here.

mod checks;
pub mod console;
mod copy;
mod ingest;
mod location;
mod model;
mod postgres;
mod prepare;
mod rows;
mod sqlite;

pub use console::{
    ConsoleSession, ConsoleStore, ConsoleUser, EXERCISE_STREAM, ExerciseLogEntry,
    ExerciseLogVerify, ExerciseRecord, SeverityModelVersion,
};
pub use copy::{CopyReport, TableCopy, copy_store, rows_to_copy};
pub use ingest::{
    AccessRecord, EVIDENCE_CHAIN, IngestBatch, IngestProgress, IngestReceipt, KeySet, KindProfile,
    SearchFilters, SourceRecord, SourceVerify, StoredEvidence, StoredQuarantine, TimeRange,
    TimelineKey, TimelineQuery,
};
pub use location::{Store, StoreLocation};
pub use model::{DrillHeader, DrillRecord, DrillStatus, StoredEvent, StoredVerify};
pub use postgres::queue::{
    Claim, DrillJob, Exhausted, JobFile, MAX_ATTEMPTS, QueueProgress, QueueResult,
};
pub use postgres::{MigrationReport, PgStore, SchemaState, known_schema_version, redact_url};
pub use sqlite::{IngestPending, SqliteStore, fts_query};

use async_trait::async_trait;
use muster_evidence::{Digest, EventDraft};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the evidence store at {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot create the folder for the evidence store at {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the evidence store's schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("evidence store error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no drill matches `{0}`")]
    DrillNotFound(String),
    #[error("`{prefix}` matches {count} drills; give more of the id")]
    AmbiguousDrill { prefix: String, count: usize },
    #[error("drill {0} is already sealed; its evidence cannot be extended")]
    AlreadySealed(String),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("drill {0} is not sealed yet; addenda follow a sealed drill")]
    NotSealed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the evidence store at {location} has schema version {version}; this muster needs version {}: run `muster db migrate`", pending.last().copied().unwrap_or(*version))]
    SchemaBehind {
        location: String,
        version: i64,
        pending: Vec<i64>,
    },
    #[error(
        "the evidence store at {location} has schema version {version}, which this muster does not know ({why}; it knows versions up to {known}): use the muster that made it, or a newer one"
    )]
    SchemaUnknown {
        location: String,
        version: i64,
        known: i64,
        why: String,
    },
}

/// The storage interface. Every backend keeps the same guarantees (see the crate invariants).
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Record that a drill has started.
    async fn begin_drill(&self, header: &DrillHeader) -> Result<(), StoreError>;

    /// Append events to one stream of a running drill, in one transaction.
    async fn append(
        &self,
        drill_id: &str,
        stream: &str,
        events: Vec<EventDraft>,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Seal a drill: compute and store its root digest. `status` is `Sealed` or `Interrupted`.
    async fn seal_drill(
        &self,
        drill_id: &str,
        status: DrillStatus,
        finished_at_ns: i64,
        summary: &serde_json::Value,
    ) -> Result<Digest, StoreError>;

    /// Drills, newest first.
    async fn drills(&self) -> Result<Vec<DrillRecord>, StoreError>;

    /// One drill by id or unique id prefix.
    async fn drill(&self, id_or_prefix: &str) -> Result<DrillRecord, StoreError>;

    /// All events of a drill in storage order (by stream, then position).
    async fn events(&self, drill_id: &str) -> Result<Vec<StoredEvent>, StoreError>;

    /// Check every digest, link, stream head and the root of a drill.
    async fn verify(&self, drill_id: &str) -> Result<StoredVerify, StoreError>;

    /// Append addenda to a sealed drill (e.g. approvals recorded later), chained from its root.
    async fn append_addenda(
        &self,
        drill_id: &str,
        events: Vec<EventDraft>,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// A drill's addenda in order.
    async fn addenda(&self, drill_id: &str) -> Result<Vec<StoredEvent>, StoreError>;

    /// Store one batch of ingested events and quarantined records in one transaction: records
    /// already stored (same source, raw pointer and content digest) are skipped, the rest extend
    /// the source's chain and the full-text index, and the batch's progress is recorded with them.
    async fn ingest_batch(&self, batch: IngestBatch) -> Result<IngestReceipt, StoreError>;

    /// How far `input` of `source` has been ingested (committed batches only).
    async fn ingest_progress(
        &self,
        source: &str,
        input: &str,
    ) -> Result<IngestProgress, StoreError>;

    /// A conversation's or customer's events across sources, in time order.
    async fn timeline(&self, query: &TimelineQuery) -> Result<Vec<StoredEvidence>, StoreError>;

    /// Events carrying any of `keys` (conversation, customer, trace, ticket or case), in time
    /// order, at most `limit`.
    async fn events_with_keys(
        &self,
        keys: &KeySet,
        range: TimeRange,
        limit: Option<u64>,
    ) -> Result<Vec<StoredEvidence>, StoreError>;

    /// Events of `source` whose attribute `attribute` (a key of the event's `attributes`) is one
    /// of `values`: how declared link rules find records that name another system's key in a
    /// field of their own. Scans the source's events in `range`.
    async fn events_with_attribute(
        &self,
        source: &str,
        attribute: &str,
        values: &[String],
        range: TimeRange,
    ) -> Result<Vec<StoredEvidence>, StoreError>;

    /// Per ingested source and kind: counts, time span, own timestamps, content.
    async fn evidence_profile(&self) -> Result<Vec<KindProfile>, StoreError>;

    /// Events whose content holds every word of `text`, in time order.
    async fn search(
        &self,
        text: &str,
        filters: &SearchFilters,
    ) -> Result<Vec<StoredEvidence>, StoreError>;

    /// Quarantined records, of one source or all, in the order they were stored.
    async fn quarantined(&self, source: Option<&str>) -> Result<Vec<StoredQuarantine>, StoreError>;

    /// Record that someone read evidence unredacted.
    async fn record_access(&self, record: &AccessRecord) -> Result<(), StoreError>;

    /// The access audit, oldest first.
    async fn access_log(&self) -> Result<Vec<AccessRecord>, StoreError>;

    /// Ingested sources with their chains.
    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError>;

    /// Check every ingested source's chain.
    async fn verify_sources(&self) -> Result<Vec<SourceVerify>, StoreError>;
}
