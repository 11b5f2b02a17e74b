//! The distributed drill queue (`0002_drill_queue.sql`): a drill's conversations as rows that
//! `muster worker` processes take with `FOR UPDATE SKIP LOCKED`, hold under a lease they renew,
//! and complete with their result; and the per-target request slots that keep a rate limit
//! across every worker.
//!
//! **Invariants:** a row is done once (a trigger refuses any change after); a result is accepted
//! only from the attempt that holds the row, so a worker that lost its lease is never counted; a
//! row whose lease ran out is taken again as a new attempt, never lost. Leases and slots are
//! measured on the database's clock.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::PgStore;
use crate::StoreError;

/// One file of a drill's plan as the coordinator read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFile {
    /// Where it was read from (shown in evidence and diagnostics).
    pub source: String,
    pub text: String,
    /// SHA-256 of `text`, as the drill recorded it.
    pub digest: String,
}

/// What a worker needs to run any conversation of a drill.
#[derive(Clone, Debug, PartialEq)]
pub struct DrillJob {
    pub drill_id: String,
    pub manifest: JobFile,
    pub scenarios: Vec<JobFile>,
    /// The run options workers apply, as JSON (the drill engine's to read).
    pub options: serde_json::Value,
    pub base_url: Option<String>,
    pub open: bool,
}

/// A conversation a worker has taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    pub drill_id: String,
    pub scenario_index: usize,
    pub run: u32,
    /// 1 for the first attempt; 2 and more when it was taken again.
    pub attempt: u32,
    /// The workers of the earlier attempts, oldest first.
    pub previous_workers: Vec<String>,
    /// Why the previous attempt ended, when this is a retry.
    pub retry_reason: Option<String>,
}

impl Claim {
    pub fn is_retry(&self) -> bool {
        self.attempt > 1
    }
}

/// A finished conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueResult {
    pub id: i64,
    pub scenario_index: usize,
    pub run: u32,
    pub attempt: u32,
    /// The worker whose result this is.
    pub worker: String,
    /// Every worker that took it, oldest first.
    pub workers: Vec<String>,
    pub result: serde_json::Value,
}

/// How far a drill's queue has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueProgress {
    pub queued: u64,
    pub running: u64,
    /// Running under a lease that has not run out.
    pub running_live: u64,
    pub done: u64,
}

impl QueueProgress {
    pub fn total(&self) -> u64 {
        self.queued + self.running + self.done
    }
}

/// Times a conversation is taken before it is given up: a conversation whose every worker failed
/// (not one whose agent failed: that is a verdict) would otherwise be retried for ever and its
/// drill never end. The coordinator records a given-up conversation as inconclusive.
pub const MAX_ATTEMPTS: u32 = 5;

/// A conversation taken `MAX_ATTEMPTS` times and not finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exhausted {
    pub id: i64,
    pub scenario_index: usize,
    pub run: u32,
    pub attempt: u32,
    pub workers: Vec<String>,
    pub last_error: Option<String>,
}

