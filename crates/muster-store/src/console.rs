//! Storage for the exercise console: accounts, sessions, exercises, each exercise's append-only
//! log (chained like a drill stream) and the versioned incident severity model.
//!
//! Account and session rows are operational and may change; the exercise log may not. Its chain
//! starts from `genesis(exercise_id, EXERCISE_STREAM)`, so it verifies with the same maths as a
//! drill's streams. Appends take the write lock first (`BEGIN IMMEDIATE`) and read the head inside
//! the transaction, so several processes (the console and a drill streaming into it) can append
//! to one exercise safely.

use async_trait::async_trait;
use muster_evidence::EventDraft;

use crate::{StoreError, StoredEvent};

/// The stream name of an exercise log's chain.
pub const EXERCISE_STREAM: &str = "exercise";

/// A console account as stored. `password_hash` is a PHC string (Argon2id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub is_admin: bool,
    pub created_at_ns: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    pub user: ConsoleUser,
    pub csrf_token: String,
    pub created_at_ns: i64,
    pub expires_at_ns: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExerciseRecord {
    pub id: String,
    pub title: String,
    pub created_at_ns: i64,
    pub created_by: String,
    /// The exercise definition as JSON (owned by `muster-console`).
    pub definition: serde_json::Value,
}

/// One exercise-log entry with the store's position for tailing.
#[derive(Clone, Debug, PartialEq)]
pub struct ExerciseLogEntry {
    pub position: i64,
    pub exercise_id: String,
    pub event: StoredEvent,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeverityModelVersion {
    pub version: i64,
    pub levels: serde_json::Value,
    pub edited_by: String,
    pub edited_at_ns: i64,
}

/// What `verify_exercise_log` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExerciseLogVerify {
    pub entries: u64,
    pub head: Option<String>,
    /// Each problem as `seq: what`.
    pub problems: Vec<String>,
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Add an account. Fails with [`StoreError::Conflict`] if the username is taken.
    async fn create_user(&self, user: &ConsoleUser) -> Result<(), StoreError>;
    async fn user_by_username(&self, username: &str) -> Result<Option<ConsoleUser>, StoreError>;
    async fn users(&self) -> Result<Vec<ConsoleUser>, StoreError>;
    async fn set_user_password(&self, user_id: &str, password_hash: &str)
    -> Result<(), StoreError>;

    async fn create_session(
        &self,
        token_digest: &str,
        user_id: &str,
        csrf_token: &str,
        created_at_ns: i64,
        expires_at_ns: i64,
    ) -> Result<(), StoreError>;
    /// The session with this token digest, if it exists and has not expired at `now_ns`.
    async fn session(
        &self,
        token_digest: &str,
        now_ns: i64,
    ) -> Result<Option<ConsoleSession>, StoreError>;
    async fn delete_session(&self, token_digest: &str) -> Result<(), StoreError>;

    async fn create_exercise(&self, exercise: &ExerciseRecord) -> Result<(), StoreError>;
    /// Exercises, newest first.
    async fn exercises(&self) -> Result<Vec<ExerciseRecord>, StoreError>;
    async fn exercise(&self, id: &str) -> Result<Option<ExerciseRecord>, StoreError>;

    /// Append one entry to an exercise's log. With `once_key`, an entry with the same key already
    /// in the log makes this a no-op that returns `None` (an inject is released once, whichever
    /// process notices first).
    async fn append_exercise_log(
        &self,
        exercise_id: &str,
        draft: EventDraft,
        once_key: Option<&str>,
    ) -> Result<Option<StoredEvent>, StoreError>;
    async fn exercise_log(&self, exercise_id: &str) -> Result<Vec<StoredEvent>, StoreError>;
    /// An exercise's entries from chain position `from_seq` on, in order.
    async fn exercise_log_from(
        &self,
        exercise_id: &str,
        from_seq: u64,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Entries of every exercise stored after `position`, oldest first, at most `limit`.
    async fn exercise_log_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<ExerciseLogEntry>, StoreError>;
    /// The position of the newest entry of any exercise (0 when there is none).
    async fn exercise_log_position(&self) -> Result<i64, StoreError>;
    /// Recompute the exercise log's chain.
    async fn verify_exercise_log(&self, exercise_id: &str)
    -> Result<ExerciseLogVerify, StoreError>;

    /// Save a new version of the severity model; returns its version number.
    async fn save_severity_model(
        &self,
        levels: &serde_json::Value,
        edited_by: &str,
        edited_at_ns: i64,
    ) -> Result<i64, StoreError>;
    /// Every version, oldest first.
    async fn severity_models(&self) -> Result<Vec<SeverityModelVersion>, StoreError>;
}
