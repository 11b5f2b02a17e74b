use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_target::{InterlockError, Target, TargetError, TurnError};
use serde_json::json;

use crate::server;

fn manifest(yaml: &str) -> AgentManifest {
    let loaded = muster_model::load_agent(yaml);
    match loaded.value {
        Some(m) => m,
        None => panic!("test manifest invalid: {:#?}", loaded.diagnostics),
    }
}

fn http_json(base: &str, send_url: &str, extra: &str) -> String {
    format!(
        r#"version: 1
kind: agent
name: t
owner: {{name: Test}}
environment: sandbox
hosts: [127.0.0.1]
model: {{provider: test, name: scripted, version: "1"}}
target:
  adapter: http-json
  base_url: {base}
  timeout: 500ms
  http_json:
    open_session:
      request: {{url: /api/conversations, body: {{who: "{{{{customer.ref}}}}"}}}}
      conversation_id: /conversation_id
    send:
      url: {send_url}
      headers: {{X-Turn: "{{{{turn}}}}"}}
      body: {{message: "{{{{message}}}}", session: "{{{{session_id}}}}"}}
    reply:
      text: $.data.answer
      tool_calls: {{at: /data/actions, name: /tool, arguments: /args, result: /outcome}}
      handover: /data/state/human
      confidence: /data/state/score
      content_version: /data/state/kb
{extra}"#
    )
}

fn vars() -> Vars {
    let mut v = Vars::new();
    v.insert("customer.ref".into(), json!("LM-100004"));
    v
}

