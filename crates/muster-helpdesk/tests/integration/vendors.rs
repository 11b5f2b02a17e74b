//! Each helpdesk adapter against a loopback stand-in serving the vendor's documented payloads:
//! found, not yet there then found, and every way a look-up can fail.

use std::time::Duration;

use base64::Engine as _;
use muster_helpdesk::{
    HandoverQuery, HandoverQueue, HandoverTicket, Lookup, QueueError, queue_from_manifest,
};
use muster_model::agent::{Queue, QueueKind};
use serde_json::{Value, json};

use crate::fake::{Fake, Reply, data};

/// One vendor's set-up: the manifest queue, the credentials the stand-in expects, and the
/// documented payloads it serves.
struct Vendor {
    name: &'static str,
    /// The manifest's `escalation.queue`; `url` is filled in with the stand-in's address.
    queue: Value,
    secret: Option<(&'static str, &'static str)>,
    /// Header and exact value the vendor's documented authentication produces.
    auth: Option<(&'static str, String)>,
    unauthorized: String,
    found: String,
    empty: String,
    conversation: &'static str,
}

fn basic(plain: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(plain)
    )
}

fn zendesk() -> Vendor {
    Vendor {
        name: "Zendesk",
        queue: json!({"kind": "zendesk", "user": "agent@example.com",
                      "auth": {"env": "ZENDESK_TOKEN"}, "timeout": "300ms"}),
        secret: Some(("ZENDESK_TOKEN", "zd-token-5ecret")),
        auth: Some((
            "authorization",
            basic("agent@example.com/token:zd-token-5ecret"),
        )),
        unauthorized: data("zendesk/401.json"),
        found: data("zendesk/list-tickets.json"),
        empty: data("zendesk/list-tickets-empty.json"),
        conversation: "ahg35h3jh",
    }
}

fn freshdesk() -> Vendor {
    Vendor {
        name: "Freshdesk",
        queue: json!({"kind": "freshdesk", "conversation_field": "cf_sector_no",
                      "auth": {"env": "FRESHDESK_KEY"}, "timeout": "300ms"}),
        secret: Some(("FRESHDESK_KEY", "fd-key-5ecret")),
        auth: Some(("authorization", basic("fd-key-5ecret:X"))),
        unauthorized: data("freshdesk/401.json"),
        found: data("freshdesk/filter-tickets.json"),
        empty: data("freshdesk/filter-tickets-empty.json"),
        conversation: "7",
    }
}

fn intercom() -> Vendor {
    Vendor {
        name: "Intercom",
        queue: json!({"kind": "intercom", "auth": {"env": "INTERCOM_TOKEN"}, "timeout": "300ms"}),
        secret: Some(("INTERCOM_TOKEN", "ic-token-5ecret")),
        auth: Some(("authorization", "Bearer ic-token-5ecret".to_owned())),
        unauthorized: data("intercom/401.json"),
        found: data("intercom/conversation-found.json"),
        empty: data("intercom/conversation-not-handed-over.json"),
        conversation: "503",
    }
}

fn salesforce() -> Vendor {
    Vendor {
        name: "Salesforce",
        queue: json!({"kind": "salesforce", "conversation_field": "Conversation_Id__c",
                      "auth": {"env": "SF_TOKEN"}, "timeout": "300ms"}),
        secret: Some(("SF_TOKEN", "sf-token-5ecret")),
        auth: Some(("authorization", "Bearer sf-token-5ecret".to_owned())),
        unauthorized: data("salesforce/401.json"),
        found: data("salesforce/query-case.json"),
        empty: data("salesforce/query-empty.json"),
        conversation: "conv-7f3a9c",
    }
}

fn reference() -> Vendor {
    Vendor {
        name: "reference",
        queue: json!({"kind": "reference", "url": "/admin/handover-queue", "timeout": "300ms"}),
        secret: None,
        auth: None,
        unauthorized: String::new(),
        found: data("zendesk/list-tickets.json"),
        empty: data("zendesk/list-tickets-empty.json"),
        conversation: "ahg35h3jh",
    }
}

