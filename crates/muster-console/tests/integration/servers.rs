//! Several console server processes behind one URL, on one PostgreSQL store: a session made on one
//! is honoured by the other, and an entry written through one reaches the other's event streams
//! at once (PostgreSQL `LISTEN/NOTIFY`), not on its next poll. Needs `MUSTER_TEST_POSTGRES_URL`
//! (set by scripts/test.sh); skipped without it, except under CI=true.

use std::sync::Arc;
use std::time::{Duration, Instant};

use muster_console::roles::Role;
use muster_store::{PgStore, Store};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::common::{Client, planted_drill, start_on};

fn admin_url() -> Option<String> {
    match std::env::var("MUSTER_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "MUSTER_TEST_POSTGRES_URL is not set: under CI=true the PostgreSQL tests must run"
            )
        }
        _ => {
            eprintln!("skipped: PostgreSQL (set MUSTER_TEST_POSTGRES_URL, or run scripts/test.sh)");
            None
        }
    }
}

async fn sql(url: &str, text: String) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(text))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_sessions_and_stream_each_others_entries() {
    let Some(admin) = admin_url() else {
        return;
    };
    let name = format!("muster_console_{}", uuid::Uuid::new_v4().simple());
    sql(&admin, format!("CREATE DATABASE {name}")).await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    PgStore::migrate(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let open = || async {
        let store: Arc<dyn Store> = Arc::new(
            PgStore::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
        store
    };
    let (store_a, store_b) = (open().await, open().await);
    let drill_id = planted_drill(&*store_a).await;
    // Polling every two minutes: only a notice can bring B the entry in time.
    let slow = |c: &mut muster_console::ConsoleConfig| {
        c.tail_tick = Duration::from_secs(120);
    };
    let a = start_on(store_a, drill_id.clone(), slow).await;
    let b = start_on(store_b, drill_id.clone(), slow).await;

    let fay_on_a = a.user("fay", Role::Facilitator).await;
    let fay_on_b = Client {
        http: fay_on_a.http.clone(),
        base: b.base.clone(),
        cookie: fay_on_a.cookie.clone(),
        csrf: fay_on_a.csrf.clone(),
    };
    let id = fay_on_a.exercise(&drill_id, json!({})).await;
    let (status, seen_by_b) = fay_on_b.get(&format!("/api/exercises/{id}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the session works on the other server: {seen_by_b}"
    );

    let mut stream = fay_on_b
        .http
        .get(format!("{}/api/exercises/{id}/stream", b.base))
        .header("cookie", &fay_on_b.cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("stream: {e}"));
    assert_eq!(stream.status(), StatusCode::OK);
    // Give B's listener a moment to be listening before A writes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    fay_on_a
        .ok(
            &format!("/api/exercises/{id}/clock"),
            json!({"action": "start"}),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while !seen.contains("event: entry") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(10), stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    assert!(seen.contains("event: entry"), "{seen}");
    assert!(seen.contains(&id), "{seen}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "delivered by notice, not by the two-minute poll"
    );
    // The same session signs out everywhere.
    let (status, _) = fay_on_b.post("/api/session/end", json!({})).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        fay_on_a.status_of(&format!("/api/exercises/{id}")).await,
        StatusCode::UNAUTHORIZED
    );
    a.store.close().await;
    b.store.close().await;
    sql(
        &admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}
