//! Prints every finding `scan` (all families), `commitments`, `refusals` and `escalation::cues`
//! return over a fixed, varied corpus, one line per finding: a change meant to alter speed only
//! must leave this output byte-for-byte the same (`diff` two runs).
//!
//! `cargo run --release -p muster-detect-eval --example scan-digest [-- --data DIR] > out.txt`
//!
//! The corpus: every string in the labelled sets, the injection content pieces and the BIPIA and
//! NotInject files; the same joined into pairs and 30-line transcripts; the personal-data corpus of
//! two seeds; and seeded mixtures of all of it with characters whose lower case changes length,
//! typographic quotes, invisible characters and sentence breaks.

use std::path::PathBuf;

use muster_detect::{Families, FindingKind, escalation, scan};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FILES: &[&str] = &[
    include_str!("../data/cues/customer-messages.jsonl"),
    include_str!("../data/cues/commitment-replies.jsonl"),
    include_str!("../data/injection/muster-attacks.jsonl"),
    include_str!("../data/injection/benign-hard.jsonl"),
    include_str!("../data/injection/customer-content.json"),
];

fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn parse_all(data: &str, out: &mut Vec<String>) {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
        strings(&v, out);
        return;
    }
    for line in data.lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            strings(&v, out);
        }
    }
}

const TRICKY: &[&str] = &[
    "\u{200B}",
    "\u{200D}",
    "\u{E0041}",
    "\u{FEFF}",
    "£",
    "’",
    "‘",
    "“",
    "”",
    "İ",
    "Ⱥ",
    "ẞ",
    "Σ",
    "ǅ",
    "K",
    ". ",
    "? ",
    "! ",
    "; ",
    ": ",
    ":\n",
    "\n",
    " — ",
    " – ",
    "<script>",
    "```",
    "](",
    "e.g. ",
    "£1.50",
    "I'M",
    "WE'LL",
    "DON’T",
    "CAN’T",
    "Ⅻ",
    "ﬁ",
    "\u{301}",
    "ß",
    "Straße",
];

fn main() {
    let data: PathBuf = std::env::args()
        .skip_while(|a| a != "--data")
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/eval-data/prompt-injection"
            ))
        });
    let mut texts = Vec::new();
    for f in FILES {
        parse_all(f, &mut texts);
    }
    for name in [
        "BIPIA_text.json",
        "BIPIA_code.json",
        "NotInject_one.json",
        "NotInject_two.json",
        "NotInject_three.json",
    ] {
        if let Ok(s) = std::fs::read_to_string(data.join(name)) {
            parse_all(&s, &mut texts);
        } else {
            eprintln!("missing {name}");
        }
    }
    let labelled = texts.len();
    for seed in [1, 2] {
        for m in muster_detect_eval::personal::corpus(seed, 3000) {
            texts.push(m.text);
        }
    }
    let base = texts.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut pool = base[..labelled].to_vec();
    pool.shuffle(&mut rng);
    for pair in pool.chunks(2) {
        texts.push(pair.join(" "));
    }
    for chunk in pool.chunks(30) {
        texts.push(chunk.join("\n"));
    }
    // Mixtures: pieces of real text, cut at any character, with tricky characters between.
    for _ in 0..40_000 {
        let mut s = String::new();
        for _ in 0..rng.random_range(1..8) {
            if rng.random_bool(0.4) {
                s.push_str(TRICKY[rng.random_range(0..TRICKY.len())]);
            } else {
                let t = &base[rng.random_range(0..base.len())];
                let chars: Vec<(usize, char)> = t.char_indices().collect();
                if chars.is_empty() {
                    continue;
                }
                // Half whole texts, half fragments cut at any character.
                let (a, b) = if rng.random_bool(0.5) {
                    (0, chars.len())
                } else {
                    let a = rng.random_range(0..chars.len());
                    (a, rng.random_range(a..=chars.len()))
                };
                let start = chars[a].0;
                let end = chars.get(b).map_or(t.len(), |c| c.0);
                let piece = &t[start..end];
                if rng.random_bool(0.2) {
                    s.push_str(&piece.to_uppercase());
                } else {
                    s.push_str(piece);
                }
            }
        }
        texts.push(s);
    }
    let mut lines = 0usize;
    for (i, t) in texts.iter().enumerate() {
        for f in scan(t, Families::ALL) {
            let kind = match f.kind {
                FindingKind::Personal(k) => format!("pii:{}", k.as_str()),
                FindingKind::Injection(k) => format!("inj:{}", k.as_str()),
                FindingKind::Commitment(k) => format!("com:{}", k.as_str()),
                FindingKind::Escalation(k) => format!("esc:{}", k.as_str()),
            };
            println!(
                "{i} {kind} {}..{} {:.3} {:?}",
                f.start, f.end, f.confidence, f.validator
            );
            lines += 1;
        }
        for c in muster_detect::commitments(t) {
            println!("{i} commitments {} {:?}", c.topic.as_str(), c.span);
        }
        for r in muster_detect::refusals(t) {
            println!("{i} refusal {:?}", r.span);
        }
        let cues: Vec<&str> = escalation::cues(t).iter().map(|k| k.as_str()).collect();
        if !cues.is_empty() {
            println!("{i} cues {cues:?} {:?}", escalation::urgency(t));
        }
    }
    eprintln!("{} texts, {lines} scan findings", texts.len());
}
