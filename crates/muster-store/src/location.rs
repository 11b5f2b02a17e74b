//! Where a store is, and opening it whichever backend it is: a SQLite file (the embedded default)
//! or a PostgreSQL database (`postgres://…`, a team's shared store).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::console::ConsoleStore;
use crate::ingest::IngestBatch;
use crate::postgres::{PgStore, redact_url};
use crate::sqlite::{IngestPending, SqliteStore};
use crate::{EvidenceStore, StoreError};

/// A store of either backend, as commands use it: evidence, the console, and pipelined ingest.
#[async_trait]
pub trait Store: EvidenceStore + ConsoleStore {
    /// Queue an ingest batch without waiting for it; batches commit in submission order.
    fn submit_ingest(&self, batch: IngestBatch) -> Result<IngestPending, StoreError>;
    /// The file's path or the database's URL with any password redacted.
    fn location(&self) -> String;
    /// Woken when another process appends to an exercise log, where the backend can tell
    /// (PostgreSQL's `LISTEN`); `None` where readers must poll (SQLite).
    fn exercise_log_notices(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
    async fn close(&self);
}

#[async_trait]
impl Store for SqliteStore {
    fn submit_ingest(&self, batch: IngestBatch) -> Result<IngestPending, StoreError> {
        SqliteStore::submit_ingest(self, batch)
    }
    fn location(&self) -> String {
        self.path().display().to_string()
    }
    async fn close(&self) {
        SqliteStore::close(self).await;
    }
}

#[async_trait]
impl Store for PgStore {
    fn submit_ingest(&self, batch: IngestBatch) -> Result<IngestPending, StoreError> {
        PgStore::submit_ingest(self, batch)
    }
    fn location(&self) -> String {
        PgStore::location(self).to_owned()
    }
    fn exercise_log_notices(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(PgStore::exercise_log_notices(self))
    }
    async fn close(&self) {
        PgStore::close(self).await;
    }
}

/// A store's location as given on the command line (`--store`, `MUSTER_STORE`) or in
/// muster.toml (`[store] path` or `url`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (may hold a password: show it with `describe`).
    Postgres(String),
}

impl StoreLocation {
    /// `postgres://…` and `postgresql://…` are PostgreSQL; `sqlite://PATH` and anything else is
    /// a SQLite file's path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            StoreLocation::Postgres(text.to_owned())
        } else {
            StoreLocation::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// For messages: the path, or the URL with any password redacted.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => redact_url(url),
        }
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            StoreLocation::Sqlite(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }

    /// Whether there is anything to open: a SQLite file that exists, or any database (a
    /// database's absence is reported when it is connected to).
    pub fn exists(&self) -> bool {
        match self {
            StoreLocation::Sqlite(path) => path.exists(),
            StoreLocation::Postgres(_) => true,
        }
    }

    /// Open the store. A SQLite file is created and migrated as needed (it belongs to one
    /// person); a PostgreSQL database must have been migrated with `muster db migrate`.
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open(path).await?),
            StoreLocation::Postgres(url) => Arc::new(PgStore::connect(url).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_by_scheme() {
        assert_eq!(
            StoreLocation::parse("postgres://u:secret@db.internal/muster"),
            StoreLocation::Postgres("postgres://u:secret@db.internal/muster".into())
        );
        assert!(matches!(
            StoreLocation::parse("postgresql://db/muster"),
            StoreLocation::Postgres(_)
        ));
        assert_eq!(
            StoreLocation::parse("sqlite://.muster/evidence.db"),
            StoreLocation::Sqlite(".muster/evidence.db".into())
        );
        assert_eq!(
            StoreLocation::parse("evidence.db"),
            StoreLocation::Sqlite("evidence.db".into())
        );
    }

    #[test]
    fn passwords_never_reach_messages() {
        let location = StoreLocation::parse("postgres://muster:s3cret-pw@db.internal:5432/muster");
        let shown = location.describe();
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("db.internal:5432/muster"), "{shown}");
        assert_eq!(
            StoreLocation::parse("postgres://db.internal/muster").describe(),
            "postgres://db.internal/muster"
        );
    }
}
