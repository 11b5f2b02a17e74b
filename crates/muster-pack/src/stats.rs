//! Intervals for pass rates.

/// The 95 % Wilson score interval for `passed` of `judged` runs (`judged` > 0), each end rounded
/// to four places so the pack is stable across platforms.
pub fn wilson(passed: u64, judged: u64) -> [f64; 2] {
    const Z: f64 = 1.959_963_984_540_054;
    let n = judged as f64;
    let p = passed as f64 / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * ((p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt()) / (1.0 + z2 / n);
    let round = |x: f64| (x.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0;
    [round(centre - half), round(centre + half)]
}

#[cfg(test)]
mod tests {
    use super::wilson;

    #[test]
    fn wilson_matches_the_textbook_values() {
        // 0 of 10: [0, 0.2775]; 10 of 10: [0.7225, 1]; 5 of 10: [0.2366, 0.7634].
        assert_eq!(wilson(0, 10), [0.0, 0.2775]);
        assert_eq!(wilson(10, 10), [0.7225, 1.0]);
        assert_eq!(wilson(5, 10), [0.2366, 0.7634]);
    }
}
