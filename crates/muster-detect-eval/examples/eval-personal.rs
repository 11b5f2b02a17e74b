//! Generates the personal-data corpus, scores `muster_detect::pii::find` on it and prints the table.
//!
//! `cargo run --release -p muster-detect-eval --example eval-personal -- [--seed N] [--n N] [--json]
//! [--write-corpus PATH] [--misses TYPE]`
//!
//! `--misses TYPE` prints the first missed gold spans and false positives of that type instead.

use std::io::Write;
use std::time::Instant;

use muster_detect_eval::personal::{corpus, evaluate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seed = 1u64;
    let mut n = 10_000usize;
    let mut json = false;
    let mut write = None;
    let mut misses = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().ok_or("--seed needs a value")?.parse()?,
            "--n" => n = args.next().ok_or("--n needs a value")?.parse()?,
            "--json" => json = true,
            "--write-corpus" => write = Some(args.next().ok_or("--write-corpus needs a path")?),
            "--misses" => misses = Some(args.next().ok_or("--misses needs a type")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let messages = corpus(seed, n);
    if let Some(path) = write {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for m in &messages {
            serde_json::to_writer(&mut file, m)?;
            file.write_all(b"\n")?;
        }
        file.flush()?;
        eprintln!("wrote {} messages to {path}", messages.len());
    }
    if let Some(kind) = misses {
        print_misses(&messages, &kind);
        return Ok(());
    }
    let started = Instant::now();
    let report = evaluate(&messages);
    let took = started.elapsed();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("seed {seed}, n {n}");
        print!("{report}");
        let bytes: usize = messages.iter().map(|m| m.text.len()).sum();
        println!("scored {bytes} bytes in {:.1} ms", took.as_secs_f64() * 1e3);
    }
    Ok(())
}

fn print_misses(messages: &[muster_detect_eval::personal::LabelledMessage], kind: &str) {
    let mut shown = 0;
    for m in messages {
        let mut found = Vec::new();
        muster_detect::pii::find(&m.text, &mut found);
        let preds: Vec<(usize, usize)> = found
            .iter()
            .filter(|f| f.confidence >= muster_detect::pii::LIKELY && f.kind.name() == kind)
            .map(|f| (f.start, f.end))
            .collect();
        for g in m.entities.iter().filter(|e| e.kind == kind) {
            if !preds.iter().any(|p| p.0 < g.end && g.start < p.1) {
                println!("MISS {:?} in {:?}", &m.text[g.start..g.end], m.text);
                shown += 1;
            }
        }
        for p in &preds {
            if !m
                .entities
                .iter()
                .any(|g| g.kind == kind && p.0 < g.end && g.start < p.1)
            {
                println!("FP   {:?} in {:?}", &m.text[p.0..p.1], m.text);
                shown += 1;
            }
        }
        if shown > 40 {
            break;
        }
    }
}
