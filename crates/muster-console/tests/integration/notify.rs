//! Decisions, severity changes and approvals reach a Slack channel (a local receiver speaking
//! Slack's documented webhook answers), with personal data masked.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use muster_console::roles::Role;
use muster_notify::{Channel, ChannelKind, Notifier};
use serde_json::{Value, json};

use crate::common::start_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_reach_slack_redacted() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let app = Router::new().route(
        "/services/T000/B000/XXXX",
        post(move |body: axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                if let Ok(mut all) = sink.lock() {
                    all.push(body.0);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let url = format!("http://{addr}/services/T000/B000/XXXX")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let notifier = Notifier::new(
        vec![Channel {
            kind: ChannelKind::Slack,
            name: "incident-room".into(),
            webhook_url: url,
        }],
        Duration::from_secs(5),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let console = start_with(|config| config.notifier = Some(Arc::new(notifier))).await;
    let fay = console.user("fay", Role::Facilitator).await;
    let id = fay.exercise(&console.drill_id, json!({})).await;
    fay.ok(
        &format!("/api/exercises/{id}/decisions"),
        json!({"title": "Call the customer back", "decision": "Ring jo.bloggs@example.com's number today",
               "owner": "contact-centre-lead", "rationale": "Bereavement: a person, not a bot"}),
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = received
            .lock()
            .map(|all| Value::Array(all.clone()).to_string())
            .unwrap_or_default();
        if text.contains("Call the customer back") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(text.contains("Decision: Call the customer back"), "{text}");
    assert!(text.contains("blocks"), "Slack Block Kit payload: {text}");
    assert!(!text.contains("jo.bloggs@example.com"), "{text}");
    assert!(text.contains("[email]"), "{text}");
    // Seat changes are not announced.
    assert!(!text.contains("took up"), "{text}");
}
