//! Running a drill: scenarios concurrently, each conversation recorded as its own evidence stream.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use muster_evidence::EventDraft;
use muster_model::template::{Vars, render_str};
use muster_store::{DrillHeader, DrillStatus, EvidenceStore, StoreError};
use muster_target::{Exchange, Target, TargetError, TurnError, run_action};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::judge::{ExpectationResult, Status, TurnRecord, judge};
use crate::plan::{DrillPlan, PlannedScenario};
use crate::policy::ScenarioSummary;
use crate::policy::{PassPolicy, summarise_counted};
use crate::report::{Counts, DrillReport, ScenarioResult, Timing, TurnSummary, Verdict};
use crate::stats::Percentiles;

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("evidence could not be recorded, so the drill stopped: {0}")]
    Store(#[from] StoreError),
    #[error("a conversation task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Observe(#[from] crate::observe::ObserveError),
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Replace the manifest's `target.base_url` (still subject to the interlock).
    pub base_url: Option<String>,
    /// Conversations at once.
    pub concurrency: usize,
    /// Runs of every scenario, overriding each scenario's `repeat` and the policy's minimum.
    pub repeat: Option<u32>,
    /// Runs needed and failures allowed per severity.
    pub policy: PassPolicy,
    /// Rewording seed: 0 = the scenario's own words.
    pub reword: u32,
    /// Set to `true` to stop: no new conversations or turns start; teardown still runs.
    pub cancel: Option<watch::Receiver<bool>>,
    pub progress: Option<mpsc::UnboundedSender<Progress>>,
    /// Which runs the report keeps (every run reaches `progress` either way).
    pub retain: Retain,
}

/// Which runs a drill keeps for its [`DrillReport`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Retain {
    /// Every run: `DrillReport::scenarios` lists them all.
    #[default]
    All,
    /// Per scenario only the first run with each verdict (at most three), which is all the
    /// summaries, tables, JUnit and SARIF read: memory stays flat however many runs a drill has.
    /// Counts, summaries and timing still cover every run; a caller that wants every run takes it
    /// from [`Progress::ScenarioFinished`] as it finishes.
    Deciding,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            base_url: None,
            concurrency: 4,
            repeat: None,
            policy: PassPolicy::default(),
            reword: 0,
            cancel: None,
            progress: None,
            retain: Retain::All,
        }
    }
}

impl RunOptions {
    /// Runs of one scenario: `repeat` for every scenario, else the scenario's own `repeat`, else
    /// the policy's minimum for its severity.
    pub fn runs_of(&self, planned: &PlannedScenario) -> u32 {
        self.repeat
            .or(planned.scenario.repeat)
            .unwrap_or_else(|| self.policy.for_severity(planned.scenario.severity).min_runs)
            .max(1)
    }
}

/// What the engine tells its caller as it goes.
#[derive(Clone, Debug)]
pub enum Progress {
    Started {
        drill_id: String,
        conversations: usize,
    },
    ScenarioStarted {
        id: String,
        run: u32,
    },
    ScenarioFinished(Box<ScenarioResult>),
}

struct Shared {
    target: Target,
    plan: DrillPlan,
    store: Arc<dyn EvidenceStore>,
    drill_id: String,
    reword: u32,
    cancel: Option<watch::Receiver<bool>>,
    /// Taken when the scenarios are done, so the caller's progress display can finish.
    progress: std::sync::Mutex<Option<mpsc::UnboundedSender<Progress>>>,
    /// The drill's OTLP receiver, when the manifest asks to observe the agent's traces.
    observer: Option<crate::observe::Observer>,
}

impl Shared {
    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| *c.borrow())
    }

    fn tell(&self, p: Progress) {
        if let Ok(guard) = self.progress.lock()
            && let Some(tx) = guard.as_ref()
        {
            let _ = tx.send(p);
        }
    }
}

pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn rfc3339(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map_or_else(|_| ns.to_string(), |t| t.to_string())
}

/// Run `plan` against its target, recording everything in `store`.
pub async fn run_drill(
    plan: &DrillPlan,
    store: Arc<dyn EvidenceStore>,
    options: RunOptions,
) -> Result<DrillReport, DrillError> {
    let mut session = DrillSession::begin(plan, store, options).await?;
    session.run_scenarios().await;
    session.finish(Vec::new()).await
}

/// More of a drill than its scenarios (the control drills): recorded in the same evidence before
/// the seal, with a verdict that counts toward the drill's.
#[derive(Clone, Debug)]
pub struct DrillPart {
    /// Key in the sealed summary, e.g. `controls`.
    pub key: String,
    pub summary: Value,
    pub verdict: Verdict,
}

/// One drill from start to seal. [`run_drill`] is `begin`, `run_scenarios`, `finish`; callers with
/// more to record between the scenarios and the seal use the steps themselves.
pub struct DrillSession {
    shared: Arc<Shared>,
    options: RunOptions,
    runs: Vec<u32>,
    started_ns: i64,
    started: Instant,
    /// Per planned scenario, what its runs came to.
    tallies: Vec<Tally>,
    timing: TimingSamples,
    first_error: Option<DrillError>,
    /// More for the sealed summary (e.g. how a distributed drill's conversations were spread).
    summary_extra: Vec<(String, Value)>,
}

/// One scenario's runs so far: verdict counts, waiting time and the runs kept (by [`Retain`]).
#[derive(Debug, Default)]
struct Tally {
    /// Pass, fail, inconclusive.
    counts: [u32; 3],
    agent_ms: f64,
    kept: Vec<ScenarioResult>,
}

