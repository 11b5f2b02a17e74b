//! The notifier over real loopback HTTP against a local receiver that answers as Slack and Teams
//! document: Slack `200 ok` (or `400 invalid_payload` for a body without blocks, `404
//! no_service`), Teams `202`; plus throttling, server errors, a slow service and a closed port.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use muster_notify::{
    Channel, ChannelKind, Delivery, Notification, NotificationKind, Notifier, NotifyError,
};

/// The token part of every webhook path; it must never show up in an error.
const TOKEN: &str = "T0000000/B0000000/XXXXXXXXsecretXXXXXXXX";

#[derive(Debug, Clone)]
struct Received {
    path: String,
    content_type: String,
    body: serde_json::Value,
}

#[derive(Default)]
struct Receiver {
    received: Mutex<Vec<Received>>,
    flaky_hits: AtomicUsize,
}

impl Receiver {
    fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

type Shared = Arc<Receiver>;

async fn record(state: &Shared, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    if let Ok(mut r) = state.received.lock() {
        r.push(Received {
            path: uri.path().to_owned(),
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            body: json.clone(),
        });
    }
    json
}

/// Slack: `ok`, or `invalid_payload` when there are no blocks.
async fn slack(State(state): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let json = record(&state, &uri, &headers, &body).await;
    if json.get("blocks").and_then(|b| b.as_array()).is_some() {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::BAD_REQUEST, "invalid_payload").into_response()
    }
}

/// Teams (Workflows): 202 with an empty body.
async fn teams(State(state): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    record(&state, &uri, &headers, &body).await;
    StatusCode::ACCEPTED.into_response()
}

/// Slack throttling the first request with `Retry-After: 1`.
async fn flaky(State(state): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    record(&state, &uri, &headers, &body).await;
    if state.flaky_hits.fetch_add(1, Ordering::SeqCst) == 0 {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "rate_limited",
        )
            .into_response()
    } else {
        (StatusCode::OK, "ok").into_response()
    }
}

/// Throttling with a wait beyond the notifier's cap.
async fn throttled(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body).await;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "3600")],
        "rate_limited",
    )
        .into_response()
}

/// A server error that echoes the request URL back, as a careless proxy might.
async fn broken(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body).await;
    let echo = format!(
        "upstream failed for {uri} (host {:?})",
        headers.get(header::HOST)
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "0")],
        echo,
    )
        .into_response()
}

async fn gone(State(state): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    record(&state, &uri, &headers, &body).await;
    (StatusCode::NOT_FOUND, "no_service").into_response()
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(5)).await;
    (StatusCode::OK, "ok").into_response()
}

/// Starts the receiver on a loopback port; returns its base URL and state.
async fn start() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/slack/services/{*rest}", post(slack))
        .route("/teams/workflows/{*rest}", post(teams))
        .route("/flaky/{*rest}", post(flaky))
        .route("/throttled/{*rest}", post(throttled))
        .route("/broken/{*rest}", post(broken))
        .route("/gone/{*rest}", post(gone))
        .route("/slow/{*rest}", post(slow))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), state)
}

fn channel(kind: ChannelKind, name: &str, url: &str) -> Channel {
    Channel {
        kind,
        name: name.to_owned(),
        webhook_url: url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}")),
    }
}

fn notification() -> Notification {
    Notification {
        kind: NotificationKind::SeverityChanged,
        exercise_id: "ex-7".to_owned(),
        exercise_title: "Larkspur billing outage".to_owned(),
        headline: "Severity raised to SEV-1".to_owned(),
        detail: Some("Refund commitments seen in 3 conversations.".to_owned()),
        actor: Some("Dana Facilitator".to_owned()),
        exercise_clock: Some("T+01:05".to_owned()),
        link: Some("https://console.example.com/exercises/ex-7".to_owned()),
        at: "2026-03-12T11:05:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
    }
}

fn notifier(channels: Vec<Channel>, timeout: Duration) -> Notifier {
    Notifier::new(channels, timeout).unwrap_or_else(|e| panic!("{e}"))
}

/// The error of a delivery that must have failed, checked to carry no part of the webhook URL.
fn failure<'a>(delivery: &'a Delivery, base: &str) -> &'a NotifyError {
    let Err(error) = &delivery.outcome else {
        panic!("{} was delivered: {:?}", delivery.channel, delivery.outcome);
    };
    eprintln!("{}: {error}", delivery.channel);
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains(base), "{shown}");
    }
    error
}

#[tokio::test]
async fn delivers_documented_payloads_to_slack_and_teams() {
    let (base, state) = start().await;
    let n = notifier(
        vec![
            channel(
                ChannelKind::Slack,
                "slack",
                &format!("{base}/slack/services/{TOKEN}"),
            ),
            channel(
                ChannelKind::Teams,
                "teams",
                &format!("{base}/teams/workflows/{TOKEN}?sig=secret"),
            ),
        ],
        Duration::from_secs(5),
    );
    let deliveries = n.send(&notification()).await;
    let outcomes: Vec<_> = deliveries
        .iter()
        .map(|d| (d.channel.as_str(), d.outcome.as_ref().ok().copied()))
        .collect();
    assert_eq!(outcomes, [("slack", Some(200)), ("teams", Some(202))]);

    let mut received = state.received();
    received.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(r.content_type, "application/json", "{}", r.path);
    }
    let (slack, teams) = (&received[0], &received[1]);
    assert!(slack.path.starts_with("/slack/"));
    assert_eq!(slack.body, muster_notify::slack_payload(&notification()));
    assert_eq!(slack.body["blocks"][0]["type"], "header");
    assert_eq!(
        slack.body["blocks"][0]["text"]["text"],
        "Severity changed: Severity raised to SEV-1"
    );
    assert!(teams.path.starts_with("/teams/"));
    assert_eq!(teams.body, muster_notify::teams_payload(&notification()));
    assert_eq!(teams.body["type"], "message");
    let attachment = &teams.body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(attachment["contentUrl"].is_null());
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(
        attachment["content"]["actions"][0]["type"],
        "Action.OpenUrl"
    );
}

