//! The OTLP readers over arbitrary bytes, as every body format and as JSON Lines: never panic,
//! and every record is accounted for (mapped or quarantined) with counts matching the items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_ingest::{BodyFormat, Item, JsonLinesReader, ReadStats, otlp};

fn check(items: &[Item], stats: &ReadStats) {
    assert_eq!(
        stats.records,
        stats.records_mapped + stats.records_quarantined,
        "{stats:?}"
    );
    let events = items.iter().filter(|i| i.event().is_some()).count() as u64;
    let quarantined = items.len() as u64 - events;
    assert_eq!(
        (stats.events, stats.quarantined),
        (events, quarantined),
        "{stats:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    for format in [
        BodyFormat::Json,
        BodyFormat::ProtobufTraces,
        BodyFormat::ProtobufLogs,
    ] {
        let (items, stats) = otlp::read_body("fuzz", data, format);
        check(&items, &stats);
    }
    let mut lines = JsonLinesReader::new(data, "fuzz").max_line(4096);
    let items: Vec<Item> = lines.by_ref().collect();
    check(&items, &lines.stats());
});