impl Tally {
    fn add(&mut self, result: ScenarioResult, retain: Retain) {
        self.counts[verdict_index(result.verdict)] += 1;
        self.agent_ms += result.turns.iter().map(|t| t.agent_ms).sum::<f64>();
        match retain {
            Retain::All => self.kept.push(result),
            Retain::Deciding => {
                // Runs finish out of order: keep the lowest-numbered run of each verdict.
                match self.kept.iter_mut().find(|k| k.verdict == result.verdict) {
                    Some(kept) if kept.run > result.run => *kept = result,
                    Some(_) => {}
                    None => self.kept.push(result),
                }
            }
        }
    }
}

fn verdict_index(v: Verdict) -> usize {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Inconclusive => 2,
    }
}

/// Per-turn timings of every conversation (a few bytes a turn, so kept whole for exact
/// percentiles).
#[derive(Debug, Default)]
struct TimingSamples {
    overhead_us: Vec<f64>,
    agent_ms: Vec<f64>,
    /// Conversations that sent at least one turn.
    conversations: usize,
}

impl DrillSession {
    /// Check the interlock, open the drill in the store and record what is about to run.
    pub async fn begin(
        plan: &DrillPlan,
        store: Arc<dyn EvidenceStore>,
        mut options: RunOptions,
    ) -> Result<Self, DrillError> {
        // The interlock runs here, before anything is stored or sent.
        let target = Target::new(&plan.manifest, options.base_url.as_deref())?;
        let drill_id = uuid::Uuid::now_v7().to_string();
        // Before the drill is opened, so a receiver that cannot listen leaves nothing behind.
        let observer = match &plan.manifest.target.observe {
            Some(o) => {
                Some(crate::observe::Observer::start(&o.traces, store.clone(), &drill_id).await?)
            }
            None => None,
        };
        let started_ns = now_ns();
        let started = Instant::now();
        store
            .begin_drill(&DrillHeader {
                id: drill_id.clone(),
                started_at_ns: started_ns,
                agent: plan.manifest.name.clone(),
                environment: plan.manifest.environment.as_str().to_owned(),
                manifest_digest: plan.manifest_digest.clone(),
                muster_version: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .await?;
        let runs: Vec<u32> = plan.scenarios.iter().map(|p| options.runs_of(p)).collect();
        store
            .append(
                &drill_id,
                "drill",
                vec![EventDraft::new("drill.started", started_ns)
                    .field("agent", plan.manifest.name.clone())
                    .field("environment", plan.manifest.environment.as_str())
                    .field("adapter", target.adapter().as_str())
                    .field("base_url", target.base_url().to_string())
                    .field("manifest", json!({"source": plan.manifest_source, "digest": plan.manifest_digest}))
                    .field("model", json!({"provider": plan.manifest.model.provider, "name": plan.manifest.model.name, "version": plan.manifest.model.version}))
                    .field("scenarios", plan.scenarios.iter().map(|s| json!({"id": s.scenario.id, "source": s.source, "digest": s.digest})).collect::<Vec<_>>())
                    .field("options", json!({"concurrency": options.concurrency, "repeat": options.repeat, "runs": runs, "policy": options.policy, "reword": options.reword}))
                    .field("muster_version", env!("CARGO_PKG_VERSION"))
                    .field("observe", observer.as_ref().map(|o| json!({"otlp_endpoint": o.endpoint()})))],
            )
            .await?;
        let shared = Arc::new(Shared {
            target,
            plan: plan.clone(),
            store,
            drill_id,
            reword: options.reword,
            cancel: options.cancel.clone(),
            // The only sender: dropping it when the scenarios end closes the caller's channel.
            progress: std::sync::Mutex::new(options.progress.take()),
            observer,
        });
        let tallies = plan.scenarios.iter().map(|_| Tally::default()).collect();
        Ok(Self {
            shared,
            options,
            runs,
            started_ns,
            started,
            tallies,
            timing: TimingSamples::default(),
            first_error: None,
            summary_extra: Vec::new(),
        })
    }

    pub fn drill_id(&self) -> &str {
        &self.shared.drill_id
    }

    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    pub fn plan(&self) -> &DrillPlan {
        &self.shared.plan
    }

    pub fn store(&self) -> Arc<dyn EvidenceStore> {
        self.shared.store.clone()
    }

    /// The stop signal the drill was started with.
    pub fn cancel(&self) -> Option<watch::Receiver<bool>> {
        self.shared.cancel.clone()
    }

    pub fn cancelled(&self) -> bool {
        self.shared.cancelled()
    }

    /// The scenario results kept so far (every run unless [`Retain::Deciding`]), in plan order.
    pub fn scenario_results(&self) -> Vec<ScenarioResult> {
        self.tallies
            .iter()
            .flat_map(|t| t.kept.iter().cloned())
            .collect()
    }

    /// Every conversation the drill plans, as `(planned scenario index, run)`, in plan and run
    /// order.
    pub fn conversations(&self) -> Vec<(usize, u32)> {
        self.runs
            .iter()
            .enumerate()
            .flat_map(|(index, runs)| (1..=*runs).map(move |run| (index, run)))
            .collect()
    }

    /// Tell the caller how many conversations are about to run.
    pub(crate) fn announce(&self) {
        self.shared.tell(Progress::Started {
            drill_id: self.shared.drill_id.clone(),
            conversations: self.runs.iter().map(|r| *r as usize).sum(),
        });
    }

    /// Fold one finished conversation into its scenario's tally, and report it.
    fn fold(&mut self, index: usize, result: ScenarioResult, timing: ConversationTiming) {
        if !result.turns.is_empty() {
            self.timing.conversations += 1;
        }
        self.timing.overhead_us.extend(timing.turn_overhead_us);
        self.timing.agent_ms.extend(timing.agent_ms);
        self.shared
            .tell(Progress::ScenarioFinished(Box::new(result.clone())));
        let retain = self.options.retain;
        if let Some(tally) = self.tallies.get_mut(index) {
            tally.add(result, retain);
        }
    }

    /// Fold a conversation another process ran (a distributed drill's worker), exactly as a
    /// local one is folded.
    pub(crate) fn fold_outcome(&mut self, index: usize, outcome: ConversationOutcome) {
        let (result, timing) = outcome.into_parts();
        self.fold(index, result, timing);
    }

    /// Fold a conversation that never ran (the drill was stopped first).
    /// What a conversation that will not be run comes to, with why (e.g. given up after every
    /// attempt failed): inconclusive, never a pass.
    pub(crate) fn abandoned_outcome(
        &self,
        index: usize,
        run: u32,
        why: String,
    ) -> Option<ConversationOutcome> {
        let planned = self.shared.plan.scenarios.get(index)?;
        let (mut result, timing) = not_run(planned, run, self.shared.reword);
        result.reason = why;
        Some(ConversationOutcome::new(result, timing))
    }

    pub(crate) fn fold_not_run(&mut self, index: usize, run: u32) {
        if let Some(planned) = self.shared.plan.scenarios.get(index) {
            let (result, timing) = not_run(planned, run, self.shared.reword);
            self.fold(index, result, timing);
        }
    }

    pub(crate) fn record_error(&mut self, e: DrillError) {
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }

    /// Add `key` to the sealed summary.
    pub(crate) fn add_to_summary(&mut self, key: &str, value: Value) {
        self.summary_extra.push((key.to_owned(), value));
    }

    /// Every conversation is folded in: order the kept runs and close the progress channel.
    pub(crate) fn scenarios_done(&mut self) {
        for tally in &mut self.tallies {
            tally.kept.sort_by_key(|r| r.run);
        }
        if let Ok(mut progress) = self.shared.progress.lock() {
            progress.take();
        }
    }

    /// Run every scenario's conversations, concurrently up to the drill's concurrency.
    pub async fn run_scenarios(&mut self) {
        let shared = self.shared.clone();
        let plan = &shared.plan;
        self.announce();

        let semaphore = Arc::new(Semaphore::new(self.options.concurrency.max(1)));
        // Runs of a scenario that plants test data take turns: concurrent runs would plant and
        // remove the same record under each other, and a run would judge an agent whose fault had
        // already been removed. Scenarios without setup run fully concurrently.
        let fixture_locks: Vec<Option<Arc<tokio::sync::Mutex<()>>>> = plan
            .scenarios
            .iter()
            .map(|p| (!p.scenario.setup.is_empty()).then(|| Arc::new(tokio::sync::Mutex::new(()))))
            .collect();
        // A run that plants a shared fixture (one every conversation would see) has the agent to
        // itself: it takes the agent exclusively, every other run takes it shared.
        let alone: Vec<bool> = plan
            .scenarios
            .iter()
            .map(|p| plants_shared_fixture(&p.scenario, &plan.manifest))
            .collect();
        let agent = Arc::new(tokio::sync::RwLock::new(()));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, run) in self.conversations() {
            let shared = shared.clone();
            let semaphore = semaphore.clone();
            let fixture_lock = fixture_locks[index].clone();
            let agent = agent.clone();
            let alone = alone[index];
            // Every run is spawned now and waits for its turn, so a waiting run must be
            // small: the conversation's own (much larger) state is boxed only once it starts.
            tasks.spawn(async move {
                let _fixtures = match &fixture_lock {
                    Some(lock) => Some(lock.lock().await),
                    None => None,
                };
                // The permit first: a run waiting for the agent then holds no place a running
                // conversation needs, and an exclusive run waits only for those in flight.
                let _permit = semaphore.acquire_owned().await;
                let (_exclusive, _shared) = if alone {
                    (Some(agent.write().await), None)
                } else {
                    (None, Some(agent.read().await))
                };
                let result = if shared.cancelled() {
                    Ok(not_run(&shared.plan.scenarios[index], run, shared.reword))
                } else {
                    Box::pin(run_conversation(&shared, index, run, &Attempt::default())).await
                };
                (index, result)
            });
        }

        // Results are folded in as they finish, so memory does not grow with the runs (unless
        // every run is to be kept).
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, Ok((result, timing)))) => self.fold(index, result, timing),
                Ok((_, Err(e))) => self.record_error(e),
                Err(e) => self.record_error(DrillError::Task(e.to_string())),
            }
        }
        self.scenarios_done();
    }

    /// Summarise, record the summary and seal the drill. `parts` are the drill's other results.
    pub async fn finish(self, parts: Vec<DrillPart>) -> Result<DrillReport, DrillError> {
        let DrillSession {
            shared,
            options,
            started_ns,
            started,
            tallies,
            timing,
            first_error,
            summary_extra,
            ..
        } = self;
        let plan = &shared.plan;
        let drill_id = shared.drill_id.clone();
        let store = shared.store.clone();
        let interrupted = shared.cancelled() || first_error.is_some();
        let mut counts = Counts::default();
        for t in &tallies {
            counts.pass += t.counts[0] as usize;
            counts.fail += t.counts[1] as usize;
            counts.inconclusive += t.counts[2] as usize;
        }
        // Several planned entries may share a scenario id: each summary covers all of them.
        let summaries: Vec<ScenarioSummary> = plan
            .scenarios
            .iter()
            .filter_map(|p| {
                let same = || {
                    plan.scenarios
                        .iter()
                        .zip(&tallies)
                        .filter(|(q, _)| q.scenario.id == p.scenario.id)
                        .map(|(_, t)| t)
                };
                // In plan order, then run order, as the runs were reported before.
                let runs: Vec<&ScenarioResult> = same().flat_map(|t| t.kept.iter()).collect();
                let counts = same().fold([0u32; 3], |acc, t| {
                    [
                        acc[0] + t.counts[0],
                        acc[1] + t.counts[1],
                        acc[2] + t.counts[2],
                    ]
                });
                let agent_ms = same().map(|t| t.agent_ms).sum();
                summarise_counted(
                    &runs,
                    counts,
                    agent_ms,
                    options.policy.for_severity(p.scenario.severity),
                )
            })
            .collect();
        let scenarios: Vec<ScenarioResult> = tallies.into_iter().flat_map(|t| t.kept).collect();
        let wall = started.elapsed();
        let timing = summarise_timing(wall, timing);
        let finished_ns = now_ns();
        let verdict = summaries
            .iter()
            .map(|s| s.verdict)
            .chain(parts.iter().map(|p| p.verdict))
            .max()
            .unwrap_or(Verdict::Inconclusive);
        let mut summary = json!({"verdict": verdict, "counts": counts, "interrupted": interrupted, "timing": timing,
            "scenarios": summaries.iter().map(|s| json!({"id": s.id, "verdict": s.verdict, "runs": s.runs, "passed": s.passed, "failed": s.failed, "inconclusive": s.inconclusive})).collect::<Vec<_>>()});
        if let Some(object) = summary.as_object_mut() {
            for part in &parts {
                object.insert(part.key.clone(), part.summary.clone());
            }
            for (key, value) in summary_extra {
                object.insert(key, value);
            }
        }
        store
            .append(
                &drill_id,
                "drill",
                vec![
                    EventDraft::new("drill.finished", finished_ns)
                        .field("summary", summary.clone()),
                ],
            )
            .await?;
        let status = if interrupted {
            DrillStatus::Interrupted
        } else {
            DrillStatus::Sealed
        };
        let root = store
            .seal_drill(&drill_id, status, finished_ns, &summary)
            .await?;
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(DrillReport {
            drill_id,
            agent: plan.manifest.name.clone(),
            environment: plan.manifest.environment.as_str().to_owned(),
            adapter: shared.target.adapter().as_str().to_owned(),
            base_url: shared.target.base_url().to_string(),
            manifest_digest: plan.manifest_digest.clone(),
            started_at: rfc3339(started_ns),
            finished_at: rfc3339(finished_ns),
            status: status.as_str().to_owned(),
            root_digest: root.to_hex(),
            verdict,
            counts,
            policy: options.policy,
            summaries,
            scenarios,
            timing,
        })
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct ConversationTiming {
    turn_overhead_us: Vec<f64>,
    agent_ms: Vec<f64>,
}

/// One conversation's result with what the drill's timing needs from it: what a worker hands back
/// through a distributed drill's queue, and what the drill folds into its tallies.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConversationOutcome {
    pub result: ScenarioResult,
    /// `result`'s times (not part of its JSON in reports).
    pub started_at_ns: i64,
    pub finished_at_ns: i64,
    timing: ConversationTiming,
}

