//! `muster ingest --from VENDOR` against loopback stand-ins for the vendors' APIs serving their
//! documented example payloads: pagination, a 429 waited out, a rerun continuing from the stored
//! cursor, 401 and a malformed page (an error naming the URL and status; pages stored stay);
//! each changed ticket's audits (Zendesk) and conversations (Freshdesk), each changed Intercom
//! conversation read in full with its parts; a pull killed at random points.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::common::{Run, TestEnv, repo};

const TOKEN_ENV: &str = "MUSTER_TEST_HELPDESK_TOKEN";
const TOKEN: &str = "tok-3f9a61c0ffee";
/// Freshdesk's documented scheme: Basic auth with the API key as user name and `X` as password.
const FRESHDESK_BASIC: &str = "Basic dG9rLTNmOWE2MWMwZmZlZTpY";

fn sample(path: &str) -> serde_json::Value {
    let full = repo().join("crates").join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What the stand-in answers: status, extra headers and body for a request's path and query.
type Answer = (u16, Vec<(&'static str, String)>, String);
type Script = Box<dyn Fn(&str, &str, &str) -> Answer + Send + Sync>;

struct Inner {
    script: Script,
    /// Answered before the script, in order (a 429, say).
    first: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<String>>,
}

#[derive(Clone)]
struct Fake(Arc<Inner>);

async fn answer(State(fake): State<Fake>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let query = uri.query().unwrap_or("").to_owned();
    if let Ok(mut seen) = fake.0.seen.lock() {
        seen.push(format!("{}?{query}", uri.path()));
    }
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}") || v == FRESHDESK_BASIC);
    let (status, extra, text) = if authorised {
        let queued = fake.0.first.lock().ok().and_then(|mut q| q.pop_front());
        queued
            .unwrap_or_else(|| (fake.0.script)(uri.path(), &query, &String::from_utf8_lossy(&body)))
    } else {
        (
            401,
            vec![],
            "{\"error\":\"Couldn't authenticate you\"}".to_owned(),
        )
    };
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        text,
    )
        .into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    for (k, v) in extra {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            response.headers_mut().insert(k, v);
        }
    }
    response
}

/// Serves on 127.0.0.1 from a thread of its own for as long as the test runs.
fn serve(script: Script, first: Vec<Answer>) -> (Fake, String) {
    let fake = Fake(Arc::new(Inner {
        script,
        first: Mutex::new(first.into()),
        seen: Mutex::new(Vec::new()),
    }));
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(fake.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
            let _ = tx.send(addr);
            let _ = axum::serve(listener, app).await;
        });
    });
    let addr = rx.recv().unwrap_or_else(|e| panic!("{e}"));
    (fake, format!("http://{addr}"))
}

