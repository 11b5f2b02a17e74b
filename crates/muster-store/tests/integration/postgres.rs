//! What only the PostgreSQL backend has: a schema applied by `muster db migrate` and refused when
//! behind or unknown, several processes writing one store, and monthly evidence partitions.

use muster_evidence::EventDraft;
use muster_store::{
    DrillHeader, DrillStatus, EvidenceStore, PgStore, SchemaState, StoreError, TimeRange,
    known_schema_version,
};
use serde_json::json;

use crate::harness::{
    TestStore, create_database, drop_database, expect_ok, postgres, postgres_admin_url,
};

#[tokio::test]
async fn the_schema_is_applied_by_migrate_and_refused_when_behind_or_unknown() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let (url, name) = create_database(&admin).await;
    // A database never migrated is behind: the store will not start on it.
    let empty = PgStore::connect(&url).await;
    assert!(
        matches!(&empty, Err(StoreError::SchemaBehind { version: 0, .. })),
        "{empty:?}"
    );
    let message = empty.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("muster db migrate"), "{message}");
    assert!(matches!(
        expect_ok(PgStore::schema(&url).await),
        SchemaState::Behind { applied: 0, .. }
    ));

    let report = expect_ok(PgStore::migrate(&url).await);
    assert_eq!((report.before, report.after), (0, known_schema_version()));
    assert!(!report.applied.is_empty());
    let again = expect_ok(PgStore::migrate(&url).await);
    assert!(again.applied.is_empty(), "{again:?}");
    expect_ok(PgStore::connect(&url).await).close().await;

    // A newer muster's migration: this one refuses to run on it, and to migrate it.
    let mut conn = expect_ok(<sqlx::PgConnection as sqlx::Connection>::connect(&url).await);
    expect_ok(
        sqlx::raw_sql(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99990101000000, 'from the future', true, '\\x00', 1)",
        )
        .execute(&mut conn)
        .await,
    );
    drop(conn);
    for refused in [
        PgStore::connect(&url).await.map(|_| ()),
        PgStore::migrate(&url).await.map(|_| ()),
    ] {
        assert!(
            matches!(
                &refused,
                Err(StoreError::SchemaUnknown {
                    version: 99990101000000,
                    ..
                })
            ),
            "{refused:?}"
        );
    }
    drop_database(&admin, &name).await;
}

/// Two stores on one database (two processes, or two machines) appending to the same streams at
/// once: each stream is one unbroken chain and every event is counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_appending_to_one_stream_keep_one_chain() {
    let Some(t) = postgres().await else {
        return;
    };
    two_processes(&t).await;
    t.finish().await;
}