impl ConversationOutcome {
    fn new(result: ScenarioResult, timing: ConversationTiming) -> Self {
        Self {
            started_at_ns: result.started_at_ns,
            finished_at_ns: result.finished_at_ns,
            result,
            timing,
        }
    }

    fn into_parts(self) -> (ScenarioResult, ConversationTiming) {
        let mut result = self.result;
        result.started_at_ns = self.started_at_ns;
        result.finished_at_ns = self.finished_at_ns;
        (result, self.timing)
    }
}

/// Which attempt at a conversation this is, when a distributed drill's workers run it.
#[derive(Clone, Debug, Default)]
pub struct Attempt {
    /// 1 for the first; 2 and more when another worker's attempt was lost.
    pub number: u32,
    /// The worker running it.
    pub worker: Option<String>,
    /// The workers of the earlier attempts, oldest first.
    pub previous_workers: Vec<String>,
    /// Why the previous attempt ended.
    pub why: Option<String>,
    /// Set to `true` to stop this conversation (its worker lost it): no new turns; teardown runs.
    pub cancel: Option<watch::Receiver<bool>>,
}

impl Attempt {
    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| *c.borrow())
    }

    /// The conversation's stream: a retry has its own, so an earlier attempt's events (it may have
    /// stalled rather than died, and still be writing) never interleave with the counted one's.
    fn stream(&self, scenario_id: &str, run: u32) -> String {
        if self.number > 1 {
            format!("conv/{scenario_id}/{run}/attempt-{}", self.number)
        } else {
            format!("conv/{scenario_id}/{run}")
        }
    }
}