impl Vendor {
    /// A stand-in with `script`, and the adapter the manifest builds for it. `secret` overrides
    /// the credential muster reads from the environment.
    async fn start(
        &self,
        script: Vec<Reply>,
        secret: Option<&str>,
    ) -> (Fake, Box<dyn HandoverQueue>) {
        let (fake, base) = Fake::start(
            self.auth.as_ref().map(|(h, v)| (*h, v.clone())),
            &self.unauthorized,
            script,
        )
        .await;
        let mut queue = self.queue.clone();
        if self.name != "reference" {
            queue["url"] = Value::from(base.as_str().trim_end_matches('/'));
        }
        let queue: Queue = serde_json::from_value(queue).unwrap_or_else(|e| panic!("{e}"));
        let (var, value) = self.secret.unwrap_or(("", ""));
        let value = secret.unwrap_or(value).to_owned();
        let env = move |name: &str| (name == var).then(|| value.clone());
        let adapter = queue_from_manifest(&queue, &base, &env)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        (fake, adapter)
    }

    fn query(&self) -> HandoverQuery {
        HandoverQuery {
            conversation_id: self.conversation.to_owned(),
            customer_ref: None,
            since: jiff::Timestamp::now(),
        }
    }

    /// Every recorded exchange and error text, for secret checks.
    fn assert_no_secret(&self, lookup: &Lookup) {
        let Some((_, secret)) = self.secret else {
            return;
        };
        let mut text: Vec<String> = lookup
            .exchanges
            .iter()
            .map(|e| e.to_json().to_string())
            .collect();
        if let Err(e) = &lookup.outcome {
            text.push(e.to_string());
        }
        let encoded = self
            .auth
            .as_ref()
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for t in text {
            assert!(
                !t.contains(secret),
                "{}: the secret leaked into {t}",
                self.name
            );
            assert!(
                !t.contains(
                    encoded
                        .trim_start_matches("Basic ")
                        .trim_start_matches("Bearer ")
                ),
                "{}: the credential leaked into {t}",
                self.name
            );
        }
    }
}

fn found(vendor: &Vendor, lookup: &Lookup) -> HandoverTicket {
    vendor.assert_no_secret(lookup);
    match &lookup.outcome {
        Ok(Some(t)) => t.clone(),
        other => panic!("{}: expected a ticket, got {other:?}", vendor.name),
    }
}

async fn finds_the_documented_ticket(vendor: Vendor) -> (HandoverTicket, Vec<crate::fake::Seen>) {
    let (fake, queue) = vendor
        .start(vec![Reply::Json(200, vendor.found.clone())], None)
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    let ticket = found(&vendor, &lookup);
    assert_eq!(lookup.exchanges.len(), 1, "{}", vendor.name);
    let exchange = &lookup.exchanges[0];
    assert_eq!(exchange.status, Some(200));
    if vendor.auth.is_some() {
        assert!(
            exchange
                .request_headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "[redacted]"),
            "{}: {:?}",
            vendor.name,
            exchange.request_headers
        );
    }
    assert!(!queue.describe().is_empty());
    (ticket, fake.seen())
}

async fn appears_on_a_later_poll(vendor: Vendor) {
    let script = vec![
        Reply::Json(200, vendor.empty.clone()),
        Reply::Json(200, vendor.empty.clone()),
        Reply::Json(200, vendor.found.clone()),
    ];
    let (_fake, queue) = vendor.start(script, None).await;
    for poll in 1..=2 {
        let lookup = queue.find_handover(&vendor.query()).await;
        vendor.assert_no_secret(&lookup);
        assert!(
            matches!(lookup.outcome, Ok(None)),
            "{} poll {poll}: {:?}",
            vendor.name,
            lookup.outcome
        );
        assert_eq!(lookup.exchanges.len(), 1);
    }
    let lookup = queue.find_handover(&vendor.query()).await;
    let ticket = found(&vendor, &lookup);
    assert_eq!(ticket.conversation_id.as_deref(), Some(vendor.conversation));
}

/// Whether an error is the one a failure case must produce.
type IsExpected = fn(&QueueError) -> bool;

