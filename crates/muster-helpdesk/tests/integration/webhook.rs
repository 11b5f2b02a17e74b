//! The webhook receiver: the agent POSTs its handover to muster on loopback.

use muster_helpdesk::{HandoverQuery, HandoverQueue, QueueError, queue_from_manifest};
use muster_model::agent::{Queue, QueueKind};
use serde_json::{Value, json};

use crate::fake::data;

const SECRET: &str = "hook-5ecret-value";

fn receiver(settings: Value) -> Box<dyn HandoverQueue> {
    let queue: Queue = serde_json::from_value(json!({"kind": "webhook", "webhook": settings}))
        .unwrap_or_else(|e| panic!("{e}"));
    let base = url::Url::parse("http://127.0.0.1:9/").unwrap_or_else(|e| panic!("{e}"));
    let env = |name: &str| (name == "HANDOVER_SECRET").then(|| SECRET.to_owned());
    queue_from_manifest(&queue, &base, &env).unwrap_or_else(|e| panic!("{e}"))
}

fn query(conversation: &str) -> HandoverQuery {
    HandoverQuery {
        conversation_id: conversation.to_owned(),
        customer_ref: Some("LM-100234".into()),
        since: jiff::Timestamp::now(),
    }
}

async fn post(url: &url::Url, headers: &[(&str, &str)], body: &str) -> u16 {
    let mut request = reqwest::Client::new()
        .post(url.clone())
        .body(body.to_owned());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status()
        .as_u16()
}

fn endpoint(queue: &dyn HandoverQueue) -> url::Url {
    let url = queue
        .endpoint()
        .unwrap_or_else(|| panic!("a webhook receiver has an endpoint"));
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert_ne!(url.port(), Some(0));
    url
}

