//! Packing a drill of ~10,000 events, PDF included: `cargo bench -p muster-pack --bench pack`.
//!
//! The drill is the integration tests' synthetic one (a real SQLite store, built once and not
//! timed). Each round times what `muster pack` does after reading the store: assemble the pack,
//! write evidence.jsonl (with the personal-data check of every field), the charts, index.html,
//! pack.pdf (with the `pdf` feature; Typst's memo cache is emptied before each round, so every
//! render is cold, as in a `muster pack` process) and the signed manifest. Prints each round and
//! the median.
//! `CONVERSATIONS=N` changes the size (five or six events each; 1,800 give ~10,200 events);
//! `ROUNDS=N` the rounds; `KEEP=DIR` keeps the last round's pack there (bench/pack.sh uses it).

// A benchmark on synthetic data it builds itself: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/integration/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::time::Instant;

use muster_store::EvidenceStore;

fn main() {
    let conversations: usize = std::env::var("CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1800);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let drill = runtime.block_on(fixture::drill(conversations));
    let sealed = drill.sealed();
    let keys = tempfile::tempdir().expect("a temporary directory");
    let key = fixture::key(keys.path(), fixture::KEY_A, "key");
    let manifest = fixture::reference_manifest();
    let catalogue = muster_controls::Catalogue::builtin().expect("the built-in control map");
    let fingerprint = key.fingerprint();
    println!(
        "drill: {} events, {} conversations; pdf: {}",
        sealed.len(),
        conversations,
        muster_pack::renders_pdf()
    );
    let mut totals = Vec::new();
    let mut pdfs = Vec::new();
    for round in 0..rounds {
        let out = tempfile::tempdir().expect("a temporary directory");
        #[cfg(feature = "pdf")]
        muster_pdf::forget_memoised();
        let started = Instant::now();
        // What `muster pack` reads from the store: the events and the chain check.
        let (events, verify) = runtime.block_on(async {
            let events = drill
                ._store
                .events(fixture::DRILL_ID)
                .await
                .expect("events");
            let verify = drill
                ._store
                .verify(fixture::DRILL_ID)
                .await
                .expect("verify");
            (events, verify.report)
        });
        let read_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut input = drill.input(Some(&manifest), Some(&catalogue), &fingerprint);
        input.events = &events;
        input.verify = Some(&verify);
        let pack = muster_pack::assemble(&input);
        let sealed: Vec<_> = events
            .iter()
            .chain(drill.addenda.iter())
            .map(|e| e.event.clone())
            .collect();
        let written = muster_pack::write_pack(
            &out.path().join("pack"),
            pack,
            muster_pack::PackEvidence {
                drill: &sealed,
                exercise_log: &[],
            },
            &key,
            muster_pack::WriteOptions {
                include_raw: false,
                pdf: muster_pack::renders_pdf(),
            },
        )
        .expect("the pack is written");
        let total = started.elapsed().as_secs_f64() * 1000.0;
        let bytes: u64 = written.files.iter().map(|(_, b)| b).sum();
        println!(
            "round {round}: {total:.0} ms in all, of which reading the store {read_ms:.0} ms, PDF {:.0} ms; {} files, {:.1} MB",
            written.pdf_ms.unwrap_or(0.0),
            written.files.len(),
            bytes as f64 / 1e6
        );
        totals.push(total);
        pdfs.push(written.pdf_ms.unwrap_or(0.0));
        if round + 1 == rounds
            && let Some(keep) = std::env::var_os("KEEP")
        {
            let keep = std::path::PathBuf::from(keep);
            let _ = std::fs::remove_dir_all(&keep);
            std::fs::rename(out.path().join("pack"), &keep)
                .or_else(|_| copy_dir(&out.path().join("pack"), &keep))
                .expect("the pack is kept");
            println!("kept the last pack in {}", keep.display());
        }
    }
    println!(
        "median of {rounds}: {:.0} ms to pack {} events (PDF {:.0} ms); target under 2,000 ms",
        median(&mut totals),
        sealed.len(),
        median(&mut pdfs)
    );
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
