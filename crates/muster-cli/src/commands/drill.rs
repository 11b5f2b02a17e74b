use std::sync::Arc;

use muster_control::{ControlKind, ControlProgress, ControlReport, run_controls};
use muster_drill::{DrillPart, DrillPlan, DrillReport, DrillSession, Retain, RunOptions, Verdict};
use muster_store::EvidenceStore;
use tokio::sync::watch;

use crate::cli::DrillArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{expand, plan_from_texts, read, report_problems};
use crate::render::table::{drill_summary, drill_table};
use crate::runs::RunSpill;

pub struct Execution {
    pub base_url: Option<String>,
    pub concurrency: usize,
    pub repeat: Option<u32>,
    pub reword: u32,
    /// Control drills to run after the scenarios (those the manifest declares).
    pub controls: Vec<ControlKind>,
    /// Which runs the report keeps in memory.
    pub retain: Retain,
    /// Keep every run on disk as it finishes (for `--json` when the report keeps only some).
    pub spill_runs: bool,
    /// A console exercise to stream verdicts and control timings into.
    pub exercise: Option<String>,
    /// Queue the conversations for `muster worker` processes (a PostgreSQL store): the plan's
    /// files as read, for workers to rebuild it from.
    pub distributed: Option<DistributedFiles>,
}

/// The texts a distributed drill's plan was built from.
pub struct DistributedFiles {
    pub manifest: (String, String),
    pub scenarios: Vec<(String, String)>,
}

/// A drill's results: its scenarios and, when asked for, its control drills.
pub struct Outcome {
    pub report: DrillReport,
    pub controls: Option<ControlReport>,
    /// Every run, when `spill_runs` was asked for.
    pub runs: Option<RunSpill>,
}

/// The control drills `--controls` names: all of them when it names none.
pub fn parse_controls(names: Option<&[String]>) -> Result<Vec<ControlKind>, CliError> {
    let Some(names) = names else {
        return Ok(Vec::new());
    };
    if names.is_empty() {
        return Ok(ControlKind::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            ControlKind::from_id(n.trim()).ok_or_else(|| {
                CliError::input(format!("`{n}` is not a control drill")).hint(format!(
                    "choose from {}",
                    ControlKind::ALL.map(ControlKind::id).join(", ")
                ))
            })
        })
        .collect()
}

