//! The distributed drill queue (PostgreSQL only): every conversation is taken by one attempt at a
//! time, a lease that runs out makes it a retry, a late attempt's result is never counted, and
//! request slots to one target are spaced across every worker.

use std::time::{Duration, Instant};

use muster_store::{DrillHeader, DrillJob, EvidenceStore, JobFile, PgStore};
use serde_json::json;

use crate::harness::{create_database, drop_database, expect_ok, postgres_admin_url};

async fn store_with_job(admin: &str, conversations: &[(usize, u32)]) -> (PgStore, String, String) {
    store_with_sole_job(admin, conversations, &[]).await
}

/// A job whose scenario 2 plants test data (exclusive) and whose scenarios in `sole` plant a
/// shared fixture.
async fn store_with_sole_job(
    admin: &str,
    conversations: &[(usize, u32)],
    sole: &[usize],
) -> (PgStore, String, String) {
    let (url, name) = create_database(admin).await;
    expect_ok(PgStore::migrate(&url).await);
    let store = expect_ok(PgStore::connect(&url).await);
    expect_ok(
        store
            .begin_drill(&DrillHeader {
                id: "d1".into(),
                started_at_ns: 1,
                agent: "a".into(),
                environment: "pre-production".into(),
                manifest_digest: "m".into(),
                muster_version: "0".into(),
            })
            .await,
    );
    let file = |source: &str| JobFile {
        source: source.into(),
        text: format!("text of {source}"),
        digest: format!("digest of {source}"),
    };
    expect_ok(
        store
            .create_drill_job(
                &DrillJob {
                    drill_id: "d1".into(),
                    manifest: file("agent.yaml"),
                    scenarios: vec![file("s1.yaml"), file("s2.yaml")],
                    options: json!({"reword": 0}),
                    base_url: Some("http://127.0.0.1:1".into()),
                    open: true,
                },
                conversations,
                &[2],
                sole,
            )
            .await,
    );
    (store, url, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conversation_is_done_once_and_a_late_attempt_is_not_counted() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let planned = [(0, 1), (0, 2), (1, 1)];
    let (store, _url, name) = store_with_job(&admin, &planned).await;
    let job = expect_ok(store.drill_job("d1").await);
    assert_eq!(job.scenarios.len(), 2);
    assert_eq!(job.manifest.source, "agent.yaml");
    assert!(job.open);

    // Three workers take three different conversations; there is no fourth.
    let lease = Duration::from_millis(300);
    let a = expect_ok(store.claim_conversation("a", lease).await).unwrap_or_else(|| panic!("a"));
    let b = expect_ok(store.claim_conversation("b", lease).await).unwrap_or_else(|| panic!("b"));
    let c = expect_ok(store.claim_conversation("c", Duration::from_secs(60)).await)
        .unwrap_or_else(|| panic!("c"));
    assert_eq!(
        [
            (a.scenario_index, a.run),
            (b.scenario_index, b.run),
            (c.scenario_index, c.run)
        ],
        planned
    );
    assert!(!a.is_retry() && a.retry_reason.is_none());
    assert!(expect_ok(store.claim_conversation("d", lease).await).is_none());

    // `a` renews its lease; `b` stops. Once b's lease runs out, `d` takes its conversation again.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(expect_ok(store.renew_lease(a.id, a.attempt, lease).await));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let retry = expect_ok(store.claim_conversation("d", lease).await)
        .unwrap_or_else(|| panic!("b's conversation was not taken again"));
    assert_eq!(retry.id, b.id);
    assert_eq!(retry.attempt, 2);
    assert_eq!(retry.previous_workers, vec!["b".to_owned()]);
    assert!(
        retry
            .retry_reason
            .as_deref()
            .is_some_and(|r| r.contains("lease expired")),
        "{retry:?}"
    );

    // The stalled attempt comes back: it no longer holds the row, and its result is refused.
    assert!(!expect_ok(store.renew_lease(b.id, b.attempt, lease).await));
    assert!(!expect_ok(
        store
            .complete_conversation(b.id, b.attempt, &json!("late"))
            .await
    ));
    assert!(expect_ok(
        store
            .complete_conversation(retry.id, retry.attempt, &json!("d's"))
            .await
    ));
    assert!(expect_ok(
        store
            .complete_conversation(a.id, a.attempt, &json!("a's"))
            .await
    ));
    // Done once: not again, not even by the attempt that finished it.
    assert!(!expect_ok(
        store
            .complete_conversation(a.id, a.attempt, &json!("again"))
            .await
    ));
    let refused = sqlx::query("UPDATE drill_queue SET result = 'x' WHERE id = $1")
        .bind(a.id)
        .execute(store.pool())
        .await;
    assert!(refused.is_err(), "a finished row was changed");

    // A worker that fails gives the conversation back; the next attempt is told why.
    assert!(expect_ok(
        store
            .release_conversation(c.id, c.attempt, "store unreachable")
            .await
    ));
    let again = expect_ok(store.claim_conversation("e", lease).await)
        .unwrap_or_else(|| panic!("c's conversation was not queued again"));
    assert_eq!((again.id, again.attempt), (c.id, 2));
    assert!(
        again
            .retry_reason
            .as_deref()
            .is_some_and(|r| r.contains("store unreachable"))
    );
    let progress = expect_ok(store.queue_progress("d1").await);
    assert_eq!(
        (progress.done, progress.running, progress.queued),
        (2, 1, 0)
    );
    assert!(expect_ok(store.has_open_work().await));
    assert!(expect_ok(
        store
            .complete_conversation(again.id, again.attempt, &json!("e's"))
            .await
    ));

    let results = expect_ok(store.finished_conversations("d1", &[]).await);
    assert_eq!(results.len(), 3);
    let by_id = |id| {
        results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(by_id(b.id).result, json!("d's"));
    assert_eq!(by_id(b.id).workers, vec!["b".to_owned(), "d".to_owned()]);
    assert_eq!(by_id(b.id).worker, "d");
    assert_eq!(by_id(a.id).attempt, 1);
    let rest = expect_ok(store.finished_conversations("d1", &[a.id, b.id]).await);
    assert_eq!(rest.len(), 1);
    assert!(expect_ok(store.unfinished_conversations("d1").await).is_empty());
    assert!(!expect_ok(store.has_open_work().await));

    // A closed job hands out nothing.
    expect_ok(store.close_drill_job("d1").await);
    assert!(!expect_ok(store.drill_job("d1").await).open);
    store.close().await;
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_slots_are_spaced_across_workers() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let (store, url, name) = store_with_job(&admin, &[]).await;
    let other = expect_ok(PgStore::connect(&url).await);
    let interval = Duration::from_millis(50);
    // Two "workers" take ten slots between them, alternating: when each may send (the time it
    // asked plus the wait it was given) must be an interval apart, whoever asked.
    let started = Instant::now();
    let mut sends = Vec::new();
    for i in 0..10 {
        let worker = if i % 2 == 0 { &store } else { &other };
        let asked = started.elapsed();
        let wait = expect_ok(
            worker
                .reserve_request_slot("http://127.0.0.1:1/", interval)
                .await,
        );
        sends.push(asked + wait);
    }
    sends.sort_unstable();
    for pair in sends.windows(2) {
        // Less the time a query takes to reach the database's clock.
        assert!(
            pair[1] - pair[0] >= interval - Duration::from_millis(20),
            "{sends:?}"
        );
    }
    // Another target has its own slots.
    assert!(
        expect_ok(
            store
                .reserve_request_slot("http://127.0.0.1:2/", interval)
                .await
        ) < interval
    );
    other.close().await;
    store.close().await;
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_a_scenario_that_plants_test_data_never_overlap() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    // Scenario 2 plants test data (exclusive); scenario 0 does not.
    let (store, _url, name) = store_with_job(&admin, &[(2, 1), (2, 2), (0, 1)]).await;
    let lease = Duration::from_secs(60);
    let first =
        expect_ok(store.claim_conversation("a", lease).await).unwrap_or_else(|| panic!("a"));
    assert_eq!((first.scenario_index, first.run), (2, 1));
    let other =
        expect_ok(store.claim_conversation("b", lease).await).unwrap_or_else(|| panic!("b"));
    assert_eq!(
        (other.scenario_index, other.run),
        (0, 1),
        "run 2 must wait for run 1"
    );
    assert!(expect_ok(store.claim_conversation("c", lease).await).is_none());
    assert!(expect_ok(
        store
            .complete_conversation(first.id, first.attempt, &json!(1))
            .await
    ));
    let second =
        expect_ok(store.claim_conversation("c", lease).await).unwrap_or_else(|| panic!("c"));
    assert_eq!((second.scenario_index, second.run), (2, 2));

    // The drill is stopped: renewals say so (the worker stops the conversation), but the attempt
    // still holds its row, so what it ran is counted.
    expect_ok(store.close_drill_job("d1").await);
    assert!(!expect_ok(
        store.renew_lease(second.id, second.attempt, lease).await
    ));
    assert!(expect_ok(
        store
            .complete_conversation(second.id, second.attempt, &json!(2))
            .await
    ));
    store.close().await;
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_plants_a_shared_fixture_never_runs_beside_another() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    // Scenario 1 plants a shared fixture; scenario 0 plants nothing.
    let (store, _url, name) = store_with_sole_job(&admin, &[(0, 1), (1, 1), (0, 2)], &[1]).await;
    let lease = Duration::from_secs(60);
    let claim = |worker: &'static str| {
        let store = &store;
        async move { expect_ok(store.claim_conversation(worker, lease).await) }
    };
    // A conversation is under way, so the sole run waits, and the queue does not hand out the
    // next conversation past it either while it waits: it takes the next free one.
    let first = claim("a").await.unwrap_or_else(|| panic!("a"));
    assert_eq!((first.scenario_index, first.run), (0, 1));
    let next = claim("b").await.unwrap_or_else(|| panic!("b"));
    assert_eq!(
        (next.scenario_index, next.run),
        (0, 2),
        "the sole run must wait for the conversation under way"
    );
    for done in [&first, &next] {
        assert!(expect_ok(
            store
                .complete_conversation(done.id, done.attempt, &json!(1))
                .await
        ));
    }
    let sole = claim("c").await.unwrap_or_else(|| panic!("c"));
    assert_eq!((sole.scenario_index, sole.run), (1, 1));
    store.close().await;
    drop_database(&admin, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_runs_beside_a_run_that_plants_a_shared_fixture() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let (store, _url, name) = store_with_sole_job(&admin, &[(1, 1), (0, 1)], &[1]).await;
    let lease = Duration::from_secs(60);
    let sole = expect_ok(store.claim_conversation("a", lease).await).unwrap_or_else(|| panic!("a"));
    assert_eq!((sole.scenario_index, sole.run), (1, 1));
    assert!(
        expect_ok(store.claim_conversation("b", lease).await).is_none(),
        "a conversation started beside the sole run"
    );
    assert!(expect_ok(
        store
            .complete_conversation(sole.id, sole.attempt, &json!(1))
            .await
    ));
    let other =
        expect_ok(store.claim_conversation("b", lease).await).unwrap_or_else(|| panic!("b"));
    assert_eq!((other.scenario_index, other.run), (0, 1));
    store.close().await;
    drop_database(&admin, &name).await;
}

/// A conversation every worker fails on is taken `MAX_ATTEMPTS` times, then no more: it is listed
/// as exhausted, and the coordinator's "given up" result finishes it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_every_worker_fails_on_is_given_up_after_the_last_attempt() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let (store, _url, name) = store_with_job(&admin, &[(0, 1)]).await;
    let lease = Duration::from_secs(60);
    for n in 1..=muster_store::MAX_ATTEMPTS {
        assert!(expect_ok(store.exhausted_conversations("d1").await).is_empty());
        let claim = expect_ok(store.claim_conversation(&format!("w{n}"), lease).await)
            .unwrap_or_else(|| panic!("attempt {n} was not handed out"));
        assert_eq!(claim.attempt, n);
        assert!(expect_ok(
            store
                .release_conversation(claim.id, claim.attempt, &format!("failure {n}"))
                .await
        ));
    }
    assert!(
        expect_ok(store.claim_conversation("w-late", lease).await).is_none(),
        "taken past the last attempt"
    );
    let exhausted = expect_ok(store.exhausted_conversations("d1").await);
    assert_eq!(exhausted.len(), 1);
    let row = &exhausted[0];
    assert_eq!(row.attempt, muster_store::MAX_ATTEMPTS);
    assert_eq!(row.last_error.as_deref(), Some("failure 5"));
    assert_eq!(row.workers.len(), 5);
    let given_up = json!({"verdict": "inconclusive"});
    assert!(expect_ok(
        store
            .give_up_conversation(row.id, row.attempt, &given_up)
            .await
    ));
    assert!(!expect_ok(
        store
            .give_up_conversation(row.id, row.attempt, &given_up)
            .await
    ));
    let results = expect_ok(store.finished_conversations("d1", &[]).await);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].result, given_up);
    assert!(expect_ok(store.exhausted_conversations("d1").await).is_empty());
    store.close().await;
    drop_database(&admin, &name).await;
}
