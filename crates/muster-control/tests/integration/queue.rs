//! The handover control against escalation queues that fail: an unreadable queue makes the
//! control inconclusive, never a pass; a queue read cleanly with no ticket is a failure.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use muster_control::ControlKind;
use muster_drill::Verdict;
use muster_model::agent::QueueKind;
use muster_refagent::FlawSet;

use crate::common::{agent, plan, run};

async fn serve(app: Router) -> String {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/")
}

async fn handover_against(queue_url: String) -> muster_control::ControlResult {
    let agent = agent(FlawSet::none()).await;
    let plan = plan(|m| {
        if let Some(q) = m.escalation.as_mut().and_then(|e| e.queue.as_mut()) {
            q.kind = QueueKind::Reference;
            q.url = Some(queue_url.clone());
            q.timeout = Some(muster_model::common::Duration(Duration::from_millis(300)));
        }
        if let Some(h) = m.controls.handover.as_mut() {
            h.claimed_within = muster_model::common::Duration(Duration::from_millis(400));
            h.polling.every = Some(muster_model::common::Duration(Duration::from_millis(100)));
            h.polling.give_up_after = None;
        }
    });
    let ran = run(&plan, &agent.base_url(), &[ControlKind::Handover], None).await;
    agent.shutdown().await;
    ran.row("handover").clone()
}

#[tokio::test]
async fn a_failing_queue_is_inconclusive_never_a_pass() {
    let url = serve(Router::new().route(
        "/api/v2/tickets.json",
        get(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "{\"error\":\"maintenance\"}",
            )
        }),
    ))
    .await;
    let row = handover_against(url).await;
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:#?}");
    assert!(row.reason.contains("503"), "{}", row.reason);
}

#[tokio::test]
async fn a_malformed_queue_is_inconclusive_never_a_pass() {
    let url = serve(Router::new().route(
        "/api/v2/tickets.json",
        get(|| async { "{\"tickets\": [{\"external_id\": " }),
    ))
    .await;
    let row = handover_against(url).await;
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:#?}");
}

#[tokio::test]
async fn a_slow_queue_is_inconclusive_never_a_pass() {
    let url = serve(Router::new().route(
        "/api/v2/tickets.json",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "{\"tickets\": []}"
        }),
    ))
    .await;
    let row = handover_against(url).await;
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:#?}");
    assert!(row.reason.contains("did not answer"), "{}", row.reason);
}

#[tokio::test]
async fn a_queue_that_never_shows_the_ticket_fails_the_control() {
    let url = serve(Router::new().route(
        "/api/v2/tickets.json",
        get(|| async { "{\"tickets\": [], \"next_page\": null, \"count\": 0}" }),
    ))
    .await;
    let row = handover_against(url).await;
    assert_eq!(row.verdict, Verdict::Fail, "{row:#?}");
    assert!(row.reason.contains("no ticket"), "{}", row.reason);
}