#[tokio::test]
async fn a_refusal_is_reported_with_slacks_reason_and_without_the_url() {
    let (base, _state) = start().await;
    // A Teams card posted to a Slack webhook has no blocks: Slack answers 400 invalid_payload.
    let n = notifier(
        vec![
            channel(
                ChannelKind::Teams,
                "misconfigured",
                &format!("{base}/slack/services/{TOKEN}"),
            ),
            channel(
                ChannelKind::Slack,
                "removed",
                &format!("{base}/gone/{TOKEN}"),
            ),
        ],
        Duration::from_secs(5),
    );
    let deliveries = n.send(&notification()).await;
    let error = failure(&deliveries[0], &base);
    assert!(
        matches!(error, NotifyError::Rejected { status: 400, body, .. } if body == "invalid_payload"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "channel `misconfigured`: Teams refused the message: HTTP 400 invalid_payload"
    );
    let error = failure(&deliveries[1], &base);
    assert_eq!(
        error.to_string(),
        "channel `removed`: Slack refused the message: HTTP 404 no_service"
    );
}

#[tokio::test]
async fn a_429_is_retried_once_after_retry_after() {
    let (base, state) = start().await;
    let n = notifier(
        vec![channel(
            ChannelKind::Slack,
            "slack",
            &format!("{base}/flaky/{TOKEN}"),
        )],
        Duration::from_secs(5),
    );
    let started = Instant::now();
    let deliveries = n.send(&notification()).await;
    let elapsed = started.elapsed();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].outcome.as_ref().ok(),
        Some(&200),
        "{:?}",
        deliveries[0]
    );
    assert_eq!(state.flaky_hits.load(Ordering::SeqCst), 2);
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    let received = state.received();
    assert_eq!(received[0].body, received[1].body);
}

#[tokio::test]
async fn a_wait_beyond_the_cap_is_reported_not_retried() {
    let (base, state) = start().await;
    let n = notifier(
        vec![channel(
            ChannelKind::Slack,
            "slack",
            &format!("{base}/throttled/{TOKEN}"),
        )],
        Duration::from_secs(5),
    );
    let deliveries = n.send(&notification()).await;
    let error = failure(&deliveries[0], &base);
    assert!(
        matches!(error, NotifyError::Rejected { status: 429, .. }),
        "{error:?}"
    );
    assert_eq!(state.received().len(), 1);
}

#[tokio::test]
async fn a_5xx_is_retried_once_then_reported_without_the_echoed_url() {
    let (base, state) = start().await;
    let n = notifier(
        vec![channel(
            ChannelKind::Teams,
            "teams",
            &format!("{base}/broken/{TOKEN}?sig=secret"),
        )],
        Duration::from_secs(5),
    );
    let deliveries = n.send(&notification()).await;
    let error = failure(&deliveries[0], &base);
    assert!(
        matches!(error, NotifyError::Rejected { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("<redacted>"), "{error}");
    assert_eq!(state.received().len(), 2);
}

#[tokio::test]
async fn a_slow_service_times_out_and_others_still_deliver() {
    let (base, _state) = start().await;
    let n = notifier(
        vec![
            channel(ChannelKind::Slack, "slow", &format!("{base}/slow/{TOKEN}")),
            channel(
                ChannelKind::Slack,
                "slack",
                &format!("{base}/slack/services/{TOKEN}"),
            ),
        ],
        Duration::from_millis(300),
    );
    let started = Instant::now();
    let deliveries = n.send(&notification()).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let error = failure(&deliveries[0], &base);
    assert!(matches!(error, NotifyError::Timeout { .. }), "{error:?}");
    assert_eq!(deliveries[1].outcome.as_ref().ok(), Some(&200));
}

#[tokio::test]
async fn an_unreachable_service_is_a_transport_error_without_the_url() {
    // A port that was just free: nothing listens on it any more.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    drop(listener);
    let base = format!("http://{addr}");
    let n = notifier(
        vec![channel(
            ChannelKind::Slack,
            "slack",
            &format!("{base}/slack/services/{TOKEN}"),
        )],
        Duration::from_secs(5),
    );
    let deliveries = n.send(&notification()).await;
    let error = failure(&deliveries[0], &base);
    assert!(matches!(error, NotifyError::Transport { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("channel `slack`: could not reach Slack: "),
        "{error}"
    );
}

#[test]
fn the_documented_examples_are_what_is_sent() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/notifications.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let examples: Vec<serde_json::Value> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|rest| rest.split("\n```").next())
        .map(|block| serde_json::from_str(block).unwrap_or_else(|e| panic!("{e}: {block}")))
        .collect();
    assert_eq!(
        examples,
        [
            muster_notify::slack_payload(&notification()),
            muster_notify::teams_payload(&notification())
        ]
    );
}
