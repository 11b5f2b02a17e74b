//! Prints the injection evaluation: `cargo run --release -p muster-detect-eval --example
//! eval-injection [-- --json] [--seed N] [--data DIR]`.

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let seed = value("--seed").and_then(|s| s.parse().ok()).unwrap_or(7);
    let dir = value("--data").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/eval-data/prompt-injection"
            ))
        },
        PathBuf::from,
    );
    match muster_detect_eval::injection::evaluate_injection(&dir, seed) {
        Ok(report) if json => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