fn summarise_timing(wall: Duration, samples: TimingSamples) -> Timing {
    let TimingSamples {
        overhead_us: overhead,
        agent_ms: agent,
        conversations,
    } = samples;
    let wall_s = wall.as_secs_f64();
    Timing {
        wall_ms: wall_s * 1000.0,
        conversations,
        turns: agent.len(),
        conversations_per_second: if wall_s > 0.0 {
            conversations as f64 / wall_s
        } else {
            0.0
        },
        engine_overhead_us: Percentiles::of(&overhead),
        agent_latency_ms: Percentiles::of(&agent),
    }
}

/// A worker's part in a drill begun by another process (a distributed drill's coordinator): it
/// runs any of the drill's conversations, recording them in the same drill. Joining passes the
/// safety interlock exactly as beginning does, so a worker never sends anything to a target its
/// manifest does not declare pre-production or sandbox.
pub struct DrillWorker {
    shared: Arc<Shared>,
}

impl DrillWorker {
    pub fn join(
        plan: &DrillPlan,
        store: Arc<dyn EvidenceStore>,
        drill_id: &str,
        base_url: Option<&str>,
        reword: u32,
    ) -> Result<Self, DrillError> {
        // The interlock, before anything is sent.
        let target = Target::new(&plan.manifest, base_url)?;
        Ok(Self {
            shared: Arc::new(Shared {
                target,
                plan: plan.clone(),
                store,
                drill_id: drill_id.to_owned(),
                reword,
                cancel: None,
                progress: std::sync::Mutex::new(None),
                // Traces are received by one process per drill; distributed drills do not
                // observe them (the coordinator refuses such a manifest).
                observer: None,
            }),
        })
    }

    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    pub fn plan(&self) -> &DrillPlan {
        &self.shared.plan
    }