impl Fake {
    fn seen(&self) -> Vec<String> {
        self.0.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn pull(env: &TestEnv, vendor: &str, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--url", url, "--token-env", TOKEN_ENV, "--json"];
    args.extend_from_slice(extra);
    pull_as(env, TOKEN, vendor, &args)
}

/// `muster ingest --from VENDOR ARGS…` with `token` in the environment, which must not leak.
fn pull_as(env: &TestEnv, token: &str, vendor: &str, args: &[&str]) -> Run {
    let mut all = vec!["ingest", "--from", vendor];
    all.extend_from_slice(args);
    let output = env
        .command(&all)
        .env(TOKEN_ENV, token)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(token) && !run.stderr.contains(token),
        "the token leaked: {}{}",
        run.stdout,
        run.stderr
    );
    run
}

fn ok(json: String) -> Answer {
    (200, vec![], json)
}

/// Zendesk's incremental ticket export in two pages: the documented sample's ticket, then the
/// Show Ticket example's, both in the documented envelope (`end_time`, `end_of_stream`).
fn zendesk_tickets(query: &str) -> Answer {
    let mut first = sample("muster-ingest/tests/data/zendesk/incremental-tickets-sample.json");
    if query.contains("start_time=0") {
        first["end_of_stream"] = false.into();
        return ok(first.to_string());
    }
    // The Show Ticket example is the same ticket as the sample's: made another one here.
    let mut ticket = sample("muster-ingest/tests/data/zendesk/show-ticket.json")["ticket"].clone();
    ticket["id"] = 35437.into();
    ticket["subject"] = "My printer is still on fire".into();
    ok(serde_json::json!({
        "tickets": [ticket],
        "count": 1,
        "end_of_stream": true,
        "end_time": 1_390_362_490,
        "next_page": null,
    })
    .to_string())
}

/// List Audits for a Ticket with cursor pagination: ticket 35436's audits over two pages (the
/// documented list example, then the documented audit example), with Zendesk's documented
/// `meta`/`links`; ticket 35437 has none.
fn zendesk_audits(path: &str, query: &str) -> Answer {
    assert!(query.contains("page%5Bsize%5D=100"), "{query}");
    match path {
        "/api/v2/tickets/35436/audits.json" if !query.contains("page%5Bafter%5D") => {
            let mut first = sample("muster-helpdesk/tests/data/zendesk/list-audits.json");
            first["meta"] = serde_json::json!({"has_more": true, "after_cursor": "xxx", "before_cursor": "yyy"});
            first["links"] = serde_json::json!({
                "next": "https://elsewhere.example/api/v2/tickets/35436/audits.json?page[size]=100&page[after]=xxx",
                "prev": null,
            });
            ok(first.to_string())
        }
        "/api/v2/tickets/35436/audits.json" => {
            assert!(query.contains("page%5Bafter%5D=xxx"), "{query}");
            let audit = sample("muster-ingest/tests/data/zendesk/show-audit.json")["audit"].clone();
            ok(serde_json::json!({
                "audits": [audit],
                "meta": {"has_more": false, "after_cursor": "zzz", "before_cursor": "xxx"},
                "links": {"next": null, "prev": null},
            })
            .to_string())
        }
        _ => ok(serde_json::json!({
            "audits": [],
            "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
            "links": {"next": null, "prev": null},
        })
        .to_string()),
    }
}

fn zendesk(path: &str, query: &str, _body: &str) -> Answer {
    match path {
        "/api/v2/incremental/tickets.json" => zendesk_tickets(query),
        "/api/v2/incremental/ticket_events.json" => ok(sample(
            "muster-ingest/tests/data/zendesk/incremental-ticket-events.json",
        )
        .to_string()),
        p if p.starts_with("/api/v2/tickets/") && p.ends_with("/audits.json") => {
            zendesk_audits(p, query)
        }
        _ => (404, vec![], "{\"error\":\"InvalidEndpoint\"}".to_owned()),
    }
}

#[test]
fn a_zendesk_pull_pages_waits_out_429_and_continues_from_its_cursor() {
    let env = TestEnv::new();
    let rate_limited = (
        429,
        vec![("retry-after", "1".to_owned())],
        "{\"error\":\"APIRateLimitExceeded\"}".to_owned(),
    );
    let (fake, url) = serve(Box::new(zendesk), vec![rate_limited]);
    let first = pull(&env, "zendesk", &url, &[]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let out = first.json();
    assert_eq!(out["source"], "zendesk");
    let tickets = &out["streams"][0];
    assert_eq!(tickets["stream"], "tickets");
    assert_eq!(tickets["pages"], 2, "{out:#}");
    assert_eq!(tickets["rate_limited_waits"], 1, "{out:#}");
    assert_eq!(tickets["stored"], 4, "{out:#}");
    assert_eq!(tickets["cursor"], "1390362490");
    assert_eq!(out["streams"][1]["stream"], "ticket_events");
    // Audits: a ticket-export page (no records), ticket 35436's two audit pages, the next
    // export page, ticket 35437's (empty) audits. 3 + 2 audit events.
    let audits = &out["streams"][2];
    assert_eq!(audits["stream"], "audits", "{out:#}");
    assert_eq!(audits["pages"], 5, "{out:#}");
    assert_eq!(audits["records"], 2, "{out:#}");
    assert_eq!(audits["stored"], 5, "{out:#}");
    assert_eq!(audits["cursor"], "1390362490", "{out:#}");
    assert_eq!(out["stored"], 11, "{out:#}");
    assert_eq!(out["quarantined"], 0, "{out:#}");
    let seen = fake.seen();
    assert!(
        seen.iter().any(
            |s| s == "/api/v2/tickets/35436/audits.json?page%5Bsize%5D=100&page%5Bafter%5D=xxx"
        ),
        "{seen:?}"
    );
    // The vendor's `links.next` (another host here) is never asked.
    assert!(!seen.iter().any(|s| s.contains("elsewhere")), "{seen:?}");

    // The rerun starts at the stored cursor; the ticket served again unchanged is recognised.
    let before = fake.seen().len();
    let again = pull(&env, "zendesk", &url, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let again = again.json();
    assert_eq!(again["stored"], 0, "{again:#}");
    assert_eq!(again["already_stored"], 4, "{again:#}");
    let seen = fake.seen();
    assert!(
        seen[before].contains("tickets.json?start_time=1390362490"),
        "{seen:?}"
    );

    let found = env.run(&["search", "printer", "--source", "zendesk", "--json"]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);
    // The audits' comments are searchable, each once.
    let comment = env.run(&["search", "private comment", "--source", "zendesk", "--json"]);
    assert_eq!(comment.code, 0, "{}{}", comment.stdout, comment.stderr);
    assert!(
        comment.stdout.contains("This is a new private comment"),
        "{}",
        comment.stdout
    );
    let verified = env.run(&["store", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}

#[test]
fn a_refused_token_names_the_url_and_status() {
    let env = TestEnv::new();
    let (_fake, url) = serve(Box::new(zendesk), vec![]);
    let run = pull_as(
        &env,
        "wrong-token-000",
        "zendesk",
        &["--url", &url, "--token-env", TOKEN_ENV],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("/api/v2/incremental/tickets.json?start_time=0"),
        "{}",
        run.stderr
    );

    let unset = pull_as(
        &env,
        TOKEN,
        "zendesk",
        &["--url", &url, "--token-env", "MUSTER_TEST_UNSET_VAR"],
    );
    assert_eq!(unset.code, 5, "{}", unset.stderr);
    assert!(
        unset.stderr.contains("MUSTER_TEST_UNSET_VAR"),
        "{}",
        unset.stderr
    );
}

#[test]
fn a_malformed_page_stops_the_pull_and_keeps_the_pages_before_it() {
    let env = TestEnv::new();
    let broken = Arc::new(Mutex::new(true));
    let flag = broken.clone();
    let script: Script = Box::new(move |path, query, body| {
        let broken = flag.lock().map(|b| *b).unwrap_or(false);
        if broken && path.ends_with("tickets.json") && !query.contains("start_time=0") {
            return (200, vec![], "<html>upstream proxy error</html>".to_owned());
        }
        zendesk(path, query, body)
    });
    let (fake, url) = serve(script, vec![]);
    let run = pull(&env, "zendesk", &url, &[]);
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("/api/v2/incremental/tickets.json?start_time=1390362485"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not JSON"), "{}", run.stderr);
    let partial = run.json();
    assert_eq!(partial["stored"], 2, "{partial:#}");

    // Fixed upstream: the rerun continues at the failed page, not from the start.
    if let Ok(mut b) = broken.lock() {
        *b = false;
    }
    let before = fake.seen().len();
    let rerun = pull(&env, "zendesk", &url, &[]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert!(fake.seen()[before].contains("start_time=1390362485"));
    // The failed tickets page, the ticket events, and the audits it never reached.
    assert_eq!(rerun.json()["stored"], 9, "{}", rerun.stdout);
}

#[test]
fn intercom_freshdesk_and_salesforce_pulls_read_their_documented_pages() {
    let env = TestEnv::new();
    let script: Script = Box::new(|path, _query, body| {
        match path {
            "/conversations/search" => {
                // Asked for conversations updated since the watermark, with one second of overlap.
                assert!(body.contains("\"updated_at\""), "{body}");
                ok(sample("muster-helpdesk/tests/data/intercom/search-found.json").to_string())
            }
            "/api/v2/tickets" => ok(sample(
                "muster-helpdesk/tests/data/freshdesk/filter-tickets.json",
            )["results"]
                .to_string()),
            "/api/v2/tickets/47/conversations" => ok(sample(
                "muster-helpdesk/tests/data/freshdesk/list-conversations.json",
            )
            .to_string()),
            "/api/v2/tickets/57/conversations" => ok("[]".to_owned()),
            "/conversations/503" => ok(sample(
                "muster-helpdesk/tests/data/intercom/conversation-found.json",
            )
            .to_string()),
            p if p.ends_with("/query") => {
                ok(sample("muster-helpdesk/tests/data/salesforce/query-case.json").to_string())
            }
            _ => (404, vec![], "[]".to_owned()),
        }
    });
    let (fake, url) = serve(script, vec![]);
    for (vendor, stored) in [("intercom", 1), ("freshdesk", 4), ("salesforce", 1)] {
        let run = pull(&env, vendor, &url, &["--since", "2026-01-01T00:00:00Z"]);
        assert_eq!(run.code, 0, "{vendor}: {}{}", run.stdout, run.stderr);
        let out = run.json();
        assert!(
            out["stored"].as_u64().unwrap_or(0) >= stored,
            "{vendor}: {out:#}"
        );
        let again = pull(&env, vendor, &url, &[]).json();
        assert_eq!(again["stored"], 0, "{vendor}: {again:#}");
    }
    let seen = fake.seen();
    assert!(
        seen.iter()
            .any(|s| s.contains("updated_since=2026-01-01T00%3A00%3A00Z")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.contains("SystemModstamp")),
        "{seen:?}"
    );
}

/// An agent manifest whose escalation queue is the stand-in: the pull takes its URL,
/// credentials' variable and conversation field from there.
const AGENT: &str = r#"
version: 1
kind: agent
name: billing-help
owner: { name: Priya Shah }
environment: pre-production
hosts: [127.0.0.1]
model: { provider: openai, name: gpt-test, version: "2026-10-01" }
target: { adapter: openai-chat, base_url: http://127.0.0.1:9000, openai_chat: { model: gpt-test } }
escalation:
  queue:
    kind: zendesk
    url: QUEUE_URL
    auth: { env: MUSTER_TEST_HELPDESK_TOKEN }
    conversation_field: "custom_field:27642"
"#;

#[test]
fn the_manifest_escalation_queue_names_the_helpdesk_to_pull_from() {
    let env = TestEnv::new();
    let (_fake, url) = serve(Box::new(zendesk), vec![]);
    let agent = env.write("agent.yaml", &AGENT.replace("QUEUE_URL", &url));
    let agent = agent.display().to_string();
    let run = pull_as(&env, TOKEN, "zendesk", &["--agent", &agent, "--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["stored"], 11, "{}", run.stdout);
    // The sample ticket's custom field 27642 holds "745": the conversation it belongs to.
    let found = env.run(&["reconstruct", "--conversation", "745", "--json"]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);

    let human = pull_as(&env, TOKEN, "zendesk", &["--agent", &agent]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let timing = regex::Regex::new(r"in \d+\.\d s").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "pull_zendesk_again",
        timing.replace_all(&crate::common::stable(&human.stdout), "in [t]")
    );

    let wrong = pull_as(&env, TOKEN, "freshdesk", &["--agent", &agent]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("is not freshdesk"),
        "{}",
        wrong.stderr
    );
}

/// Salesforce's documented Case query result split over two pages by `nextRecordsUrl`, the
/// second holding the History record of the Case and a Case with no time (quarantined).
fn salesforce_paged(path: &str, query: &str) -> Answer {
    let case = sample("muster-helpdesk/tests/data/salesforce/query-case.json");
    if path.ends_with("/query") && query.contains("FROM+Case+") {
        let mut first = case.clone();
        first["done"] = false.into();
        first["totalSize"] = 3.into();
        first["nextRecordsUrl"] = "/services/data/v62.0/query/01gRO0000016PIAYA2-2000".into();
        return ok(first.to_string());
    }
    if path.ends_with("/query/01gRO0000016PIAYA2-2000") {
        let mut timeless = case["records"][0].clone();
        timeless["Id"] = "500RO00000AbCdFYAV".into();
        timeless["attributes"]["url"] =
            "/services/data/v62.0/sobjects/Case/500RO00000AbCdFYAV".into();
        if let Some(o) = timeless.as_object_mut() {
            o.remove("CreatedDate");
        }
        return ok(
            serde_json::json!({"totalSize": 3, "done": true, "records": [timeless]}).to_string(),
        );
    }
    if path.ends_with("/query") {
        return ok(
            sample("muster-ingest/tests/data/salesforce/query-case-history.json").to_string(),
        );
    }
    (404, vec![], "[{\"errorCode\":\"NOT_FOUND\"}]".to_owned())
}

#[test]
fn a_salesforce_pull_follows_next_records_and_quarantines_a_bad_record() {
    let env = TestEnv::new();
    let (fake, url) = serve(Box::new(|p, q, _| salesforce_paged(p, q)), vec![]);
    let run = pull(&env, "salesforce", &url, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = run.json();
    let cases = &out["streams"][0];
    assert_eq!(cases["stream"], "Case");
    assert_eq!(cases["pages"], 2, "{out:#}");
    assert_eq!(cases["stored"], 1, "{out:#}");
    assert_eq!(cases["quarantined"], 1, "{out:#}");
    assert_eq!(out["streams"][1]["stream"], "CaseHistory");
    assert_eq!(out["streams"][1]["stored"], 2, "{out:#}");
    let seen = fake.seen();
    assert!(
        seen.iter()
            .any(|s| s == "/services/data/v62.0/query/01gRO0000016PIAYA2-2000?"),
        "{seen:?}"
    );
    // The watermark is a SOQL literal, not Salesforce's `…000+0000` form.
    let again = pull(&env, "salesforce", &url, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["stored"], 0, "{}", again.stdout);
    let seen = fake.seen();
    assert!(
        seen.iter().any(|s| s.contains("2026-11-27T06%3A00%3A05Z")),
        "{seen:?}"
    );
}

/// Intercom's documented search page, told there is a next page; the next is the documented
/// "not handed over" conversation (made another conversation here).
fn intercom_paged(path: &str, body: &str) -> Answer {
    match path {
        "/conversations/search" => {}
        // Each conversation found, in full: the documented one with its four parts.
        "/conversations/503" => {
            return ok(
                sample("muster-helpdesk/tests/data/intercom/conversation-found.json").to_string(),
            );
        }
        "/conversations/504" => {
            let mut other =
                sample("muster-helpdesk/tests/data/intercom/conversation-not-handed-over.json");
            other["id"] = "504".into();
            return ok(other.to_string());
        }
        _ => return (404, vec![], "{\"type\":\"error.list\"}".to_owned()),
    }
    let request: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if request.pointer("/pagination/starting_after").is_some() {
        let mut other =
            sample("muster-helpdesk/tests/data/intercom/conversation-not-handed-over.json");
        other["id"] = "504".into();
        return ok(serde_json::json!({
            "type": "conversation.list",
            "pages": {"type": "pages", "page": 2, "per_page": 1, "total_pages": 2},
            "total_count": 2,
            "conversations": [other],
        })
        .to_string());
    }
    let mut first = sample("muster-helpdesk/tests/data/intercom/search-found.json");
    first["pages"]["next"] =
        serde_json::json!({"per_page": 1, "starting_after": "WzE3MzQ1Mzc1MTEwMDAsNTAzLDJd"});
    ok(first.to_string())
}

#[test]
fn an_intercom_pull_pages_with_starting_after() {
    let env = TestEnv::new();
    let (fake, url) = serve(Box::new(|p, _, b| intercom_paged(p, b)), vec![]);
    let run = pull(&env, "intercom", &url, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = run.json();
    // Search, conversation 503 in full, search's next page, conversation 504 in full.
    assert_eq!(out["streams"][0]["pages"], 4, "{out:#}");
    assert_eq!(out["streams"][0]["records"], 2, "{out:#}");
    assert_eq!(out["quarantined"], 0, "{out:#}");
    // Done: the next pull asks from the newest `updated_at` seen, less a second of overlap.
    let cursor = out["streams"][0]["cursor"].as_str().unwrap_or_default();
    assert_eq!(cursor, "{\"since\":1734537511}");
    let seen = fake.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[1], "/conversations/503?");
    assert_eq!(seen[3], "/conversations/504?");
    // The parts of the full conversation are stored: comments, a custom action (started and
    // finished, as tool calls), the attribute the admin set.
    let timeline = env.run(&["reconstruct", "--conversation", "503", "--json"]);
    assert_eq!(timeline.code, 0, "{}{}", timeline.stdout, timeline.stderr);
    let text = timeline.stdout;
    for kind in [
        "tool_call",
        "custom_action_finished",
        "conversation_attribute_updated_by_admin",
    ] {
        assert!(text.contains(kind), "{kind}: {text}");
    }
    let stored = out["stored"].as_u64().unwrap_or(0);
    // 503: opening message, state, four parts; 504: its opening message and state.
    assert_eq!(stored, 8, "{out:#}");
    let again = pull(&env, "intercom", &url, &[]).json();
    assert_eq!(again["stored"], 0, "{again:#}");
}

/// Freshdesk: a ticket (the documented View a Ticket example) whose conversations come in two
/// pages, the first with a `Link: <…>; rel="next"` header naming the second.
fn freshdesk_linked(
    base: &Arc<Mutex<String>>,
    next_host: Option<&str>,
    path: &str,
    query: &str,
) -> Answer {
    let conversations = sample("muster-helpdesk/tests/data/freshdesk/list-conversations.json");
    match path {
        "/api/v2/tickets" => ok(serde_json::json!([sample(
            "muster-helpdesk/tests/data/freshdesk/view-ticket.json"
        )])
        .to_string()),
        "/api/v2/tickets/20/conversations" if query.contains("page=2") => {
            ok(serde_json::json!([conversations[1]]).to_string())
        }
        "/api/v2/tickets/20/conversations" => {
            let host = next_host.map_or_else(
                || base.lock().map(|b| b.clone()).unwrap_or_default(),
                str::to_owned,
            );
            let link = format!(
                "<{host}/api/v2/tickets/20/conversations?per_page=100&page=2>; rel=\"next\""
            );
            (
                200,
                vec![("link", link)],
                serde_json::json!([conversations[0]]).to_string(),
            )
        }
        _ => (404, vec![], "{\"code\":\"not_found\"}".to_owned()),
    }
}

#[test]
fn a_freshdesk_pull_reads_each_tickets_conversations_page_by_page() {
    let env = TestEnv::new();
    let base = Arc::new(Mutex::new(String::new()));
    let shared = base.clone();
    let (fake, url) = serve(
        Box::new(move |p, q, _| freshdesk_linked(&shared, None, p, q)),
        vec![],
    );
    if let Ok(mut b) = base.lock() {
        b.clone_from(&url);
    }
    let run = pull(&env, "freshdesk", &url, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = run.json();
    let conversations = &out["streams"][1];
    assert_eq!(conversations["stream"], "conversations", "{out:#}");
    // The ticket listing (no records), then the ticket's two pages of conversations.
    assert_eq!(conversations["pages"], 3, "{out:#}");
    assert_eq!(conversations["records"], 2, "{out:#}");
    assert_eq!(conversations["stored"], 2, "{out:#}");
    assert_eq!(out["quarantined"], 0, "{out:#}");
    let seen = fake.seen();
    assert!(
        seen.iter()
            .any(|s| s == "/api/v2/tickets/20/conversations?per_page=100&page=2"),
        "{seen:?}"
    );
    let found = env.run(&["search", "tracking page", "--source", "freshdesk", "--json"]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);
    assert!(found.stdout.contains("A-1001"), "{}", found.stdout);

    // A rerun reads the same ticket and conversations again and stores nothing twice.
    let again = pull(&env, "freshdesk", &url, &[]).json();
    assert_eq!(again["stored"], 0, "{again:#}");
    assert_eq!(again["already_stored"], out["stored"], "{again:#}");
    let verified = env.run(&["store", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}

#[test]
fn a_next_page_link_to_another_host_is_an_error_not_followed() {
    let env = TestEnv::new();
    let base = Arc::new(Mutex::new(String::new()));
    let (fake, url) = serve(
        Box::new(move |p, q, _| freshdesk_linked(&base, Some("https://elsewhere.example"), p, q)),
        vec![],
    );
    let run = pull(&env, "freshdesk", &url, &[]);
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not followed"), "{}", run.stderr);
    assert!(
        run.stderr.contains("https://elsewhere.example"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("/api/v2/tickets/20/conversations?per_page=100&page=1"),
        "{}",
        run.stderr
    );
    assert!(!fake.seen().iter().any(|s| s.contains("page=2")));
}

#[test]
fn a_malformed_audit_page_is_an_error_and_a_bad_audit_is_quarantined() {
    let env = TestEnv::new();
    let mode = Arc::new(Mutex::new("envelope"));
    let flag = mode.clone();
    let script: Script = Box::new(move |path, query, body| {
        let mode = flag.lock().map(|m| *m).unwrap_or("");
        if path == "/api/v2/tickets/35436/audits.json" {
            match mode {
                "envelope" => return ok("{\"audit_list\": []}".to_owned()),
                "timeless" => {
                    let mut list = sample("muster-helpdesk/tests/data/zendesk/list-audits.json");
                    if let Some(a) = list["audits"][0].as_object_mut() {
                        a.remove("created_at");
                    }
                    return ok(list.to_string());
                }
                _ => {}
            }
        }
        zendesk(path, query, body)
    });
    let (_fake, url) = serve(script, vec![]);
    let run = pull(&env, "zendesk", &url, &[]);
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("expected `{\"audits\": […]}`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("/api/v2/tickets/35436/audits.json?page%5Bsize%5D=100"),
        "{}",
        run.stderr
    );
    if let Ok(mut m) = mode.lock() {
        *m = "timeless";
    }
    let rerun = pull(&env, "zendesk", &url, &[]);
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    let out = rerun.json();
    assert_eq!(out["streams"][2]["quarantined"], 1, "{out:#}");
    assert_eq!(out["quarantined"], 1, "{out:#}");
    let verified = env.run(&["store", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}

/// Zendesk's incremental ticket export over `PAGES` slow pages (`start_time` = page number),
/// two tickets a page made from the documented ticket, each ticket with one audit (the
/// documented audit example).
const PAGES: i64 = 24;

fn zendesk_slow(path: &str, query: &str) -> Answer {
    std::thread::sleep(std::time::Duration::from_millis(40));
    let ticket = sample("muster-ingest/tests/data/zendesk/show-ticket.json")["ticket"].clone();
    let audit = sample("muster-ingest/tests/data/zendesk/show-audit.json")["audit"].clone();
    match path {
        "/api/v2/incremental/tickets.json" => {
            let start: i64 = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("start_time="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let page = start.max(0);
            if page >= PAGES {
                // Nothing changed since.
                return ok(serde_json::json!({
                    "tickets": [], "count": 0, "end_of_stream": true, "end_time": page,
                })
                .to_string());
            }
            let tickets: Vec<serde_json::Value> = (0..2)
                .map(|i| {
                    let mut t = ticket.clone();
                    t["id"] = (1000 + page * 2 + i).into();
                    t["subject"] = format!("Printer fire {page}-{i}").into();
                    t
                })
                .collect();
            ok(serde_json::json!({
                "tickets": tickets,
                "count": 2,
                "end_of_stream": page + 1 >= PAGES,
                "end_time": page + 1,
            })
            .to_string())
        }
        "/api/v2/incremental/ticket_events.json" => ok(sample(
            "muster-ingest/tests/data/zendesk/incremental-ticket-events.json",
        )
        .to_string()),
        p if p.ends_with("/audits.json") => {
            let id: i64 = p
                .trim_start_matches("/api/v2/tickets/")
                .trim_end_matches("/audits.json")
                .parse()
                .unwrap_or(0);
            let mut a = audit.clone();
            a["id"] = (50_000 + id).into();
            a["ticket_id"] = id.into();
            ok(serde_json::json!({"audits": [a], "meta": {"has_more": false}}).to_string())
        }
        _ => (404, vec![], "{\"error\":\"InvalidEndpoint\"}".to_owned()),
    }
}

/// Events in the store, events the committed batches account for, and whether every source's
/// chain verifies.
fn store_counts(env: &TestEnv, runtime: &tokio::runtime::Runtime) -> Option<(i64, i64)> {
    let db = env.path().join(".muster/evidence.db");
    if !db.exists() {
        return None;
    }
    let (rows, committed, _) = crate::common::ingest_counts(&db, runtime);
    Some((rows, committed))
}

#[test]
fn a_pull_killed_at_random_points_resumes_from_its_cursor_and_stores_each_record_once() {
    // What an uninterrupted pull stores.
    let reference = TestEnv::new();
    let (_ref_fake, ref_url) = serve(Box::new(|p, q, _| zendesk_slow(p, q)), vec![]);
    let whole = pull(&reference, "zendesk", &ref_url, &[]);
    assert_eq!(whole.code, 0, "{}{}", whole.stdout, whole.stderr);
    let expected = whole.json()["stored"].as_i64().unwrap_or(0);
    // Tickets (2 events each: created, state), the ticket-events sample (2), one 2-event audit each.
    assert_eq!(
        expected,
        PAGES * 2 * 2 + 2 + PAGES * 2 * 2,
        "{}",
        whole.stdout
    );

    let env = TestEnv::new();
    let (fake, url) = serve(Box::new(|p, q, _| zendesk_slow(p, q)), vec![]);
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| u64::from(d.subsec_nanos()));
    eprintln!("pull crash test seed {seed}");
    let mut last = 0;
    for round in 0..4 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = 200 + (seed >> 33) % 1500;
        let before = fake.seen().len();
        let mut child = env
            .command(&[
                "ingest",
                "--from",
                "zendesk",
                "--url",
                &url,
                "--token-env",
                TOKEN_ENV,
            ])
            .env(TOKEN_ENV, TOKEN)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(delay));
        // SIGKILL: no chance to clean up.
        let _ = child.kill();
        let _ = child.wait();
        let Some((rows, committed)) = store_counts(&env, &runtime) else {
            continue;
        };
        eprintln!("round {round}: killed after {delay} ms, {rows} of {expected} events stored");
        // Every committed batch's events are there, and nothing else.
        assert_eq!(rows, committed, "round {round}");
        assert!(rows >= last, "round {round}: committed events disappeared");
        assert!(rows <= expected, "round {round}: {rows} > {expected}");
        // Once a page is stored, a rerun does not start from the beginning.
        if last > 0 {
            let asked = fake.seen();
            assert!(
                asked
                    .get(before)
                    .is_none_or(|first| !first.ends_with("tickets.json?start_time=0")),
                "round {round}: {asked:?}"
            );
        }
        last = rows;
    }
    let finish = pull(&env, "zendesk", &url, &[]);
    assert_eq!(finish.code, 0, "{}{}", finish.stdout, finish.stderr);
    let (rows, committed) = store_counts(&env, &runtime).unwrap_or_default();
    assert_eq!(rows, committed);
    assert_eq!(rows, expected, "{}", finish.stdout);
    let again = pull(&env, "zendesk", &url, &[]).json();
    assert_eq!(again["stored"], 0, "{again:#}");
    assert_eq!(store_counts(&env, &runtime).map(|c| c.0), Some(expected));
    let verified = env.run(&["store", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}
