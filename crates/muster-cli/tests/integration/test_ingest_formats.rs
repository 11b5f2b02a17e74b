//! `muster ingest --format F` for every native reader, over the committed vendor samples: what
//! is stored and quarantined, that a second run adds nothing, and that a malformed line is
//! quarantined and counted, not fatal.

use crate::common::{Run, TestEnv, repo, stable};

fn data(path: &str) -> String {
    repo()
        .join("crates/muster-ingest/tests/data")
        .join(path)
        .display()
        .to_string()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(data(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One JSON document on one line, for building JSON Lines files from the samples.
fn one_line(path: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    value.to_string()
}

fn ingest(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["ingest"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = env.run(&all);
    assert_eq!(run.code, 0, "{:?}: {}{}", args, run.stdout, run.stderr);
    run.json()
}

fn counts(out: &serde_json::Value) -> (u64, u64, u64) {
    let n = |k: &str| out[k].as_u64().unwrap_or(u64::MAX);
    (n("stored"), n("already_stored"), n("quarantined"))
}

/// The same input again: nothing new, every input recognised.
fn again_adds_nothing(env: &TestEnv, args: &[&str]) {
    let out = ingest(env, args);
    assert_eq!(out["stored"], 0, "{out:#}");
    assert_eq!(out["quarantined"], 0, "{out:#}");
}

fn without_timing(run: &Run) -> String {
    let re = regex::Regex::new(r"in \d+\.\d s \(\d+ events/s\)").unwrap_or_else(|e| panic!("{e}"));
    // The data folder first: in a checkout under /tmp, `stable` would take its path for a
    // temporary one.
    let text = stable(&run.stdout.replace(&data(""), "[data]/"));
    re.replace_all(&text, "in [t]").into_owned()
}

#[test]
fn helpdesk_exports_are_read_per_vendor_and_a_bad_line_is_quarantined() {
    let env = TestEnv::new();
    let zendesk = data("zendesk");
    let out = ingest(&env, &[&zendesk, "--format", "zendesk"]);
    assert_eq!(out["source"], "zendesk");
    assert_eq!(counts(&out), (12, 0, 0), "{out:#}");
    again_adds_nothing(&env, &[&zendesk, "--format", "zendesk"]);

    for (dir, format, stored, quarantined) in [
        ("intercom", "intercom", 6, 0),
        ("freshdesk", "freshdesk", 8, 0),
        // query-accounts.json holds Accounts, which have no time a timeline can use.
        ("salesforce", "salesforce", 3, 2),
    ] {
        let out = ingest(&env, &[&data(dir), "--format", format]);
        assert_eq!(out["source"], format);
        assert_eq!(counts(&out), (stored, 0, quarantined), "{format}: {out:#}");
        again_adds_nothing(&env, &[&data(dir), "--format", format]);
    }

    // API bodies one per line (as a pull would save them), one of them broken.
    let lines = format!(
        "{}\n{{\"ticket\": not json\n{}\n",
        one_line("zendesk/show-ticket.json"),
        one_line("zendesk/list-audits.json")
    );
    let file = env.write("zendesk-bodies.jsonl", &lines);
    let file = file.display().to_string();
    let out = ingest(
        &env,
        &[&file, "--format", "zendesk", "--source", "zd-lines"],
    );
    assert_eq!(counts(&out), (5, 0, 1), "{out:#}");
    assert_eq!(out["inputs"][0]["format"], "zendesk (JSON Lines)");
    again_adds_nothing(
        &env,
        &[&file, "--format", "zendesk", "--source", "zd-lines"],
    );

    let verified = env.run(&["store", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}

#[test]
fn a_helpdesk_conversation_field_names_where_the_conversation_is() {
    let env = TestEnv::new();
    let body = read("zendesk/show-ticket.json");
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let field = value["ticket"]["custom_fields"][0]["id"].to_string();
    let wanted = value["ticket"]["custom_fields"][0]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = ingest(
        &env,
        &[
            &data("zendesk/show-ticket.json"),
            "--format",
            "zendesk",
            "--conversation-field",
            &field,
        ],
    );
    assert!(out["stored"].as_u64().unwrap_or(0) > 0, "{out:#}");
    let found = env.run(&["reconstruct", "--conversation", &wanted, "--json"]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);

    let misused = env.run(&[
        "ingest",
        &data("splunk"),
        "--format",
        "splunk-hec",
        "--conversation-field",
        "x",
    ]);
    assert_eq!(misused.code, 2, "{}", misused.stderr);
}

#[test]
fn agent_trace_exports_are_read() {
    let env = TestEnv::new();
    let out = ingest(&env, &[&data("openai-agents"), "--format", "openai-agents"]);
    assert_eq!(out["source"], "openai-agents");
    assert_eq!(counts(&out), (16, 0, 0), "{out:#}");
    again_adds_nothing(&env, &[&data("openai-agents"), "--format", "openai-agents"]);

    // The multipart body is told from JSON by its boundary line.
    let multipart = data("langsmith/runs-multipart.body");
    let out = ingest(&env, &[&multipart, "--format", "langsmith"]);
    assert_eq!(counts(&out), (7, 0, 0), "{out:#}");
    again_adds_nothing(&env, &[&multipart, "--format", "langsmith"]);
}

#[test]
fn langfuse_api_exports_are_read() {
    let env = TestEnv::new();
    // A trace with its observations and scores, a trace page, a v1 and a v2 observation page.
    let out = ingest(&env, &[&data("langfuse"), "--format", "langfuse"]);
    assert_eq!(out["source"], "langfuse");
    assert_eq!(counts(&out), (36, 0, 0), "{out:#}");
    again_adds_nothing(&env, &[&data("langfuse"), "--format", "langfuse"]);

    // Pages one per line, as an export streams them, with a broken line between them.
    let lines = format!(
        "{}\n{{\"data\": \n{}\n",
        one_line("langfuse/traces-list.json"),
        one_line("langfuse/observations-v1.json")
    );
    let file = env.write("langfuse-export.jsonl", &lines);
    let file = file.display().to_string();
    let args = [
        file.as_str(),
        "--format",
        "langfuse",
        "--source",
        "lf-lines",
    ];
    let out = ingest(&env, &args);
    assert_eq!(counts(&out), (12, 0, 1), "{out:#}");
    assert_eq!(out["quarantine_reasons"]["not JSON"], 1, "{out:#}");
    let out = ingest(&env, &args);
    assert_eq!(out["inputs_already_ingested"], 1, "{out:#}");
}

#[test]
fn model_logs_stream_line_by_line_with_a_malformed_line_quarantined() {
    let env = TestEnv::new();
    for (file, format, source, stored) in [
        ("model-logs/pairs.jsonl", "model-logs", "model-logs", 12),
        (
            "bedrock/model-invocation-logs.jsonl",
            "bedrock",
            "bedrock",
            11,
        ),
    ] {
        let out = ingest(&env, &[&data(file), "--format", format]);
        assert_eq!(out["source"], source);
        assert_eq!(counts(&out), (stored, 0, 0), "{format}: {out:#}");
        again_adds_nothing(&env, &[&data(file), "--format", format]);

        // The same records with a broken line between them, into another source.
        let text = read(file);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(1, "{\"request\": ");
        let broken = env.write(
            &format!("broken-{format}.jsonl"),
            &(lines.join("\n") + "\n"),
        );
        let broken = broken.display().to_string();
        let args = [broken.as_str(), "--format", format, "--source", "broken"];
        let out = ingest(&env, &args);
        assert_eq!(counts(&out), (stored, 0, 1), "{format}: {out:#}");
        assert_eq!(out["quarantine_reasons"]["not JSON"], 1, "{out:#}");
        let out = ingest(&env, &args);
        assert_eq!(out["inputs_already_ingested"], 1, "{out:#}");
    }
}

#[test]
fn monitoring_exports_are_read() {
    let env = TestEnv::new();
    let out = ingest(&env, &[&data("splunk"), "--format", "splunk-hec"]);
    assert_eq!(out["source"], "splunk");
    assert_eq!(counts(&out), (3, 0, 0), "{out:#}");
    again_adds_nothing(&env, &[&data("splunk"), "--format", "splunk-hec"]);

    let logs = ingest(
        &env,
        &[
            &data("datadog/list-logs-page1.json"),
            &data("datadog/list-logs-page2.json"),
            "--format",
            "datadog-logs",
        ],
    );
    assert_eq!(logs["source"], "datadog");
    assert_eq!(counts(&logs), (3, 0, 0), "{logs:#}");
    let webhook = ingest(
        &env,
        &[
            &data("datadog/monitor-webhook.json"),
            "--format",
            "datadog-webhook",
        ],
    );
    assert_eq!(counts(&webhook), (1, 0, 0), "{webhook:#}");
    let found = env.run(&["search", "confidence", "--kind", "alert", "--json"]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);
}

const MAPPINGS: &str = r#"version = 1

[ingest.mappings.chat-log]
system = "chat-log"
time = "ts"
kind_field = "role"
kinds = { user = "customer.message", assistant = "agent.message" }
content = "text"
conversation_id = "session"
customer_ref = "user.id"
"#;

#[test]
fn generic_exports_are_read_through_a_declared_mapping() {
    let env = TestEnv::new();
    env.write("muster.toml", MAPPINGS);
    let chat = data("generic/chat-log.jsonl");
    let args = [
        chat.as_str(),
        "--format",
        "generic-jsonl",
        "--mapping",
        "chat-log",
    ];
    let out = ingest(&env, &args);
    // The mapping's `system` names the source; the row without a time is quarantined.
    assert_eq!(out["source"], "chat-log");
    assert_eq!(counts(&out), (2, 0, 1), "{out:#}");
    assert_eq!(out["quarantine_reasons"]["no time"], 1, "{out:#}");
    let again = ingest(&env, &args);
    assert_eq!(again["inputs_already_ingested"], 1, "{again:#}");

    // The Salesforce CSV export has a mapping built in.
    let csv = data("generic/case-history-export.csv");
    let run = env.run(&["ingest", &csv, "--format", "salesforce-csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("ingest_salesforce_csv", without_timing(&run));
    again_adds_nothing(&env, &[&csv, "--format", "salesforce-csv"]);

    let missing = env.run(&["ingest", &chat, "--format", "generic-jsonl"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("--mapping"), "{}", missing.stderr);
    let unknown = env.run(&[
        "ingest",
        &chat,
        "--format",
        "generic-csv",
        "--mapping",
        "crm",
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("declared mappings: chat-log"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_mistake_in_a_mapping_is_shown_at_its_line_and_column() {
    let env = TestEnv::new();
    env.write(
        "muster.toml",
        &MAPPINGS.replace("\"customer.message\"", "\"customer.mesage\""),
    );
    let chat = data("generic/chat-log.jsonl");
    let run = env.run(&[
        "ingest",
        &chat,
        "--format",
        "generic-jsonl",
        "--mapping",
        "chat-log",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("muster.toml:7:18"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `customer.message`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_interrupted_csv_resumes_with_its_header() {
    let env = TestEnv::new();
    env.write(
        "muster.toml",
        r#"version = 1

[ingest.mappings.orders]
system = "orders"
time = "at"
kind = "account.change"
customer_ref = "customer"
field = "field"
before = "old"
after = "new"
"#,
    );
    let mut rows = String::from("at,customer,field,old,new\n");
    for i in 0..40 {
        rows.push_str(&format!(
            "2026-11-0{}T10:{:02}:00Z,cus_{i},Status,open,closed\n",
            1 + i % 9,
            i
        ));
    }
    let file = env.write("orders.csv", &rows);
    let file = file.display().to_string();
    let args = [
        file.as_str(),
        "--format",
        "generic-csv",
        "--mapping",
        "orders",
        "--batch",
        "10",
    ];
    let out = ingest(&env, &args);
    assert_eq!(counts(&out), (40, 0, 0), "{out:#}");

    // More rows appended after the first ingest: the rerun resumes at the old end and reads
    // the new rows by the header it reads again.
    let mut more = rows.clone();
    more.push_str("2026-11-09T11:00:00Z,cus_new,Status,closed,open\n");
    std::fs::write(&file, &more).unwrap_or_else(|e| panic!("{e}"));
    let out = ingest(&env, &args);
    assert_eq!(counts(&out), (1, 0, 0), "{out:#}");
    assert_eq!(
        out["inputs"][0]["resumed_from_offset"],
        rows.len() as u64,
        "{out:#}"
    );
    let found = env.run(&["reconstruct", "--customer", "cus_new", "--json"]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);
}
