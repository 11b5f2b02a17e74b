//! The personal-data detectors must reach their F1 bars on the generated corpus, for several seeds.

use muster_detect::PiiKind;
use muster_detect_eval::personal::{bar, corpus, evaluate};

#[test]
fn personal_data_bars_hold_on_three_seeds() {
    for seed in [1u64, 2, 3] {
        let report = evaluate(&corpus(seed, 5_000));
        for kind in PiiKind::ALL {
            let score = report
                .get(kind)
                .unwrap_or_else(|| panic!("no score for {}", kind.as_str()));
            assert!(score.gold > 0, "seed {seed}: no gold {}", kind.as_str());
            assert!(
                score.f1 >= bar(kind),
                "seed {seed}: {} F1 {:.3} below {}\n{report}",
                kind.as_str(),
                score.f1,
                bar(kind)
            );
        }
    }
}