/// Run a plan with a progress bar; Ctrl-C stops cleanly and keeps the results so far.
pub async fn execute(
    ctx: &Context,
    plan: &DrillPlan,
    exec: Execution,
) -> Result<Outcome, CliError> {
    let pg = match &exec.distributed {
        Some(_) => {
            let url = crate::commands::worker::postgres_url(ctx, "`muster drill --distributed`")?;
            Some(Arc::new(muster_store::PgStore::connect(&url).await?))
        }
        None => None,
    };
    let sqlite: Arc<dyn muster_store::Store> = match &pg {
        Some(pg) => pg.clone(),
        None => ctx.open_store().await?,
    };
    let feed = match &exec.exercise {
        Some(id) => Some(Arc::new(
            crate::exercise_feed::ExerciseFeed::open(sqlite.clone(), id).await?,
        )),
        None => None,
    };
    let store: Arc<dyn EvidenceStore> = sqlite;
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\ninterrupted: finishing the turns in flight, removing test data and sealing the evidence…"
            );
            let _ = cancel_tx.send(true);
        }
    });
    let spill = if exec.spill_runs {
        let ids = plan.scenarios.iter().map(|p| p.scenario.id.as_str());
        Some(RunSpill::new(ids).map_err(|e| {
            CliError::runtime(format!(
                "cannot create a temporary file for the drill's runs: {e}"
            ))
        })?)
    } else {
        None
    };
    let (progress, bar) = crate::progress::spawn(
        ctx.stderr_is_terminal,
        format!("drilling {}", plan.manifest.name),
        spill,
    );
    let (progress, feeding) = match &feed {
        Some(feed) => {
            let (tx, task) = feed.forward(progress);
            (tx, Some(task))
        }
        None => (progress, None),
    };
    let options = RunOptions {
        base_url: exec.base_url.clone(),
        concurrency: exec.concurrency,
        repeat: exec.repeat,
        policy: ctx.policy(),
        reword: exec.reword,
        cancel: Some(cancel_rx),
        progress: Some(progress),
        retain: exec.retain,
    };
    let mut session = DrillSession::begin(plan, store, options).await?;
    match (&pg, &exec.distributed) {
        (Some(pg), Some(files)) => {
            let job = muster_store::DrillJob {
                drill_id: session.drill_id().to_owned(),
                manifest: muster_store::JobFile {
                    source: files.manifest.0.clone(),
                    text: files.manifest.1.clone(),
                    digest: plan.manifest_digest.clone(),
                },
                scenarios: files
                    .scenarios
                    .iter()
                    .zip(&plan.scenarios)
                    .map(|((source, text), planned)| muster_store::JobFile {
                        source: source.clone(),
                        text: text.clone(),
                        digest: planned.digest.clone(),
                    })
                    .collect(),
                options: serde_json::json!({"reword": exec.reword}),
                base_url: exec.base_url.clone(),
                open: true,
            };
            if ctx.stderr_is_terminal {
                eprintln!(
                    "drill {} queued in {}; waiting for workers (`muster worker --store URL` on each machine)",
                    session.drill_id(),
                    pg.location()
                );
            }
            muster_drill::run_queued(&mut session, pg, job, DISTRIBUTED_POLL).await;
        }
        _ => session.run_scenarios().await,
    }
    if let Some(task) = feeding {
        let _ = task.await;
    }
    let runs = bar.await.ok().flatten();
    let mut parts = Vec::new();
    let mut controls = None;
    if !exec.controls.is_empty() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ControlProgress>();
        let show = ctx.stderr_is_terminal;
        let control_feed = feed.clone();
        let drill_id = session.drill_id().to_owned();
        let printer = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                match p {
                    ControlProgress::Started(kind) if show => {
                        eprintln!("control drill: {}…", kind.id());
                    }
                    ControlProgress::Finished(row) => {
                        if show {
                            eprintln!("  {} {}", row.verdict.as_str(), row.title);
                        }
                        if let Some(feed) = &control_feed {
                            feed.control(&drill_id, &row).await;
                        }
                    }
                    ControlProgress::Started(_) => {}
                }
            }
        });
        let report = run_controls(&session, &exec.controls, Some(tx)).await;
        let _ = printer.await;
        let report = report.map_err(|e| {
            CliError::runtime(format!(
                "evidence could not be recorded, so the control drills stopped: {e}"
            ))
        })?;
        parts.push(DrillPart {
            key: "controls".into(),
            summary: serde_json::to_value(&report).unwrap_or_default(),
            verdict: report.verdict,
        });
        controls = Some(report);
    }
    let result = session.finish(parts).await;
    interrupt.abort();
    if let (Some(feed), Ok(report)) = (&feed, &result) {
        feed.finished(report).await;
    }
    Ok(Outcome {
        report: result?,
        controls,
        runs,
    })
}

/// How often a distributed drill's coordinator looks for finished conversations.
const DISTRIBUTED_POLL: std::time::Duration = std::time::Duration::from_millis(200);

pub fn exit_for(report: &DrillReport) -> u8 {
    if report.status == "interrupted" {
        return exit::RUNTIME;
    }
    match report.verdict {
        Verdict::Pass => exit::OK,
        Verdict::Fail => exit::FAILED,
        Verdict::Inconclusive => exit::INCONCLUSIVE,
    }
}

pub fn print_report(ctx: &Context, report: &DrillReport) {
    println!("{}", drill_table(report, ctx.color, terminal_width()));
    print!("{}", drill_summary(report, &ctx.store.describe()));
}

pub fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
        .clamp(60, 240)
}

