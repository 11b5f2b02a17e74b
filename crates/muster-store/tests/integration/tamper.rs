use muster_evidence::{EventDraft, ProblemKind};
use muster_store::{DrillHeader, DrillStatus, EvidenceStore, SqliteStore};
use serde_json::json;

async fn store_with_drill(dir: &tempfile::TempDir) -> (SqliteStore, String) {
    let store = match SqliteStore::open(&dir.path().join(".muster/evidence.db")).await {
        Ok(s) => s,
        Err(e) => panic!("open: {e}"),
    };
    let id = "01960000-0000-7000-8000-000000000001".to_owned();
    let header = DrillHeader {
        id: id.clone(),
        started_at_ns: 1_700_000_000_000_000_000,
        agent: "larkspur-support".into(),
        environment: "pre-production".into(),
        manifest_digest: "abc".into(),
        muster_version: "0.1.0".into(),
    };
    expect_ok(store.begin_drill(&header).await);
    for stream in ["conv/a", "conv/b"] {
        for turn in 0..3 {
            let draft = EventDraft::new("agent.message", 1_700_000_000_000_000_000 + turn)
                .field("turn", turn)
                .field("text", format!("reply {turn} in {stream}"));
            expect_ok(store.append(&id, stream, vec![draft]).await);
        }
    }
    expect_ok(
        store
            .seal_drill(
                &id,
                DrillStatus::Sealed,
                1_700_000_001_000_000_000,
                &json!({"verdict": "fail"}),
            )
            .await,
    );
    (store, id)
}

fn expect_ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

async fn raw(store: &SqliteStore, sql: &str) {
    expect_ok(
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(store.pool())
            .await,
    );
}

async fn drop_guards(store: &SqliteStore) {
    raw(
        store,
        "DROP TRIGGER events_are_append_only_update; DROP TRIGGER events_are_append_only_delete;",
    )
    .await;
}

#[tokio::test]
async fn a_sealed_drill_verifies_and_reopens() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    let verified = expect_ok(store.verify(&id[..8]).await);
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    assert_eq!(verified.report.events_checked, 6);
    store.close().await;
    let reopened = expect_ok(SqliteStore::open(&dir.path().join(".muster/evidence.db")).await);
    let drills = expect_ok(reopened.drills().await);
    assert_eq!(drills.len(), 1);
    assert_eq!(drills[0].events, 6);
    assert_eq!(drills[0].status, DrillStatus::Sealed);
}

#[tokio::test]
async fn the_store_refuses_updates_and_deletes() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, _) = store_with_drill(&dir).await;
    let update = sqlx::query("UPDATE events SET kind = 'x'")
        .execute(store.pool())
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("DELETE FROM events")
        .execute(store.pool())
        .await;
    assert!(delete.is_err());
}

#[tokio::test]
async fn a_sealed_drill_takes_no_more_events() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    let late = store
        .append(&id, "conv/a", vec![EventDraft::new("agent.message", 1)])
        .await;
    assert!(matches!(
        late,
        Err(muster_store::StoreError::AlreadySealed(_))
    ));
}

#[tokio::test]
async fn an_altered_value_is_named_by_event_id() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    drop_guards(&store).await;
    raw(&store, "UPDATE events SET fields = json_set(fields, '$.text', 'I can refund you in full') WHERE stream = 'conv/b' AND seq = 1").await;
    let verified = expect_ok(store.verify(&id).await);
    let first = &verified.report.problems[0];
    assert_eq!(
        first.kind,
        ProblemKind::FieldAltered {
            field: "text".into()
        }
    );
    assert_eq!((first.stream.as_str(), first.seq), ("conv/b", Some(1)));
    assert!(verified.event_id("conv/b", 1).is_some());
}

#[tokio::test]
async fn deleting_an_event_is_caught() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    drop_guards(&store).await;
    raw(
        &store,
        "DELETE FROM events WHERE stream = 'conv/a' AND seq = 1",
    )
    .await;
    let verified = expect_ok(store.verify(&id).await);
    assert_eq!(
        verified.report.problems[0].kind,
        ProblemKind::MissingEvent { expected_seq: 1 }
    );
}

#[tokio::test]
async fn deleting_the_last_event_and_its_head_is_caught_by_the_root() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    drop_guards(&store).await;
    raw(
        &store,
        "DELETE FROM events WHERE stream = 'conv/a' AND seq = 2",
    )
    .await;
    let verified = expect_ok(store.verify(&id).await);
    assert!(!verified.report.is_intact());
    assert!(matches!(
        verified.report.problems[0].kind,
        ProblemKind::LengthMismatch { .. }
    ));
}

