//! Throughput of the personal-data pass and of `scan` over every family, on ~20 MB of chat-like
//! text built from a fixed set of realistic support messages. Prints the median MB/s of 5 runs by
//! the wall clock and, after it, the median by this thread's CPU time, which the other processes on
//! a shared machine move much less.
//!
//! `cargo bench -p muster-detect --bench throughput` (set `PII_ONLY=1` to skip `scan`, e.g. to
//! profile the personal-data pass alone; `SCAN_ONLY=1` to time only `scan` message by message)

use std::hint::black_box;
use std::time::Instant;

use muster_detect::{Families, Family, scan};

include!("common/messages.rs");

/// Nanoseconds this thread has spent on a CPU (Linux `schedstat`), if the kernel says. On a shared
/// machine the wall clock also counts the time other processes held the CPU; this does not.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// The median MB/s of 5 passes by the wall clock, and by this thread's CPU time when known (as
/// text to print after the figure).
fn median_mbps(text: &str, mut pass: impl FnMut(&str) -> usize) -> (f64, usize, String) {
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let cpu_start = cpu_ns();
        let start = Instant::now();
        found = black_box(pass(black_box(text)));
        let secs = start.elapsed().as_secs_f64();
        rates.push(text.len() as f64 / 1e6 / secs);
        if let (Some(a), Some(b)) = (cpu_start, cpu_ns())
            && b > a
        {
            cpu_rates.push(text.len() as f64 / 1e6 / ((b - a) as f64 / 1e9));
        }
    }
    rates.sort_by(f64::total_cmp);
    cpu_rates.sort_by(f64::total_cmp);
    let cpu = match cpu_rates.get(cpu_rates.len() / 2) {
        Some(cpu) if cpu_rates.len() == 5 => format!("; {cpu:.1} MB/s per CPU-second"),
        _ => String::new(),
    };
    (rates[2], found, cpu)
}

fn main() {
    let mut text = String::with_capacity(21_000_000);
    let mut i = 0;
    while text.len() < 20_000_000 {
        text.push_str(MESSAGES[i % MESSAGES.len()]);
        text.push('\n');
        i += 1;
    }
    let mb = text.len() as f64 / 1e6;
    let mut out = Vec::with_capacity(1 << 20);
    let lines: Vec<&str> = text.lines().collect();
    if std::env::var_os("SCAN_ONLY").is_some() {
        let (rate, _, cpu) = median_mbps(&text, |_| {
            lines.iter().map(|l| scan(l, Families::ALL).len()).sum()
        });
        println!("scan(.., Families::ALL), message by message: {rate:.1} MB/s median of 5{cpu}");
        return;
    }
    let (pii, n_pii, cpu) = median_mbps(&text, |t| {
        out.clear();
        muster_detect::pii::find(t, &mut out);
        out.len()
    });
    println!(
        "personal-data pass, one 20 MB text: {pii:.0} MB/s median of 5 ({n_pii} findings, {mb:.1} MB{cpu})"
    );
    let (per_msg, n_msg, cpu) = median_mbps(&text, |_| {
        let mut n = 0;
        for line in &lines {
            out.clear();
            muster_detect::pii::find(line, &mut out);
            n += out.len();
        }
        n
    });
    println!(
        "personal-data pass, message by message: {per_msg:.0} MB/s median of 5 ({n_msg} findings{cpu})"
    );
    if std::env::var_os("PII_ONLY").is_some() {
        return;
    }
    let (all, n_all, cpu) = median_mbps(&text, |t| scan(t, Families::ALL).len());
    println!(
        "scan(.., Families::ALL), one 20 MB text: {all:.1} MB/s median of 5 ({n_all} findings{cpu})"
    );
    let (all_msg, n_all_msg, cpu) = median_mbps(&text, |_| {
        lines.iter().map(|l| scan(l, Families::ALL).len()).sum()
    });
    println!(
        "scan(.., Families::ALL), message by message: {all_msg:.1} MB/s median of 5 ({n_all_msg} findings{cpu})"
    );
    for family in [Family::Injection, Family::Commitment, Family::Escalation] {
        let (rate, n, cpu) = median_mbps(&text, |_| {
            lines
                .iter()
                .map(|l| scan(l, Families::only(family)).len())
                .sum()
        });
        println!(
            "scan(.., {}) alone, message by message: {rate:.1} MB/s median of 5 ({n} findings{cpu})",
            family.as_str()
        );
    }
}
