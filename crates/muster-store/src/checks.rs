//! Verification reports from stored rows, for every backend: the same maths whatever held them.

use muster_evidence::{SealedEvent, StreamChain, StreamHead, root_digest, verify_drill};

use crate::console::{EXERCISE_STREAM, ExerciseLogVerify};
use crate::ingest::{EVIDENCE_CHAIN, SourceRecord, SourceVerify};
use crate::model::{DrillRecord, DrillStatus, StoredEvent, StoredVerify};

/// The stream name addenda are chained under.
pub(crate) const ADDENDA_STREAM: &str = "addenda";

/// Check a source's chain (its events in `seq` order, then insertion order): every field, event
/// and link, and the stored head and length.
pub(crate) fn source_report(source: &SourceRecord, events: &[SealedEvent]) -> SourceVerify {
    let heads = [StreamHead {
        stream: source.name.clone(),
        length: source.events,
        head: source.head,
    }];
    // The source's own "root": it makes verify_drill compare the stored length and head with
    // the events found, which is what a source has instead of a seal.
    let root = root_digest(
        EVIDENCE_CHAIN,
        &[(source.name.clone(), source.events, source.head)],
    );
    SourceVerify {
        source: source.name.clone(),
        report: verify_drill(EVIDENCE_CHAIN, events, Some((&heads, root))),
    }
}

/// Check a drill: its events (by stream, then position), its streams' stored heads, its seal, and
/// the addenda chained on from its root.
pub(crate) fn drill_report(
    drill: DrillRecord,
    stored: &[StoredEvent],
    heads: &[StreamHead],
    addenda: &[StoredEvent],
) -> StoredVerify {
    let id = drill.header.id.clone();
    let events: Vec<SealedEvent> = stored.iter().map(|s| s.event.clone()).collect();
    let sealed = match (drill.status, drill.root) {
        (DrillStatus::Running, _) | (_, None) => None,
        (_, Some(root)) => Some((heads, root)),
    };
    let mut report = verify_drill(&id, &events, sealed);
    if let Some(root) = drill.root.filter(|_| drill.status != DrillStatus::Running)
        && !addenda.is_empty()
    {
        let chained: Vec<SealedEvent> = addenda.iter().map(|s| s.event.clone()).collect();
        report.events_checked += chained.len() as u64;
        report.streams_checked += 1;
        report.problems.extend(muster_evidence::verify_chain_from(
            &id,
            ADDENDA_STREAM,
            &chained,
            root,
        ));
    }
    let event_ids = report
        .problems
        .iter()
        .filter_map(|p| {
            let seq = p.seq?;
            let found = stored
                .iter()
                .chain(addenda.iter())
                .find(|s| s.event.stream == p.stream && s.event.seq == seq)?;
            Some(((p.stream.clone(), seq), found.id.clone()))
        })
        .collect();
    StoredVerify {
        drill,
        report,
        event_ids,
    }
}

/// Recompute an exercise log's chain from its entries in `seq` order.
pub(crate) fn exercise_log_report(exercise_id: &str, events: &[StoredEvent]) -> ExerciseLogVerify {
    let mut chain = StreamChain::new(exercise_id, EXERCISE_STREAM);
    let mut problems = Vec::new();
    for stored in events {
        let e = &stored.event;
        if e.seq != chain.length() {
            problems.push(format!(
                "{}: expected position {}, found {}",
                e.seq,
                chain.length(),
                e.seq
            ));
        }
        if e.prev != chain.head() {
            problems.push(format!(
                "{}: does not follow the entry before it (link broken)",
                e.seq
            ));
        }
        if e.recompute() != e.digest {
            problems.push(format!(
                "{}: contents do not match the stored digest (edited)",
                e.seq
            ));
        }
        chain = StreamChain::resume(exercise_id, EXERCISE_STREAM, e.seq + 1, e.digest);
    }
    ExerciseLogVerify {
        entries: events.len() as u64,
        head: events.last().map(|e| e.event.digest.to_hex()),
        problems,
    }
}
