//! SQL for the exercise console on PostgreSQL (see `crate::console`). Appends to an exercise log
//! take the exercise's advisory lock before reading its head, so every console process and drill
//! streaming into an exercise may append to it.

use async_trait::async_trait;
use muster_evidence::{EventDraft, StreamChain};
use sqlx::Row;

use super::{LOCK_EXERCISE, LOCK_SEVERITY, PgStore, lock_chain};
use crate::console::{
    ConsoleSession, ConsoleStore, ConsoleUser, EXERCISE_STREAM, ExerciseLogEntry,
    ExerciseLogVerify, ExerciseRecord, SeverityModelVersion,
};
use crate::rows::{
    digest, event_from_row, exercise_from_row, fields_columns, is_unique_violation, to_i64,
    user_from_row,
};
use crate::{StoreError, StoredEvent};

const LOG_COLUMNS: &str = "position, id, exercise_id AS drill_id, 'exercise' AS stream, seq, time_ns, kind, fields, field_digests, prev, digest";

#[async_trait]
impl ConsoleStore for PgStore {
    async fn create_user(&self, user: &ConsoleUser) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO console_users (id, username, display_name, password_hash, role, is_admin, created_at_ns)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(&user.role)
        .bind(user.is_admin)
        .bind(user.created_at_ns)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "an account named `{}` already exists",
                user.username
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<ConsoleUser>, StoreError> {
        let row = sqlx::query("SELECT * FROM console_users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row))
    }

    async fn users(&self) -> Result<Vec<ConsoleUser>, StoreError> {
        let rows = sqlx::query("SELECT * FROM console_users ORDER BY username COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(user_from_row).collect())
    }

    async fn set_user_password(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE console_users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        // A new password ends every session opened with the old one.
        sqlx::query("DELETE FROM console_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(
        &self,
        token_digest: &str,
        user_id: &str,
        csrf_token: &str,
        created_at_ns: i64,
        expires_at_ns: i64,
    ) -> Result<(), StoreError> {
        // Expired sessions go as new ones come, so the table holds live sessions only.
        sqlx::query("DELETE FROM console_sessions WHERE expires_at_ns <= $1")
            .bind(created_at_ns)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (token_digest, user_id, csrf_token, created_at_ns, expires_at_ns)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest)
        .bind(user_id)
        .bind(csrf_token)
        .bind(created_at_ns)
        .bind(expires_at_ns)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_digest: &str,
        now_ns: i64,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row = sqlx::query(
            "SELECT u.*, s.csrf_token, s.created_at_ns AS session_created, s.expires_at_ns
             FROM console_sessions s JOIN console_users u ON u.id = s.user_id
             WHERE s.token_digest = $1 AND s.expires_at_ns > $2",
        )
        .bind(token_digest)
        .bind(now_ns)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| ConsoleSession {
            user: user_from_row(&row),
            csrf_token: row.get("csrf_token"),
            created_at_ns: row.get("session_created"),
            expires_at_ns: row.get("expires_at_ns"),
        }))
    }

