//! `muster worker`: take conversations of distributed drills (`muster drill --distributed`) from
//! the shared PostgreSQL store's queue and run them, on this machine, into the same drill.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use muster_drill::{Attempt, DrillPlan, DrillWorker};
use muster_store::{Claim, DrillJob, EvidenceStore, PgStore, StoreLocation};
use muster_target::{SharedPacing, SlotFuture};
use tokio::sync::watch;

use crate::cli::WorkerArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{plan_from_texts, report_problems};

/// How often an idle worker looks for work.
const IDLE_POLL: Duration = Duration::from_millis(200);

/// The manifest's rate limit, kept across every worker through the store's `target_rate` row.
#[derive(Debug)]
struct StorePacing(Arc<PgStore>);

impl SharedPacing for StorePacing {
    fn reserve(&self, target: &str, interval: Duration) -> SlotFuture {
        let store = self.0.clone();
        let target = target.to_owned();
        Box::pin(async move {
            store
                .reserve_request_slot(&target, interval)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// The store as a PostgreSQL URL, or why a worker cannot use it.
pub fn postgres_url(ctx: &Context, what: &str) -> Result<String, CliError> {
    match &ctx.store {
        StoreLocation::Postgres(url) => Ok(url.clone()),
        StoreLocation::Sqlite(path) => Err(CliError::input(format!(
            "{what} needs a PostgreSQL store; {} is an embedded SQLite file, which has no queue",
            path.display()
        ))
        .hint("pass --store postgres://HOST/DATABASE (migrated with `muster db migrate`), the same store for the drill and every worker")),
    }
}

/// This machine's name and the process id: unique enough to tell workers apart in the record.
fn default_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}

/// What happened to one conversation this worker took.
enum Ran {
    /// Its result is the one counted.
    Counted { retry: bool },
    /// Its result was refused: the lease ran out and another worker took the conversation.
    Lost,
    /// It could not finish (e.g. the store failed); given back for another worker.
    Failed(String),
}

#[derive(Default)]
struct Tally {
    counted: u64,
    retries_run: u64,
    lost: u64,
    failed: u64,
    drills: BTreeSet<String>,
}

pub async fn run(ctx: &Context, args: &WorkerArgs) -> Result<u8, CliError> {
    let url = postgres_url(ctx, "`muster worker`")?;
    let store = Arc::new(PgStore::connect(&url).await?);
    let id = args.id.clone().unwrap_or_else(default_id);
    let lease = Duration::from_secs(args.lease_seconds.max(1));
    let concurrency = usize::try_from(args.concurrency).unwrap_or(1).max(1);
    let pacing: Arc<dyn SharedPacing> = Arc::new(StorePacing(store.clone()));
    let (stop_tx, mut stop) = watch::channel(false);
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: taking no new conversations; finishing those under way…");
            let _ = stop_tx.send(true);
        }
    });
    if !args.json {
        eprintln!(
            "worker {id}: taking conversations from {} ({concurrency} at once, lease {}s)",
            store.location(),
            lease.as_secs()
        );
    }
    let mut drills: HashMap<String, Arc<DrillWorker>> = HashMap::new();
    let mut tasks: tokio::task::JoinSet<Ran> = tokio::task::JoinSet::new();
    let mut tally = Tally::default();
    let mut fatal: Option<CliError> = None;
    loop {
        while let Some(done) = tasks.try_join_next() {
            add(&mut tally, done, args.json);
        }
        if *stop.borrow() || fatal.is_some() {
            break;
        }
        let mut claimed = false;
        if tasks.len() < concurrency {
            match store.claim_conversation(&id, lease).await {
                Ok(Some(claim)) => {
                    claimed = true;
                    let worker = match drills.get(&claim.drill_id) {
                        Some(w) => Ok(w.clone()),
                        None => join(ctx, &store, &claim.drill_id, &pacing).await,
                    };
                    match worker {
                        Ok(worker) => {
                            // A long-lived worker keeps only recent drills' plans.
                            if drills.len() > 16 {
                                drills.clear();
                            }
                            drills.insert(claim.drill_id.clone(), worker.clone());
                            tally.drills.insert(claim.drill_id.clone());
                            tasks.spawn(run_claim(store.clone(), worker, claim, lease, id.clone()));
                        }
                        Err(e) => {
                            // This worker cannot run the drill (e.g. a secret missing here, or
                            // the interlock refused): give the conversation back and stop, so
                            // the failure is seen rather than retried in a loop.
                            let _ = store
                                .release_conversation(claim.id, claim.attempt, &e.message)
                                .await;
                            fatal = Some(e);
                        }
                    }
                }
                Ok(None) => {
                    if args.exit_when_idle && tasks.is_empty() {
                        match store.has_open_work().await {
                            Ok(false) => break,
                            Ok(true) => {}
                            Err(e) => eprintln!("worker {id}: the queue could not be read: {e}"),
                        }
                    }
                }
                Err(e) => eprintln!("worker {id}: the queue could not be read: {e}"),
            }
        }
        if claimed && tasks.len() < concurrency {
            continue;
        }
        tokio::select! {
            Some(done) = tasks.join_next(), if !tasks.is_empty() => add(&mut tally, done, args.json),
            () = tokio::time::sleep(IDLE_POLL) => {}
            _ = stop.changed() => {}
        }
    }
    while let Some(done) = tasks.join_next().await {
        add(&mut tally, done, args.json);
    }
    interrupt.abort();
    if args.json {
        let out = serde_json::json!({
            "worker": id,
            "conversations": tally.counted,
            "retries_run": tally.retries_run,
            "lost": tally.lost,
            "failed": tally.failed,
            "drills": tally.drills,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        eprintln!(
            "worker {id}: {} conversation{} counted ({} of them retries), {} lost to another worker, {} given back after an error",
            tally.counted,
            if tally.counted == 1 { "" } else { "s" },
            tally.retries_run,
            tally.lost,
            tally.failed
        );
    }
    store.close().await;
    match fatal {
        Some(e) => Err(e),
        None => Ok(exit::OK),
    }
}

fn add(tally: &mut Tally, done: Result<Ran, tokio::task::JoinError>, quiet: bool) {
    match done {
        Ok(Ran::Counted { retry }) => {
            tally.counted += 1;
            tally.retries_run += u64::from(retry);
        }
        Ok(Ran::Lost) => tally.lost += 1,
        Ok(Ran::Failed(why)) => {
            tally.failed += 1;
            if !quiet {
                eprintln!("a conversation was given back after an error: {why}");
            }
        }
        Err(e) => {
            tally.failed += 1;
            if !quiet {
                eprintln!("a conversation task failed: {e}");
            }
        }
    }
}

/// Rebuild a drill's plan from the texts its coordinator stored, check they are the texts it
/// recorded, and join it (the interlock runs here, on this machine).
async fn join(
    ctx: &Context,
    store: &Arc<PgStore>,
    drill_id: &str,
    pacing: &Arc<dyn SharedPacing>,
) -> Result<Arc<DrillWorker>, CliError> {
    let job = store.drill_job(drill_id).await?;
    let plan = plan_of(ctx, &job)?;
    let reword = job
        .options
        .get("reword")
        .and_then(serde_json::Value::as_u64)
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(0);
    let evidence: Arc<dyn EvidenceStore> = store.clone();
    let worker = DrillWorker::join(&plan, evidence, drill_id, job.base_url.as_deref(), reword)?;
    worker.target().share_rate_limit(pacing.clone());
    Ok(Arc::new(worker))
}

fn plan_of(ctx: &Context, job: &DrillJob) -> Result<DrillPlan, CliError> {
    let scenarios: Vec<(String, String)> = job
        .scenarios
        .iter()
        .map(|f| (f.source.clone(), f.text.clone()))
        .collect();
    let plan = plan_from_texts((&job.manifest.source, &job.manifest.text), &scenarios)
        .map_err(|p| report_problems(&p, ctx.color))?;
    let same = plan.manifest_digest == job.manifest.digest
        && plan.scenarios.len() == job.scenarios.len()
        && plan
            .scenarios
            .iter()
            .zip(&job.scenarios)
            .all(|(p, f)| p.digest == f.digest);
    if !same {
        return Err(CliError::input(format!(
            "drill {}: the stored files do not have the digests the drill recorded",
            job.drill_id
        )));
    }
    Ok(plan)
}

/// Run one claimed conversation under its lease, renewing it; stop the conversation (its
/// teardown still runs) if the lease is lost or the drill was stopped.
async fn run_claim(
    store: Arc<PgStore>,
    worker: Arc<DrillWorker>,
    claim: Claim,
    lease: Duration,
    id: String,
) -> Ran {
    let (lost_tx, lost) = watch::channel(false);
    let attempt = Attempt {
        number: claim.attempt,
        worker: Some(id),
        previous_workers: claim.previous_workers.clone(),
        why: claim.retry_reason.clone(),
        cancel: Some(lost),
    };
    let renew = async {
        loop {
            tokio::time::sleep(lease / 3).await;
            // An error here is retried at the next beat; if the lease runs out meanwhile,
            // the renewal after says so.
            if let Ok(false) = store.renew_lease(claim.id, claim.attempt, lease).await {
                let _ = lost_tx.send(true);
                return;
            }
        }
    };
    let outcome = {
        let mut run = std::pin::pin!(worker.run(claim.scenario_index, claim.run, &attempt));
        let mut renew = std::pin::pin!(renew);
        tokio::select! {
            r = &mut run => r,
            () = &mut renew => run.await,
        }
    };
    match outcome {
        Ok(outcome) => {
            let value = match serde_json::to_value(&outcome) {
                Ok(v) => v,
                Err(e) => return give_back(&store, &claim, e.to_string()).await,
            };
            match store
                .complete_conversation(claim.id, claim.attempt, &value)
                .await
            {
                Ok(true) => Ran::Counted {
                    retry: claim.is_retry(),
                },
                Ok(false) => Ran::Lost,
                Err(e) => give_back(&store, &claim, e.to_string()).await,
            }
        }
        Err(e) => give_back(&store, &claim, e.to_string()).await,
    }
}

async fn give_back(store: &PgStore, claim: &Claim, why: String) -> Ran {
    // If this fails too, the lease runs out and another worker takes the conversation anyway.
    let _ = store
        .release_conversation(claim.id, claim.attempt, &why)
        .await;
    Ran::Failed(why)
}