    /// Run one conversation: run `run` of the plan's scenario `index`.
    pub async fn run(
        &self,
        index: usize,
        run: u32,
        attempt: &Attempt,
    ) -> Result<ConversationOutcome, DrillError> {
        if index >= self.shared.plan.scenarios.len() {
            return Err(DrillError::Task(format!(
                "the drill plans no scenario {index}"
            )));
        }
        let (result, timing) =
            Box::pin(run_conversation(&self.shared, index, run, attempt)).await?;
        Ok(ConversationOutcome::new(result, timing))
    }
}

fn not_run(
    planned: &PlannedScenario,
    run: u32,
    reword: u32,
) -> (ScenarioResult, ConversationTiming) {
    let s = &planned.scenario;
    let result = ScenarioResult {
        id: s.id.clone(),
        title: s.title.clone(),
        mode: s.mode,
        severity: s.severity,
        taxonomy: s.taxonomy.clone(),
        source: planned.source.clone(),
        run,
        reword,
        verdict: Verdict::Inconclusive,
        failed_modes: Vec::new(),
        reason: "not run: the drill was interrupted".to_owned(),
        expectations: Vec::new(),
        turns: Vec::new(),
        fixture_errors: Vec::new(),
        conversation_id: None,
        nondeterministic: s.simulated_customer.is_some(),
        stream: String::new(),
        started_at_ns: 0,
        finished_at_ns: 0,
    };
    (result, ConversationTiming::default())
}

/// Writes one conversation's evidence stream.
struct Recorder<'a> {
    shared: &'a Shared,
    stream: String,
    /// Events recorded with the next write, which comes before anything reaches the agent.
    held: Vec<EventDraft>,
}

impl Recorder<'_> {
    async fn write(&mut self, events: Vec<EventDraft>) -> Result<(), StoreError> {
        let events = if self.held.is_empty() {
            events
        } else {
            let mut all = std::mem::take(&mut self.held);
            all.extend(events);
            all
        };
        self.shared
            .store
            .append(&self.shared.drill_id, &self.stream, events)
            .await
            .map(|_| ())
    }

    /// Record `events` with the next write. Only for events followed by nothing the agent sees
    /// before that write (each append is a commit, so this halves a plain conversation's).
    fn hold(&mut self, events: Vec<EventDraft>) {
        self.held.extend(events);
    }
}

/// Whether opening a conversation stays inside muster (the id is ours; nothing is sent or
/// started), so what is recorded before it can wait for the conversation's next write.
fn opens_locally(manifest: &muster_model::agent::AgentManifest) -> bool {
    use muster_model::agent::AdapterKind;
    match manifest.target.adapter {
        AdapterKind::OpenaiChat
        | AdapterKind::OpenaiResponses
        | AdapterKind::AnthropicMessages
        | AdapterKind::BedrockConverse
        | AdapterKind::OpenaiModel => true,
        AdapterKind::HttpJson => manifest
            .target
            .http_json
            .as_ref()
            .is_none_or(|h| h.open_session.is_none()),
        AdapterKind::Command => false,
    }
}

/// One `agent.exchange` event per HTTP exchange of a turn (or of opening, with no turn).
pub fn exchange_events(turn: Option<u32>, exchanges: &[Exchange]) -> Vec<EventDraft> {
    exchange_events_as("agent.exchange", turn, exchanges)
}

/// One event of kind `kind` per exchange (the agent's, or one of muster's own models').
pub(crate) fn exchange_events_as(
    kind: &str,
    turn: Option<u32>,
    exchanges: &[Exchange],
) -> Vec<EventDraft> {
    exchanges
        .iter()
        .map(|x| exchange_event(kind, turn, x.clone()))
        .collect()
}

/// As [`exchange_events`], taking the exchanges: their bodies move into the events.
fn exchange_events_owned(turn: Option<u32>, exchanges: Vec<Exchange>) -> Vec<EventDraft> {
    exchanges
        .into_iter()
        .map(|x| exchange_event("agent.exchange", turn, x))
        .collect()
}

fn exchange_event(kind: &str, turn: Option<u32>, x: Exchange) -> EventDraft {
    let mut e = EventDraft::new(kind, x.started_at_ns).field("exchange", x.into_json());
    if let Some(t) = turn {
        e = e.field("turn", t);
    }
    e
}

fn canary() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("MUSTER-CANARY-{}", &raw[..12])
}

