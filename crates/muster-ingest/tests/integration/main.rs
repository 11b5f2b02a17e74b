//! Integration tests for muster-ingest: the captured fixtures (copied into `tests/data/` from
//! `../shared/fixtures/`), synthetic records for the conventions no fixture covers, malformed
//! inputs, and property tests.

// A failed expectation in a test is meant to panic.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod agents;
mod azure_foundry;
mod bedrock;
mod conventions;
mod fixtures;
mod generic;
mod helpdesk;
mod langfuse;
mod langsmith;
mod leniency;
mod malformed;
mod model_logs;
mod monitoring;
mod props;

use muster_ingest::{BodyFormat, EventKind, EvidenceEvent, Item, Quarantined, ReadStats, otlp};

pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn format_of(name: &str) -> BodyFormat {
    match (name.ends_with(".pb"), name.contains("logs")) {
        (true, true) => BodyFormat::ProtobufLogs,
        (true, false) => BodyFormat::ProtobufTraces,
        _ => BodyFormat::Json,
    }
}

/// Read a fixture body; the origin is its file name so snapshots do not depend on paths.
pub fn read(name: &str) -> (Vec<Item>, ReadStats) {
    let (items, stats) = otlp::read_body(name, &data(name), format_of(name));
    check_accounting(&items, &stats);
    (items, stats)
}

pub fn read_bytes(bytes: &[u8], format: BodyFormat) -> (Vec<Item>, ReadStats) {
    let (items, stats) = otlp::read_body("test", bytes, format);
    check_accounting(&items, &stats);
    (items, stats)
}

/// Every record is accounted for, and the counts match what was yielded.
pub fn check_accounting(items: &[Item], stats: &ReadStats) {
    assert_eq!(
        stats.records,
        stats.records_mapped + stats.records_quarantined,
        "{stats:?}"
    );
    let events = items.iter().filter(|i| i.event().is_some()).count() as u64;
    let quarantined = items.iter().filter(|i| i.quarantined().is_some()).count() as u64;
    assert_eq!(stats.events, events, "{stats:?}");
    assert_eq!(stats.quarantined, quarantined, "{stats:?}");
    assert!(stats.records_quarantined <= stats.quarantined, "{stats:?}");
}

pub fn events(items: &[Item]) -> Vec<&EvidenceEvent> {
    items.iter().filter_map(Item::event).collect()
}

pub fn quarantined(items: &[Item]) -> Vec<&Quarantined> {
    items.iter().filter_map(Item::quarantined).collect()
}

/// `model.call`, `tool.call:requested`… in order: what a reader made of a body.
pub fn kinds(items: &[Item]) -> Vec<String> {
    events(items)
        .iter()
        .map(|e| match &e.kind {
            EventKind::ToolCall { phase, .. } => format!("tool.call:{phase:?}"),
            k => k.name().to_owned(),
        })
        .collect()
}

pub fn only_events(name: &str) -> Vec<EvidenceEvent> {
    let (items, stats) = read(name);
    assert_eq!(stats.quarantined, 0, "{name}: {:?}", quarantined(&items));
    items
        .into_iter()
        .filter_map(|i| i.into_result().ok())
        .collect()
}
