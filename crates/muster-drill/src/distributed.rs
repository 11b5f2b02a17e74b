//! Distributed drills: the coordinator's side. The drill is begun here as any drill is (interlock,
//! drill opened, plan recorded); its conversations then go into the shared store's queue, where
//! `muster worker` processes on any number of machines take them ([`crate::DrillWorker`]), and
//! each finished row is folded into the drill's tallies exactly as a local run is. The drill is
//! sealed by [`DrillSession::finish`] as usual.
//!
//! **Invariants:** every planned conversation is folded exactly once: from its queue row's one
//! accepted result (the store refuses a result from an attempt that lost the row, and a finished
//! row never changes), or as not run when the drill was stopped first. Retries and the workers
//! that ran the drill are recorded in the sealed summary (`distribution`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use muster_evidence::EventDraft;
use muster_store::{DrillJob, PgStore, QueueResult};
use serde_json::json;

use crate::engine::{ConversationOutcome, DrillError, DrillSession, now_ns};
use crate::plan::PlannedScenario;

/// Put the session's conversations in the queue and wait for workers to run them all (polling
/// every `poll`), folding each in as it finishes. Stops early, counting the rest as not run, when
/// the session is cancelled (after the conversations under way finish) or the store fails; the
/// error is then the session's, returned by `finish`.
pub async fn run_queued(
    session: &mut DrillSession,
    queue: &PgStore,
    job: DrillJob,
    poll: Duration,
) {
    if let Err(e) = enqueue(session, queue, &job).await {
        session.record_error(e);
        fold_rest_as_not_run(session, &mut HashMap::new());
        session.scenarios_done();
        return;
    }
    session.announce();
    let total = session.conversations().len();
    let drill_id = session.drill_id().to_owned();
    let mut folded: HashMap<(usize, u32), i64> = HashMap::new();
    let mut distribution = Distribution::default();
    let mut stopping = false;
    loop {
        match queue
            .finished_conversations(&drill_id, &folded.values().copied().collect::<Vec<_>>())
            .await
        {
            Ok(rows) => fold_finished(session, rows, &mut folded, &mut distribution),
            Err(e) => {
                session.record_error(DrillError::Store(e));
                break;
            }
        }
        if folded.len() >= total {
            break;
        }
        // A conversation every worker failed on is given up as inconclusive (and folded with the
        // finished ones on the next look), so the drill ends.
        match queue.exhausted_conversations(&drill_id).await {
            Ok(rows) => {
                for row in rows {
                    let why = format!(
                        "not run: given up after {} attempts by {} (last error: {})",
                        row.attempt,
                        row.workers.join(", "),
                        row.last_error.as_deref().unwrap_or("the lease ran out")
                    );
                    let Some(outcome) = session.abandoned_outcome(row.scenario_index, row.run, why)
                    else {
                        continue;
                    };
                    let result = serde_json::to_value(&outcome).unwrap_or_default();
                    if let Err(e) = queue
                        .give_up_conversation(row.id, row.attempt, &result)
                        .await
                    {
                        session.record_error(DrillError::Store(e));
                    }
                }
            }
            Err(e) => {
                session.record_error(DrillError::Store(e));
                break;
            }
        }
        if session.cancelled() && !stopping {
            // No new conversations start; those under way finish (their teardown runs).
            stopping = true;
            if let Err(e) = queue.close_drill_job(&drill_id).await {
                session.record_error(DrillError::Store(e));
                break;
            }
        }
        if stopping {
            match queue.queue_progress(&drill_id).await {
                Ok(p) if p.running_live == 0 => {
                    // One last look for what finished since.
                    if let Ok(rows) = queue.finished_conversations(&drill_id, &[]).await {
                        fold_finished(session, rows, &mut folded, &mut distribution);
                    }
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    session.record_error(DrillError::Store(e));
                    break;
                }
            }
        }
        tokio::time::sleep(poll).await;
    }
    if let Err(e) = queue.close_drill_job(&drill_id).await {
        session.record_error(DrillError::Store(e));
    }
    fold_rest_as_not_run(session, &mut folded);
    session.add_to_summary("distribution", distribution.summary());
    session.scenarios_done();
}

