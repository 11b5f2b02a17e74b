//! What keeps the console live: the tailer publishes every new log entry (whichever process
//! wrote it) to the event streams and the notification channels; the scheduler releases injects
//! when the exercise clock reaches them; and drills started from the console run as processes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::StreamExt;
use schemars::JsonSchema;
use serde::Serialize;
use tokio_stream::wrappers::BroadcastStream;

use crate::app::{AppState, DrillLauncher, append_entry, now_ns};
use crate::exercise::Entry;
use crate::state::{Status, clock_label, read_entry};

/// One new log entry, as the event stream sends it (`event: entry`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LiveEvent {
    pub exercise_id: String,
    pub seq: u64,
    pub kind: String,
    pub summary: String,
    pub clock: String,
    pub by: Option<String>,
}

/// A live event with its JSON, encoded once however many streams send it.
#[derive(Debug)]
pub struct Encoded {
    pub event: LiveEvent,
    pub json: String,
}

/// Starts the tailer and the scheduler; they stop when the runtime does.
pub fn start(state: &AppState) {
    tokio::spawn(tail(state.clone()));
    tokio::spawn(schedule(state.clone()));
}

async fn tail(state: AppState) {
    let mut position = match state.store().exercise_log_position().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the exercise log; live updates are off");
            return;
        }
    };
    // Other server processes' appends, announced by the store where it can (PostgreSQL).
    let elsewhere = state.store().exercise_log_notices();
    loop {
        tokio::select! {
            () = state.appended.notified() => {}
            () = async {
                match &elsewhere {
                    Some(notice) => notice.notified().await,
                    None => std::future::pending().await,
                }
            } => {}
            () = tokio::time::sleep(state.config.tail_tick) => {}
        }
        loop {
            let batch = match state.store().exercise_log_after(position, 500).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "reading new exercise-log entries failed; retrying");
                    break;
                }
            };
            let Some(last) = batch.last() else { break };
            position = last.position;
            for stored in &batch {
                match read_entry(&stored.event) {
                    Ok(logged) => {
                        let event = LiveEvent {
                            exercise_id: stored.exercise_id.clone(),
                            seq: logged.seq,
                            kind: logged.entry.kind().to_owned(),
                            summary: logged.entry.summary(),
                            clock: clock_label(logged.exercise_ms),
                            by: logged.actor.as_ref().map(|a| a.username.clone()),
                        };
                        notify(&state, &stored.exercise_id, &logged.entry, &event);
                        let json = serde_json::to_string(&event).unwrap_or_default();
                        // No receiver is fine: nobody is watching.
                        let _ = state
                            .live
                            .send(std::sync::Arc::new(Encoded { event, json }));
                    }
                    Err(problem) => {
                        tracing::warn!(exercise = %stored.exercise_id, %problem, "unreadable exercise-log entry");
                    }
                }
            }
        }
    }
}

fn notify(state: &AppState, exercise_id: &str, entry: &Entry, event: &LiveEvent) {
    use muster_notify::NotificationKind as K;
    let Some(notifier) = state.config.notifier.clone() else {
        return;
    };
    let (kind, detail) = match entry {
        Entry::InjectReleased { body, .. } => (K::InjectReleased, Some(body.clone())),
        Entry::DecisionLogged { decision, .. } => (K::DecisionLogged, Some(decision.clone())),
        Entry::SeveritySet { rationale, .. } => (K::SeverityChanged, Some(rationale.clone())),
        Entry::CommsApproved { .. } => (K::CommsApproved, None),
        _ => return,
    };
    let state = state.clone();
    let exercise_id = exercise_id.to_owned();
    let event = event.clone();
    tokio::spawn(async move {
        let title = match state.store().exercise(&exercise_id).await {
            Ok(Some(record)) => record.title,
            _ => exercise_id.clone(),
        };
        let link = state
            .config
            .public_url
            .as_ref()
            .map(|base| format!("{}/exercises/{exercise_id}", base.trim_end_matches('/')));
        let notification = muster_notify::Notification {
            kind,
            exercise_id,
            exercise_title: title,
            headline: event.summary.clone(),
            // Exercise content is the team's own writing, not customer data; it still goes
            // through the personal-data redaction before leaving the machine.
            detail: detail.map(|d| crate::evidence::redact_text(&d)),
            actor: event.by.clone(),
            exercise_clock: Some(event.clock.clone()),
            link,
            at: jiff::Timestamp::now(),
        };
        for delivery in notifier.send(&notification).await {
            if let Err(e) = delivery.outcome {
                tracing::warn!(channel = %delivery.channel, error = %e, "notification not delivered");
            }
        }
    });
}