    async fn delete_session(&self, token_digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE token_digest = $1")
            .bind(token_digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_exercise(&self, exercise: &ExerciseRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO exercises (id, title, created_at_ns, created_by, definition) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&exercise.id)
        .bind(&exercise.title)
        .bind(exercise.created_at_ns)
        .bind(&exercise.created_by)
        .bind(exercise.definition.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn exercises(&self) -> Result<Vec<ExerciseRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM exercises ORDER BY created_at_ns DESC, id COLLATE \"C\" DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(exercise_from_row).collect()
    }

    async fn exercise(&self, id: &str) -> Result<Option<ExerciseRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM exercises WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(exercise_from_row).transpose()
    }

    async fn append_exercise_log(
        &self,
        exercise_id: &str,
        draft: EventDraft,
        once_key: Option<&str>,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // One lock for every exercise log, not one per exercise: positions are taken from a
        // sequence, and readers tail the logs by position (`exercise_log_after`), so entries must
        // commit in position order. Exercise logs are written at human pace; this costs nothing.
        lock_chain(&mut tx, LOCK_EXERCISE, "every exercise log").await?;
        if let Some(key) = once_key {
            let seen =
                sqlx::query("SELECT 1 FROM exercise_log WHERE exercise_id = $1 AND once_key = $2")
                    .bind(exercise_id)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if seen.is_some() {
                return Ok(None);
            }
        }
        let last = sqlx::query(
            "SELECT seq, digest FROM exercise_log WHERE exercise_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(exercise_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut chain = match last {
            None => StreamChain::new(exercise_id, EXERCISE_STREAM),
            Some(row) => {
                let seq = u64::try_from(row.get::<i64, _>("seq")).unwrap_or(0);
                let head = digest(&row.get::<String, _>("digest"))?;
                StreamChain::resume(exercise_id, EXERCISE_STREAM, seq + 1, head)
            }
        };
        let event = chain.append(draft);
        let id = uuid::Uuid::now_v7().to_string();
        let (values, digests) = fields_columns(&event.fields);
        let inserted = sqlx::query(
            "INSERT INTO exercise_log (id, exercise_id, seq, time_ns, kind, fields, field_digests, prev, digest, once_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(exercise_id)
        .bind(to_i64(event.seq))
        .bind(event.time_ns)
        .bind(&event.kind)
        .bind(values)
        .bind(digests)
        .bind(event.prev.to_hex())
        .bind(event.digest.to_hex())
        .bind(once_key)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) && once_key.is_some() => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(super::EXERCISE_LOG_CHANNEL)
            .bind(exercise_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(StoredEvent { id, event }))
    }

    async fn exercise_log(&self, exercise_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LOG_COLUMNS} FROM exercise_log WHERE exercise_id = $1 ORDER BY seq"
        )))
        .bind(exercise_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    async fn exercise_log_from(
        &self,
        exercise_id: &str,
        from_seq: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LOG_COLUMNS} FROM exercise_log WHERE exercise_id = $1 AND seq >= $2 ORDER BY seq"
        )))
        .bind(exercise_id)
        .bind(to_i64(from_seq))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    async fn exercise_log_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<ExerciseLogEntry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LOG_COLUMNS} FROM exercise_log WHERE position > $1 ORDER BY position LIMIT $2"
        )))
        .bind(position)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ExerciseLogEntry {
                position: row.get("position"),
                exercise_id: row.get("drill_id"),
                event: event_from_row(row),
            })
            .collect())
    }

    async fn exercise_log_position(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(position), 0)::bigint FROM exercise_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    async fn verify_exercise_log(
        &self,
        exercise_id: &str,
    ) -> Result<ExerciseLogVerify, StoreError> {
        let events = self.exercise_log(exercise_id).await?;
        Ok(crate::checks::exercise_log_report(exercise_id, &events))
    }

    async fn save_severity_model(
        &self,
        levels: &serde_json::Value,
        edited_by: &str,
        edited_at_ns: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_chain(&mut tx, LOCK_SEVERITY, "severity").await?;
        let next: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 FROM severity_models")
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        sqlx::query(
            "INSERT INTO severity_models (version, levels, edited_by, edited_at_ns) VALUES ($1, $2, $3, $4)",
        )
        .bind(next)
        .bind(levels.to_string())
        .bind(edited_by)
        .bind(edited_at_ns)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    async fn severity_models(&self) -> Result<Vec<SeverityModelVersion>, StoreError> {
        let rows = sqlx::query("SELECT * FROM severity_models ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let levels: String = row.get("levels");
                Ok(SeverityModelVersion {
                    version: row.get("version"),
                    levels: serde_json::from_str(&levels)
                        .map_err(|e| StoreError::Corrupt(format!("severity model: {e}")))?,
                    edited_by: row.get("edited_by"),
                    edited_at_ns: row.get("edited_at_ns"),
                })
            })
            .collect()
    }
}
