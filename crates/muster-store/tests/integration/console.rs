//! The console's storage on either backend: accounts, sessions, exercises, the exercise log
//! (chained, once-only entries, tailing by position) and the versioned severity model.

use muster_evidence::EventDraft;
use muster_store::{ConsoleUser, ExerciseRecord, StoreError};
use serde_json::json;

use crate::harness::{TestStore, expect_ok, on_both};

on_both!(
    accounts_and_sessions,
    the_exercise_log_is_chained_once_only_and_tailed_by_position,
    severity_models_are_versioned,
);

fn user(id: &str, username: &str, admin: bool) -> ConsoleUser {
    ConsoleUser {
        id: id.into(),
        username: username.into(),
        display_name: format!("{username} (synthetic)"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: "facilitator".into(),
        is_admin: admin,
        created_at_ns: 10,
    }
}

async fn accounts_and_sessions(t: &TestStore) {
    let store = &t.store;
    let alice = user("u1", "alice", true);
    expect_ok(store.create_user(&alice).await);
    expect_ok(store.create_user(&user("u2", "bob", false)).await);
    let taken = store.create_user(&user("u3", "alice", false)).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(
        expect_ok(store.user_by_username("alice").await),
        Some(alice.clone())
    );
    let names: Vec<String> = expect_ok(store.users().await)
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["alice", "bob"]);

    expect_ok(
        store
            .create_session("digest-1", "u1", "csrf-1", 100, 200)
            .await,
    );
    let session = expect_ok(store.session("digest-1", 150).await);
    assert_eq!(
        session.as_ref().map(|s| s.user.username.as_str()),
        Some("alice")
    );
    assert_eq!(session.map(|s| s.csrf_token), Some("csrf-1".to_owned()));
    assert_eq!(
        expect_ok(store.session("digest-1", 200).await),
        None,
        "expired"
    );
    // A new password ends the sessions opened with the old one.
    expect_ok(
        store
            .create_session("digest-2", "u1", "csrf-2", 150, 900)
            .await,
    );
    expect_ok(store.set_user_password("u1", "new-hash").await);
    assert_eq!(expect_ok(store.session("digest-2", 160).await), None);
    expect_ok(
        store
            .create_session("digest-3", "u2", "csrf-3", 170, 900)
            .await,
    );
    expect_ok(store.delete_session("digest-3").await);
    assert_eq!(expect_ok(store.session("digest-3", 180).await), None);
}

async fn the_exercise_log_is_chained_once_only_and_tailed_by_position(t: &TestStore) {
    let store = &t.store;
    for (id, at) in [("ex-1", 1), ("ex-2", 2)] {
        expect_ok(
            store
                .create_exercise(&ExerciseRecord {
                    id: id.into(),
                    title: format!("Exercise {id}"),
                    created_at_ns: at,
                    created_by: "u1".into(),
                    definition: json!({"injects": [{"at": "T+5", "text": "Press call"}]}),
                })
                .await,
        );
    }
    let listed: Vec<String> = expect_ok(store.exercises().await)
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed, ["ex-2", "ex-1"]);
    let start = expect_ok(store.exercise_log_position().await);
    let entry =
        |n: i64| EventDraft::new("exercise.decision", n).field("text", format!("decision {n}"));
    expect_ok(store.append_exercise_log("ex-1", entry(1), None).await);
    let released = expect_ok(
        store
            .append_exercise_log("ex-1", entry(2), Some("inject-1"))
            .await,
    );
    assert!(released.is_some());
    let again = expect_ok(
        store
            .append_exercise_log("ex-1", entry(3), Some("inject-1"))
            .await,
    );
    assert!(again.is_none(), "an inject is released once");
    expect_ok(store.append_exercise_log("ex-2", entry(4), None).await);
    expect_ok(store.append_exercise_log("ex-1", entry(5), None).await);

    let log = expect_ok(store.exercise_log("ex-1").await);
    let seqs: Vec<u64> = log.iter().map(|e| e.event.seq).collect();
    assert_eq!(seqs, [0, 1, 2]);
    assert_eq!(expect_ok(store.exercise_log_from("ex-1", 1).await).len(), 2);
    let tail = expect_ok(store.exercise_log_after(start, 10).await);
    let order: Vec<(&str, i64)> = tail
        .iter()
        .map(|e| (e.exercise_id.as_str(), e.event.event.time_ns))
        .collect();
    assert_eq!(order, [("ex-1", 1), ("ex-1", 2), ("ex-2", 4), ("ex-1", 5)]);
    assert!(tail.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(
        expect_ok(store.exercise_log_position().await),
        tail.last().map_or(0, |e| e.position)
    );
    let checked = expect_ok(store.verify_exercise_log("ex-1").await);
    assert!(checked.problems.is_empty(), "{:?}", checked.problems);
    assert_eq!(checked.entries, 3);

    // An edited entry is named.
    t.tamper(
        "DROP TRIGGER exercise_log_is_append_only_update; UPDATE exercise_log SET fields = json_set(fields, '$.text', 'no decision') WHERE exercise_id = 'ex-1' AND seq = 1",
        "UPDATE exercise_log SET fields = jsonb_set(fields::jsonb, '{text}', '\"no decision\"')::text WHERE exercise_id = 'ex-1' AND seq = 1",
    )
    .await;
    let checked = expect_ok(store.verify_exercise_log("ex-1").await);
    assert_eq!(
        checked.problems,
        ["1: contents do not match the stored digest (edited)"]
    );
}

async fn severity_models_are_versioned(t: &TestStore) {
    let store = &t.store;
    let first = expect_ok(
        store
            .save_severity_model(&json!([{"level": "SEV1"}]), "alice", 1)
            .await,
    );
    let second = expect_ok(
        store
            .save_severity_model(&json!([{"level": "SEV1"}, {"level": "SEV2"}]), "bob", 2)
            .await,
    );
    assert_eq!((first, second), (1, 2));
    let versions = expect_ok(store.severity_models().await);
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].edited_by, "bob");
    assert!(
        t.try_sql("UPDATE severity_models SET edited_by = 'mallory'")
            .await
            .is_err()
    );
}