pub async fn run(ctx: &Context, args: &DrillArgs) -> Result<u8, CliError> {
    let manifest_text = read(&args.agent)?;
    let mut scenarios = Vec::new();
    for path in expand(&args.scenarios, false)? {
        scenarios.push((path.display().to_string(), read(&path)?));
    }
    let plan = plan_from_texts(
        (&args.agent.display().to_string(), &manifest_text),
        &scenarios,
    )
    .map_err(|p| report_problems(&p, ctx.color))?;
    let controls = parse_controls(args.controls.as_deref())?;
    if plan.scenarios.is_empty() && controls.is_empty() {
        return Err(CliError::input("no scenarios to run"));
    }
    let undeclared: Vec<&str> = controls
        .iter()
        .filter(|k| !k.declared_in(&plan.manifest))
        .map(|k| k.id())
        .collect();
    if args.controls.as_ref().is_some_and(|c| !c.is_empty()) && !undeclared.is_empty() {
        return Err(CliError::input(format!(
            "the manifest declares no {} control",
            undeclared.join(", ")
        ))
        .hint("declare it under `controls:` in the agent manifest (see docs/control-drills.md)"));
    }
    if args.dry_run {
        return dry_run(ctx, args, &plan, &controls);
    }
    let distributed = if args.distributed {
        crate::commands::worker::postgres_url(ctx, "`muster drill --distributed`")?;
        if plan.manifest.target.observe.is_some() {
            return Err(CliError::input(
                "a distributed drill cannot observe the agent's traces (`target.observe`): each conversation runs on a different machine",
            )
            .hint("drop --distributed, or drill without `target.observe`"));
        }
        if !controls.is_empty() {
            return Err(
                CliError::input("--controls cannot be combined with --distributed")
                    .hint("run the control drills in a drill of their own"),
            );
        }
        // Problems in a file were reported above; these are the texts the plan was built from.
        Some(DistributedFiles {
            manifest: (args.agent.display().to_string(), manifest_text.clone()),
            scenarios: scenarios.clone(),
        })
    } else {
        None
    };
    // The shutdown criteria of the control drills read every run; otherwise only the runs that
    // decide each summary stay in memory, and `--json` copies every run from disk.
    let retain = if controls.is_empty() {
        Retain::Deciding
    } else {
        Retain::All
    };
    let Outcome {
        report,
        controls: control_report,
        runs,
    } = execute(
        ctx,
        &plan,
        Execution {
            base_url: args.base_url.clone(),
            concurrency: ctx.concurrency(args.concurrency),
            repeat: args.repeat,
            reword: args.reword,
            controls,
            retain,
            spill_runs: args.json && retain == Retain::Deciding,
            exercise: args.exercise.clone(),
            distributed,
        },
    )
    .await?;
    CiOutputs {
        junit: args.junit.as_deref(),
        sarif: args.sarif.as_deref(),
    }
    .write(&report, &scenarios)?;
    // A drill of controls only carries no scenario verdicts: it must not replace the lock's record.
    let recorded = if args.no_lock || report.status != "sealed" || plan.scenarios.is_empty() {
        None
    } else {
        let path = ctx.lock_path(args.lock.as_deref());
        record_in_lock(&path, &plan, &report)?;
        Some(path)
    };
    if args.json {
        let mut value =
            serde_json::to_value(&report).map_err(|e| CliError::internal(e.to_string()))?;
        value["store"] = serde_json::Value::String(ctx.store.describe());
        if let Some(path) = &recorded {
            value["lock"] = serde_json::Value::String(path.display().to_string());
        }
        if let Some(c) = &control_report {
            value["controls"] = serde_json::to_value(c).unwrap_or_default();
        }
        match runs {
            Some(runs) => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                runs.write_report(value, &mut out).map_err(|e| {
                    CliError::runtime(format!("cannot print the report's runs: {e}"))
                })?;
            }
            None => println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            ),
        }
    } else {
        if plan.scenarios.is_empty() {
            println!(
                "control drills only — evidence: drill {} in {}, root {}\nverify:   muster store verify {}\n",
                report.drill_id,
                ctx.store.describe(),
                &report.root_digest[..16.min(report.root_digest.len())],
                &report.drill_id[..13.min(report.drill_id.len())]
            );
        } else {
            print_report(ctx, &report);
        }
        if let Some(c) = &control_report {
            println!();
            print!(
                "{}",
                crate::render::controls::control_report(c, ctx.color, terminal_width())
            );
        }
        if let Some(path) = &recorded {
            println!(
                "recorded in {} (`muster gate {}` checks it)",
                path.display(),
                args.agent.display()
            );
        }
    }
    Ok(exit_for(&report))
}