#[tokio::test]
async fn http_json_maps_every_part_of_the_reply() {
    let (base, seen) = server::start().await;
    let target = match Target::new(
        &manifest(&http_json(
            &base,
            "/api/conversations/{{session_id}}/messages",
            "",
        )),
        None,
    ) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let (exchanges, opened) = target.open(vars()).await;
    assert_eq!(exchanges.len(), 1);
    let mut conversation = match opened {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(conversation.id, "conv-42");
    let outcome = target
        .send(&mut conversation, "please get me a human", 1)
        .await;
    let reply = match outcome.reply {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(reply.text, "[conv-42] you said: please get me a human");
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].name, "process_return");
    assert_eq!(reply.tool_calls[0].number_argument("amount"), Some(749.0));
    assert_eq!(
        reply.tool_calls[0].result,
        Some(json!({"status": "refunded"}))
    );
    assert_eq!(reply.handover, Some(true));
    assert_eq!(reply.confidence, Some(0.4));
    assert_eq!(reply.content_version.as_deref(), Some("kb-7"));
    let requests = seen.all();
    assert_eq!(requests[0].1, json!({"who": "LM-100004"}));
    assert_eq!(
        requests[1].1,
        json!({"message": "please get me a human", "session": "conv-42"})
    );
    assert_eq!(
        requests[1].0.get("x-turn").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(outcome.exchanges[0].status, Some(200));
}

#[tokio::test]
async fn openai_chat_sends_history_identity_session_and_secret() {
    let (base, seen) = server::start().await;
    let yaml = format!(
        r#"version: 1
kind: agent
name: t
owner: {{name: Test}}
environment: pre-production
hosts: ["127.0.0.1"]
model: {{provider: test, name: scripted, version: "1"}}
target:
  adapter: openai-chat
  base_url: {base}
  auth: {{env: MUSTER_TEST_OPENAI_KEY}}
  openai_chat:
    model: support-1
    identity: {{header: X-Customer}}
    session: {{header: X-Conversation-Id}}
    tool_results: /ext/results
    handover: /ext/handover/active
    content_version: /ext/kb
"#
    );
    let env =
        |name: &str| (name == "MUSTER_TEST_OPENAI_KEY").then(|| "sk-test-secret-123".to_owned());
    let target = match Target::with_env(&manifest(&yaml), None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let (_, opened) = target.open(vars()).await;
    let mut conversation = match opened {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let first = target.send(&mut conversation, "hello", 1).await;
    let second = target.send(&mut conversation, "and again", 2).await;
    let (Ok(r1), Ok(r2)) = (&first.reply, &second.reply) else {
        panic!("no replies: {first:?} {second:?}")
    };
    assert_eq!(r1.text, "seen 1 messages");
    assert_eq!(r2.text, "seen 3 messages", "history is resent");
    assert_eq!(r1.tool_calls[0].result, Some(json!({"credited": 20})));
    assert_eq!(r1.tool_calls[0].number_argument("amount"), Some(20.0));
    assert_eq!(r1.handover, Some(false));
    assert_eq!(r1.content_version.as_deref(), Some("v3"));
    let requests = seen.all();
    let headers = &requests[0].0;
    assert_eq!(
        headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some("Bearer sk-test-secret-123")
    );
    assert_eq!(
        headers.get("x-customer").and_then(|v| v.to_str().ok()),
        Some("LM-100004")
    );
    assert_eq!(
        headers
            .get("x-conversation-id")
            .and_then(|v| v.to_str().ok()),
        Some(conversation.id.as_str())
    );
    assert_eq!(requests[0].1["model"], "support-1");
    // The secret never reaches the evidence.
    let recorded = first.exchanges[0].to_json().to_string();
    assert!(!recorded.contains("sk-test-secret-123"), "{recorded}");
    assert!(recorded.contains("[redacted]"));
}

/// A target whose turns go to `send_url`, with `settings` added under `target:`.
async fn target_at(send_url: &str, settings: &str) -> (Target, server::Seen) {
    let (base, seen) = server::start().await;
    let yaml = http_json(&base, send_url, "").replace(
        "  timeout: 500ms\n",
        &format!("  timeout: 500ms\n{settings}"),
    );
    match Target::new(&manifest(&yaml), None) {
        Ok(t) => (t, seen),
        Err(e) => panic!("{e}"),
    }
}

async fn turn(target: &Target) -> muster_target::TurnOutcome {
    let (_, opened) = target.open(vars()).await;
    let mut conversation = match opened {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    target.send(&mut conversation, "hi", 1).await
}

async fn failing_turn(send_url: &str) -> TurnError {
    let (target, _) = target_at(send_url, "  retries: 0\n").await;
    let outcome = turn(&target).await;
    assert_eq!(
        outcome.exchanges.len(),
        1,
        "the failed exchange is still recorded"
    );
    match outcome.reply {
        Ok(r) => panic!("a broken turn produced a reply: {r:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn timeouts_errors_and_garbage_are_turn_errors() {
    assert!(matches!(failing_turn("/slow").await, TurnError::Timeout(_)));
    assert!(matches!(
        failing_turn("/unavailable").await,
        TurnError::Status { status: 503, .. }
    ));
    assert!(matches!(
        failing_turn("/not-json").await,
        TurnError::Malformed(_)
    ));
    assert!(matches!(
        failing_turn("/wrong-shape").await,
        TurnError::Malformed(_)
    ));
    assert!(
        matches!(
            failing_turn("/redirect").await,
            TurnError::Status { status: 302, .. }
        ),
        "redirects are not followed"
    );
    assert!(matches!(
        failing_turn("/nowhere").await,
        TurnError::Status { status: 404, .. }
    ));
}

#[tokio::test]
async fn a_refused_request_is_retried_after_the_targets_retry_after() {
    let (target, seen) = target_at("/flaky", "").await;
    let outcome = turn(&target).await;
    let reply = outcome.reply.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply.text, "third time lucky");
    let statuses: Vec<Option<u16>> = outcome.exchanges.iter().map(|x| x.status).collect();
    assert_eq!(
        statuses,
        [Some(503), Some(503), Some(200)],
        "every attempt is evidence"
    );
    assert!(
        outcome.exchanges[0]
            .error
            .as_deref()
            .unwrap_or("")
            .ends_with("retry 1 of 2 in 0.0s")
    );
    assert_eq!(seen.calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retries_run_out_and_the_turn_is_an_error_never_a_reply() {
    let (target, _) = target_at("/busy", "  retries: 1\n").await;
    let started = std::time::Instant::now();
    let outcome = turn(&target).await;
    assert!(matches!(
        outcome.reply,
        Err(TurnError::Status { status: 429, .. })
    ));
    assert_eq!(outcome.exchanges.len(), 2);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );

    let (target, seen) = target_at("/busy-long", "").await;
    let started = std::time::Instant::now();
    let outcome = turn(&target).await;
    assert!(matches!(
        outcome.reply,
        Err(TurnError::Status { status: 429, .. })
    ));
    assert_eq!(
        outcome.exchanges.len(),
        1,
        "an hour's Retry-After is not waited for"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(seen.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn errors_the_target_may_have_acted_on_are_never_retried() {
    for url in ["/broken", "/slow", "/not-json"] {
        let (target, _) = target_at(url, "").await;
        let outcome = turn(&target).await;
        assert!(outcome.reply.is_err(), "{url}");
        assert_eq!(outcome.exchanges.len(), 1, "{url} was sent once");
    }
}

#[tokio::test]
async fn the_in_flight_cap_holds_across_conversations() {
    for (settings, most) in [("  max_in_flight: 1\n", 1), ("", 4)] {
        let (target, seen) = target_at("/held", settings).await;
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let target = target.clone();
            tasks.push(tokio::spawn(async move { turn(&target).await }));
        }
        for t in tasks {
            let outcome = t.await.unwrap_or_else(|e| panic!("{e}"));
            assert!(outcome.reply.is_ok());
        }
        assert_eq!(
            seen.most_in_flight
                .load(std::sync::atomic::Ordering::SeqCst),
            most,
            "{settings:?}"
        );
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(9);
    drop(listener);
    let base = format!("http://127.0.0.1:{port}");
    let target = match Target::new(&manifest(&http_json(&base, "/x", "")), None) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let (exchanges, opened) = target.open(vars()).await;
    assert!(matches!(opened, Err(TurnError::Transport(_))), "{opened:?}");
    assert_eq!(
        exchanges.len(),
        3,
        "a connection never made is retried twice, and each attempt recorded"
    );
}

#[tokio::test]
async fn the_interlock_refuses_production_and_undeclared_hosts() {
    let (base, seen) = server::start().await;
    let production =
        http_json(&base, "/x", "").replace("environment: sandbox", "environment: production");
    assert!(matches!(
        Target::new(&manifest(&production), None),
        Err(TargetError::Interlock(InterlockError::Environment(
            "production"
        )))
    ));
    let ok = manifest(&http_json(&base, "/x", ""));
    let elsewhere = base.replace("127.0.0.1", "localhost");
    assert!(matches!(
        Target::new(&ok, Some(&elsewhere)),
        Err(TargetError::Interlock(
            InterlockError::UndeclaredHost { .. }
        ))
    ));
    // A templated URL that resolves elsewhere is refused at send time, and nothing is sent.
    let sneaky = http_json(&base, "http://localhost:9/steal?m={{message}}", "");
    let target = match Target::new(&manifest(&sneaky), None) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let (_, opened) = target.open(vars()).await;
    let Ok(mut conversation) = opened else {
        panic!("open failed")
    };
    let before = seen.all().len();
    let outcome = target.send(&mut conversation, "secret", 1).await;
    assert!(matches!(outcome.reply, Err(TurnError::Refused(_))));
    assert_eq!(seen.all().len(), before);
}

#[tokio::test]
async fn a_missing_secret_is_named() {
    let (base, _) = server::start().await;
    let yaml = http_json(&base, "/x", "").replace(
        "  timeout: 500ms\n",
        "  timeout: 500ms\n  auth: {env: MUSTER_TEST_UNSET_VARIABLE}\n",
    );
    match Target::with_env(&manifest(&yaml), None, &|_| None) {
        Err(TargetError::MissingSecret(var)) => assert_eq!(var, "MUSTER_TEST_UNSET_VARIABLE"),
        other => panic!("{other:?}"),
    }
}
