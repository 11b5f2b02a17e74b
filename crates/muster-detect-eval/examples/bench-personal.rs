//! Throughput and per-type F1 of the personal-data pass (`muster_detect::pii::find`) on a labelled
//! corpus written by `eval-personal --write-corpus`, for the side-by-side comparison with Presidio
//! (`bench/detect-vs-presidio.sh`).
//!
//! `cargo run --release -p muster-detect-eval --example bench-personal -- CORPUS.jsonl [--passes N]`
//!
//! One thread. One warm-up pass over every message, then `--passes` (default 5) timed passes; the
//! median pass gives messages/s and MB/s (bytes of UTF-8 text). Scores come from
//! `muster_detect_eval::personal::evaluate` (confidence >= `pii::LIKELY` = 0.5, overlap matching).
//! Prints one JSON object on stdout.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::time::Instant;

use muster_detect::Finding;
use muster_detect_eval::personal::{LabelledMessage, evaluate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut path = None;
    let mut passes = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--passes" => passes = args.next().ok_or("--passes needs a value")?.parse()?,
            other if path.is_none() && !other.starts_with("--") => path = Some(other.to_string()),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let path = path.ok_or("usage: bench-personal CORPUS.jsonl [--passes N]")?;
    if passes == 0 {
        return Err("--passes must be at least 1".into());
    }
    let file = std::io::BufReader::new(std::fs::File::open(&path)?);
    let mut messages: Vec<LabelledMessage> = Vec::new();
    for (i, line) in file.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let msg = serde_json::from_str(&line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        messages.push(msg);
    }
    if messages.is_empty() {
        return Err(format!("{path}: no messages").into());
    }
    let bytes: usize = messages.iter().map(|m| m.text.len()).sum();
    let chars: usize = messages.iter().map(|m| m.text.chars().count()).sum();

    let mut found: Vec<Finding> = Vec::new();
    let mut run = || {
        let mut total = 0usize;
        let started = Instant::now();
        for m in &messages {
            found.clear();
            muster_detect::pii::find(&m.text, &mut found);
            total += found.len();
        }
        (started.elapsed().as_secs_f64(), total)
    };
    let (warmup_s, _) = run();
    let mut times = Vec::with_capacity(passes);
    let mut findings = 0;
    for _ in 0..passes {
        let (t, n) = run();
        times.push(t);
        findings = n;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];

    let report = evaluate(&messages);
    let f1: BTreeMap<&str, f64> = report
        .types
        .iter()
        .map(|t| (t.kind.as_str(), t.f1))
        .collect();
    let detail: BTreeMap<&str, serde_json::Value> = report
        .types
        .iter()
        .map(|t| {
            (
                t.kind.as_str(),
                serde_json::json!({
                    "gold": t.gold, "predicted": t.predicted,
                    "precision": t.precision, "recall": t.recall, "f1": t.f1,
                }),
            )
        })
        .collect();
    let out = serde_json::json!({
        "tool": "muster-detect",
        "version": env!("CARGO_PKG_VERSION"),
        "function": "muster_detect::pii::find",
        "threads": 1,
        "messages": messages.len(),
        "bytes": bytes,
        "chars": chars,
        "threshold": report.threshold,
        "warmup_s": warmup_s,
        "passes": passes,
        "pass_s": times,
        "median_s": median,
        "findings_per_pass": findings,
        "msgs_per_s": messages.len() as f64 / median,
        "mb_per_s": bytes as f64 / 1e6 / median,
        "f1_by_type": f1,
        "by_type": detail,
        "all": {"precision": report.all.precision, "recall": report.all.recall, "f1": report.all.f1},
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
