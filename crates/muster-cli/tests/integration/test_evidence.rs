//! `muster ingest`, `reconstruct` and `search` end to end, and ingest killed mid-way.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::common::{TestEnv, repo, stable};

fn fixtures() -> String {
    repo()
        .join("crates/muster-ingest/tests/data")
        .display()
        .to_string()
}

/// Timings change from run to run.
fn without_timing(text: &str) -> String {
    let re = regex::Regex::new(r"in \d+(\.\d+)? ms").unwrap_or_else(|e| panic!("{e}"));
    re.replace_all(&stable(text), "in [t] ms").into_owned()
}

#[test]
fn ingest_is_idempotent_and_counts_what_it_quarantines() {
    let env = TestEnv::new();
    let bad = env.write("bad.jsonl", "{\"resourceSpans\": []}\nnot json\n[1]\n");
    let first = env.run(&["ingest", &fixtures(), "--json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let stored = first.json()["stored"].as_u64().unwrap_or(0);
    assert!(stored > 50, "{}", first.stdout);

    let again = env.run(&["ingest", &fixtures(), "--json"]).json();
    assert_eq!(again["stored"], 0);
    assert_eq!(
        again["inputs_already_ingested"],
        first.json()["inputs"].as_array().map_or(0, Vec::len)
    );

    let bad_run = env.run(&["ingest", &bad.display().to_string()]);
    assert_eq!(
        bad_run.code, 0,
        "quarantine is reported, not fatal: {}",
        bad_run.stderr
    );
    assert!(
        bad_run.stdout.contains("2 quarantined"),
        "{}",
        bad_run.stdout
    );
    assert!(bad_run.stdout.contains("not JSON"), "{}", bad_run.stdout);

    let verified = env.run(&["store", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert!(
        verified.stdout.contains(&format!(
            "source `otlp`  {stored} ingested events, chain intact"
        )),
        "{}",
        verified.stdout
    );
}

#[test]
fn a_customer_timeline_is_merged_across_sources_and_redacted() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["ingest", &fixtures()]).code, 0);
    let run = env.run(&[
        "reconstruct",
        "--conversation",
        "conv-7f3a9c",
        "--to",
        "2026-11-26T19:07:02.010Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("@example"), "{}", run.stdout);
    insta::assert_snapshot!("reconstruct_conversation", without_timing(&run.stdout));

    let json = env
        .run(&["reconstruct", "--customer", "cus_123", "--json"])
        .json();
    assert!(json["events"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(json["reconstruction_ms"].as_f64().is_some());

    let none = env.run(&["reconstruct", "--customer", "nobody"]);
    assert_eq!(none.code, 1);
}

#[test]
fn raw_access_needs_a_reason_and_is_audited() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["ingest", &fixtures()]).code, 0);
    let refused = env.run(&["reconstruct", "--conversation", "conv-7f3a9c", "--raw"]);
    assert_eq!(refused.code, 2);
    let raw = env.run(&[
        "reconstruct",
        "--conversation",
        "conv-7f3a9c",
        "--raw",
        "--reason",
        "complaint C-1182",
        "--as",
        "Priya Shah",
    ]);
    assert_eq!(raw.code, 0, "{}", raw.stderr);
    assert!(
        raw.stdout.contains("@example"),
        "unredacted: {}",
        raw.stdout
    );

    let found = env
        .run(&["search", "shipped", "--kind", "agent.message", "--json"])
        .json();
    assert!(found["matches"].as_array().is_some_and(|m| !m.is_empty()));
    assert_eq!(env.run(&["search", "zzzz-nothing"]).code, 1);

    let db = env.path().join(".muster/evidence.db");
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let log = runtime.block_on(async {
        use muster_store::EvidenceStore;
        let store = muster_store::SqliteStore::open(&db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store.access_log().await.unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].who, "Priya Shah");
    assert_eq!(log[0].why, "complaint C-1182");
    assert_eq!(log[0].what, "conversation conv-7f3a9c");
}

/// OTLP/JSON Lines of `spans` GenAI chat spans (two events each), `per_line` spans a line.
fn write_spans(path: &Path, spans: usize, per_line: usize) {
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = std::io::BufWriter::new(file);
    let filler =
        "the engineer visit for the broadband fault is booked and the credit applied ".repeat(13);
    for first in (0..spans).step_by(per_line) {
        let spans: Vec<serde_json::Value> = (first..(first + per_line).min(spans))
            .map(|i| {
                let start = 1_795_720_000_000_000_000u64 + i as u64 * 1_000_000;
                let messages = serde_json::json!([{"role": "assistant", "parts": [{"type": "text", "content": format!("{i} {filler}")}], "finish_reason": "stop"}]);
                serde_json::json!({
                    "traceId": format!("{i:032x}"), "spanId": format!("{:016x}", i + 1), "name": "chat m", "kind": 3,
                    "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 500_000).to_string(),
                    "attributes": [
                        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                        {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                        {"key": "gen_ai.conversation.id", "value": {"stringValue": format!("conv-{}", i / 8)}},
                        {"key": "gen_ai.output.messages", "value": {"stringValue": messages.to_string()}},
                    ],
                })
            })
            .collect();
        let body = serde_json::json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
        writeln!(out, "{body}").unwrap_or_else(|e| panic!("{e}"));
    }
    out.flush().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn ingest_killed_at_random_points_loses_nothing_committed_and_resumes_without_duplicates() {
    let env = TestEnv::new();
    let input = env.path().join("spans.jsonl");
    let (spans, per_line) = (4000, 10);
    write_spans(&input, spans, per_line);
    let input = input.display().to_string();
    // A cheap pseudo-random sequence, seeded from the clock and printed, so a failure can be replayed.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.subsec_nanos() as u64);
    eprintln!("crash test seed {seed}");
    let db = env.path().join(".muster/evidence.db");
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let check = |runtime: &tokio::runtime::Runtime| {
        let (rows, committed, first_source) = crate::common::ingest_counts(&db, runtime);
        // Every committed batch's events are there, and nothing else.
        assert_eq!(rows, committed);
        assert_eq!(first_source, rows);
        rows
    };
    let mut last = 0;
    for round in 0..4 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = 300 + (seed >> 33) % 2500;
        let mut child = env
            .command(&["ingest", &input, "--batch", "500"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(Duration::from_millis(delay));
        // SIGKILL: no chance to clean up.
        let _ = child.kill();
        let _ = child.wait();
        if !db.exists() {
            continue;
        }
        let rows = check(&runtime);
        assert!(rows >= last, "round {round}: committed events disappeared");
        last = rows;
    }
    let finish = env.run(&["ingest", &input, "--json"]);
    assert_eq!(finish.code, 0, "{}", finish.stderr);
    let total = check(&runtime);
    assert_eq!(total, (spans * 2) as i64, "{}", finish.stdout);
    // And once more: nothing to add.
    let again = env.run(&["ingest", &input, "--json"]).json();
    assert_eq!(again["stored"], 0);
    assert_eq!(check(&runtime), total);
}

/// A raw HTTP/1.1 POST over loopback; the status code.
fn post(addr: &str, path: &str, content_type: &str, body: &[u8]) -> u16 {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_otlp_receiver_stores_exports_keeps_them_raw_and_stores_a_retry_once() {
    let env = TestEnv::new();
    let (child, addr) = listen(&env);
    let data = Path::new(&fixtures()).to_path_buf();
    let pb = std::fs::read(data.join("recv_001_v1_traces.pb")).unwrap_or_else(|e| panic!("{e}"));
    let json =
        std::fs::read(data.join("recv_033_v1_traces.json")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        post(&addr, "/v1/traces", "application/x-protobuf", &pb),
        200
    );
    assert_eq!(
        post(&addr, "/v1/traces", "application/x-protobuf", &pb),
        200,
        "a retry"
    );
    assert_eq!(post(&addr, "/v1/traces", "application/json", &json), 200);
    assert_eq!(post(&addr, "/v1/traces", "application/json", b"{oops"), 400);
    let pid = child.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success());
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["requests_accepted"], 3);
    assert_eq!(summary["requests_refused"], 1);
    assert_eq!(
        summary["quarantined"], 1,
        "the unreadable body is quarantined"
    );
    let stored = summary["stored"].as_u64().unwrap_or(0);
    assert!(stored > 0);
    // The same body from a file gives as many events as the retry found already stored.
    let other = TestEnv::new();
    let from_file = other
        .run(&[
            "ingest",
            &data.join("recv_001_v1_traces.pb").display().to_string(),
            "--json",
        ])
        .json();
    assert_eq!(
        summary["already_stored"], from_file["stored"],
        "the retried export adds nothing: {summary}"
    );
    let kept = std::fs::read_dir(env.path().join(".muster/received"))
        .map(Iterator::count)
        .unwrap_or(0);
    assert_eq!(kept, 3, "one raw file per distinct export");
    let verify = env.run(&["store", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    let timeline = env.run(&["reconstruct", "--conversation", "conv-7f3a9c", "--json"]);
    assert_eq!(timeline.code, 0, "{}", timeline.stderr);
}

/// `muster ingest --listen` on a free port: the child and its address.
fn listen(env: &TestEnv) -> (std::process::Child, String) {
    listen_as(env, "otlp")
}

/// The same, into source `source`.
fn listen_as(env: &TestEnv, source: &str) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = env
        .command(&[
            "ingest",
            "--listen",
            "127.0.0.1:0",
            "--source",
            source,
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(at) = line.find("http://") {
                    let rest = &line[at + 7..];
                    break rest[..rest.find(' ').unwrap_or(rest.len())].to_owned();
                }
            }
            _ => panic!("the receiver did not start"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

#[test]
fn the_reference_agents_traces_reach_the_store_through_the_receiver() {
    let env = TestEnv::new();
    let (receiver, addr) = listen(&env);
    let agent = crate::test_drill::serve(&env, &["--otlp-endpoint", &format!("http://{addr}")]);
    let scenario = crate::common::repo().join("library/scenarios/return-note-injection.yaml");
    let manifest = crate::common::repo().join("library/reference/agent.yaml");
    let drill = env.run(&[
        "--store",
        "drill.db",
        "drill",
        "--agent",
        &manifest.display().to_string(),
        "--scenarios",
        &scenario.display().to_string(),
        "--base-url",
        &agent.url,
        "--repeat",
        "1",
        "--no-lock",
        "--json",
    ]);
    assert_eq!(drill.code, 1, "the flawed agent refunds past its limit");
    // The agent batches spans for BATCH_DELAY (100 ms) before exporting.
    std::thread::sleep(std::time::Duration::from_millis(600));
    let pid = receiver.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    let out = receiver
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{e}"));
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["quarantined"], 0, "{summary}");
    let found = env
        .run(&["search", "refunded", "--kind", "tool.call", "--json"])
        .json();
    let calls = found["matches"].as_array().cloned().unwrap_or_default();
    assert!(!calls.is_empty(), "{found}");
    let call = &calls[0]["event"];
    assert_eq!(call["kind"]["name"], "process_return", "{call}");
    assert_eq!(call["kind"]["arguments"]["amount"], 749.0);
    assert!(
        call["correlation"]["conversation_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("c-")),
        "{call}"
    );
    assert_eq!(call["correlation"]["customer_ref"], "LM-100004");

    // The incident reconstructed from the traces alone: the refund moved money, and no system of
    // record shows it — the CRM's history was never ingested.
    let conversation = call["correlation"]["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let html = env.path().join("incident.html");
    let run = env.run(&[
        "reconstruct",
        "--conversation",
        &conversation,
        "--agent",
        &manifest.display().to_string(),
        "--html",
        &html.display().to_string(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json();
    let gaps = out["gaps"].as_array().cloned().unwrap_or_default();
    assert!(
        gaps.iter()
            .any(|g| g["kind"] == "tool-call-without-account-change"
                && g["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("process_return"))),
        "{gaps:?}"
    );
    assert!(
        out["events"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e["link"]["via"] == "key")),
        "every span carries the conversation id: {}",
        out["events"]
    );
    let page = std::fs::read_to_string(&html).unwrap_or_default();
    assert!(page.starts_with("<!doctype html>") && page.contains("<svg"));
    assert!(page.contains("process_return"));
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "self-contained"
    );
}

#[test]
fn the_evidence_chain_audit_measures_what_the_agents_traces_hold() {
    let env = TestEnv::new();
    let (receiver, addr) = listen_as(&env, "agent-traces");
    let agent = crate::test_drill::serve(&env, &["--otlp-endpoint", &format!("http://{addr}")]);
    let reference =
        std::fs::read_to_string(crate::common::repo().join("library/reference/agent.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
    let logs = "logs:\n  - id: agent-traces\n    system: otlp\n    holds: [prompt, model-response, tool-calls]\n    retention: 1d\n    access: [dpo]\n  - id: crm-audit\n";
    let manifest_text = reference.replacen("logs:\n  - id: crm-audit\n", logs, 1);
    assert_ne!(
        manifest_text, reference,
        "the reference manifest's logs changed shape"
    );
    let manifest = env.write("agent.yaml", &manifest_text);
    let manifest = manifest.display().to_string();
    let scenario = crate::common::repo().join("library/scenarios/cross-account-billing-note.yaml");
    let drill = env.run(&[
        "--store",
        "drill.db",
        "drill",
        "--agent",
        &manifest,
        "--scenarios",
        &scenario.display().to_string(),
        "--base-url",
        &agent.url,
        "--repeat",
        "1",
        "--no-lock",
    ]);
    assert_eq!(
        drill.code, 1,
        "the flawed agent reveals the planted note: {}",
        drill.stderr
    );
    std::thread::sleep(std::time::Duration::from_millis(600));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &receiver.id().to_string()])
        .status();
    let _ = receiver.wait_with_output();

    let audit = |env: &TestEnv| {
        let run = env.run(&["audit-evidence", "--agent", &manifest, "--json"]);
        assert_eq!(
            run.code, 1,
            "the CRM's records are claimed and not ingested: {}",
            run.stdout
        );
        run.json()
    };
    let out = audit(&env);
    let row = |out: &serde_json::Value, name: &str| {
        out["artefacts"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["artefact"] == name).cloned())
            .unwrap_or_else(|| panic!("{name}: {out}"))
    };
    let tools = row(&out, "tool calls");
    assert_eq!(tools["present"]["status"], "measured", "{tools}");
    assert_eq!(tools["time_stamped"]["status"], "measured");
    assert!(
        row(&out, "model response")["searchable"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("MUSTER-CANARY-")),
        "the drill's canary reached the traces and is found: {}",
        row(&out, "model response")
    );
    assert_eq!(
        tools["retained"]["status"], "claimed",
        "minutes of evidence cannot show a day"
    );
    assert_eq!(tools["access_controlled"]["status"], "claimed");
    assert_eq!(row(&out, "account changes")["present"]["status"], "gap");
    assert_eq!(row(&out, "retrieved documents")["present"]["status"], "gap");

    // A raw read, audited, turns the access claim into a measurement.
    let raw = env.run(&[
        "search",
        "refund",
        "--raw",
        "--reason",
        "audit test",
        "--as",
        "dpo",
    ]);
    assert!(raw.code <= 1, "{}", raw.stderr);
    let out = audit(&env);
    assert_eq!(
        row(&out, "tool calls")["access_controlled"]["status"],
        "measured"
    );
}
