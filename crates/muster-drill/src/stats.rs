//! Small summaries of timings.

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `values` (any order).
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[idx]
        };
        Self {
            count: sorted.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&values);
        assert_eq!((p.p50, p.p99, p.max, p.count), (50.0, 99.0, 100.0, 100));
        assert_eq!(Percentiles::of(&[]).count, 0);
        assert_eq!(Percentiles::of(&[7.0]).p99, 7.0);
    }
}

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score 95% interval for `successes` out of `n` (n > 0), clamped to [0, 1].
pub fn wilson_95(successes: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = f64::from(n);
    let p = f64::from(successes) / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// One-sided 95% upper bound on a failure rate after `failures` in `n` runs: exact (Clopper–Pearson)
/// when nothing failed, `1 - 0.05^(1/n)` (about 3/n, the "rule of three"); the Wilson upper limit
/// otherwise.
pub fn failure_rate_upper_95(failures: u32, n: u32) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if failures == 0 {
        1.0 - 0.05_f64.powf(1.0 / f64::from(n))
    } else {
        wilson_95(failures, n).1
    }
}

#[cfg(test)]
mod interval_tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0–0.1611.
        let close =
            |(a, b): (f64, f64), (x, y): (f64, f64)| (a - x).abs() < 5e-4 && (b - y).abs() < 5e-4;
        assert!(
            close(wilson_95(81, 263), (0.2553, 0.3662)),
            "{:?}",
            wilson_95(81, 263)
        );
        assert!(
            close(wilson_95(15, 148), (0.0624, 0.1605)),
            "{:?}",
            wilson_95(15, 148)
        );
        assert!(
            close(wilson_95(0, 20), (0.0, 0.1611)),
            "{:?}",
            wilson_95(0, 20)
        );
        assert_eq!(wilson_95(5, 5).1, 1.0);
    }

    #[test]
    fn zero_failures_in_30_runs_bounds_the_rate_below_ten_percent() {
        let u = failure_rate_upper_95(0, 30);
        assert!((u - 0.0950).abs() < 5e-4, "{u}");
        assert!(failure_rate_upper_95(0, 300) < 0.01);
        assert!(failure_rate_upper_95(3, 30) > 3.0 / 30.0);
    }

    /// Over many seeded experiments the interval must contain the true rate about 95% of the
    /// time: between 90% and 99%, for rates and run counts a drill sees.
    #[test]
    fn the_interval_covers_the_true_rate_about_95_percent_of_the_time() {
        for (rate, n) in [(0.5, 30), (0.8, 30), (0.9, 50), (0.95, 100), (0.7, 10)] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let trials = 400;
            let covered = (0..trials)
                .filter(|_| {
                    let successes = (0..n).filter(|_| rng.random_bool(rate)).count() as u32;
                    let (lo, hi) = wilson_95(successes, n);
                    lo <= rate && rate <= hi
                })
                .count();
            let coverage = covered as f64 / f64::from(trials);
            assert!(
                (0.90..=0.99).contains(&coverage),
                "rate {rate}, n {n}: coverage {coverage}"
            );
        }
    }
}
