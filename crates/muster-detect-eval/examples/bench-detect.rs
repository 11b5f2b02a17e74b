//! Throughput of the injection, escalation and commitment detectors on chat-like text:
//! `cargo run --release -p muster-detect-eval --example bench-detect [-- MEGABYTES]`.
//!
//! The corpus is customer messages and agent replies from the labelled sets, joined as chat turns
//! and repeated (seeded shuffle) to the requested size; each detector runs over each turn, or with
//! `--transcripts` over each 30-turn transcript. The labelled sets are dense by design (nearly every
//! line holds a cue, a commitment or a hard negative built on trigger words), so this is a
//! pessimistic corpus for the trigger-word prefilters. `--mixed` takes the customer turns from the
//! synthetic service requests of the injection evaluation instead.

use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

const CUES: &str = include_str!("../data/cues/customer-messages.jsonl");
const REPLIES: &str = include_str!("../data/cues/commitment-replies.jsonl");
const CONTENT: &str = include_str!("../data/injection/customer-content.json");

/// The body sentences of the synthetic customer content (ordinary service requests).
fn bodies() -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(CONTENT).unwrap_or_default();
    value
        .get("bodies")
        .and_then(|b| b.as_object())
        .map(|b| {
            b.values()
                .filter_map(|v| v.as_array())
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn texts(data: &str) -> Vec<String> {
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
        .collect()
}

fn main() {
    let mb: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20);
    // Default: customer messages and agent replies from the labelled sets (dense in trigger
    // words). `--mixed`: customer turns from the synthetic service requests instead.
    let mixed = std::env::args().any(|a| a == "--mixed");
    let mut pool = if mixed { bodies() } else { texts(CUES) };
    pool.extend(texts(REPLIES));
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // Turns of one to three messages, like a chat transcript.
    let mut turns = Vec::new();
    let mut size = 0;
    while size < mb * 1_000_000 {
        pool.shuffle(&mut rng);
        for chunk in pool.chunks(2) {
            let t = chunk.join(" ");
            size += t.len();
            turns.push(t);
        }
    }
    let mb = size as f64 / 1e6;
    // The same turns as whole transcripts of 30 turns, one call per transcript.
    let transcripts: Vec<String> = turns.chunks(30).map(|c| c.join("\n")).collect();
    let per_turn = std::env::args().all(|a| a != "--transcripts");
    let turns = if per_turn { turns } else { transcripts };
    println!(
        "{} calls of {:.0} bytes on average ({})",
        turns.len(),
        size as f64 / turns.len() as f64,
        if per_turn {
            "one call per chat turn"
        } else {
            "one call per 30-turn transcript"
        }
    );
    let run = |name: &str, f: &dyn Fn(&str, &mut Vec<muster_detect::Finding>)| {
        let mut out = Vec::new();
        let mut found = 0usize;
        let start = Instant::now();
        for t in &turns {
            out.clear();
            f(t, &mut out);
            found += out.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name:<12} {mb:>7.1} MB in {secs:>6.3} s = {:>7.1} MB/s ({found} findings)",
            mb / secs
        );
    };
    run("injection", &|t, o| muster_detect::injection::find(t, o));
    run("escalation", &|t, o| muster_detect::escalation::find(t, o));
    run("commitment", &|t, o| {
        for c in muster_detect::commitments(t) {
            o.push(muster_detect::Finding {
                kind: muster_detect::FindingKind::Commitment(c.topic),
                start: c.span.start,
                end: c.span.end,
                confidence: 0.8,
                validator: None,
            });
        }
    });
    run("all three", &|t, o| {
        muster_detect::injection::find(t, o);
        muster_detect::escalation::find(t, o);
        for c in muster_detect::commitments(t) {
            o.push(muster_detect::Finding {
                kind: muster_detect::FindingKind::Commitment(c.topic),
                start: c.span.start,
                end: c.span.end,
                confidence: 0.8,
                validator: None,
            });
        }
    });
}