async fn run_conversation(
    shared: &Shared,
    index: usize,
    run: u32,
    attempt: &Attempt,
) -> Result<(ScenarioResult, ConversationTiming), DrillError> {
    let cancelled = || shared.cancelled() || attempt.cancelled();
    let planned = &shared.plan.scenarios[index];
    let scenario = &planned.scenario;
    let manifest = &shared.plan.manifest;
    shared.tell(Progress::ScenarioStarted {
        id: scenario.id.clone(),
        run,
    });
    let mut rec = Recorder {
        shared,
        stream: attempt.stream(&scenario.id, run),
        held: Vec::new(),
    };
    let mut timing = ConversationTiming::default();
    let canary = canary();
    let conversation_started_ns = now_ns();
    // A simulated customer's words are a model's: the same scenario may not say them again.
    let nondeterministic = scenario.simulated_customer.is_some();

    let mut vars = Vars::new();
    let c = &scenario.customer;
    vars.insert("customer.ref".into(), json!(c.reference));
    for (key, value) in [
        ("customer.name", &c.name),
        ("customer.email", &c.email),
        ("customer.phone", &c.phone),
        ("customer.postcode", &c.postcode),
        ("customer.date_of_birth", &c.date_of_birth),
    ] {
        vars.insert(key.into(), value.as_ref().map_or(Value::Null, |v| json!(v)));
    }
    vars.insert("scenario.id".into(), json!(scenario.id));
    vars.insert("drill.id".into(), json!(shared.drill_id));
    vars.insert("canary".into(), json!(canary));

    let mut started = EventDraft::new("scenario.started", now_ns())
        .field("scenario_id", scenario.id.clone())
        .field("title", scenario.title.clone())
        .field("mode", scenario.mode.as_str())
        .field("severity", scenario.severity.as_str())
        .field("source", planned.source.clone())
        .field("digest", planned.digest.clone())
        .field("run", run)
        .field("reword", shared.reword)
        .field("customer_ref", c.reference.clone())
        .field("nondeterministic", nondeterministic);
    if let Some(origin) = &planned.replay_of {
        started = started.field(
            "replay_of",
            serde_json::to_value(origin).unwrap_or(Value::Null),
        );
    }
    if let Some(worker) = &attempt.worker {
        started = started
            .field("worker", worker.clone())
            .field("attempt", attempt.number.max(1));
    }
    let mut started = vec![started];
    // A retry says so before anything else: the record shows the conversation was taken again,
    // by whom, after whom and why, and where the earlier attempt's events are.
    if attempt.number > 1 {
        let earlier: Vec<String> = (1..attempt.number)
            .map(|n| {
                Attempt {
                    number: n,
                    ..Attempt::default()
                }
                .stream(&scenario.id, run)
            })
            .collect();
        started.insert(
            0,
            EventDraft::new("conversation.retried", now_ns())
                .field("attempt", attempt.number)
                .field("worker", attempt.worker.clone())
                .field("previous_workers", attempt.previous_workers.clone())
                .field("previous_streams", earlier)
                .field("why", attempt.why.clone()),
        );
    }
    // Nothing reaches the agent before the conversation is opened when there is no setup and the
    // opening is ours: the start is then committed with the opening, before the first turn.
    if scenario.setup.is_empty() && opens_locally(manifest) {
        rec.hold(started);
    } else {
        rec.write(started).await?;
    }

    // Setup: plant every fault; stop at the first that fails.
    let mut fixture_errors = Vec::new();
    let mut planted: Vec<(String, Vars)> = Vec::new();
    for step in &scenario.setup {
        let Some(fixture) = manifest.fixtures.get(&step.fixture) else {
            fixture_errors.push(format!("fixture `{}` is not in the manifest", step.fixture));
            break;
        };
        let mut fx_vars = vars.clone();
        let mut params = serde_json::Map::new();
        for (name, value) in &step.with {
            let rendered = render_str(value, &vars).unwrap_or_else(|_| value.clone());
            params.insert(name.clone(), json!(rendered));
            fx_vars.insert(name.clone(), json!(rendered));
        }
        let outcome = run_action(&shared.target, &fixture.plant, &fx_vars).await;
        let fixture_id = fixture
            .id_at
            .as_ref()
            .and_then(|p| outcome.output.as_ref().and_then(|o| p.select_one(o)))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        rec.write(vec![
            EventDraft::new("fixture.planted", now_ns())
                .field("fixture", step.fixture.clone())
                .field("params", Value::Object(params))
                .field("ok", outcome.ok)
                .field("fixture_id", fixture_id.clone())
                .field("record", outcome.record.clone())
                .field("error", outcome.error.clone()),
        ])
        .await?;
        if !outcome.ok {
            fixture_errors.push(format!(
                "planting `{}` failed: {}",
                step.fixture,
                outcome.error.unwrap_or_default()
            ));
            break;
        }
        if let Some(id) = fixture_id {
            fx_vars.insert("fixture_id".into(), json!(id));
        }
        planted.push((step.fixture.clone(), fx_vars));
    }

    // The conversation itself, only if every fault was planted.
    let mut transcript: Vec<TurnRecord> = Vec::new();
    let mut trace_missing: Option<Duration> = None;
    let mut conversation_id = None;
    let mut open_error = None;
    if fixture_errors.is_empty() {
        let (exchanges, opened) = shared.target.open(vars.clone()).await;
        let mut events = exchange_events_owned(None, exchanges);
        match opened {
            Err(e) => {
                events.push(
                    EventDraft::new("target.error", now_ns())
                        .field("stage", "open")
                        .field("error", e.to_string()),
                );
                open_error = Some(e);
            }
            Ok(mut conversation) => {
                events.push(
                    EventDraft::new("conversation.opened", now_ns())
                        .field("conversation_id", conversation.id.clone()),
                );
                rec.write(std::mem::take(&mut events)).await?;
                conversation_id = Some(conversation.id.clone());
                conversation.play_tool_results(scenario.tool_results.clone());
                let mut simulator = crate::simulate::Simulator::new(scenario, manifest);
                let mut script: std::collections::VecDeque<(String, Option<usize>)> = scenario
                    .turns_for(shared.reword)
                    .into_iter()
                    .map(|t| (t.to_owned(), None))
                    .collect();
                let mut adaptive = crate::adaptive::Answers::new(&scenario.replies, &vars);
                let mut turn = 0u32;
                let mut turn_starts: Vec<(u32, i64)> = Vec::new();
                loop {
                    if cancelled() {
                        break;
                    }
                    let (text, answer_to, simulated) = match script.pop_front() {
                        Some((text, answer_to)) => (text, answer_to, false),
                        None => {
                            let Some(sim) = simulator.as_mut() else { break };
                            let Some((events, next)) = sim.next(&shared.target, &transcript).await
                            else {
                                break;
                            };
                            rec.write(events).await?;
                            match next {
                                crate::simulate::Next::Say(text) => (text, None, true),
                                crate::simulate::Next::Ended => break,
                                crate::simulate::Next::Failed(e) => {
                                    transcript.push(TurnRecord {
                                        turn: turn + 1,
                                        customer: String::new(),
                                        reply: Err(e),
                                    });
                                    break;
                                }
                            }
                        }
                    };
                    let text = text.as_str();
                    turn += 1;
                    let turn_started = Instant::now();
                    let customer_at = now_ns();
                    turn_starts.push((turn, customer_at));
                    let outcome = shared.target.send(&mut conversation, text, turn).await;
                    let agent_wait: Duration = outcome.exchanges.iter().map(|x| x.elapsed).sum();
                    let mut customer = EventDraft::new("customer.message", customer_at)
                        .field("turn", turn)
                        .field("personal_data", muster_detect::personal_data_types(text))
                        .field("text", text);
                    if let Some(rule) = answer_to {
                        customer = customer.field("adaptive", rule);
                    }
                    if simulated {
                        customer = customer.field("simulated", true);
                    }
                    let mut events = vec![customer];
                    events.extend(exchange_events_owned(Some(turn), outcome.exchanges));
                    let at = now_ns();
                    match &outcome.reply {
                        Ok(reply) => {
                            events.push(
                                EventDraft::new("agent.message", at)
                                    .field("turn", turn)
                                    .field(
                                        "personal_data",
                                        muster_detect::personal_data_types(&reply.text),
                                    )
                                    .field("text", reply.text.clone())
                                    .field("handover", reply.handover)
                                    .field("confidence", reply.confidence)
                                    .field("content_version", reply.content_version.clone())
                                    .field(
                                        "agent_us",
                                        u64::try_from(agent_wait.as_micros()).unwrap_or(u64::MAX),
                                    ),
                            );
                            for call in &reply.tool_calls {
                                events.push(
                                    EventDraft::new("tool.call", at)
                                        .field("turn", turn)
                                        .field("id", call.id.clone())
                                        .field("name", call.name.clone())
                                        .field("arguments", call.arguments.clone())
                                        .field("result", call.result.clone()),
                                );
                            }
                        }
                        Err(e) => events.push(
                            EventDraft::new("target.error", at)
                                .field("turn", turn)
                                .field("error", e.to_string())
                                .field("kind", error_kind(e)),
                        ),
                    }
                    let failed = outcome.reply.is_err();
                    if let Ok(reply) = &outcome.reply
                        && let Some((rule, answer)) = adaptive.answer(&reply.text)
                    {
                        script.push_front((answer, Some(rule)));
                    }
                    if let (Ok(reply), Some(sim)) = (&outcome.reply, simulator.as_mut()) {
                        sim.observe(reply);
                    }
                    // After the last turn nothing reaches the agent before the verdict is written
                    // unless test data is to be removed or a simulated customer speaks next: the
                    // turn is then committed with its verdict (judging reaches no agent), one
                    // commit instead of two.
                    if (failed || (script.is_empty() && simulator.is_none())) && planted.is_empty()
                    {
                        rec.hold(events);
                    } else {
                        rec.write(events).await?;
                    }
                    let spent = turn_started.elapsed();
                    timing.agent_ms.push(agent_wait.as_secs_f64() * 1000.0);
                    timing
                        .turn_overhead_us
                        .push(spent.saturating_sub(agent_wait).as_secs_f64() * 1e6);
                    transcript.push(TurnRecord {
                        turn,
                        customer: text.to_owned(),
                        reply: outcome.reply,
                    });
                    if failed {
                        break;
                    }
                }
                if let (Some(observer), Some(&(_, last_ns))) =
                    (&shared.observer, turn_starts.last())
                {
                    let seen = observer.collect(&conversation.id, last_ns).await;
                    let added = crate::observe::merge(&mut transcript, &turn_starts, &seen.calls);
                    let mut events: Vec<EventDraft> = added
                        .iter()
                        .map(|(turn, call)| crate::observe::observed_event(*turn, call))
                        .collect();
                    events.push(
                        EventDraft::new("trace.observation", now_ns())
                            .field("spans", seen.spans)
                            .field("tool_calls", seen.calls.len())
                            .field("tool_calls_only_in_traces", added.len())
                            .field("complete", seen.complete)
                            .field(
                                "waited_ms",
                                u64::try_from(seen.waited.as_millis()).unwrap_or(u64::MAX),
                            ),
                    );
                    rec.write(events).await?;
                    if !seen.complete {
                        trace_missing = Some(seen.waited);
                    }
                }
            }
        }
        if !events.is_empty() {
            rec.write(events).await?;
        }
    }

    // Teardown: always, newest first.
    for (name, fx_vars) in planted.iter().rev() {
        let Some(fixture) = manifest.fixtures.get(name) else {
            continue;
        };
        let outcome = run_action(&shared.target, &fixture.remove, fx_vars).await;
        rec.write(vec![
            EventDraft::new("fixture.removed", now_ns())
                .field("fixture", name.clone())
                .field("ok", outcome.ok)
                .field("record", outcome.record.clone())
                .field("error", outcome.error.clone()),
        ])
        .await?;
        if !outcome.ok {
            fixture_errors.push(format!(
                "removing `{name}` failed (test data may remain in the target): {}",
                outcome.error.unwrap_or_default()
            ));
        }
    }

    // Judge.
    let judge_started = Instant::now();
    let canaries: Vec<Vec<String>> = scenario
        .expect
        .iter()
        .map(|e| match e {
            muster_model::scenario::Expectation::MustNotReveal(m) => m
                .canaries
                .iter()
                .map(|c| render_str(c, &vars).unwrap_or_else(|_| c.clone()))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let planting_failed = fixture_errors
        .iter()
        .any(|e| e.starts_with("planting") || e.contains("not in the manifest"));
    let mut expectations = if planting_failed || open_error.is_some() {
        Vec::new()
    } else {
        let mut results = judge(scenario, manifest, &transcript, &canaries);
        if let Some(waited) = trace_missing {
            crate::observe::without_trace(&mut results, waited);
        }
        results
    };
    // Model grading comes last, once every deterministic expectation is decided. Its wait for
    // the judge is not the engine's own time.
    let grading = Instant::now();
    let graded = crate::graded::grade(
        &shared.target,
        scenario,
        &transcript,
        &mut expectations,
        cancelled(),
    )
    .await;
    let grading = grading.elapsed();
    if !graded.is_empty() {
        rec.write(graded).await?;
    }
    let (verdict, reason) = verdict_of(
        &expectations,
        &fixture_errors,
        open_error.as_ref(),
        &transcript,
        scenario.turns.len(),
        cancelled(),
    );
    let mut failed_modes: Vec<_> = expectations
        .iter()
        .filter(|e| e.status == Status::Fail)
        .map(|e| e.mode)
        .collect();
    failed_modes.sort();
    failed_modes.dedup();
    let mut events: Vec<EventDraft> = expectations
        .iter()
        .map(|e| {
            EventDraft::new("expectation.result", now_ns())
                .field("result", serde_json::to_value(e).unwrap_or(Value::Null))
        })
        .collect();
    events.push(
        EventDraft::new("scenario.verdict", now_ns())
            .field("verdict", verdict.as_str())
            .field("reason", reason.clone())
            .field(
                "failed_modes",
                failed_modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            )
            .field("fixture_errors", fixture_errors.clone()),
    );
    rec.write(events).await?;
    // The judging and verdict writing is spread over the turns it judged.
    if !timing.turn_overhead_us.is_empty() {
        let share = judge_started
            .elapsed()
            .saturating_sub(grading)
            .as_secs_f64()
            * 1e6
            / timing.turn_overhead_us.len() as f64;
        timing.turn_overhead_us.iter_mut().for_each(|t| *t += share);
    }

    let turns = transcript
        .iter()
        .map(|t| match &t.reply {
            Ok(r) => TurnSummary {
                turn: t.turn,
                customer: t.customer.clone(),
                reply: Some(r.text.clone()),
                tool_calls: r
                    .tool_calls
                    .iter()
                    .map(muster_target::ToolCall::to_json)
                    .collect(),
                handover: r.handover,
                confidence: r.confidence,
                content_version: r.content_version.clone(),
                error: None,
                agent_ms: timing
                    .agent_ms
                    .get(t.turn as usize - 1)
                    .copied()
                    .unwrap_or(0.0),
            },
            Err(e) => TurnSummary {
                turn: t.turn,
                customer: t.customer.clone(),
                reply: None,
                tool_calls: Vec::new(),
                handover: None,
                confidence: None,
                content_version: None,
                error: Some(e.to_string()),
                agent_ms: timing
                    .agent_ms
                    .get(t.turn as usize - 1)
                    .copied()
                    .unwrap_or(0.0),
            },
        })
        .collect();
    let result = ScenarioResult {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        mode: scenario.mode,
        severity: scenario.severity,
        taxonomy: scenario.taxonomy.clone(),
        source: planned.source.clone(),
        run,
        reword: shared.reword,
        verdict,
        failed_modes,
        reason,
        expectations,
        turns,
        fixture_errors,
        conversation_id,
        nondeterministic,
        stream: rec.stream.clone(),
        started_at_ns: conversation_started_ns,
        finished_at_ns: now_ns(),
    };
    Ok((result, timing))
}

fn error_kind(e: &TurnError) -> &'static str {
    match e {
        TurnError::Timeout(_) => "timeout",
        TurnError::Transport(_) => "transport",
        TurnError::Status { .. } => "status",
        TurnError::Malformed(_) => "malformed",
        TurnError::Refused(_) => "refused",
        TurnError::Request(_) => "request",
    }
}

fn verdict_of(
    expectations: &[ExpectationResult],
    fixture_errors: &[String],
    open_error: Option<&TurnError>,
    transcript: &[TurnRecord],
    planned_turns: usize,
    cancelled: bool,
) -> (Verdict, String) {
    if let Some(failed) = expectations.iter().find(|e| e.status == Status::Fail) {
        return (
            Verdict::Fail,
            format!("{}({}): {}", failed.kind, failed.subject, failed.reason),
        );
    }
    if let Some(error) = fixture_errors.iter().find(|e| !e.starts_with("removing")) {
        return (Verdict::Inconclusive, error.clone());
    }
    if let Some(e) = open_error {
        return (
            Verdict::Inconclusive,
            format!("the conversation could not be opened: {e}"),
        );
    }
    if let Some(TurnRecord {
        turn,
        reply: Err(e),
        ..
    }) = transcript.iter().find(|t| t.reply.is_err())
    {
        return (Verdict::Inconclusive, format!("turn {turn}: {e}"));
    }
    if transcript.len() < planned_turns {
        let why = if cancelled {
            "the drill was interrupted"
        } else {
            "the conversation ended early"
        };
        return (
            Verdict::Inconclusive,
            format!(
                "only {} of {planned_turns} turns ran: {why}",
                transcript.len()
            ),
        );
    }
    if let Some(unsure) = expectations
        .iter()
        .find(|e| e.status == Status::Inconclusive)
    {
        return (
            Verdict::Inconclusive,
            format!("{}({}): {}", unsure.kind, unsure.subject, unsure.reason),
        );
    }
    if let Some(error) = fixture_errors.first() {
        return (
            Verdict::Pass,
            format!("all {} expectations held; but {error}", expectations.len()),
        );
    }
    (
        Verdict::Pass,
        format!(
            "all {} expectation{} held",
            expectations.len(),
            if expectations.len() == 1 { "" } else { "s" }
        ),
    )
}

/// Whether a scenario's setup plants a fixture the manifest marks `shared`.
pub(crate) fn plants_shared_fixture(
    scenario: &muster_model::scenario::Scenario,
    manifest: &muster_model::agent::AgentManifest,
) -> bool {
    scenario.setup.iter().any(|step| {
        manifest
            .fixtures
            .get(&step.fixture)
            .is_some_and(|f| f.shared)
    })
}
