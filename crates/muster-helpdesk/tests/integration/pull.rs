//! `Puller` streams that read each changed record's children, against loopback stand-ins that
//! enforce the vendor's documented authentication and serve its documented payloads.

use base64::Engine as _;
use muster_helpdesk::QueueError;
use muster_helpdesk::pull::{PullPage, Puller, Stream, puller_from_queue};
use muster_model::agent::Queue;
use serde_json::{Value, json};

use crate::fake::{Fake, Reply, data};

fn basic(plain: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(plain)
    )
}

fn puller(queue: Value, base: &url::Url, var: &'static str, secret: &'static str) -> Puller {
    let mut queue = queue;
    queue["url"] = Value::from(base.as_str().trim_end_matches('/'));
    let queue: Queue = serde_json::from_value(queue).unwrap_or_else(|e| panic!("{e}"));
    let env = move |name: &str| (name == var).then(|| secret.to_owned());
    puller_from_queue(&queue, &env).unwrap_or_else(|e| panic!("{e}"))
}

async fn page(p: &Puller, stream: Stream, cursor: Option<&str>) -> PullPage {
    p.page(stream, cursor, 0)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn freshdesk_conversations_follow_the_tickets_and_the_link_header() {
    let conversations = parsed(&data("freshdesk/list-conversations.json"));
    let ticket = parsed(&data("freshdesk/view-ticket.json"));
    let (fake, base) = Fake::start(
        Some(("authorization", basic("fd-key-5ecret:X"))),
        &data("freshdesk/401.json"),
        vec![],
    )
    .await;
    let next = format!("<{base}api/v2/tickets/20/conversations?per_page=100&page=2>; rel=\"next\"");
    fake.set_script(vec![
        Reply::Json(200, json!([ticket]).to_string()),
        Reply::Linked(json!([conversations[0]]).to_string(), next),
        Reply::Json(200, json!([conversations[1]]).to_string()),
    ]);
    let p = puller(
        json!({"kind": "freshdesk", "auth": {"env": "FRESHDESK_KEY"}}),
        &base,
        "FRESHDESK_KEY",
        "fd-key-5ecret",
    );
    assert!(p.streams().contains(&Stream::FreshdeskConversations));
    // The listing: no records, the ticket to read in the cursor.
    let listing = page(&p, Stream::FreshdeskConversations, None).await;
    assert!(listing.records.is_empty());
    assert!(!listing.done);
    assert!(listing.cursor.contains("\"20\""), "{}", listing.cursor);
    let first = page(&p, Stream::FreshdeskConversations, Some(&listing.cursor)).await;
    assert_eq!(first.records.len(), 1);
    assert_eq!(
        first.records[0].origin,
        format!("{base}api/v2/conversations/3")
    );
    assert!(!first.done);
    let second = page(&p, Stream::FreshdeskConversations, Some(&first.cursor)).await;
    assert_eq!(
        second.records[0].origin,
        format!("{base}api/v2/conversations/4")
    );
    assert!(second.done);
    // Done: the listing's own watermark, from the ticket's `updated_at`.
    assert!(
        second.cursor.starts_with("{\"since\":"),
        "{}",
        second.cursor
    );
    let seen: Vec<String> = fake
        .seen()
        .iter()
        .map(|s| format!("{}?{}", s.path, s.query.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        seen[1],
        "/api/v2/tickets/20/conversations?per_page=100&page=1"
    );
    assert_eq!(
        seen[2],
        "/api/v2/tickets/20/conversations?per_page=100&page=2"
    );
}

#[tokio::test]
async fn zendesk_audits_page_by_cursor_and_errors_keep_the_token_out() {
    let (fake, base) = Fake::start(
        Some((
            "authorization",
            basic("agent@example.com/token:zd-token-5ecret"),
        )),
        &data("zendesk/401.json"),
        vec![],
    )
    .await;
    let show = parsed(&data("zendesk/show-ticket.json"));
    let mut first = parsed(&data("zendesk/list-audits.json"));
    first["meta"] = json!({"has_more": true, "after_cursor": "xxx", "before_cursor": "yyy"});
    fake.set_script(vec![
        Reply::Json(
            200,
            json!({"tickets": [show["ticket"]], "end_of_stream": true, "end_time": 1_390_362_490})
                .to_string(),
        ),
        Reply::Json(200, first.to_string()),
        Reply::Json(
            200,
            json!({"audits": [], "meta": {"has_more": false}}).to_string(),
        ),
    ]);
    let queue = json!({"kind": "zendesk", "user": "agent@example.com",
                       "auth": {"env": "ZENDESK_TOKEN"}});
    let p = puller(queue.clone(), &base, "ZENDESK_TOKEN", "zd-token-5ecret");
    let listing = page(&p, Stream::ZendeskTicketAudits, None).await;
    assert!(listing.records.is_empty() && !listing.done);
    let audits = page(&p, Stream::ZendeskTicketAudits, Some(&listing.cursor)).await;
    assert_eq!(
        audits.records[0].origin,
        format!("{base}api/v2/tickets/35436/audits/2127301143.json")
    );
    let body = parsed(&String::from_utf8_lossy(&audits.records[0].body));
    assert_eq!(body["audit"]["id"], 2_127_301_143_i64);
    assert!(!audits.done);
    let last = page(&p, Stream::ZendeskTicketAudits, Some(&audits.cursor)).await;
    assert!(last.records.is_empty());
    assert!(last.done);
    assert_eq!(last.cursor, "1390362490");
    let seen = fake.seen();
    assert_eq!(seen[1].path, "/api/v2/tickets/35436/audits.json");
    assert_eq!(
        seen[2].query.as_deref(),
        Some("page%5Bsize%5D=100&page%5Bafter%5D=xxx")
    );

    // A refused token: an error naming the URL and status, never the token.
    let wrong = puller(queue, &base, "ZENDESK_TOKEN", "zd-wrong-5ecret");
    let err = wrong
        .page(Stream::ZendeskTicketAudits, Some(&listing.cursor), 0)
        .await
        .err()
        .unwrap_or_else(|| panic!("a 401 read as a page"));
    assert!(
        matches!(err, QueueError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("/api/v2/tickets/35436/audits.json"), "{text}");
    assert!(!text.contains("5ecret"), "{text}");

    // A cursor muster did not write is reported, not silently restarted.
    let damaged = p
        .page(Stream::ZendeskTicketAudits, Some("{\"fanout\": 3}"), 0)
        .await
        .err()
        .unwrap_or_else(|| panic!("a damaged cursor was read"));
    assert!(matches!(damaged, QueueError::Config(_)), "{damaged}");
}

#[tokio::test]
async fn an_intercom_conversation_is_read_in_full_with_its_parts() {
    let (fake, base) = Fake::start(
        Some(("authorization", "Bearer ic-token-5ecret".to_owned())),
        &data("intercom/401.json"),
        vec![
            Reply::Json(200, data("intercom/search-found.json")),
            Reply::Json(200, data("intercom/conversation-found.json")),
        ],
    )
    .await;
    let p = puller(
        json!({"kind": "intercom", "auth": {"env": "INTERCOM_TOKEN"}}),
        &base,
        "INTERCOM_TOKEN",
        "ic-token-5ecret",
    );
    let listing = page(&p, Stream::IntercomConversations, None).await;
    assert!(listing.records.is_empty() && !listing.done);
    let full = page(&p, Stream::IntercomConversations, Some(&listing.cursor)).await;
    assert!(full.done);
    assert_eq!(full.records[0].origin, format!("{base}conversations/503"));
    let body = parsed(&String::from_utf8_lossy(&full.records[0].body));
    assert_eq!(
        body["conversation_parts"]["conversation_parts"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    assert_eq!(fake.seen()[1].path, "/conversations/503");
    assert_eq!(full.cursor, "{\"since\":1734537511}");
}

/// A conversation deleted between the search that listed it and the read of it (HTTP 404) is
/// reported as gone and passed over, so the pull does not stop there on every rerun.
#[tokio::test]
async fn a_conversation_deleted_after_it_was_listed_is_reported_gone_and_passed_over() {
    let (fake, base) = Fake::start(
        Some(("authorization", "Bearer ic-token-5ecret".to_owned())),
        &data("intercom/401.json"),
        vec![
            Reply::Json(200, data("intercom/search-found.json")),
            Reply::Json(
                404,
                json!({"type": "error.list", "errors": [{"code": "not_found", "message": "Resource Not Found"}]})
                    .to_string(),
            ),
        ],
    )
    .await;
    let p = puller(
        json!({"kind": "intercom", "auth": {"env": "INTERCOM_TOKEN"}}),
        &base,
        "INTERCOM_TOKEN",
        "ic-token-5ecret",
    );
    let listing = page(&p, Stream::IntercomConversations, None).await;
    let gone = page(&p, Stream::IntercomConversations, Some(&listing.cursor)).await;
    assert!(gone.records.is_empty());
    assert_eq!(gone.gone.len(), 1, "{:?}", gone.gone);
    assert!(gone.gone[0].contains("conversation 503") && gone.gone[0].contains("404"));
    // Past it: the listing's own watermark, as after a conversation read in full.
    assert!(gone.done);
    assert_eq!(gone.cursor, "{\"since\":1734537511}");
    assert_eq!(fake.seen()[1].path, "/conversations/503");
}
