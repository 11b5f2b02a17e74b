//! Ingested evidence on either backend: idempotent re-ingest, quarantine, chains that catch tampering, timelines,
//! full-text search and the access audit.

use muster_ingest::otlp::read_body;
use muster_ingest::{BodyFormat, Item, Quarantined};
use muster_store::{
    AccessRecord, EvidenceStore, IngestBatch, SearchFilters, SqliteStore, TimelineKey,
    TimelineQuery,
};

use crate::harness::{TestStore, on_both};

on_both!(
    re_ingesting_the_same_records_adds_nothing,
    quarantined_records_are_stored_with_their_reason_once,
    timeline_search_and_access_audit,
    ingested_evidence_is_append_only_and_tampering_is_caught,
);

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../muster-ingest/tests/data");

pub(crate) fn fixture(
    name: &str,
    format: BodyFormat,
) -> (Vec<muster_ingest::EvidenceEvent>, Vec<Quarantined>) {
    let body = std::fs::read(format!("{DATA}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (items, _) = read_body(name, &body, format);
    let mut events = Vec::new();
    let mut quarantined = Vec::new();
    for item in items {
        match item {
            Item::Event(e) => events.push(*e),
            Item::Quarantined(q) => quarantined.push(*q),
        }
    }
    (events, quarantined)
}

/// A SQLite store alone, for what only SQLite has (an earlier row layout, page size).
async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = SqliteStore::open(&dir.path().join("evidence.db"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, store)
}

fn batch(
    source: &str,
    input: &str,
    (events, quarantined): (Vec<muster_ingest::EvidenceEvent>, Vec<Quarantined>),
) -> IngestBatch {
    IngestBatch {
        source: source.into(),
        input: input.into(),
        events,
        quarantined,
        offset_reached: None,
        complete: true,
        cursor: None,
    }
}

async fn re_ingesting_the_same_records_adds_nothing(t: &TestStore) {
    let store = &t.store;
    let files = [
        ("recv_029_v1_traces.json", BodyFormat::Json),
        ("recv_031_v1_logs.json", BodyFormat::Json),
        ("recv_004_v1_traces.pb", BodyFormat::ProtobufTraces),
    ];
    let mut first = 0;
    for (name, format) in files {
        let r = store
            .ingest_batch(batch("otlp", name, fixture(name, format)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.duplicates, 0);
        first += r.stored;
    }
    assert!(first > 0);
    for (name, format) in files {
        let r = store
            .ingest_batch(batch("otlp", name, fixture(name, format)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.stored, 0, "{name}");
        assert!(r.duplicates > 0, "{name}");
    }
    // Duplicates inside one batch are recognised too.
    let (mut events, _) = fixture("recv_029_v1_traces.json", BodyFormat::Json);
    let again = events.clone();
    events.extend(again);
    let r = store
        .ingest_batch(batch("fresh", "x", (events, Vec::new())))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.stored, r.duplicates);

    let sources = store.sources().await.unwrap_or_else(|e| panic!("{e}"));
    let otlp = sources.iter().find(|s| s.name == "otlp");
    assert_eq!(otlp.map(|s| s.events), Some(first));
    for v in store
        .verify_sources()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    {
        assert!(
            v.report.is_intact(),
            "{}: {:?}",
            v.source,
            v.report.problems
        );
    }
}

async fn quarantined_records_are_stored_with_their_reason_once(t: &TestStore) {
    let store = &t.store;
    let (items, stats) = read_body("bad.json", b"{not json", BodyFormat::Json);
    assert_eq!(stats.quarantined, 1);
    let quarantined: Vec<Quarantined> = items
        .into_iter()
        .filter_map(|i| i.quarantined().cloned())
        .collect();
    for expected in [1, 0] {
        let r = store
            .ingest_batch(batch("otlp", "bad.json", (Vec::new(), quarantined.clone())))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.quarantined, expected);
    }
    let stored = store
        .quarantined(Some("otlp"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].record.reason.starts_with("not JSON"),
        "{:?}",
        stored[0]
    );
    assert_eq!(stored[0].record.raw_excerpt, "{not json");
}

async fn timeline_search_and_access_audit(t: &TestStore) {
    let store = &t.store;
    let mut conversation = None;
    for (name, format) in [
        ("one-trace-merged.json", BodyFormat::Json),
        ("recv_028_v1_logs.json", BodyFormat::Json),
    ] {
        let read = fixture(name, format);
        conversation = conversation.or_else(|| {
            read.0
                .iter()
                .find_map(|e| e.correlation.conversation_id.clone())
        });
        store
            .ingest_batch(batch("otlp", name, read))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let conversation = conversation.unwrap_or_else(|| panic!("no conversation in the fixtures"));
    let timeline = store
        .timeline(&TimelineQuery {
            key: TimelineKey::Conversation(conversation),
            from_ns: None,
            to_ns: None,
            limit: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!timeline.is_empty());
    assert!(
        timeline
            .windows(2)
            .all(|w| w[0].event.time_ns <= w[1].event.time_ns)
    );
    let found = store
        .search(
            "shipped",
            &SearchFilters {
                kind: Some("agent.message".into()),
                ..SearchFilters::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!found.is_empty());
    assert!(found.iter().all(|e| e.event.kind.name() == "agent.message"));
    // FTS5 syntax in the text is taken literally, never an error.
    let odd = store
        .search("\"AND* NEAR(", &SearchFilters::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(odd.is_empty());

    let record = AccessRecord {
        at_ns: 1,
        who: "auditor".into(),
        command: "reconstruct".into(),
        what: "conversation conv-7f3a9c".into(),
        why: "complaint review".into(),
    };
    store
        .record_access(&record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.access_log().await.unwrap_or_else(|e| panic!("{e}")),
        vec![record]
    );
}

async fn ingested_evidence_is_append_only_and_tampering_is_caught(t: &TestStore) {
    let store = &t.store;
    let name = "recv_029_v1_traces.json";
    let (events, _) = fixture(name, BodyFormat::Json);
    let (items, _) = read_body("bad.json", b"[]", BodyFormat::Json);
    let quarantined = items
        .into_iter()
        .filter_map(|i| i.quarantined().cloned())
        .collect();
    store
        .ingest_batch(batch("otlp", name, (events, quarantined)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .record_access(&AccessRecord {
            at_ns: 1,
            who: "a".into(),
            command: "search".into(),
            what: "x".into(),
            why: "y".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for sql in [
        "UPDATE evidence SET content = 'x'",
        "DELETE FROM evidence",
        "DELETE FROM quarantine",
        "UPDATE access_audit SET who = 'x'",
        "DELETE FROM ingest_batches",
    ] {
        assert!(t.try_sql(sql).await.is_err(), "{sql}");
    }
    t.tamper(
        "DROP TRIGGER evidence_is_append_only_update; UPDATE evidence SET content = 'No refund is possible.' WHERE rowid = (SELECT MIN(rowid) FROM evidence WHERE content IS NOT NULL);",
        "UPDATE evidence SET content = 'No refund is possible.' WHERE position = (SELECT MIN(position) FROM evidence WHERE content IS NOT NULL)",
    )
    .await;
    let verified = store
        .verify_sources()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verified.len(), 1);
    assert!(!verified[0].report.is_intact());
    // Only the event's stored digest still vouches for the content (per-field digests are not
    // stored for ingested rows), so the problem names that event and nothing after it.
    assert_eq!(
        verified[0].report.problems,
        vec![muster_evidence::Problem {
            stream: "otlp".into(),
            seq: Some(altered_seq(t).await),
            kind: muster_evidence::ProblemKind::EventAltered,
        }]
    );
}

async fn altered_seq(t: &TestStore) -> u64 {
    let seq = t
        .scalar(
            "SELECT seq FROM evidence WHERE rowid = (SELECT MIN(rowid) FROM evidence WHERE content IS NOT NULL)",
            "SELECT seq FROM evidence WHERE position = (SELECT MIN(position) FROM evidence WHERE content IS NOT NULL)",
        )
        .await;
    u64::try_from(seq).unwrap_or(u64::MAX)
}

/// Rows written before per-field digests and `raw` left the row (every field's digest in
/// `field_digests`, `raw` inside `fields`) read back as the same events and still verify.
#[tokio::test]
async fn rows_in_the_earlier_layout_read_and_verify_the_same() {
    let (_dir, store) = store().await;
    let read = fixture("one-trace-merged.json", BodyFormat::Json);
    let conversation = read
        .0
        .iter()
        .find_map(|e| e.correlation.conversation_id.clone())
        .unwrap_or_else(|| panic!("no conversation in the fixture"));
    let originals = read.0.clone();
    store
        .ingest_batch(batch("otlp", "one-trace-merged.json", read))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let query = TimelineQuery {
        key: TimelineKey::Conversation(conversation),
        from_ns: None,
        to_ns: None,
        limit: None,
    };
    let before = store
        .timeline(&query)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!before.is_empty());

    // The earlier layout, written the way the earlier writer did, from the events themselves.
    sqlx::raw_sql("DROP TRIGGER evidence_is_append_only_update")
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (seq, event) in originals.iter().enumerate() {
        let prepared = event.to_draft().prepare();
        let mut digests = serde_json::Map::new();
        for f in &prepared.fields {
            digests.insert(f.name.clone(), f.digest.to_hex().into());
        }
        let raw = serde_json::to_value(&event.raw).unwrap_or_else(|e| panic!("{e}"));
        sqlx::query(
            "UPDATE evidence SET field_digests = ?1, fields = json_set(fields, '$.raw', json(?2)) WHERE source = 'otlp' AND seq = ?3",
        )
        .bind(serde_json::Value::Object(digests).to_string())
        .bind(raw.to_string())
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let layout: (String, String) =
        sqlx::query_as("SELECT fields, field_digests FROM evidence WHERE seq = 0")
            .fetch_one(store.pool())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(layout.0.contains("\"raw\""), "{}", layout.0);
    assert!(layout.1.len() > 100, "{}", layout.1);

    let after = store
        .timeline(&query)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after, before);
    let verified = store
        .verify_sources()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(verified[0].report.is_intact(), "{:?}", verified[0].report);

    // And a stored field digest is still what a changed value is checked against.
    sqlx::raw_sql(
        "UPDATE evidence SET fields = json_set(fields, '$.observed_ns', 1) WHERE seq = 0",
    )
    .execute(store.pool())
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let verified = store
        .verify_sources()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        verified[0]
            .report
            .problems
            .iter()
            .any(|p| p.to_string().contains("field `observed_ns` was altered")),
        "{:?}",
        verified[0].report.problems
    );
}

/// A new store has 8 KiB pages, and every connection checkpoints its log by size (32 MB), not by
/// SQLite's default page count.
#[tokio::test]
async fn a_new_store_has_8_kib_pages_and_checkpoints_every_32_mb() {
    let (_dir, store) = store().await;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let checkpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((page_size, checkpoint), (8192, 32 * 1024 * 1024 / 8192));
}
