use muster_store::{DrillRecord, StoredVerify};
use serde_json::json;

use crate::cli::{ListArgs, StoreCommand, VerifyArgs};
use crate::context::Context;
use crate::error::{CliError, exit};

pub async fn run(ctx: &Context, command: &StoreCommand) -> Result<u8, CliError> {
    ctx.require_store()?;
    let store = ctx.open_store().await?;
    match command {
        StoreCommand::Verify(args) => verify(ctx, &*store, args).await,
        StoreCommand::List(args) => list(&*store, args).await,
    }
}

fn time(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns)).map_or_else(
        |_| ns.to_string(),
        |t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

fn record_json(d: &DrillRecord) -> serde_json::Value {
    json!({
        "id": d.header.id,
        "agent": d.header.agent,
        "environment": d.header.environment,
        "started_at_ns": d.header.started_at_ns,
        "finished_at_ns": d.finished_at_ns,
        "status": d.status.as_str(),
        "events": d.events,
        "root_digest": d.root.map(|r| r.to_hex()),
        "verdict": d.summary.as_ref().and_then(|s| s.get("verdict")).cloned(),
    })
}

async fn list(store: &dyn muster_store::Store, args: &ListArgs) -> Result<u8, CliError> {
    let drills = store.drills().await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&drills.iter().map(record_json).collect::<Vec<_>>())
                .unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    if drills.is_empty() {
        println!("no drills yet");
    }
    for d in &drills {
        let verdict = d
            .summary
            .as_ref()
            .and_then(|s| s.get("verdict"))
            .and_then(|v| v.as_str())
            .unwrap_or("-");
        println!(
            "{}  {}  {:<18} {:<11} {:<12} {:>5} events",
            d.header.id,
            time(d.header.started_at_ns),
            d.header.agent,
            d.status.as_str(),
            verdict,
            d.events
        );
    }
    Ok(exit::OK)
}

fn verify_json(v: &StoredVerify) -> serde_json::Value {
    json!({
        "drill": v.drill.header.id,
        "status": v.drill.status.as_str(),
        "intact": v.report.is_intact(),
        "events_checked": v.report.events_checked,
        "streams_checked": v.report.streams_checked,
        "problems": v.report.problems.iter().map(|p| json!({
            "stream": p.stream,
            "seq": p.seq,
            "event_id": p.seq.and_then(|s| v.event_id(&p.stream, s)),
            "problem": p.to_string(),
        })).collect::<Vec<_>>(),
    })
}

async fn verify(
    ctx: &Context,
    store: &dyn muster_store::Store,
    args: &VerifyArgs,
) -> Result<u8, CliError> {
    let ids: Vec<String> = match &args.drill {
        Some(prefix) => vec![store.drill(prefix).await?.header.id],
        None => store
            .drills()
            .await?
            .into_iter()
            .map(|d| d.header.id)
            .collect(),
    };
    let mut results = Vec::new();
    for id in &ids {
        results.push(store.verify(id).await?);
    }
    // Ingested sources are checked with every drill (not when one drill is named).
    let sources = if args.drill.is_none() {
        store.verify_sources().await?
    } else {
        Vec::new()
    };
    let tampered = results.iter().filter(|v| !v.report.is_intact()).count()
        + sources.iter().filter(|s| !s.report.is_intact()).count();
    if args.json {
        let sources_json: Vec<serde_json::Value> = sources
            .iter()
            .map(|s| {
                json!({
                    "source": s.source,
                    "intact": s.report.is_intact(),
                    "events_checked": s.report.events_checked,
                    "problems": s.report.problems.iter().map(|p| json!({"seq": p.seq, "problem": p.to_string()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json!({"store": ctx.store.describe(), "drills": results.iter().map(verify_json).collect::<Vec<_>>(), "sources": sources_json})).unwrap_or_default());
    } else {
        for s in &sources {
            if s.report.is_intact() {
                println!(
                    "ok        source `{}`  {} ingested events, chain intact",
                    s.source, s.report.events_checked
                );
            } else {
                println!(
                    "TAMPERED  source `{}`  {} problem{}",
                    s.source,
                    s.report.problems.len(),
                    if s.report.problems.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                );
                for p in &s.report.problems {
                    println!("          {p}");
                }
            }
        }
        for v in &results {
            let r = &v.report;
            if r.is_intact() {
                let note = if v.drill.status == muster_store::DrillStatus::Running {
                    " (never sealed: links checked)"
                } else {
                    ""
                };
                println!(
                    "ok        {}  {} events in {} streams, chain and root intact{note}",
                    v.drill.header.id, r.events_checked, r.streams_checked
                );
            } else {
                println!(
                    "TAMPERED  {}  {} problem{}",
                    v.drill.header.id,
                    r.problems.len(),
                    if r.problems.len() == 1 { "" } else { "s" }
                );
                for p in r
                    .problems
                    .iter()
                    .filter(|p| p.kind != muster_evidence::ProblemKind::Unsealed)
                {
                    let id = p
                        .seq
                        .and_then(|s| v.event_id(&p.stream, s))
                        .map(|id| format!(" [event {id}]"))
                        .unwrap_or_default();
                    println!("          {p}{id}");
                }
            }
        }
        if results.is_empty() && sources.is_empty() {
            println!("no drills in {}", ctx.store.describe());
        }
    }
    Ok(if tampered > 0 { exit::FAILED } else { exit::OK })
}
