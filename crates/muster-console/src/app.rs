//! The console's shared state and the operations every route uses: read an exercise, append to
//! its log, tell the live feed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use muster_evidence::EventDraft;
use muster_store::ExerciseRecord;
use tokio::sync::{Notify, broadcast};

use crate::error::{ConsoleError, Result};
use crate::exercise::{Actor, Entry, ExerciseDefinition, ScenarioBrief};
use crate::state::{ExerciseNow, ExerciseState, apply_events, empty, fold, next_seq};

/// Everything the console needs from storage.
/// The store the console works on: either backend (`muster_store::Store`).
pub use muster_store::Store as Backend;

/// How the console starts a drill for an exercise: a program and its arguments, where
/// `{exercise}` is replaced by the exercise id (the CLI passes `muster drill --exercise {exercise}`).
#[derive(Clone, Debug)]
pub struct DrillLauncher {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub working_dir: Option<PathBuf>,
    /// Environment the drill runs with (e.g. `MUSTER_STORE`: a database URL stays off the
    /// command line, where other users of the machine could read it).
    pub env: Vec<(String, String)>,
}

pub struct ConsoleConfig {
    pub store: Arc<dyn Backend>,
    pub scenarios: Vec<ScenarioBrief>,
    pub drill_launcher: Option<DrillLauncher>,
    pub notifier: Option<Arc<muster_notify::Notifier>>,
    /// The console's own address as people reach it, for links in notifications.
    pub public_url: Option<String>,
    /// Mark the session cookie `Secure` (browsers still send it to http://127.0.0.1 and
    /// http://localhost, which they treat as secure contexts).
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    /// How often injects due on a running clock are released.
    pub scheduler_tick: Duration,
    /// How often the log is read for entries written by other processes (a drill).
    pub tail_tick: Duration,
}

impl ConsoleConfig {
    pub fn new(store: Arc<dyn Backend>) -> Self {
        Self {
            store,
            scenarios: Vec::new(),
            drill_launcher: None,
            notifier: None,
            public_url: None,
            secure_cookies: true,
            session_ttl: Duration::from_secs(12 * 3600),
            scheduler_tick: Duration::from_millis(500),
            tail_tick: Duration::from_millis(250),
        }
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub config: ConsoleConfig,
    /// New log entries, each encoded once for every event-stream subscriber.
    pub live: broadcast::Sender<Arc<crate::live::Encoded>>,
    /// Poked after every local append so the tailer publishes it at once.
    pub appended: Notify,
    /// Built from the route table once the router is.
    pub openapi: std::sync::OnceLock<serde_json::Value>,
    /// Each exercise's state as folded so far; a read folds only the entries added since.
    /// Definitions never change and the log only grows, so a cached fold is never wrong, only
    /// behind — and every read catches it up from the store (which other processes append to).
    cache: std::sync::Mutex<HashMap<String, Slot>>,
    /// Each exercise's folded state as JSON, for the version (log length) it was encoded at: a
    /// state read between two log entries sends the same bytes, so they are encoded once.
    encoded: std::sync::Mutex<HashMap<String, (u64, Arc<str>)>>,
}

/// One exercise's cached fold. The async lock makes catching up single-flight: while one reader
/// applies new entries, the others wait for its result instead of each copying the state.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<ExerciseState>>>>;

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub fn now_ns() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}

impl AppState {
    pub fn new(config: ConsoleConfig) -> Self {
        let (live, _) = broadcast::channel(1024);
        AppState(Arc::new(Inner {
            config,
            live,
            appended: Notify::new(),
            openapi: std::sync::OnceLock::new(),
            cache: std::sync::Mutex::new(HashMap::new()),
            encoded: std::sync::Mutex::new(HashMap::new()),
        }))
    }

    pub fn store(&self) -> &dyn Backend {
        self.config.store.as_ref()
    }

    pub async fn record(&self, id: &str) -> Result<ExerciseRecord> {
        self.store()
            .exercise(id)
            .await?
            .ok_or_else(|| ConsoleError::NotFound(format!("no exercise `{id}`")))
    }

    /// The exercise's state now, or `NotFound`.
    pub async fn exercise(&self, id: &str) -> Result<ExerciseNow> {
        self.try_exercise(id)
            .await?
            .ok_or_else(|| ConsoleError::NotFound(format!("no exercise `{id}`")))
    }

