//! `scan` over every family on the throughput bench's messages, for instruction counts that the
//! machine's load does not move:
//!
//! ```sh
//! cargo build --release -p muster-detect --example scan-callgrind
//! N=24000 valgrind --tool=callgrind --toggle-collect='scan_callgrind::measure' \
//!     target/release/examples/scan-callgrind            # WHOLE=1: the messages as one text
//! ```
//!
//! A warm-up pass first builds the patterns and the lazy DFAs' states, outside `measure`.

use std::hint::black_box;

use muster_detect::{Families, scan};

include!("../benches/common/messages.rs");

/// `n` messages, one `scan` each, or (`WHOLE` set) one `scan` of them joined by line breaks.
#[inline(never)]
fn measure(n: usize) -> usize {
    let messages = MESSAGES.iter().cycle().take(n);
    if std::env::var_os("WHOLE").is_some() {
        let text: String = messages.flat_map(|m| [*m, "\n"]).collect();
        return scan(black_box(&text), Families::ALL).len();
    }
    messages
        .map(|m| scan(black_box(m), Families::ALL).len())
        .sum()
}

fn main() {
    let n = std::env::var("N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24_000);
    let warm: usize = MESSAGES.iter().map(|m| scan(m, Families::ALL).len()).sum();
    let found = measure(n);
    let bytes: usize = MESSAGES.iter().cycle().take(n).map(|m| m.len() + 1).sum();
    println!("{found} findings in {bytes} bytes ({warm} in the warm-up)");
}
