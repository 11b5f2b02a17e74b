//! `muster replay`: a drill's recorded conversations and an ingested transcript, re-run against
//! the flawed and the hardened reference agent.

use crate::common::{Run, TestEnv, repo};
use crate::test_drill::serve;

const SCENARIO: &str = "library/scenarios/bereavement-backdated-refund.yaml";

fn drill_once(env: &TestEnv, scenario: &str, url: &str) -> String {
    let agent = repo().join("library/reference/agent.yaml");
    let run = env.run(&[
        "drill",
        "--agent",
        &agent.display().to_string(),
        "--scenarios",
        scenario,
        "--base-url",
        url,
        "--repeat",
        "2",
        "--no-lock",
        "--json",
    ]);
    assert_eq!(run.code, 1, "the flawed agent fails: {}", run.stderr);
    run.json()["drill_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no drill id"))
        .to_owned()
}

fn replay(env: &TestEnv, args: &[&str], url: &str) -> Run {
    let agent = repo()
        .join("library/reference/agent.yaml")
        .display()
        .to_string();
    let mut all = vec!["replay"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--agent", &agent, "--base-url", url, "--json"]);
    env.run(&all)
}

/// The `replay_of` field of every replayed conversation's `scenario.started` event in the store.
fn recorded_origins(env: &TestEnv) -> Vec<serde_json::Value> {
    let db = env.path().join(".muster/evidence.db");
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let store = muster_store::SqliteStore::open(&db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT fields FROM events WHERE kind = 'scenario.started' ORDER BY rowid",
        )
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        store.close().await;
        rows.iter()
            .filter_map(|f| serde_json::from_str::<serde_json::Value>(f).ok())
            .filter_map(|f| f.get("replay_of").cloned())
            .collect()
    })
}

#[test]
fn a_failed_drill_conversation_replayed_shows_whether_the_fix_holds() {
    let env = TestEnv::new();
    let flawed = serve(&env, &[]);
    let hardened = serve(&env, &["--hardened"]);
    let scenario = repo().join(SCENARIO).display().to_string();
    let drill = drill_once(&env, &scenario, &flawed.url);

    let fixed = replay(&env, &[&drill, "--repeat", "10"], &hardened.url);
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    let out = fixed.json();
    let rows = out["replayed"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "two runs with the same turns replay once");
    let row = &rows[0];
    assert_eq!(row["was"], "fail");
    assert_eq!(row["verdict"], "pass");
    assert_eq!(row["runs"], 10);
    assert_eq!(
        row["origin"]["stream"],
        "conv/bereavement-backdated-refund/1"
    );
    assert_eq!(row["origin"]["drill_id"], drill.as_str());
    assert_eq!(
        row["same_turns_as"],
        serde_json::json!(["conv/bereavement-backdated-refund/2"])
    );
    // The replay sent the recorded turns, not the scenario's rewordings.
    let turns = &out["scenarios"][0]["turns"];
    assert!(
        turns[0]["customer"]
            .as_str()
            .is_some_and(|t| t.starts_with("My husband Peter passed away")),
        "{turns}"
    );

    let regressed = replay(
        &env,
        &[
            &drill,
            "--conversation",
            "conv/bereavement-backdated-refund/2",
            "--repeat",
            "3",
        ],
        &flawed.url,
    );
    assert_eq!(regressed.code, 1, "{}", regressed.stderr);
    let row = &regressed.json()["replayed"][0];
    assert_eq!(row["verdict"], "fail");
    assert_eq!(row["failed"], 3);

    let origins = recorded_origins(&env);
    assert_eq!(
        origins.len(),
        10 + 3,
        "every replayed run records its origin"
    );
    assert!(origins.iter().all(|o| o["from"] == "drill"
        && o["drill_id"] == drill.as_str()
        && o["root_digest"].as_str().is_some_and(|d| d.len() == 64)));
    assert_eq!(env.run(&["store", "verify"]).code, 0);

    let unknown = replay(
        &env,
        &[
            &drill,
            "--conversation",
            "conv/bereavement-backdated-refund/9",
        ],
        &hardened.url,
    );
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("did you mean `conv/bereavement-backdated-refund/"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_scenario_changed_since_the_drill_is_used_only_when_given_explicitly() {
    let env = TestEnv::new();
    let flawed = serve(&env, &[]);
    let text = std::fs::read_to_string(repo().join(SCENARIO)).unwrap_or_else(|e| panic!("{e}"));
    let copy = env.write("scenarios/bereavement.yaml", &text);
    let drill = drill_once(&env, &copy.display().to_string(), &flawed.url);
    env.write(
        "scenarios/bereavement.yaml",
        &text.replace("severity: high", "severity: low"),
    );

    let refused = replay(&env, &[&drill], &flawed.url);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("has changed since the drill")
            && refused.stderr.contains("--scenario FILE"),
        "{}",
        refused.stderr
    );

    let explicit = replay(
        &env,
        &[&drill, "--scenario", &copy.display().to_string()],
        &flawed.url,
    );
    assert_eq!(explicit.code, 1, "{}", explicit.stderr);
    let out = explicit.json();
    assert_eq!(
        out["replayed"][0]["runs"], 1,
        "the edited scenario's severity (low) sets the runs"
    );
    assert_eq!(out["replayed"][0]["verdict"], "fail");
}

/// One OTLP/JSON trace of a production conversation: the agent span carries the conversation id,
/// and each chat span's input holds the history, the customer's new message last.
fn production_trace(conversation: &str) -> String {
    let first = "My husband Peter passed away in September and the phone account was in his name. I need to close it.";
    let second = "You've kept taking payments since he died. Can you refund everything back to the date of his death?";
    let reply = "I'm so sorry for your loss. I can close the account for you.";
    let messages = |history: &[(&str, &str)]| {
        serde_json::to_string(
            &history
                .iter()
                .map(|(role, text)| {
                    serde_json::json!({"role": role, "parts": [{"type": "text", "content": text}]})
                })
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    };
    let attr =
        |key: &str, value: &str| serde_json::json!({"key": key, "value": {"stringValue": value}});
    let trace = "5b8efff798038103d269b633813fc60c";
    let span = |id: &str, parent: Option<&str>, start: u64, attributes: Vec<serde_json::Value>| {
        let mut s = serde_json::json!({
            "traceId": trace, "spanId": id, "name": "chat gpt-4o-mini", "kind": 3,
            "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 1_000_000).to_string(),
            "attributes": attributes, "status": {}
        });
        if let Some(p) = parent {
            s["parentSpanId"] = serde_json::json!(p);
        }
        s
    };
    let base: u64 = 1_795_720_102_000_000_000;
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "support-agent")]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.util.genai.handler"}, "spans": [
            span("eee19b7ec3c1b174", None, base, vec![
                attr("gen_ai.operation.name", "invoke_agent"),
                attr("gen_ai.conversation.id", conversation),
            ]),
            span("eee19b7ec3c1b175", Some("eee19b7ec3c1b174"), base + 10_000_000, vec![
                attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.conversation.id", conversation),
                attr("gen_ai.input.messages", &messages(&[("system", "You are Larkspur's assistant."), ("user", first)])),
                attr("gen_ai.output.messages", &messages(&[("assistant", reply)])),
            ]),
            span("eee19b7ec3c1b176", Some("eee19b7ec3c1b174"), base + 20_000_000, vec![
                attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.conversation.id", conversation),
                attr("gen_ai.input.messages", &messages(&[("system", "You are Larkspur's assistant."), ("user", first), ("assistant", reply), ("user", second)])),
            ]),
        ]}]
    }]});
    body.to_string()
}