/// Who finishes a queue row: the attempt that holds it (a worker's result), or the coordinator
/// (an exhausted row no live lease holds).
#[derive(Clone, Copy)]
enum Finisher {
    HoldingAttempt,
    Coordinator,
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl PgStore {
    /// Open a drill's job and queue every `(scenario index, run)` in one transaction, so workers
    /// see all of it or none. The drill must have been begun. Runs of the scenarios in
    /// `exclusive` (those that plant test data) are never run at the same time as each other; a
    /// run of a scenario in `sole` (it plants a shared fixture) never runs beside any other
    /// conversation of the drill.
    pub async fn create_drill_job(
        &self,
        job: &DrillJob,
        conversations: &[(usize, u32)],
        exclusive: &[usize],
        sole: &[usize],
    ) -> Result<(), StoreError> {
        let scenarios =
            serde_json::to_string(&job.scenarios).map_err(|e| corrupt("job scenarios", e))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO drill_jobs (drill_id, manifest_source, manifest_text, manifest_digest,
                 scenarios, options, base_url, created_ns, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, muster_now_ns(), 'open')",
        )
        .bind(&job.drill_id)
        .bind(&job.manifest.source)
        .bind(&job.manifest.text)
        .bind(&job.manifest.digest)
        .bind(scenarios)
        .bind(job.options.to_string())
        .bind(&job.base_url)
        .execute(&mut *tx)
        .await?;
        let indexes: Vec<i32> = conversations
            .iter()
            .map(|(i, _)| i32::try_from(*i).unwrap_or(i32::MAX))
            .collect();
        let runs: Vec<i32> = conversations
            .iter()
            .map(|(_, r)| i32::try_from(*r).unwrap_or(i32::MAX))
            .collect();
        let ints = |indexes: &[usize]| -> Vec<i32> {
            indexes
                .iter()
                .map(|i| i32::try_from(*i).unwrap_or(i32::MAX))
                .collect()
        };
        sqlx::query(
            "INSERT INTO drill_queue (drill_id, scenario_index, run, exclusive, sole, state)
             SELECT $1, i, r, i = ANY($4::int[]), i = ANY($5::int[]), 'queued'
             FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS t(i, r, n)
             ORDER BY n",
        )
        .bind(&job.drill_id)
        .bind(indexes)
        .bind(runs)
        .bind(ints(exclusive))
        .bind(ints(sole))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A drill's job, for a worker that is to run its conversations.
    pub async fn drill_job(&self, drill_id: &str) -> Result<DrillJob, StoreError> {
        let row = sqlx::query(
            "SELECT manifest_source, manifest_text, manifest_digest, scenarios, options, base_url, state
             FROM drill_jobs WHERE drill_id = $1",
        )
        .bind(drill_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::DrillNotFound(drill_id.to_owned()))?;
        let scenarios: Vec<JobFile> = serde_json::from_str(&row.get::<String, _>(3))
            .map_err(|e| corrupt("job scenarios", e))?;
        let options = serde_json::from_str(&row.get::<String, _>(4))
            .map_err(|e| corrupt("job options", e))?;
        Ok(DrillJob {
            drill_id: drill_id.to_owned(),
            manifest: JobFile {
                source: row.get(0),
                text: row.get(1),
                digest: row.get(2),
            },
            scenarios,
            options,
            base_url: row.get(5),
            open: row.get::<String, _>(6) == "open",
        })
    }

    /// Stop handing out a drill's conversations (it is counted, or stopped).
    pub async fn close_drill_job(&self, drill_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE drill_jobs SET state = 'closed' WHERE drill_id = $1")
            .bind(drill_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Take the oldest conversation of any open drill that is queued, or running under a lease
    /// that ran out (its worker died or stalled: this is a retry). `None` when there is nothing.
    pub async fn claim_conversation(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Claim>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Claims take turns (each is one short statement), so two workers cannot both see no
        // run of an exclusive scenario under way and both start one. Rows are still taken with
        // SKIP LOCKED, so a row being completed or renewed never holds a claim up.
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind(super::LOCK_QUEUE_CLAIM)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "WITH next AS (
                 SELECT q.id, q.last_error AS prior_error FROM drill_queue q
                 JOIN drill_jobs j ON j.drill_id = q.drill_id
                 WHERE j.state = 'open' AND q.attempt < $3
                   AND (q.state = 'queued' OR (q.state = 'running' AND q.lease_until_ns < muster_now_ns()))
                   AND NOT (q.exclusive AND EXISTS (
                       SELECT 1 FROM drill_queue o
                       WHERE o.drill_id = q.drill_id AND o.scenario_index = q.scenario_index
                         AND o.id <> q.id AND o.state = 'running'
                         AND o.lease_until_ns >= muster_now_ns()))
                   AND NOT EXISTS (
                       SELECT 1 FROM drill_queue o
                       WHERE o.drill_id = q.drill_id AND o.id <> q.id AND (o.sole OR q.sole)
                         AND o.state = 'running' AND o.lease_until_ns >= muster_now_ns())
                 ORDER BY q.id
                 FOR UPDATE OF q SKIP LOCKED
                 LIMIT 1
             )
             UPDATE drill_queue q
             SET state = 'running', attempt = q.attempt + 1, worker = $1,
                 workers = array_append(q.workers, $1), last_error = NULL,
                 lease_until_ns = muster_now_ns() + $2
             FROM next WHERE q.id = next.id
             RETURNING q.id, q.drill_id, q.scenario_index, q.run, q.attempt, q.workers, next.prior_error",
        )
        .bind(worker)
        .bind(nanos(lease))
        .bind(i32::try_from(MAX_ATTEMPTS).unwrap_or(i32::MAX))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut workers: Vec<String> = row.get(5);
        workers.pop();
        let attempt = u32::try_from(row.get::<i32, _>(4)).unwrap_or(0);
        let prior_error: Option<String> = row.get(6);
        Ok(Some(Claim {
            id: row.get(0),
            drill_id: row.get(1),
            scenario_index: usize::try_from(row.get::<i32, _>(2)).unwrap_or(0),
            run: u32::try_from(row.get::<i32, _>(3)).unwrap_or(0),
            attempt,
            previous_workers: workers,
            retry_reason: (attempt > 1).then(|| {
                prior_error.map_or_else(
                    || {
                        "the previous attempt's lease expired (its worker stopped or stalled)"
                            .to_owned()
                    },
                    |e| format!("the previous attempt failed: {e}"),
                )
            }),
        }))
    }

    /// Extend the lease of a conversation this attempt holds. `false` when it no longer holds it
    /// (taken again after its lease ran out, or finished), or when its drill was stopped (the job
    /// closed): the worker must stop the conversation. Stopped by its drill, it still holds the
    /// row, so the shortened conversation is completed and counted.
    pub async fn renew_lease(
        &self,
        id: i64,
        attempt: u32,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE drill_queue q SET lease_until_ns = muster_now_ns() + $3
             WHERE id = $1 AND attempt = $2 AND state = 'running'
               AND EXISTS (SELECT 1 FROM drill_jobs j WHERE j.drill_id = q.drill_id AND j.state = 'open')",
        )
        .bind(id)
        .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
        .bind(nanos(lease))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Record a conversation's result, if this attempt still holds it. `false` when it does not:
    /// the result is not counted (another attempt has the row, or it is already done).
    pub async fn complete_conversation(
        &self,
        id: i64,
        attempt: u32,
        result: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        self.finish_row(id, attempt, result, Finisher::HoldingAttempt)
            .await
    }

    /// Mark a row done with `result`, if `finisher` may: the one guarded update behind both a
    /// worker's completion and the coordinator's giving up.
    async fn finish_row(
        &self,
        id: i64,
        attempt: u32,
        result: &serde_json::Value,
        finisher: Finisher,
    ) -> Result<bool, StoreError> {
        let guard = match finisher {
            Finisher::HoldingAttempt => "state = 'running'",
            Finisher::Coordinator => {
                "state <> 'done' AND (state = 'queued' OR lease_until_ns < muster_now_ns())"
            }
        };
        // Only one of the two fixed guards above is formatted in.
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE drill_queue SET state = 'done', result = $3, finished_ns = muster_now_ns(),
                 lease_until_ns = NULL
             WHERE id = $1 AND attempt = $2 AND {guard}"
        )))
        .bind(id)
        .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
        .bind(result.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Give a conversation back after this attempt failed (e.g. its evidence could not be
    /// written), so another worker retries it at once instead of after the lease.
    pub async fn release_conversation(
        &self,
        id: i64,
        attempt: u32,
        why: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE drill_queue SET state = 'queued', lease_until_ns = NULL, last_error = $3
             WHERE id = $1 AND attempt = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
        .bind(why)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A drill's conversations taken `MAX_ATTEMPTS` times, not finished and not held by a live
    /// lease: no worker will take them again.
    pub async fn exhausted_conversations(
        &self,
        drill_id: &str,
    ) -> Result<Vec<Exhausted>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, scenario_index, run, attempt, workers, last_error FROM drill_queue
             WHERE drill_id = $1 AND state <> 'done' AND attempt >= $2
               AND (state = 'queued' OR lease_until_ns < muster_now_ns())
             ORDER BY id",
        )
        .bind(drill_id)
        .bind(i32::try_from(MAX_ATTEMPTS).unwrap_or(i32::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| Exhausted {
                id: row.get(0),
                scenario_index: usize::try_from(row.get::<i32, _>(1)).unwrap_or(0),
                run: u32::try_from(row.get::<i32, _>(2)).unwrap_or(0),
                attempt: u32::try_from(row.get::<i32, _>(3)).unwrap_or(0),
                workers: row.get(4),
                last_error: row.get(5),
            })
            .collect())
    }

    /// Finish an exhausted conversation with `result` (the coordinator's inconclusive "given
    /// up"), unless a worker still holds it or it is done. `true` when this call finished it.
    pub async fn give_up_conversation(
        &self,
        id: i64,
        attempt: u32,
        result: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        self.finish_row(id, attempt, result, Finisher::Coordinator)
            .await
    }

    /// A drill's finished conversations, except the rows in `seen`, in queue order.
    pub async fn finished_conversations(
        &self,
        drill_id: &str,
        seen: &[i64],
    ) -> Result<Vec<QueueResult>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, scenario_index, run, attempt, worker, workers, result FROM drill_queue
             WHERE drill_id = $1 AND state = 'done' AND NOT (id = ANY($2::bigint[]))
             ORDER BY id",
        )
        .bind(drill_id)
        .bind(seen)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let text: Option<String> = row.get(6);
                let result = serde_json::from_str(text.as_deref().unwrap_or("null"))
                    .map_err(|e| corrupt("a queued conversation's result", e))?;
                Ok(QueueResult {
                    id: row.get(0),
                    scenario_index: usize::try_from(row.get::<i32, _>(1)).unwrap_or(0),
                    run: u32::try_from(row.get::<i32, _>(2)).unwrap_or(0),
                    attempt: u32::try_from(row.get::<i32, _>(3)).unwrap_or(0),
                    worker: row.get::<Option<String>, _>(4).unwrap_or_default(),
                    workers: row.get(5),
                    result,
                })
            })
            .collect()
    }

    /// The `(scenario index, run)` of a drill's conversations that are not done.
    pub async fn unfinished_conversations(
        &self,
        drill_id: &str,
    ) -> Result<Vec<(usize, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT scenario_index, run FROM drill_queue
             WHERE drill_id = $1 AND state <> 'done' ORDER BY id",
        )
        .bind(drill_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    usize::try_from(r.get::<i32, _>(0)).unwrap_or(0),
                    u32::try_from(r.get::<i32, _>(1)).unwrap_or(0),
                )
            })
            .collect())
    }

    /// Counts of a drill's conversations by state.
    pub async fn queue_progress(&self, drill_id: &str) -> Result<QueueProgress, StoreError> {
        let row = sqlx::query(
            "SELECT count(*) FILTER (WHERE state = 'queued'),
                    count(*) FILTER (WHERE state = 'running'),
                    count(*) FILTER (WHERE state = 'running' AND lease_until_ns >= muster_now_ns()),
                    count(*) FILTER (WHERE state = 'done')
             FROM drill_queue WHERE drill_id = $1",
        )
        .bind(drill_id)
        .fetch_one(&self.pool)
        .await?;
        let n = |i: usize| u64::try_from(row.get::<i64, _>(i)).unwrap_or(0);
        Ok(QueueProgress {
            queued: n(0),
            running: n(1),
            running_live: n(2),
            done: n(3),
        })
    }

    /// Whether any open drill has a conversation that is not done (a worker with
    /// `--exit-when-idle` keeps going while one has, in case its worker dies).
    pub async fn has_open_work(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM drill_queue q JOIN drill_jobs j ON j.drill_id = q.drill_id
                            WHERE j.state = 'open' AND q.state <> 'done')",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Take the next request slot to `target`, `interval` after the last one any worker took:
    /// how long to wait before sending. One statement, so the row lock orders every worker.
    pub async fn reserve_request_slot(
        &self,
        target: &str,
        interval: Duration,
    ) -> Result<Duration, StoreError> {
        let wait: i64 = sqlx::query_scalar(
            "WITH now AS (SELECT muster_now_ns() AS ns)
             INSERT INTO target_rate AS t (target, next_slot_ns)
             SELECT $1, now.ns + $2 FROM now
             ON CONFLICT (target) DO UPDATE
                 SET next_slot_ns = GREATEST(t.next_slot_ns, (SELECT ns FROM now)) + $2
             RETURNING t.next_slot_ns - $2 - (SELECT ns FROM now)",
        )
        .bind(target)
        .bind(nanos(interval))
        .fetch_one(&self.pool)
        .await?;
        Ok(Duration::from_nanos(u64::try_from(wait).unwrap_or(0)))
    }
}
