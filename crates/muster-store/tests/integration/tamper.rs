//! Drills on either backend: sealing, refusing late events, and tampering done the way an attacker
//! with the database would do it (triggers dropped or off, rows edited), always caught.

use muster_evidence::{EventDraft, ProblemKind};
use muster_store::{DrillHeader, DrillStatus};
use serde_json::json;

use crate::harness::{TestStore, expect_ok, on_both};

on_both!(
    a_sealed_drill_verifies_and_reopens,
    the_store_refuses_updates_and_deletes,
    a_sealed_drill_takes_no_more_events,
    an_altered_value_is_named_by_event_id,
    deleting_an_event_is_caught,
    deleting_the_last_event_and_its_head_is_caught_by_the_root,
    reordering_events_is_caught,
    concurrent_writers_each_keep_an_intact_chain,
    a_batch_that_fails_stores_nothing_and_the_next_append_goes_on,
    an_altered_addendum_is_named_by_event_id,
);

/// SQLite's append-only guards on drill events, dropped as an attacker with the file would.
const DROP_GUARDS: &str =
    "DROP TRIGGER events_are_append_only_update; DROP TRIGGER events_are_append_only_delete;";

async fn with_drill(t: &TestStore) -> String {
    let store = &t.store;
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
    id
}

async fn a_sealed_drill_verifies_and_reopens(t: &TestStore) {
    let id = with_drill(t).await;
    let store = &t.store;
    let verified = expect_ok(store.verify(&id[..8]).await);
    assert!(
        verified.report.is_intact(),
        "{:?}",
        verified.report.problems
    );
    assert_eq!(verified.report.events_checked, 6);
    let reopened = t.reopen().await;
    let drills = expect_ok(reopened.drills().await);
    assert_eq!(drills.len(), 1);
    assert_eq!(drills[0].events, 6);
    assert_eq!(drills[0].status, DrillStatus::Sealed);
    assert_eq!(drills[0].root, verified.drill.root);
    reopened.close().await;
}

async fn the_store_refuses_updates_and_deletes(t: &TestStore) {
    let id = with_drill(t).await;
    for sql in [
        "UPDATE events SET kind = 'x'",
        "DELETE FROM events",
        "UPDATE drills SET status = 'running'",
    ] {
        assert!(t.try_sql(sql).await.is_err(), "{sql}");
    }
    let verified = expect_ok(t.store.verify(&id).await);
    assert!(verified.report.is_intact());
}

async fn a_sealed_drill_takes_no_more_events(t: &TestStore) {
    let id = with_drill(t).await;
    let late = t
        .store
        .append(&id, "conv/a", vec![EventDraft::new("agent.message", 1)])
        .await;
    assert!(matches!(
        late,
        Err(muster_store::StoreError::AlreadySealed(_))
    ));
    let twice = t
        .store
        .seal_drill(&id, DrillStatus::Sealed, 2, &json!({}))
        .await;
    assert!(matches!(
        twice,
        Err(muster_store::StoreError::AlreadySealed(_))
    ));
    let unknown = t
        .store
        .append("no-such-drill", "conv/a", vec![EventDraft::new("x", 1)])
        .await;
    assert!(matches!(
        unknown,
        Err(muster_store::StoreError::DrillNotFound(_))
    ));
}

async fn an_altered_value_is_named_by_event_id(t: &TestStore) {
    let id = with_drill(t).await;
    t.tamper(
        &format!("{DROP_GUARDS} UPDATE events SET fields = json_set(fields, '$.text', 'I can refund you in full') WHERE stream = 'conv/b' AND seq = 1"),
        "UPDATE events SET fields = jsonb_set(fields::jsonb, '{text}', '\"I can refund you in full\"')::text WHERE stream = 'conv/b' AND seq = 1",
    )
    .await;
    let verified = expect_ok(t.store.verify(&id).await);
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

async fn deleting_an_event_is_caught(t: &TestStore) {
    let id = with_drill(t).await;
    let delete = "DELETE FROM events WHERE stream = 'conv/a' AND seq = 1";
    t.tamper(&format!("{DROP_GUARDS} {delete}"), delete).await;
    let verified = expect_ok(t.store.verify(&id).await);
    assert_eq!(
        verified.report.problems[0].kind,
        ProblemKind::MissingEvent { expected_seq: 1 }
    );
}

async fn deleting_the_last_event_and_its_head_is_caught_by_the_root(t: &TestStore) {
    let id = with_drill(t).await;
    let delete = "DELETE FROM events WHERE stream = 'conv/a' AND seq = 2";
    t.tamper(&format!("{DROP_GUARDS} {delete}"), delete).await;
    let verified = expect_ok(t.store.verify(&id).await);
    assert!(!verified.report.is_intact());
    assert!(matches!(
        verified.report.problems[0].kind,
        ProblemKind::LengthMismatch { .. }
    ));
}

async fn reordering_events_is_caught(t: &TestStore) {
    let id = with_drill(t).await;
    // Swapped through a spare position: PostgreSQL's unique (drill, stream, seq) key is checked
    // row by row.
    let swap = "UPDATE events SET seq = -1 WHERE stream = 'conv/b' AND seq = 0; \
                UPDATE events SET seq = 0 WHERE stream = 'conv/b' AND seq = 1; \
                UPDATE events SET seq = 1 WHERE stream = 'conv/b' AND seq = -1";
    t.tamper(&format!("{DROP_GUARDS} {swap}"), swap).await;
    let verified = expect_ok(t.store.verify(&id).await);
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

async fn concurrent_writers_each_keep_an_intact_chain(t: &TestStore) {
    let store = t.store.clone();
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

async fn a_batch_that_fails_stores_nothing_and_the_next_append_goes_on(t: &TestStore) {
    let store = &t.store;
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
    t.tamper(
        "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.kind = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
    )
    .await;
    let failed = store
        .append(&id, "conv/a", vec![event("ok", 3), event("boom", 4)])
        .await;
    assert!(failed.is_err());
    t.tamper("DROP TRIGGER refuse", "DROP TRIGGER refuse ON events")
        .await;
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
async fn an_altered_addendum_is_named_by_event_id(t: &TestStore) {
    let id = with_drill(t).await;
    let store = &t.store;
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
    t.tamper(
        "DROP TRIGGER addenda_are_append_only_update; UPDATE addenda SET fields = json_set(fields, '$.approved', json('false')) WHERE seq = 1",
        "UPDATE addenda SET fields = jsonb_set(fields::jsonb, '{approved}', 'false')::text WHERE seq = 1",
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
