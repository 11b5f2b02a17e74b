//! Prints the escalation-cue and commitment evaluations: `cargo run --release -p
//! muster-detect-eval --example eval-cues [-- --json]`.

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let cues = muster_detect_eval::cues::evaluate_cues();
    let commitments = muster_detect_eval::cues::evaluate_commitments();
    if json {
        let value = serde_json::json!({ "cues": cues, "commitments": commitments });
        match serde_json::to_string_pretty(&value) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    } else {
        print!("{cues}\n{commitments}");
    }
}
