//! The `command` adapter against real local processes (POSIX `sh` scripts), one per conversation.

use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_target::{Target, TurnError};
use serde_json::json;

/// A JSON Lines agent in `sh`: refunds when asked, greets otherwise, and counts its turns (so a
/// process per conversation shows: each conversation starts again at 1).
const AGENT: &str = r#"n=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in
    *refund*) printf '{"answer":"Refunded in full, turn %s.","actions":[{"tool":"process_return","args":{"amount":749}}],"human":false}\n' "$n" ;;
    *human*) printf '{"answer":"Passing you to a colleague.","actions":[],"human":true}\n' ;;
    *) printf '{"answer":"Hello %s, turn %s.","actions":[],"human":false}\n' "$CUSTOMER_GREETING" "$n" ;;
  esac
done"#;

fn manifest(argv: &[&str]) -> AgentManifest {
    let argv = serde_json::to_string(argv).unwrap_or_default();
    let yaml = format!(
        r#"version: 1
kind: agent
name: t
owner: {{name: Test}}
environment: sandbox
hosts: [127.0.0.1]
model: {{provider: test, name: scripted, version: "1"}}
target:
  adapter: command
  base_url: http://127.0.0.1:9
  timeout: 500ms
  command:
    argv: {argv}
    env: {{CUSTOMER_GREETING: there}}
    reply:
      text: /answer
      tool_calls: {{at: /actions, name: /tool, arguments: /args}}
      handover: /human
"#
    );
    let loaded = muster_model::load_agent(&yaml);
    loaded
        .value
        .unwrap_or_else(|| panic!("manifest: {:#?}", loaded.diagnostics))
}

fn vars() -> Vars {
    let mut v = Vars::new();
    v.insert("customer.ref".into(), json!("LM-100004"));
    v
}

fn target(argv: &[&str]) -> Target {
    Target::new(&manifest(argv), None).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_process_per_conversation_answers_each_turn_on_a_line() {
    let target = target(&["sh", "-c", AGENT]);
    for _ in 0..2 {
        let (_, opened) = target.open(vars()).await;
        let mut conversation = opened.unwrap_or_else(|e| panic!("{e}"));
        let first = target.send(&mut conversation, "hi there", 1).await;
        let reply = first.reply.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            reply.text, "Hello there, turn 1.",
            "a fresh process for each conversation"
        );
        let request = first.exchanges[0].request_body.clone().unwrap_or_default();
        assert_eq!(request["type"], "message");
        assert_eq!(request["customer_ref"], "LM-100004");
        assert_eq!(request["conversation_id"], conversation.id.as_str());
        assert_eq!(first.exchanges[0].method, "PIPE");

        let second = target.send(&mut conversation, "I want a refund", 2).await;
        let reply = second.reply.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reply.text, "Refunded in full, turn 2.");
        assert_eq!(reply.tool_calls.len(), 1);
        assert_eq!(reply.tool_calls[0].name, "process_return");
        assert_eq!(reply.tool_calls[0].arguments["amount"], 749);
        assert_eq!(reply.handover, Some(false));
    }
}

async fn failing(argv: &[&str]) -> (TurnError, usize) {
    let target = target(argv);
    let (_, opened) = target.open(vars()).await;
    let mut conversation = opened.unwrap_or_else(|e| panic!("{e}"));
    let outcome = target.send(&mut conversation, "hello", 1).await;
    match outcome.reply {
        Ok(r) => panic!("a broken agent produced a reply: {r:?}"),
        Err(e) => (e, outcome.exchanges.len()),
    }
}

#[tokio::test]
async fn broken_processes_are_turn_errors_never_replies() {
    let (e, recorded) = failing(&["sh", "-c", "exit 3"]).await;
    assert!(matches!(e, TurnError::Transport(_)), "{e:?}");
    assert_eq!(recorded, 1, "the failed exchange is still evidence");
    let (e, _) = failing(&["sh", "-c", "read line; echo not json"]).await;
    assert!(matches!(e, TurnError::Malformed(_)), "{e:?}");
    let (e, _) = failing(&["sh", "-c", "read line; sleep 5"]).await;
    assert!(matches!(e, TurnError::Timeout(_)), "{e:?}");
    let (e, _) = failing(&["sh", "-c", r#"read line; echo '{"other": 1}'"#]).await;
    assert!(
        matches!(e, TurnError::Malformed(_)),
        "a reply without its text: {e:?}"
    );
}

#[tokio::test]
async fn a_program_that_cannot_start_fails_the_conversation() {
    let target = target(&["/nonexistent/muster-test-agent"]);
    let (_, opened) = target.open(vars()).await;
    assert!(
        matches!(opened, Err(TurnError::Transport(ref m)) if m.contains("cannot start")),
        "{opened:?}"
    );
}

#[test]
fn production_is_refused_for_a_local_process_too() {
    let yaml = serde_yaml_text(&["sh", "-c", AGENT])
        .replace("environment: sandbox", "environment: production");
    let loaded = muster_model::load_agent(&yaml);
    let m = loaded
        .value
        .unwrap_or_else(|| panic!("{:#?}", loaded.diagnostics));
    assert!(Target::new(&m, None).is_err());
}

fn serde_yaml_text(argv: &[&str]) -> String {
    let argv = serde_json::to_string(argv).unwrap_or_default();
    format!(
        "version: 1\nkind: agent\nname: t\nowner: {{name: Test}}\nenvironment: sandbox\nhosts: [127.0.0.1]\nmodel: {{provider: test, name: s, version: \"1\"}}\ntarget:\n  adapter: command\n  base_url: http://127.0.0.1:9\n  command:\n    argv: {argv}\n    reply: {{text: /answer}}\n"
    )
}