async fn schedule(state: AppState) {
    loop {
        tokio::time::sleep(state.config.scheduler_tick).await;
        if let Err(e) = release_due(&state).await {
            tracing::warn!(error = %e, "releasing due injects failed; retrying");
        }
    }
}

/// Releases every inject whose time has come on a running clock. Each release carries a
/// once-key, so two processes noticing the same inject release it once.
pub async fn release_due(state: &AppState) -> crate::error::Result<usize> {
    let mut released = 0;
    for record in state.store().exercises().await? {
        let now = now_ns();
        let Some(exercise) = state.try_exercise(&record.id).await? else {
            continue;
        };
        if exercise.status() != Status::Running {
            continue;
        }
        for inject in &exercise.definition.injects {
            let due_ms = i64::from(inject.at_minutes) * 60_000;
            if exercise.now_exercise_ms < due_ms || exercise.released_injects.contains(&inject.id) {
                continue;
            }
            let entry = Entry::InjectReleased {
                inject_id: inject.id.clone(),
                title: inject.title.clone(),
                body: inject.body.clone(),
                scheduled_minutes: inject.at_minutes,
                early: false,
            };
            // Stamped at its scheduled time on the exercise clock, not when the tick noticed it.
            if append_entry(
                state.store(),
                &exercise.id,
                now,
                due_ms,
                None,
                &entry,
                Some(&format!("inject:{}", inject.id)),
            )
            .await?
            {
                released += 1;
                state.appended.notify_one();
            }
        }
    }
    Ok(released)
}

/// `GET /api/exercises/{id}/stream`: server-sent events, one `entry` event per new log entry.
pub async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> crate::error::Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    state.record(&id).await?;
    let events = BroadcastStream::new(state.live.subscribe()).filter_map(move |item| {
        let id = id.clone();
        async move {
            match item {
                Ok(live) if live.event.exercise_id == id => Some(Ok(Event::default()
                    .event("entry")
                    .id(live.event.seq.to_string())
                    .data(live.json.as_str()))),
                Ok(_) => None,
                // A slow client missed entries: tell it to reload rather than show a gap.
                Err(_) => Some(Ok(Event::default().event("resync").data("reload"))),
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Runs a drill for the exercise as its own process; if it fails before it could report, the
/// failure goes into the exercise log.
pub fn launch_drill(state: AppState, launcher: DrillLauncher, exercise_id: String) {
    tokio::spawn(async move {
        let args: Vec<String> = launcher
            .args
            .iter()
            .map(|a| a.replace("{exercise}", &exercise_id))
            .collect();
        let mut command = tokio::process::Command::new(&launcher.program);
        command
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(false);
        command.envs(launcher.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &launcher.working_dir {
            command.current_dir(dir);
        }
        // 0 passed, 1 found failures, 3 inconclusive: the drill ran and reported into the
        // exercise itself. Anything else (bad input, refused by the interlock, a runtime
        // problem) ended it before it could, so the failure is recorded here.
        let outcome = match command.output().await {
            Ok(output) if matches!(output.status.code(), Some(0 | 1 | 3)) => return,
            Ok(output) => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let last = stderr
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                format!("the drill process ended with {}: {last}", output.status)
            }
            Err(e) => format!("the drill process could not start: {e}"),
        };
        let Ok(exercise) = state.exercise(&exercise_id).await else {
            return;
        };
        let entry = Entry::DrillFinished {
            drill_id: String::new(),
            root_digest: None,
            summary: outcome,
        };
        if state.append(&exercise, None, &entry, None).await.is_err() {
            tracing::warn!(exercise = %exercise_id, "could not record the drill's failure");
        }
    });
}
