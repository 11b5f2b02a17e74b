//! `muster drill --exercise ID`: the drill's verdicts and control timings go into a console
//! exercise's log as they happen, so the team watching the console sees them live.

use std::sync::Arc;

use muster_console::state::{ExerciseState, apply_events, next_seq};
use muster_console::{Entry, append_entry, state_of};
use muster_control::ControlResult;
use muster_drill::{DrillReport, Progress};
use muster_store::Store;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use crate::error::CliError;

pub struct ExerciseFeed {
    store: Arc<dyn Store>,
    exercise_id: String,
    /// The exercise as folded so far; each append folds only the entries added since (by the
    /// console or this drill), so a long drill does not re-read the whole log per verdict.
    folded: tokio::sync::Mutex<ExerciseState>,
}

impl ExerciseFeed {
    /// Checks the exercise exists and is still open.
    pub async fn open(store: Arc<dyn Store>, exercise_id: &str) -> Result<Self, CliError> {
        let record = store.exercise(exercise_id).await?.ok_or_else(|| {
            CliError::input(format!("no console exercise `{exercise_id}` in this store"))
                .hint("the exercise id is in the console's address: /exercises/ID")
        })?;
        let state = state_of(store.as_ref(), &record, muster_console::app::now_ns()).await?;
        if state.status() == muster_console::state::Status::Ended {
            return Err(CliError::input(format!("exercise {exercise_id} has ended")));
        }
        let folded = Arc::unwrap_or_clone(state.state);
        Ok(Self {
            store,
            exercise_id: exercise_id.to_owned(),
            folded: tokio::sync::Mutex::new(folded),
        })
    }

    /// Appends an entry at the exercise clock's reading now. A failure is reported, not fatal:
    /// the drill's own evidence is what matters and is unaffected.
    pub async fn append(&self, entry: Entry) {
        let result = async {
            let mut folded = self.folded.lock().await;
            let new = self
                .store
                .exercise_log_from(&self.exercise_id, next_seq(&folded))
                .await?;
            apply_events(&mut folded, &new);
            let now = muster_console::app::now_ns();
            append_entry(
                self.store.as_ref(),
                &self.exercise_id,
                now,
                folded.clock.exercise_ms(now),
                None,
                &entry,
                None,
            )
            .await
        }
        .await;
        if let Err(e) = result {
            eprintln!(
                "warning: could not record in exercise {}: {e}",
                self.exercise_id
            );
        }
    }

    /// A progress sender for the engine that records each verdict, then passes it on.
    pub fn forward(
        self: &Arc<Self>,
        downstream: UnboundedSender<Progress>,
    ) -> (UnboundedSender<Progress>, JoinHandle<()>) {
        let (tx, mut rx) = unbounded_channel::<Progress>();
        let feed = self.clone();
        let task = tokio::spawn(async move {
            let mut drill_id = String::new();
            while let Some(p) = rx.recv().await {
                match &p {
                    Progress::Started {
                        drill_id: id,
                        conversations,
                    } => {
                        drill_id.clone_from(id);
                        feed.append(Entry::DrillStarted {
                            drill_id: Some(id.clone()),
                            detail: format!("{conversations} conversations"),
                        })
                        .await;
                    }
                    Progress::ScenarioFinished(result) => {
                        feed.append(Entry::DrillVerdict {
                            drill_id: drill_id.clone(),
                            scenario: result.id.clone(),
                            run: result.run,
                            verdict: result.verdict.as_str().to_owned(),
                            reason: result.reason.clone(),
                        })
                        .await;
                    }
                    Progress::ScenarioStarted { .. } => {}
                }
                let _ = downstream.send(p);
            }
        });
        (tx, task)
    }

    pub async fn control(&self, drill_id: &str, result: &ControlResult) {
        self.append(Entry::ControlTiming {
            drill_id: drill_id.to_owned(),
            control: result.control.clone(),
            outcome: format!("{}: {}", result.verdict.as_str(), result.reason),
            measured_ms: result.measured_ms.map(|ms| ms.round() as u64),
            claimed_ms: result.claimed_ms,
        })
        .await;
    }

    pub async fn finished(&self, report: &DrillReport) {
        self.append(Entry::DrillFinished {
            drill_id: report.drill_id.clone(),
            root_digest: Some(report.root_digest.clone()),
            summary: format!(
                "{} · {} pass, {} fail, {} inconclusive",
                report.verdict.as_str(),
                report.counts.pass,
                report.counts.fail,
                report.counts.inconclusive
            ),
        })
        .await;
    }
}