async fn enqueue(
    session: &DrillSession,
    queue: &PgStore,
    job: &DrillJob,
) -> Result<(), DrillError> {
    let plan = session.plan();
    // The texts workers rebuild the plan from must be the ones this drill recorded.
    let same = job.manifest.digest == plan.manifest_digest
        && job.scenarios.len() == plan.scenarios.len()
        && job
            .scenarios
            .iter()
            .zip(&plan.scenarios)
            .all(|(file, planned)| file.digest == planned.digest);
    if !same {
        return Err(DrillError::Task(
            "the job's files are not the ones the drill was planned from".to_owned(),
        ));
    }
    let conversations = session.conversations();
    let scenarios_where = |keep: &dyn Fn(&PlannedScenario) -> bool| -> Vec<usize> {
        (0..plan.scenarios.len())
            .filter(|i| keep(&plan.scenarios[*i]))
            .collect()
    };
    let exclusive = scenarios_where(&|p| !p.scenario.setup.is_empty());
    let sole =
        scenarios_where(&|p| crate::engine::plants_shared_fixture(&p.scenario, &plan.manifest));
    queue
        .create_drill_job(job, &conversations, &exclusive, &sole)
        .await?;
    let ids = |indexes: &[usize]| -> Vec<String> {
        indexes
            .iter()
            .map(|i| plan.scenarios[*i].scenario.id.clone())
            .collect()
    };
    session
        .store()
        .append(
            session.drill_id(),
            "drill",
            vec![
                EventDraft::new("drill.queued", now_ns())
                    .field("conversations", conversations.len())
                    .field("store", queue.location().to_owned())
                    .field("exclusive_scenarios", ids(&exclusive))
                    .field("sole_scenarios", ids(&sole)),
            ],
        )
        .await?;
    Ok(())
}

/// Count every planned conversation not yet folded as not run.
/// Fold finished rows not folded yet. A result that cannot be read is an error of the drill
/// and its conversation counts as not run, never as a pass.
fn fold_finished(
    session: &mut DrillSession,
    rows: Vec<QueueResult>,
    folded: &mut HashMap<(usize, u32), i64>,
    distribution: &mut Distribution,
) {
    for row in rows {
        if folded.contains_key(&(row.scenario_index, row.run)) {
            continue;
        }
        folded.insert((row.scenario_index, row.run), row.id);
        match serde_json::from_value::<ConversationOutcome>(row.result) {
            Ok(outcome) => {
                distribution.add(&outcome, row.attempt, &row.workers);
                session.fold_outcome(row.scenario_index, outcome);
            }
            Err(e) => {
                session.record_error(DrillError::Task(format!(
                    "the result of conversation {} (run {}) could not be read: {e}",
                    row.scenario_index, row.run
                )));
                session.fold_not_run(row.scenario_index, row.run);
            }
        }
    }
}

fn fold_rest_as_not_run(session: &mut DrillSession, folded: &mut HashMap<(usize, u32), i64>) {
    for (index, run) in session.conversations() {
        if folded.insert((index, run), -1).is_none() {
            session.fold_not_run(index, run);
        }
    }
}

/// Who ran a distributed drill's conversations, and which were retried.
#[derive(Debug, Default)]
struct Distribution {
    by_worker: BTreeMap<String, u64>,
    seen: BTreeSet<String>,
    retried: Vec<serde_json::Value>,
}

impl Distribution {
    fn add(&mut self, outcome: &ConversationOutcome, attempt: u32, workers: &[String]) {
        if let Some(last) = workers.last() {
            *self.by_worker.entry(last.clone()).or_default() += 1;
        }
        self.seen.extend(workers.iter().cloned());
        if attempt > 1 {
            self.retried.push(json!({
                "scenario": outcome.result.id,
                "run": outcome.result.run,
                "attempts": attempt,
                "workers": workers,
                "stream": outcome.result.stream,
            }));
        }
    }

    fn summary(&self) -> serde_json::Value {
        json!({
            "workers": self.seen,
            "conversations_by_worker": self.by_worker,
            "retried": self.retried,
        })
    }
}
