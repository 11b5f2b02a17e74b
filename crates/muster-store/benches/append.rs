//! Evidence store append cost: serial appends, and appends from concurrent conversations (group
//! commit). Run with `cargo bench -p muster-store --bench append`.

use std::sync::Arc;
use std::time::Instant;

use muster_evidence::EventDraft;
use muster_store::{DrillHeader, EvidenceStore, SqliteStore, StoreError};

fn turn(i: i64, body: &serde_json::Value) -> Vec<EventDraft> {
    (0..4)
        .map(|k| {
            EventDraft::new("agent.exchange", i)
                .field("exchange", body.clone())
                .field("part", k)
        })
        .collect()
}

async fn run() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("evidence.db")).await?);
    let header = DrillHeader {
        id: "bench".into(),
        started_at_ns: 1,
        agent: "a".into(),
        environment: "sandbox".into(),
        manifest_digest: "m".into(),
        muster_version: "0".into(),
    };
    store.begin_drill(&header).await?;
    let body = serde_json::json!({"reply": "x".repeat(400), "tool_calls": [{"name": "process_return", "arguments": {"amount": 749}}]});
    let mut medians = Vec::new();
    for concurrency in [1usize, 10, 50] {
        let mut rounds = Vec::new();
        for round in 0..5 {
            let per_task = 2000 / concurrency;
            let started = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for c in 0..concurrency {
                let store = store.clone();
                let body = body.clone();
                tasks.spawn(async move {
                    for i in 0..per_task {
                        store
                            .append(
                                "bench",
                                &format!("r{round}/c{concurrency}/{c}"),
                                turn(i as i64, &body),
                            )
                            .await?;
                    }
                    Ok::<(), StoreError>(())
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.map_err(|e| StoreError::Corrupt(e.to_string()))??;
            }
            rounds.push(started.elapsed().as_secs_f64() * 1e6 / (per_task * concurrency) as f64);
        }
        rounds.sort_by(f64::total_cmp);
        medians.push((concurrency, rounds[rounds.len() / 2]));
    }
    for (concurrency, us) in medians {
        println!(
            "{concurrency:>3} writers: median {us:>7.1} µs per append of 4 events ({:>6.0} events/s)",
            4.0 * 1e6 / us
        );
    }
    Ok(())
}

fn main() {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}