#[tokio::test]
async fn a_handover_post_is_found_with_its_context() {
    let queue = receiver(
        json!({"secret": {"env": "HANDOVER_SECRET", "header": "X-Handover-Secret", "scheme": ""}}),
    );
    let url = endpoint(queue.as_ref());
    assert_eq!(url.path(), "/handover");

    let before = queue.find_handover(&query("conv-7f3a9c")).await;
    assert!(matches!(before.outcome, Ok(None)), "{:?}", before.outcome);
    assert!(before.exchanges.is_empty());

    let status = post(
        &url,
        &[
            ("content-type", "application/json"),
            ("x-handover-secret", SECRET),
        ],
        &data("webhook/handover.json"),
    )
    .await;
    assert_eq!(status, 202);

    let lookup = queue.find_handover(&query("conv-7f3a9c")).await;
    let t = match lookup.outcome {
        Ok(Some(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(t.system, QueueKind::Webhook);
    assert_eq!(t.id, "HO-1001");
    assert_eq!(t.customer_ref.as_deref(), Some("LM-100234"));
    assert!(
        t.context
            .as_deref()
            .is_some_and(|c| c.contains("speak to someone"))
    );
    assert_eq!(t.priority.as_deref(), Some("high"));
    assert_eq!(t.tags, ["handover", "billing"]);
    assert_eq!(t.queue.as_deref(), Some("vulnerable-customers"));
    assert!(t.created_at.is_some());
    // The delivery is evidence once, with the shared secret removed.
    assert_eq!(lookup.exchanges.len(), 1);
    let recorded = lookup.exchanges[0].to_json().to_string();
    assert!(!recorded.contains(SECRET), "{recorded}");
    assert_eq!(lookup.exchanges[0].status, Some(202));
    let again = queue.find_handover(&query("conv-7f3a9c")).await;
    assert!(matches!(again.outcome, Ok(Some(_))));
    assert!(again.exchanges.is_empty());
}

#[tokio::test]
async fn pointers_are_configurable_and_other_conversations_ignored() {
    let queue = receiver(
        json!({"path": "/hooks/escalate", "conversation_id": "/conversation/id",
                                "context": "/conversation/summary", "tags": "/labels", "id": ""}),
    );
    let url = endpoint(queue.as_ref());
    assert_eq!(url.path(), "/hooks/escalate");
    let other = json!({"conversation": {"id": "conv-other", "summary": "Another customer"}});
    assert_eq!(post(&url, &[], &other.to_string()).await, 202);
    let lookup = queue.find_handover(&query("conv-7f3a9c")).await;
    assert!(matches!(lookup.outcome, Ok(None)), "{:?}", lookup.outcome);
    assert_eq!(lookup.exchanges.len(), 1);

    let mine = json!({"conversation": {"id": "conv-7f3a9c", "summary": "Wants to cancel; vulnerable"}, "labels": "a, b"});
    assert_eq!(post(&url, &[], &mine.to_string()).await, 202);
    let lookup = queue.find_handover(&query("conv-7f3a9c")).await;
    let t = match lookup.outcome {
        Ok(Some(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(t.context.as_deref(), Some("Wants to cancel; vulnerable"));
    assert_eq!(t.tags, ["a", "b"]);
    assert!(t.id.starts_with("delivery@"));
}

/// What is posted (headers, body) and the status muster must answer.
type Delivery<'a> = (&'a str, Vec<(&'a str, &'a str)>, String, u16);

#[tokio::test]
async fn refused_deliveries_are_errors_never_tickets() {
    let queue = receiver(
        json!({"secret": {"env": "HANDOVER_SECRET", "header": "X-Handover-Secret", "scheme": ""}}),
    );
    let url = endpoint(queue.as_ref());
    let body = data("webhook/handover.json");
    let cases: [Delivery<'_>; 4] = [
        ("no secret", vec![], body.clone(), 401),
        (
            "wrong secret",
            vec![("x-handover-secret", "guess")],
            body.clone(),
            401,
        ),
        (
            "not JSON",
            vec![("x-handover-secret", SECRET)],
            "{\"conversation_id\": ".to_owned(),
            400,
        ),
        (
            "not an object",
            vec![("x-handover-secret", SECRET)],
            "[1, 2]".to_owned(),
            400,
        ),
    ];
    for (what, headers, body, status) in cases {
        assert_eq!(post(&url, &headers, &body).await, status, "{what}");
        let lookup = queue.find_handover(&query("conv-7f3a9c")).await;
        match &lookup.outcome {
            Err(e @ QueueError::Rejected { .. }) => {
                assert!(e.to_string().contains("refused"), "{what}: {e}");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
        assert_eq!(lookup.exchanges.len(), 1, "{what}");
        assert!(
            !lookup.exchanges[0].to_json().to_string().contains(SECRET),
            "{what}"
        );
    }
    // Nothing was accepted, so nothing is found afterwards either.
    let lookup = queue.find_handover(&query("conv-7f3a9c")).await;
    assert!(matches!(lookup.outcome, Ok(None)), "{:?}", lookup.outcome);
}

#[tokio::test]
async fn the_receiver_listens_on_loopback_only() {
    let queue: Queue =
        serde_json::from_value(json!({"kind": "webhook", "webhook": {"listen": "0.0.0.0:0"}}))
            .unwrap_or_else(|e| panic!("{e}"));
    let base = url::Url::parse("http://127.0.0.1:9/").unwrap_or_else(|e| panic!("{e}"));
    let err = queue_from_manifest(&queue, &base, &|_| None).err();
    assert!(
        matches!(&err, Some(QueueError::Config(m)) if m.contains("loopback")),
        "{err:?}"
    );
    let missing: Queue =
        serde_json::from_value(json!({"kind": "webhook", "webhook": {"secret": {"env": "NOPE"}}}))
            .unwrap_or_else(|e| panic!("{e}"));
    let err = queue_from_manifest(&missing, &base, &|_| None).err();
    assert_eq!(err, Some(QueueError::MissingSecret("NOPE".into())));
}