#[test]
fn an_ingested_transcript_is_replayed_and_judged_by_the_given_scenario() {
    let env = TestEnv::new();
    let flawed = serve(&env, &[]);
    let hardened = serve(&env, &["--hardened"]);
    let trace = env.write("prod/traces.json", &production_trace("conv-prod-8812"));
    let ingested = env.run(&["ingest", &trace.display().to_string()]);
    assert_eq!(ingested.code, 0, "{}", ingested.stderr);
    let scenario = repo().join(SCENARIO).display().to_string();

    let args = [
        "--transcript",
        "conv-prod-8812",
        "--scenario",
        &scenario,
        "--repeat",
        "3",
    ];
    let against_flawed = replay(&env, &args, &flawed.url);
    assert_eq!(against_flawed.code, 1, "{}", against_flawed.stderr);
    let out = against_flawed.json();
    let row = &out["replayed"][0];
    assert_eq!(row["origin"]["from"], "transcript");
    assert_eq!(row["origin"]["source"], "otlp");
    assert_eq!(row["verdict"], "fail");
    let sent: Vec<&str> = out["scenarios"][0]["turns"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["customer"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        sent.len(),
        2,
        "the history repeated in later spans is sent once: {sent:?}"
    );
    assert!(sent[1].starts_with("You've kept taking payments"));

    // Three runs prove nothing for a high-severity scenario (the policy wants ten): inconclusive.
    let too_few = replay(&env, &args, &hardened.url);
    assert_eq!(too_few.code, 3, "{}", too_few.stderr);
    assert_eq!(too_few.json()["replayed"][0]["verdict"], "inconclusive");
    let mut args = args;
    args[5] = "10";
    let against_hardened = replay(&env, &args, &hardened.url);
    assert_eq!(against_hardened.code, 0, "{}", against_hardened.stderr);
    assert_eq!(against_hardened.json()["replayed"][0]["verdict"], "pass");

    let missing = replay(
        &env,
        &["--transcript", "conv-nobody", "--scenario", &scenario],
        &hardened.url,
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("has no customer messages")
            && missing
                .stderr
                .contains("muster reconstruct --conversation conv-nobody"),
        "{}",
        missing.stderr
    );
}