async fn two_processes(t: &TestStore) {
    let other = t.reopen().await;
    let header = DrillHeader {
        id: "d-shared".into(),
        started_at_ns: 1,
        agent: "a".into(),
        environment: "sandbox".into(),
        manifest_digest: "m".into(),
        muster_version: "0".into(),
    };
    expect_ok(t.store.begin_drill(&header).await);
    let mut tasks = tokio::task::JoinSet::new();
    for (n, store) in [t.store.clone(), other.clone()].into_iter().enumerate() {
        for worker in 0..3 {
            let store = store.clone();
            tasks.spawn(async move {
                for i in 0..15 {
                    let stream = format!("conv/{}", i % 2);
                    let d = EventDraft::new("agent.message", i)
                        .field("text", format!("process {n} worker {worker} turn {i}"));
                    store
                        .append("d-shared", &stream, vec![d])
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        expect_ok(expect_ok(done));
    }
    expect_ok(
        other
            .seal_drill("d-shared", DrillStatus::Sealed, 2, &json!({}))
            .await,
    );
    let verified = expect_ok(t.store.verify("d-shared").await);
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    assert_eq!(verified.report.events_checked, 2 * 3 * 15);
    other.close().await;
}

/// A synthetic agent message, made from a fixture's event.
fn message(conversation: &str, time_ns: i64, n: usize) -> muster_ingest::EvidenceEvent {
    let (events, _) =
        crate::ingest::fixture("recv_029_v1_traces.json", muster_ingest::BodyFormat::Json);
    let mut event = events
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the fixture has no events"));
    event.time_ns = time_ns;
    event.correlation.conversation_id = Some(conversation.into());
    event.content = Some(format!("synthetic reply {n} about the warranty"));
    event.raw = muster_ingest::RawPointer {
        origin: format!("input-{conversation}"),
        offset: None,
        line: Some(n as u64 + 1),
        record: None,
        part: 0,
    };
    event
}

/// Ingest from two stores into one source at once, across two months: one chain, every record
/// once, a partition per month, and a timeline that reads across them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingest_into_one_source_across_months() {
    let Some(t) = postgres().await else {
        return;
    };
    let other = t.reopen().await;
    // 2026-10-31T23:59:00Z and 2026-11-01T00:01:00Z.
    let october = 1_793_491_140_000_000_000;
    let november = 1_793_491_260_000_000_000;
    let mut tasks = tokio::task::JoinSet::new();
    for (n, store) in [t.store.clone(), other.clone()].into_iter().enumerate() {
        tasks.spawn(async move {
            for batch in 0..4 {
                let events = (0..25)
                    .map(|i| {
                        let k = batch * 25 + i;
                        let at = if k % 2 == 0 { october } else { november } + k as i64;
                        message(&format!("conv-{n}"), at, k)
                    })
                    .collect();
                store
                    .ingest_batch(muster_store::IngestBatch {
                        source: "chat".into(),
                        input: format!("input-conv-{n}"),
                        events,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        expect_ok(expect_ok(done));
    }
    let sources = expect_ok(t.store.sources().await);
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].events, 200);
    let verified = expect_ok(t.store.verify_sources().await);
    assert!(verified[0].report.is_intact(), "{:?}", verified[0].report);
    let partitions = t
        .scalar(
            "",
            "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'evidence'::regclass",
        )
        .await;
    assert_eq!(partitions, 2);
    let conversation = expect_ok(
        t.store
            .events_with_keys(
                &muster_store::KeySet {
                    conversations: ["conv-1".to_owned()].into(),
                    ..Default::default()
                },
                TimeRange::default(),
                None,
            )
            .await,
    );
    assert_eq!(conversation.len(), 100);
    assert!(
        conversation
            .windows(2)
            .all(|w| w[0].event.time_ns <= w[1].event.time_ns)
    );
    other.close().await;
    t.finish().await;
}

/// A SQLite store with a bit of everything: a sealed drill with an addendum, ingested evidence
/// with a quarantined record, an access-audit row, a console account, an exercise with its log,
/// and a severity model.
async fn full_sqlite_store() -> TestStore {
    let t = crate::harness::sqlite().await;
    let store = &t.store;
    let header = DrillHeader {
        id: "d-copy".into(),
        started_at_ns: 1_700_000_000_000_000_000,
        agent: "larkspur-support".into(),
        environment: "pre-production".into(),
        manifest_digest: "m".into(),
        muster_version: "0.1.0".into(),
    };
    expect_ok(store.begin_drill(&header).await);
    for stream in ["conv/a", "conv/b"] {
        let drafts = (0..3)
            .map(|i| EventDraft::new("agent.message", i).field("text", format!("{stream} {i}")))
            .collect();
        expect_ok(store.append("d-copy", stream, drafts).await);
    }
    expect_ok(
        store
            .seal_drill(
                "d-copy",
                DrillStatus::Sealed,
                2,
                &json!({"verdict": "fail"}),
            )
            .await,
    );
    expect_ok(
        store
            .append_addenda(
                "d-copy",
                vec![EventDraft::new("comms.approval", 3).field("approved", true)],
            )
            .await,
    );
    let (events, _) =
        crate::ingest::fixture("one-trace-merged.json", muster_ingest::BodyFormat::Json);
    let (items, _) =
        muster_ingest::otlp::read_body("bad.json", b"{not json", muster_ingest::BodyFormat::Json);
    let quarantined = items
        .into_iter()
        .filter_map(|i| i.quarantined().cloned())
        .collect();
    expect_ok(
        store
            .ingest_batch(muster_store::IngestBatch {
                source: "otlp".into(),
                input: "one-trace-merged.json".into(),
                events,
                quarantined,
                offset_reached: Some(10),
                complete: true,
                cursor: None,
            })
            .await,
    );
    expect_ok(
        store
            .record_access(&muster_store::AccessRecord {
                at_ns: 5,
                who: "auditor".into(),
                command: "reconstruct".into(),
                what: "conversation x".into(),
                why: "review".into(),
            })
            .await,
    );
    expect_ok(
        store
            .create_user(&muster_store::ConsoleUser {
                id: "u1".into(),
                username: "alice".into(),
                display_name: "Alice (synthetic)".into(),
                password_hash: "hash".into(),
                role: "facilitator".into(),
                is_admin: true,
                created_at_ns: 1,
            })
            .await,
    );
    expect_ok(
        store
            .create_exercise(&muster_store::ExerciseRecord {
                id: "ex-1".into(),
                title: "Tabletop".into(),
                created_at_ns: 1,
                created_by: "u1".into(),
                definition: json!({"injects": []}),
            })
            .await,
    );
    for n in 0..3 {
        expect_ok(
            store
                .append_exercise_log(
                    "ex-1",
                    EventDraft::new("exercise.note", n).field("n", n),
                    None,
                )
                .await,
        );
    }
    expect_ok(
        store
            .save_severity_model(&json!([{"level": "SEV1"}]), "alice", 1)
            .await,
    );
    t
}

/// `muster migrate-store`'s copy: every row, the same roots and heads, every chain intact on the
/// copy, the same answers from both stores; a non-empty target is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_store_copies_into_postgres_and_verifies() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let original = full_sqlite_store().await;
    let (url, name) = create_database(&admin).await;
    expect_ok(PgStore::migrate(&url).await);
    let target = expect_ok(PgStore::connect(&url).await);
    let from =
        expect_ok(muster_store::SqliteStore::open(std::path::Path::new(&original.location)).await);
    let total = expect_ok(muster_store::rows_to_copy(&from).await);
    let mut seen = 0;
    let report = expect_ok(muster_store::copy_store(&from, &target, |n| seen = n).await);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.rows(), seen), (total, total));
    assert_eq!(
        (
            report.drills_verified,
            report.sources_verified,
            report.exercise_logs_verified
        ),
        (1, 1, 1)
    );
    let count = |table: &str| {
        report
            .tables
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.rows)
    };
    assert_eq!(
        (count("events"), count("addenda"), count("exercise_log")),
        (6, 1, 3)
    );
    assert!(count("evidence") > 0 && count("quarantine") == 1);

    let a = expect_ok(original.store.drill("d-copy").await);
    let b = expect_ok(target.drill("d-copy").await);
    assert_eq!(a, b);
    let sources = expect_ok(original.store.sources().await);
    assert_eq!(sources, expect_ok(target.sources().await));
    let profile_a = expect_ok(original.store.evidence_profile().await);
    assert_eq!(profile_a, expect_ok(target.evidence_profile().await));
    assert_eq!(
        expect_ok(original.store.quarantined(None).await),
        expect_ok(target.quarantined(None).await)
    );
    assert_eq!(
        expect_ok(original.store.access_log().await),
        expect_ok(target.access_log().await)
    );

    let again = muster_store::copy_store(&from, &target, |_| {}).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    target.close().await;
    from.close().await;
    original.finish().await;
    drop_database(&admin, &name).await;
}

/// A store altered before the copy is copied faithfully, and the copy's verification names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_original_is_named_after_the_copy() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let original = full_sqlite_store().await;
    original
        .tamper(
            "DROP TRIGGER events_are_append_only_update; UPDATE events SET fields = json_set(fields, '$.text', 'edited') WHERE stream = 'conv/a' AND seq = 1",
            "",
        )
        .await;
    let (url, name) = create_database(&admin).await;
    expect_ok(PgStore::migrate(&url).await);
    let target = expect_ok(PgStore::connect(&url).await);
    let from =
        expect_ok(muster_store::SqliteStore::open(std::path::Path::new(&original.location)).await);
    let report = expect_ok(muster_store::copy_store(&from, &target, |_| {}).await);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("drill d-copy:") && p.contains("text")),
        "{:?}",
        report.problems
    );
    target.close().await;
    from.close().await;
    original.finish().await;
    drop_database(&admin, &name).await;
}