/// `--dry-run`: the plan as the engine would run it, after the same safety interlock, with nothing
/// sent.
fn dry_run(
    ctx: &Context,
    args: &DrillArgs,
    plan: &DrillPlan,
    controls: &[ControlKind],
) -> Result<u8, CliError> {
    let target = muster_target::Target::new(&plan.manifest, args.base_url.as_deref())?;
    let options = RunOptions {
        repeat: args.repeat,
        policy: ctx.policy(),
        ..RunOptions::default()
    };
    let concurrency = ctx.concurrency(args.concurrency);
    let m = &plan.manifest;
    let rows: Vec<serde_json::Value> = plan
        .scenarios
        .iter()
        .map(|p| {
            let s = &p.scenario;
            serde_json::json!({
                "id": s.id,
                "source": p.source,
                "mode": s.mode,
                "severity": s.severity,
                "runs": options.runs_of(p),
                "turns": s.turns.len(),
                "fixtures": s.setup.iter().map(|f| f.fixture.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let conversations: u64 = plan
        .scenarios
        .iter()
        .map(|p| u64::from(options.runs_of(p)))
        .sum();
    let turns: u64 = plan
        .scenarios
        .iter()
        .map(|p| u64::from(options.runs_of(p)) * p.scenario.turns.len() as u64)
        .sum();
    if args.json {
        let out = serde_json::json!({
            "dry_run": true,
            "agent": m.name,
            "environment": m.environment.as_str(),
            "adapter": target.adapter().as_str(),
            "base_url": target.base_url().to_string(),
            "interlock": "allowed",
            "hosts": m.hosts,
            "concurrency": concurrency,
            "policy": options.policy,
            "scenarios": rows,
            "conversations": conversations,
            "customer_turns": turns,
            "controls": planned_controls(plan, controls),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(exit::OK);
    }
    println!("dry run: nothing was sent");
    println!(
        "agent:       {} ({}), model {}/{}@{}",
        m.name,
        m.environment.as_str(),
        m.model.provider,
        m.model.name,
        m.model.version
    );
    println!(
        "target:      {} at {}, allowed by the interlock (declared hosts: {})",
        target.adapter().as_str(),
        target.base_url(),
        m.hosts.join(", ")
    );
    let p = &options.policy;
    println!(
        "policy:      runs needed: critical {}, high {}, medium {}, low {}; failures allowed: {}/{}/{}/{}",
        p.critical.min_runs,
        p.high.min_runs,
        p.medium.min_runs,
        p.low.min_runs,
        p.critical.max_failures,
        p.high.max_failures,
        p.medium.max_failures,
        p.low.max_failures
    );
    println!("concurrency: {concurrency}");
    for (planned, row) in plan.scenarios.iter().zip(&rows) {
        let s = &planned.scenario;
        let fixtures: Vec<&str> = s.setup.iter().map(|f| f.fixture.as_str()).collect();
        println!(
            "  {:<40} {:<10} {:<8} {:>4} runs × {} turn{}{}",
            s.id,
            s.mode.as_str(),
            s.severity.as_str(),
            row["runs"],
            s.turns.len(),
            if s.turns.len() == 1 { "" } else { "s" },
            if fixtures.is_empty() {
                String::new()
            } else {
                format!("  plants: {}", fixtures.join(", "))
            }
        );
    }
    println!("total:       {conversations} conversations, {turns} customer turns");
    for c in planned_controls(plan, controls) {
        println!(
            "control:     {:<17} claimed within {}",
            c["control"].as_str().unwrap_or_default(),
            c["claimed_within"].as_str().unwrap_or("—")
        );
    }
    Ok(exit::OK)
}

/// The control drills a drill would run: selected and declared, with their claims.
fn planned_controls(plan: &DrillPlan, controls: &[ControlKind]) -> Vec<serde_json::Value> {
    let c = &plan.manifest.controls;
    // In the order they run, whatever order `--controls` named them in.
    ControlKind::ALL
        .iter()
        .filter(|k| controls.contains(k) && k.declared_in(&plan.manifest))
        .map(|k| {
            let claim = match k {
                ControlKind::KillSwitch => {
                    c.kill_switch.as_ref().map(|x| x.claimed_within.to_string())
                }
                ControlKind::Handover => c.handover.as_ref().map(|x| x.claimed_within.to_string()),
                ControlKind::ContentRollback => c
                    .content_rollback
                    .as_ref()
                    .map(|x| x.claimed_within.to_string()),
                ControlKind::CommsApproval => c
                    .comms_approval
                    .as_ref()
                    .map(|x| x.claimed_within.to_string()),
                ControlKind::Experiments => None,
            };
            serde_json::json!({"control": k.id(), "claimed_within": claim})
        })
        .collect()
}

/// `--junit` and `--sarif`: written whatever the verdict, so CI can show the failures.
pub struct CiOutputs<'a> {
    pub junit: Option<&'a std::path::Path>,
    pub sarif: Option<&'a std::path::Path>,
}

impl CiOutputs<'_> {
    /// `scenarios` are the scenario files' labels and texts, for SARIF locations.
    pub fn write(
        &self,
        report: &DrillReport,
        scenarios: &[(String, String)],
    ) -> Result<(), CliError> {
        let write = |path: &std::path::Path, text: String| {
            std::fs::write(path, text)
                .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))
        };
        if let Some(path) = self.junit {
            let xml = crate::render::junit::junit_xml(report)
                .map_err(|e| CliError::internal(format!("JUnit XML: {e}")))?;
            write(path, xml)?;
        }
        if let Some(path) = self.sarif {
            let sources: std::collections::BTreeMap<String, String> =
                scenarios.iter().cloned().collect();
            let sarif = crate::render::sarif::sarif(report, &sources);
            write(
                path,
                serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n",
            )?;
        }
        Ok(())
    }
}

/// Records the drill's fingerprints, verdicts and findings in muster.lock.
pub fn record_in_lock(
    path: &std::path::Path,
    plan: &DrillPlan,
    report: &DrillReport,
) -> Result<(), CliError> {
    let catalogue = crate::commands::controls::catalogue()?;
    let mut lock = crate::lockfile::read_lock(path)?;
    let mut outcomes: Vec<muster_assess::ScenarioOutcome> = Vec::new();
    for planned in &plan.scenarios {
        let s = &planned.scenario;
        // From the summary: the report may keep only the runs that decide it.
        let Some(summary) = report.summaries.iter().find(|x| x.id == s.id) else {
            continue;
        };
        if summary.runs == 0 {
            continue;
        }
        let failures = summary.failed;
        // The worst verdict of any run.
        let verdict = if summary.failed > 0 {
            Verdict::Fail
        } else if summary.inconclusive > 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        };
        let reason = report
            .scenarios
            .iter()
            .find(|r| r.id == s.id && r.verdict == verdict)
            .map(|r| r.reason.clone())
            .unwrap_or_default();
        let mut keys = s.taxonomy.clone();
        keys.extend(catalogue.expand(&muster_controls::failure_mode_key(s.mode)));
        if s.vectors
            .contains(&muster_model::scenario::Vector::PromptInjection)
        {
            keys.extend(catalogue.expand(muster_controls::PROMPT_INJECTION_KEY));
        }
        let mut seen = std::collections::BTreeSet::new();
        keys.retain(|k| seen.insert(k.clone()));
        outcomes.push(muster_assess::ScenarioOutcome {
            id: s.id.clone(),
            title: s.title.clone(),
            severity: s.severity,
            mode: s.mode,
            verdict: verdict.as_str().to_owned(),
            runs: summary.runs,
            failures,
            reason,
            keys,
        });
    }
    let set: Vec<(&str, &str)> = plan
        .scenarios
        .iter()
        .map(|p| (p.scenario.id.as_str(), p.digest.as_str()))
        .collect();
    let finished_at = report
        .finished_at
        .parse()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let lock_dir = path.parent().unwrap_or(std::path::Path::new("."));
    let manifest = std::path::Path::new(&plan.manifest_source);
    let manifest = manifest
        .strip_prefix(lock_dir)
        .unwrap_or(manifest)
        .display()
        .to_string();
    lock.record_drill(muster_assess::DrillRecord {
        agent: plan.manifest.name.clone(),
        manifest,
        manifest_digest: format!("sha256:{}", plan.manifest_digest),
        tier: muster_assess::tier(&plan.manifest).0.number(),
        drill_id: report.drill_id.clone(),
        finished_at,
        root_digest: report.root_digest.clone(),
        verdict: report.verdict.as_str().to_owned(),
        scenario_set: muster_assess::scenario_set_digest(&set),
        fingerprints: muster_assess::fingerprint(&plan.manifest),
        outcomes,
    });
    crate::lockfile::write_lock(path, &lock)
}