/// Each failure the drill must call inconclusive: an `Err` with a message that names the
/// helpdesk and what went wrong, and never a ticket.
async fn every_failure_is_an_error(vendor: Vendor) {
    let cases: Vec<(&str, Reply, IsExpected)> = vec![
        (
            "slow",
            Reply::Slow(Duration::from_secs(3), vendor.found.clone()),
            |e| matches!(e, QueueError::Timeout { .. }),
        ),
        (
            "5xx",
            Reply::Json(503, r#"{"error": "upstream unavailable"}"#.into()),
            |e| matches!(e, QueueError::Status { status: 503, excerpt, .. } if excerpt.contains("upstream unavailable")),
        ),
        (
            "429",
            Reply::TooMany,
            |e| matches!(e, QueueError::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(7)),
        ),
        (
            "malformed JSON",
            Reply::Json(200, "{\"tickets\": [{\"id\": 1,".into()),
            |e| matches!(e, QueueError::Malformed { reason, .. } if reason.contains("not JSON")),
        ),
        (
            "wrong shape",
            Reply::Json(200, r#"{"unexpected": true}"#.into()),
            |e| matches!(e, QueueError::Malformed { reason, .. } if reason.contains("expected")),
        ),
        ("an array", Reply::Json(200, "[]".into()), |e| {
            matches!(e, QueueError::Malformed { .. })
        }),
        (
            "records without ids",
            Reply::Json(200, without_ids(&vendor.found)),
            |e| matches!(e, QueueError::Malformed { .. }),
        ),
    ];
    let (fake, queue) = vendor.start(vec![], None).await;
    for (what, reply, expected) in cases {
        fake.set_script(vec![reply]);
        let lookup = queue.find_handover(&vendor.query()).await;
        vendor.assert_no_secret(&lookup);
        let err = match &lookup.outcome {
            Err(e) => e,
            Ok(found) => panic!("{} {what}: expected an error, got {found:?}", vendor.name),
        };
        assert!(
            expected(err),
            "{} {what}: unexpected error {err:?}",
            vendor.name
        );
        let message = err.to_string();
        assert!(message.len() > 20, "{} {what}: {message}", vendor.name);
        assert_eq!(lookup.exchanges.len(), 1, "{} {what}", vendor.name);
        assert!(
            lookup.exchanges[0].error.is_some(),
            "{} {what}: the exchange records no error",
            vendor.name
        );
    }

    if vendor.auth.is_some() {
        let (_fake, queue) = vendor
            .start(
                vec![Reply::Json(200, vendor.found.clone())],
                Some("wrong-5ecret"),
            )
            .await;
        let lookup = queue.find_handover(&vendor.query()).await;
        vendor.assert_no_secret(&lookup);
        assert!(!format!("{:?}", lookup.exchanges).contains("wrong-5ecret"));
        match &lookup.outcome {
            Err(
                e @ QueueError::Unauthorized {
                    status: 401,
                    excerpt,
                    ..
                },
            ) => {
                let documented = vendor.unauthorized.trim();
                assert!(
                    excerpt.contains(&documented[..documented.len().min(40)]),
                    "{e}"
                );
                assert!(
                    e.to_string().contains(vendor.name) || vendor.name == "reference",
                    "{e}"
                );
                assert_eq!(e.status(), Some(401));
            }
            other => panic!(
                "{} wrong credentials: expected Unauthorized, got {other:?}",
                vendor.name
            ),
        }
    }
}

/// The found payload with every `id`/`Id` removed from its records.
fn without_ids(found: &str) -> String {
    let mut v: Value = serde_json::from_str(found).unwrap_or_else(|e| panic!("{e}"));
    fn strip(v: &mut Value, depth: usize) {
        match v {
            Value::Object(map) => {
                if depth > 0 {
                    map.remove("id");
                    map.remove("Id");
                } else {
                    map.remove("id");
                }
                for child in map.values_mut() {
                    strip(child, depth + 1);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| strip(i, depth + 1)),
            _ => {}
        }
    }
    strip(&mut v, 0);
    v.to_string()
}

// ── Zendesk ─────────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn zendesk_finds_the_ticket_by_external_id() {
    let (t, seen) = finds_the_documented_ticket(zendesk()).await;
    assert_eq!(t.system, QueueKind::Zendesk);
    assert_eq!(t.id, "35436");
    assert_eq!(t.context.as_deref(), Some("The fire is very colorful."));
    assert_eq!(t.priority.as_deref(), Some("high"));
    assert_eq!(t.tags, ["enterprise", "other_tag"]);
    assert_eq!(t.queue.as_deref(), Some("98738"));
    assert_eq!(t.customer_ref.as_deref(), Some("20978392"));
    assert_eq!(
        t.created_at,
        Some(
            "2009-07-20T22:55:29Z"
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))
        )
    );
    assert_eq!(
        t.raw["url"],
        "https://company.zendesk.com/api/v2/tickets/35436.json"
    );
    assert_eq!(seen[0].path, "/api/v2/tickets.json");
    assert_eq!(seen[0].query.as_deref(), Some("external_id=ahg35h3jh"));
    assert_eq!(
        seen[0].headers.get("accept").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

#[tokio::test]
async fn zendesk_ticket_appears_on_a_later_poll() {
    appears_on_a_later_poll(zendesk()).await;
}

#[tokio::test]
async fn zendesk_failures_are_errors() {
    every_failure_is_an_error(zendesk()).await;
}

#[tokio::test]
async fn zendesk_ignores_tickets_for_other_conversations() {
    let mut vendor = zendesk();
    vendor.conversation = "conv-not-this-one";
    let (_fake, queue) = vendor
        .start(vec![Reply::Json(200, vendor.found.clone())], None)
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    assert!(matches!(lookup.outcome, Ok(None)), "{:?}", lookup.outcome);
}

#[tokio::test]
async fn zendesk_oauth_token_goes_as_bearer() {
    let mut vendor = zendesk();
    vendor.queue = json!({"kind": "zendesk", "auth": {"env": "ZENDESK_TOKEN"}});
    vendor.auth = Some(("authorization", "Bearer zd-token-5ecret".into()));
    let (t, _) = finds_the_documented_ticket(vendor).await;
    assert_eq!(t.id, "35436");
}

#[tokio::test]
async fn zendesk_search_by_custom_field() {
    let mut vendor = zendesk();
    vendor.queue["conversation_field"] = json!("custom_field:27642");
    vendor.conversation = "745";
    vendor.found = data("zendesk/search-tickets.json");
    let (t, seen) = finds_the_documented_ticket(vendor).await;
    assert_eq!(t.id, "35436");
    assert_eq!(seen[0].path, "/api/v2/search.json");
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(seen[0].query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        query,
        [(
            "query".to_owned(),
            "type:ticket custom_field_27642:\"745\"".to_owned()
        )]
    );
}

#[tokio::test]
async fn zendesk_search_results_that_are_not_tickets_are_not_found() {
    let mut vendor = zendesk();
    vendor.queue["conversation_field"] = json!("custom_field:27642");
    vendor.conversation = "211";
    let (_fake, queue) = vendor
        .start(
            vec![Reply::Json(200, data("zendesk/search-groups.json"))],
            None,
        )
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    assert!(matches!(lookup.outcome, Ok(None)), "{:?}", lookup.outcome);
}

// ── the reference agent (Zendesk shape at the target) ──────────────────────────────────────

#[tokio::test]
async fn reference_queue_is_zendesk_at_the_target_without_credentials() {
    let (t, seen) = finds_the_documented_ticket(reference()).await;
    assert_eq!(t.system, QueueKind::Reference);
    assert_eq!(t.id, "35436");
    assert_eq!(seen[0].path, "/admin/handover-queue/api/v2/tickets.json");
    assert_eq!(seen[0].query.as_deref(), Some("external_id=ahg35h3jh"));
    assert!(seen[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn reference_ticket_appears_on_a_later_poll() {
    appears_on_a_later_poll(reference()).await;
}

#[tokio::test]
async fn reference_failures_are_errors() {
    every_failure_is_an_error(reference()).await;
}

// ── Freshdesk ───────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn freshdesk_finds_the_ticket_by_custom_field() {
    let (t, seen) = finds_the_documented_ticket(freshdesk()).await;
    assert_eq!(t.system, QueueKind::Freshdesk);
    // The filter answered two tickets; only one carries the conversation id.
    assert_eq!(t.id, "47");
    assert_eq!(t.priority.as_deref(), Some("high"));
    assert_eq!(t.context.as_deref(), Some("Sample description"));
    assert_eq!(t.queue.as_deref(), Some("156"));
    assert_eq!(t.customer_ref.as_deref(), Some("6007738334"));
    assert_eq!(seen[0].path, "/api/v2/search/tickets");
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(seen[0].query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        query,
        [("query".to_owned(), "\"sector_no:'7'\"".to_owned())]
    );
}

#[tokio::test]
async fn freshdesk_ticket_appears_on_a_later_poll() {
    appears_on_a_later_poll(freshdesk()).await;
}

#[tokio::test]
async fn freshdesk_failures_are_errors() {
    every_failure_is_an_error(freshdesk()).await;
}

#[tokio::test]
async fn freshdesk_by_tag_needs_the_tag() {
    let mut vendor = freshdesk();
    vendor.queue = json!({"kind": "freshdesk", "auth": {"env": "FRESHDESK_KEY"}});
    // The documented tickets carry no tags.
    let (_fake, queue) = vendor
        .start(vec![Reply::Json(200, vendor.found.clone())], None)
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    assert!(matches!(lookup.outcome, Ok(None)), "{:?}", lookup.outcome);
    let mut tagged: Value = serde_json::from_str(&vendor.found).unwrap_or_else(|e| panic!("{e}"));
    tagged["results"][1]["tags"] = json!(["handover", "7"]);
    let (_fake, queue) = vendor
        .start(vec![Reply::Json(200, tagged.to_string())], None)
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    assert_eq!(found(&vendor, &lookup).id, "57");
}

// ── Intercom ────────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn intercom_finds_the_assigned_conversation() {
    let (t, seen) = finds_the_documented_ticket(intercom()).await;
    assert_eq!(t.system, QueueKind::Intercom);
    assert_eq!(t.id, "503");
    assert_eq!(t.queue.as_deref(), Some("5017691"));
    assert_eq!(t.customer_ref.as_deref(), Some("70"));
    assert_eq!(t.priority.as_deref(), Some("not_priority"));
    assert_eq!(t.tags, ["Test tag"]);
    assert!(
        t.context
            .as_deref()
            .is_some_and(|c| c.contains("this is the message body") && c.contains("Okay!"))
    );
    assert_eq!(seen[0].path, "/conversations/503");
    assert_eq!(
        seen[0]
            .headers
            .get("intercom-version")
            .and_then(|v| v.to_str().ok()),
        Some("2.14")
    );
}

#[tokio::test]
async fn intercom_handover_appears_on_a_later_poll() {
    appears_on_a_later_poll(intercom()).await;
}

#[tokio::test]
async fn intercom_failures_are_errors() {
    every_failure_is_an_error(intercom()).await;
}

#[tokio::test]
async fn intercom_fin_routing_to_a_team_counts() {
    let vendor = intercom();
    let mut routed: Value = serde_json::from_str(&vendor.empty).unwrap_or_else(|e| panic!("{e}"));
    routed["ai_agent_participated"] = json!(true);
    routed["ai_agent"] = json!({"source_type": "essentials_plan_setup", "last_answer_type": "ai_answer",
                                "resolution_state": "routed_to_team", "rating": null});
    let (_fake, queue) = vendor
        .start(vec![Reply::Json(200, routed.to_string())], None)
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    let t = found(&vendor, &lookup);
    assert_eq!(t.queue, None);
}

#[tokio::test]
async fn intercom_unknown_conversation_is_an_error_not_a_wait() {
    let vendor = intercom();
    let not_found = r#"{"type":"error.list","request_id":"f2a7e1c0","errors":[{"code":"not_found","message":"Resource Not Found"}]}"#;
    let (_fake, queue) = vendor
        .start(vec![Reply::Json(404, not_found.into())], None)
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    match lookup.outcome {
        Err(e @ QueueError::Status { status: 404, .. }) => {
            assert!(e.to_string().contains("Resource Not Found"), "{e}");
            assert!(e.to_string().contains("Intercom conversation id"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn intercom_search_by_custom_attribute() {
    let mut vendor = intercom();
    vendor.queue["conversation_field"] = json!("custom_attribute:muster_conversation");
    vendor.conversation = "conv-7f3a9c";
    vendor.found = data("intercom/search-found.json");
    let (t, seen) = finds_the_documented_ticket(vendor).await;
    assert_eq!(t.id, "503");
    assert_eq!(seen[0].method, axum::http::Method::POST);
    assert_eq!(seen[0].path, "/conversations/search");
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        body,
        json!({"query": {"field": "custom_attributes.muster_conversation", "operator": "=", "value": "conv-7f3a9c"}})
    );
}

// ── Salesforce ──────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn salesforce_finds_the_case_by_soql() {
    let (t, seen) = finds_the_documented_ticket(salesforce()).await;
    assert_eq!(t.system, QueueKind::Salesforce);
    assert_eq!(t.id, "00001003");
    assert_eq!(t.priority.as_deref(), Some("High"));
    assert_eq!(t.queue.as_deref(), Some("00GRO000001XyZaYAK"));
    assert_eq!(t.customer_ref.as_deref(), Some("003RO0000035WQgYAM"));
    assert!(
        t.context
            .as_deref()
            .is_some_and(|c| c.contains("speak to someone"))
    );
    assert_eq!(
        t.created_at,
        Some(
            "2026-11-27T06:00:05Z"
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))
        )
    );
    assert_eq!(seen[0].path, "/services/data/v62.0/query");
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(seen[0].query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(query.len(), 1);
    assert_eq!(query[0].0, "q");
    assert!(
        query[0].1.ends_with(
            "FROM Case WHERE Conversation_Id__c = 'conv-7f3a9c' ORDER BY CreatedDate ASC LIMIT 10"
        ),
        "{}",
        query[0].1
    );
}

#[tokio::test]
async fn salesforce_case_appears_on_a_later_poll() {
    appears_on_a_later_poll(salesforce()).await;
}

#[tokio::test]
async fn salesforce_failures_are_errors() {
    every_failure_is_an_error(salesforce()).await;
}

#[tokio::test]
async fn salesforce_records_that_are_not_cases_are_not_found() {
    let vendor = salesforce();
    let (_fake, queue) = vendor
        .start(
            vec![Reply::Json(200, data("salesforce/query-accounts.json"))],
            None,
        )
        .await;
    let lookup = queue.find_handover(&vendor.query()).await;
    assert!(matches!(lookup.outcome, Ok(None)), "{:?}", lookup.outcome);
}

// ── set-up errors ───────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn set_up_problems_are_reported_before_any_request() {
    let base = url::Url::parse("http://127.0.0.1:9/").unwrap_or_else(|e| panic!("{e}"));
    let no_env = |_: &str| None;
    let build = |q: Value| {
        let q: Queue = serde_json::from_value(q).unwrap_or_else(|e| panic!("{e}"));
        queue_from_manifest(&q, &base, &no_env).map(|_| ()).err()
    };
    assert_eq!(
        build(
            json!({"kind": "zendesk", "url": "https://acme.zendesk.example", "auth": {"env": "ZD"}})
        ),
        Some(QueueError::MissingSecret("ZD".into()))
    );
    let cases = [
        json!({"kind": "zendesk", "url": "https://acme.zendesk.example"}),
        json!({"kind": "zendesk", "auth": {"env": "ZD"}}),
        json!({"kind": "salesforce", "url": "https://acme.my.salesforce.example"}),
        json!({"kind": "zendesk", "url": "/relative", "auth": {"env": "ZD"}}),
        json!({"kind": "webhook", "webhook": {"listen": "0.0.0.0:0"}}),
        json!({"kind": "freshdesk", "url": "https://acme.freshdesk.example", "user": "x"}),
        json!({"kind": "reference", "conversation_field": "tags"}),
        json!({"kind": "intercom", "url": "https://me:pw@api.intercom.example", "auth": {"env": "ZD"}}),
    ];
    let with_env = |name: &str| (name == "ZD").then(|| "zd-5ecret".to_owned());
    for case in cases {
        let q: Queue = serde_json::from_value(case.clone()).unwrap_or_else(|e| panic!("{e}"));
        let err = queue_from_manifest(&q, &base, &with_env).map(|_| ()).err();
        assert!(
            matches!(&err, Some(QueueError::Config(_))),
            "{case}: {err:?}"
        );
        assert!(!format!("{err:?}").contains("zd-5ecret"));
    }
}