#[tokio::test]
async fn reordering_events_is_caught() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    drop_guards(&store).await;
    raw(&store, "UPDATE events SET seq = CASE seq WHEN 0 THEN 1 ELSE 0 END WHERE stream = 'conv/b' AND seq IN (0, 1)").await;
    let verified = expect_ok(store.verify(&id).await);
    let first = &verified.report.problems[0];
    assert_eq!(first.stream, "conv/b");
    assert!(
        matches!(
            first.kind,
            ProblemKind::EventAltered | ProblemKind::BrokenLink
        ),
        "{first:?}"
    );
}

#[tokio::test]
async fn concurrent_writers_each_keep_an_intact_chain() {
    let dir = expect_ok(tempfile::tempdir());
    let store = std::sync::Arc::new(expect_ok(SqliteStore::open(&dir.path().join("e.db")).await));
    let header = DrillHeader {
        id: "d-concurrent".into(),
        started_at_ns: 1,
        agent: "a".into(),
        environment: "sandbox".into(),
        manifest_digest: "m".into(),
        muster_version: "0".into(),
    };
    expect_ok(store.begin_drill(&header).await);
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..8 {
        let store = store.clone();
        tasks.spawn(async move {
            for i in 0..20 {
                let d = EventDraft::new("customer.message", i).field("text", format!("{s}-{i}"));
                if let Err(e) = store
                    .append("d-concurrent", &format!("conv/{s}"), vec![d])
                    .await
                {
                    return Err(e.to_string());
                }
            }
            Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        expect_ok(expect_ok(done));
    }
    expect_ok(
        store
            .seal_drill("d-concurrent", DrillStatus::Sealed, 2, &json!({}))
            .await,
    );
    let verified = expect_ok(store.verify("d-concurrent").await);
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    assert_eq!(verified.report.events_checked, 160);
}

#[tokio::test]
async fn a_batch_that_fails_stores_nothing_and_the_next_append_goes_on() {
    let dir = expect_ok(tempfile::tempdir());
    let store = expect_ok(SqliteStore::open(&dir.path().join(".muster/evidence.db")).await);
    let id = "01960000-0000-7000-8000-000000000002".to_owned();
    expect_ok(
        store
            .begin_drill(&DrillHeader {
                id: id.clone(),
                started_at_ns: 1,
                agent: "a".into(),
                environment: "pre-production".into(),
                manifest_digest: "m".into(),
                muster_version: "0.1.0".into(),
            })
            .await,
    );
    let event = |kind: &str, n: i64| EventDraft::new(kind, n).field("n", n);
    expect_ok(
        store
            .append(&id, "conv/a", vec![event("ok", 1), event("ok", 2)])
            .await,
    );
    // The insert fails inside the writer's transaction (begun by the same statement).
    raw(
        &store,
        "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .await;
    let failed = store
        .append(&id, "conv/a", vec![event("ok", 3), event("boom", 4)])
        .await;
    assert!(failed.is_err());
    raw(&store, "DROP TRIGGER refuse").await;
    // The transaction was ended: the next batch commits, and the chain goes on from the last
    // committed event (nothing of the failed batch was stored).
    let stored = expect_ok(store.append(&id, "conv/a", vec![event("ok", 5)]).await);
    assert_eq!(stored[0].event.seq, 2);
    expect_ok(
        store
            .seal_drill(&id, DrillStatus::Sealed, 6, &json!({}))
            .await,
    );
    let verified = expect_ok(store.verify(&id).await);
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    assert_eq!(verified.report.events_checked, 3);
}

/// Approvals recorded after the seal chain on from the drill's root: an edited one is named.
#[tokio::test]
async fn an_altered_addendum_is_named_by_event_id() {
    let dir = expect_ok(tempfile::tempdir());
    let (store, id) = store_with_drill(&dir).await;
    for role in ["comms-lead", "legal"] {
        let draft = EventDraft::new("comms.approval", 1_700_000_002_000_000_000)
            .field("role", role)
            .field("approved", true);
        expect_ok(store.append_addenda(&id, vec![draft]).await);
    }
    let verified = expect_ok(store.verify(&id).await);
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    assert_eq!(verified.report.events_checked, 8);
    raw(
        &store,
        "DROP TRIGGER addenda_are_append_only_update; UPDATE addenda SET fields = json_set(fields, '$.approved', json('false')) WHERE seq = 1",
    )
    .await;
    let verified = expect_ok(store.verify(&id).await);
    let first = &verified.report.problems[0];
    assert_eq!(
        first.kind,
        ProblemKind::FieldAltered {
            field: "approved".into()
        }
    );
    assert_eq!((first.stream.as_str(), first.seq), ("addenda", Some(1)));
    assert!(verified.event_id("addenda", 1).is_some());
}