    /// The exercise's state now, if it exists: the cached fold, caught up with the log.
    pub async fn try_exercise(&self, id: &str) -> Result<Option<ExerciseNow>> {
        let slot: Slot = match self.cache.lock() {
            Ok(mut cache) => cache.entry(id.to_owned()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        let mut cached = slot.lock().await;
        let mut state = match cached.take() {
            Some(state) => state,
            None => {
                let Some(record) = self.store().exercise(id).await? else {
                    return Ok(None);
                };
                Arc::new(empty(&record, definition_of(&record)?))
            }
        };
        let new = self.store().exercise_log_from(id, next_seq(&state)).await?;
        if !new.is_empty() {
            // Copies the state only if a reader still holds the version before.
            apply_events(Arc::make_mut(&mut state), &new);
        }
        *cached = Some(state.clone());
        drop(cached);
        Ok(Some(ExerciseNow::at(state, now_ns())))
    }

    /// `exercise` as the state route's JSON: the folded state encoded once per log length, with
    /// the clock-dependent fields of this moment put in front.
    pub fn state_json(&self, exercise: &ExerciseNow) -> Result<String> {
        let version = next_seq(&exercise.state);
        let cached = self.encoded.lock().ok().and_then(|m| {
            m.get(&exercise.id)
                .filter(|(v, _)| *v == version)
                .map(|(_, j)| j.clone())
        });
        let body: Arc<str> = match cached {
            Some(body) => body,
            None => {
                let body: Arc<str> = serde_json::to_string(exercise.state.as_ref())
                    .map_err(|e| {
                        ConsoleError::Internal(format!("cannot encode the exercise: {e}"))
                    })?
                    .into();
                if let Ok(mut map) = self.encoded.lock() {
                    map.insert(exercise.id.clone(), (version, body.clone()));
                }
                body
            }
        };
        let clocks = serde_json::to_string(&exercise.regulatory_clocks)
            .map_err(|e| ConsoleError::Internal(format!("cannot encode the clocks: {e}")))?;
        let rest = body.strip_prefix('{').unwrap_or(&body);
        let mut out = String::with_capacity(body.len() + clocks.len() + 64);
        out.push_str("{\"now_exercise_ms\":");
        out.push_str(&exercise.now_exercise_ms.to_string());
        out.push_str(",\"regulatory_clocks\":");
        out.push_str(&clocks);
        if rest != "}" {
            out.push(',');
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Append an entry at the exercise clock's current reading.
    pub async fn append(
        &self,
        exercise: &ExerciseState,
        actor: Option<&Actor>,
        entry: &Entry,
        once_key: Option<&str>,
    ) -> Result<bool> {
        let at = now_ns();
        let exercise_ms = exercise.clock.exercise_ms(at);
        let appended = append_entry(
            self.store(),
            &exercise.id,
            at,
            exercise_ms,
            actor,
            entry,
            once_key,
        )
        .await?;
        self.appended.notify_one();
        Ok(appended)
    }
}

fn definition_of(record: &ExerciseRecord) -> Result<ExerciseDefinition> {
    serde_json::from_value(record.definition.clone()).map_err(|e| {
        ConsoleError::Internal(format!(
            "exercise {} has an unreadable definition: {e}",
            record.id
        ))
    })
}

/// Reads an exercise's definition and whole log into its state (for one-off readers such as a
/// drill process; the console reads through its cache, [`AppState::exercise`]).
pub async fn state_of(
    store: &dyn Backend,
    record: &ExerciseRecord,
    now: i64,
) -> Result<ExerciseNow> {
    let log = store.exercise_log(&record.id).await?;
    let state = fold(record, definition_of(record)?, &log);
    Ok(ExerciseNow::at(Arc::new(state), now))
}

/// Append one entry to an exercise's log. Used by the console and by a drill streaming into an
/// exercise from another process. Returns false when `once_key` was already used.
pub async fn append_entry(
    store: &dyn Backend,
    exercise_id: &str,
    at_ns: i64,
    exercise_ms: i64,
    actor: Option<&Actor>,
    entry: &Entry,
    once_key: Option<&str>,
) -> Result<bool> {
    let entry_json = serde_json::to_value(entry)
        .map_err(|e| ConsoleError::Internal(format!("cannot encode the entry: {e}")))?;
    let actor_json = match actor {
        Some(a) => serde_json::to_value(a)
            .map_err(|e| ConsoleError::Internal(format!("cannot encode the actor: {e}")))?,
        None => serde_json::Value::Null,
    };
    let draft = EventDraft::new(entry.kind(), at_ns)
        .field("entry", entry_json)
        .field("actor", actor_json)
        .field("exercise_ms", exercise_ms);
    Ok(store
        .append_exercise_log(exercise_id, draft, once_key)
        .await?
        .is_some())
}
