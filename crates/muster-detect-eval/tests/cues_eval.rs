//! Escalation cues and commitments against hand-labelled sets; bars on the held-out split.

use muster_detect_eval::cues::{LabelledReport, evaluate_commitments, evaluate_cues};

// Bars a little under what the rules reach on the held-out split (cues: P 0.910, R 0.968;
// commitments: P 0.962, R 0.962, 52 gold labels). The sets and the rules share an author, so
// these figures are likely optimistic for other phrasings.
const CUE_P: f64 = 0.88;
const CUE_R: f64 = 0.93;
const COMMIT_P: f64 = 0.92;
const COMMIT_R: f64 = 0.92;

fn label<'r>(report: &'r LabelledReport, name: &str) -> &'r muster_detect_eval::cues::LabelScore {
    match report.test.per_label.iter().find(|l| l.label == name) {
        Some(l) => l,
        None => panic!("no label {name}"),
    }
}

#[test]
fn sets_are_large_enough_and_split() {
    let cues = evaluate_cues();
    let commitments = evaluate_commitments();
    assert!(cues.all.items >= 300, "{}", cues.all.items);
    assert!(commitments.all.items >= 300, "{}", commitments.all.items);
    assert!(cues.test.items * 4 >= cues.all.items);
    assert!(commitments.test.items * 4 >= commitments.all.items);
}

#[test]
fn cue_precision_and_recall_on_held_out() {
    let report = evaluate_cues();
    assert!(report.test.overall.precision >= CUE_P, "{report}");
    assert!(report.test.overall.recall >= CUE_R, "{report}");
    // Crisis language must never be missed on the held-out split.
    assert!(label(&report, "crisis").recall >= 1.0, "{report}");
}

#[test]
fn commitment_precision_and_recall_on_held_out() {
    let report = evaluate_commitments();
    assert!(report.test.overall.precision >= COMMIT_P, "{report}");
    assert!(report.test.overall.recall >= COMMIT_R, "{report}");
}

#[test]
fn reports_serialise_and_print() {
    let report = evaluate_commitments();
    assert!(
        serde_json::to_string(&report)
            .unwrap_or_default()
            .contains("per_label")
    );
    assert!(report.to_string().contains("Held-out"));
}
