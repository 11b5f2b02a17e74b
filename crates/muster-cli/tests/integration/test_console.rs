//! `muster console`, `muster serve` refusals and `muster drill --exercise` streaming into a
//! console exercise's log.

use muster_console::exercise::{default_capabilities, default_injects, default_phases};
use muster_console::{ExerciseDefinition, ScenarioBrief};
use muster_store::{ConsoleStore, ExerciseRecord, SqliteStore};

use crate::common::{TestEnv, repo};

const PASSWORD: &str = "a long test passphrase";

fn add_user(env: &TestEnv, store: &str, args: &[&str], password: &str) -> crate::common::Run {
    let mut all = vec!["--store", store, "console", "add-user"];
    all.extend_from_slice(args);
    let out = env
        .command(&all)
        .env("MUSTER_CONSOLE_PASSWORD", password)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    crate::common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn accounts_are_checked_and_listed() {
    let env = TestEnv::new();
    let store = env.path().join("e.db").display().to_string();
    let ok = add_user(
        &env,
        &store,
        &[
            "fay",
            "--name",
            "Fay F",
            "--role",
            "facilitator",
            "--admin",
            "--json",
        ],
        PASSWORD,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.json()["is_admin"], true);
    let unknown = add_user(
        &env,
        &store,
        &["ann", "--name", "Ann", "--role", "admin"],
        PASSWORD,
    );
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown role `admin`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("facilitator, incident-lead"),
        "{}",
        unknown.stderr
    );
    let short = add_user(
        &env,
        &store,
        &["sam", "--name", "Sam", "--role", "dpo"],
        "short",
    );
    assert_eq!(short.code, 2);
    assert!(short.stderr.contains("12 characters"), "{}", short.stderr);
    let taken = add_user(
        &env,
        &store,
        &["fay", "--name", "Other", "--role", "dpo"],
        PASSWORD,
    );
    assert_eq!(taken.code, 2);
    assert!(taken.stderr.contains("already exists"), "{}", taken.stderr);
    let list = env.run(&["--store", &store, "console", "users", "--json"]);
    assert_eq!(list.code, 0);
    let users = list.json();
    assert_eq!(
        users.as_array().map(Vec::len),
        Some(1),
        "nothing half-added: {users}"
    );
    assert!(!list.stdout.contains("argon2"), "no hash is ever printed");
}

#[test]
fn serve_refuses_a_public_address_without_being_told() {
    let env = TestEnv::new();
    let run = env.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a loopback address"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--public"), "{}", run.stderr);
}

fn exercise_in(store_path: &std::path::Path) -> String {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let store = SqliteStore::open(store_path)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let definition = ExerciseDefinition {
            scenario: ScenarioBrief {
                id: "cross-account-billing-note".into(),
                title: "Billing note".into(),
                ticket: "INC-1".into(),
                severity: "high".into(),
                mode: "data".into(),
                journeys: vec![],
            },
            objectives: vec!["Contain".into()],
            phases: default_phases(),
            injects: default_injects(),
            clock_speed: 1.0,
            regulatory: Default::default(),
            comms_target_minutes: 60,
            capabilities: default_capabilities(),
            drill_id: None,
        };
        store
            .create_exercise(&ExerciseRecord {
                id: "ex-live".into(),
                title: "Live drill".into(),
                created_at_ns: 1,
                created_by: "fay".into(),
                definition: serde_json::to_value(&definition).unwrap_or_default(),
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store.close().await;
    });
    "ex-live".into()
}

#[test]
fn a_drill_streams_its_verdicts_into_an_exercise() {
    let env = TestEnv::new();
    let store_path = env.path().join("e.db");
    let store = store_path.display().to_string();
    let exercise = exercise_in(&store_path);
    let agent = crate::test_drill::serve(&env, &[]);
    let manifest = repo()
        .join("library/reference/agent.yaml")
        .display()
        .to_string();
    let scenario = repo()
        .join("library/scenarios/cross-account-billing-note.yaml")
        .display()
        .to_string();
    let base = [
        "--store",
        &store,
        "drill",
        "--agent",
        &manifest,
        "--scenarios",
        &scenario,
        "--base-url",
        &agent.url,
        "--repeat",
        "2",
        "--no-lock",
    ];

    let mut missing = base.to_vec();
    missing.extend(["--exercise", "ex-nope"]);
    let refused = env.run(&missing);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("no console exercise `ex-nope`"),
        "{}",
        refused.stderr
    );

    let mut args = base.to_vec();
    args.extend(["--exercise", &exercise, "--json"]);
    let run = env.run(&args);
    assert_eq!(run.code, 1, "the flawed agent fails: {}", run.stderr);
    let report = run.json();

    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let (kinds, log) = runtime.block_on(async {
        let store = SqliteStore::open(&store_path)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let log = store
            .exercise_log(&exercise)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let verify = store
            .verify_exercise_log(&exercise)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(verify.problems.is_empty(), "{:?}", verify.problems);
        let kinds: Vec<String> = log.iter().map(|e| e.event.kind.clone()).collect();
        let entries: Vec<serde_json::Value> = log
            .iter()
            .filter_map(|e| e.event.value("entry").cloned())
            .collect();
        (kinds, entries)
    });
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("drill_started"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "drill_verdict").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("drill_finished"),
        "{kinds:?}"
    );
    assert_eq!(log[0]["drill_id"], report["drill_id"]);
    assert_eq!(log[1]["scenario"], "cross-account-billing-note");
    assert_eq!(log[1]["verdict"], "fail");
    let finished = log.last().cloned().unwrap_or_default();
    assert_eq!(finished["root_digest"], report["root_digest"]);
    assert!(
        finished["summary"]
            .as_str()
            .unwrap_or_default()
            .starts_with("fail"),
        "{finished}"
    );
}

/// `muster serve` with extra flags; killed on drop.
struct Console {
    child: std::process::Child,
    url: String,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_console(env: &TestEnv, args: &[&str]) -> Console {
    use std::io::BufRead;
    let mut child = env
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("muster console on http://") => {
                let at = line.find("http://").unwrap_or_default();
                break line[at..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned();
            }
            Some(Ok(_)) => {}
            _ => panic!("muster serve did not start"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Console { child, url }
}

/// Signs in through the API; returns a client that sends the cookie and CSRF token.
async fn sign_in(base: &str, username: &str) -> (reqwest::Client, String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        response.status().is_success(),
        "sign in: {}",
        response.status()
    );
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (
        http,
        cookie,
        body["csrf_token"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_drill_started_from_the_console_reports_into_the_exercise() {
    let env = TestEnv::new();
    let store = env.path().join("e.db").display().to_string();
    let ok = add_user(
        &env,
        &store,
        &["fay", "--name", "Fay", "--role", "facilitator", "--admin"],
        PASSWORD,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let agent = crate::test_drill::serve(&env, &[]);
    let manifest = repo()
        .join("library/reference/agent.yaml")
        .display()
        .to_string();
    let scenario = repo()
        .join("library/scenarios/cross-account-billing-note.yaml")
        .display()
        .to_string();
    let console = serve_console(
        &env,
        &[
            "--store",
            &store,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--agent",
            &manifest,
            "--scenarios",
            &scenario,
            "--base-url",
            &agent.url,
        ],
    );
    // The same console with a target the manifest does not declare: the interlock refuses the
    // drill, and the refusal is recorded in the exercise rather than lost.
    let refused_console = serve_console(
        &env,
        &[
            "--store",
            &store,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--agent",
            &manifest,
            "--scenarios",
            &scenario,
            "--base-url",
            "http://192.0.2.1:9",
        ],
    );

    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        for (base, expect_refusal) in [(&console.url, false), (&refused_console.url, true)] {
            let (http, cookie, csrf) = sign_in(base, "fay").await;
            let post = |path: String, body: serde_json::Value| {
                http.post(format!("{base}{path}"))
                    .header("cookie", &cookie)
                    .header("x-csrf-token", &csrf)
                    .json(&body)
                    .send()
            };
            let created: serde_json::Value = post(
                "/api/exercises".into(),
                serde_json::json!({"scenario": "cross-account-billing-note"}),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_default();
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            let started = post(format!("/api/exercises/{id}/drills"), serde_json::json!({}))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(started.status().is_success(), "{}", started.status());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            let state = loop {
                let state: serde_json::Value = http
                    .get(format!("{base}/api/exercises/{id}"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
                    .json()
                    .await
                    .unwrap_or_default();
                let done = state["drills"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d["finished"] == true));
                if done || std::time::Instant::now() > deadline {
                    break state;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            };
            let log: serde_json::Value = http
                .get(format!("{base}/api/exercises/{id}/log"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .json()
                .await
                .unwrap_or_default();
            let entries = log["entries"].as_array().cloned().unwrap_or_default();
            let finished = entries
                .iter()
                .rfind(|e| e["entry"]["type"] == "drill_finished")
                .unwrap_or_else(|| panic!("no drill_finished: {state}"));
            let summary = finished["entry"]["summary"].as_str().unwrap_or_default();
            if expect_refusal {
                assert!(summary.contains("exit status: 4"), "{summary}");
                assert!(
                    !entries
                        .iter()
                        .any(|e| e["entry"]["type"] == "drill_verdict")
                );
            } else {
                assert!(summary.starts_with("fail"), "{summary}");
                let tally = &state["drills"][0];
                assert!(tally["fail"].as_u64() >= Some(1), "{tally}");
                assert!(
                    finished["entry"]["root_digest"]
                        .as_str()
                        .is_some_and(|d| d.len() == 64)
                );
            }
        }
    });
}

/// A tabletop exercise with no drill behind it: its log is the record. The pack says nothing about
/// the agent was tested, carries the exercise's decisions, ratings and actions, and `muster
/// verify` checks the exercise's log chain; an edited log entry is caught.
#[test]
fn a_tabletop_exercise_is_packed_on_its_own_and_verifies() {
    use muster_console::exercise::{ActionStatus, ClockAction, OpenQuestion, Rating};
    use muster_console::roles::Role;
    use muster_console::{Actor, Entry};

    let env = TestEnv::new();
    let store_path = env.path().join("tabletop.db");
    let exercise = exercise_in(&store_path);
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let store = SqliteStore::open(&store_path)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let ivy = Actor {
            username: "ivy".into(),
            display_name: "Ivy Ingram".into(),
            roles: vec![Role::IncidentLead],
        };
        let t0 = 1_795_000_000_000_000_000_i64;
        let entries = [
            Entry::Clock {
                action: ClockAction::Start,
            },
            Entry::DecisionLogged {
                decision_id: "d1".into(),
                phase: Some("first-15-minutes".into()),
                title: "Pull the kill switch".into(),
                decision: "Stop the agent answering billing questions".into(),
                owner: Role::IncidentLead,
                rationale: "Another customer's note was shown".into(),
                facts: vec!["One customer saw another's billing note".into()],
                open_questions: vec![OpenQuestion {
                    id: "q1".into(),
                    text: "How many other customers saw notes?".into(),
                }],
                assumptions: vec!["The leak is limited to billing notes".into()],
            },
            Entry::SeveritySet {
                level: "SEV1".into(),
                model_version: 1,
                rationale: "Personal data disclosed".into(),
            },
            Entry::CapabilityRated {
                capability: "Communications".into(),
                rating: Rating::PerformedWithMajorChallenges,
                notes: "The notice took too long to approve".into(),
            },
            Entry::ActionRecorded {
                action_id: "a1".into(),
                title: "Pre-approve the correction notice template".into(),
                owner: "Comms lead".into(),
                due: "2026-12-18".into(),
                status: ActionStatus::Open,
            },
        ];
        for (i, entry) in entries.iter().enumerate() {
            muster_console::append_entry(
                &store,
                &exercise,
                t0 + i as i64 * 60_000_000_000,
                i as i64 * 60_000,
                Some(&ivy),
                entry,
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        }
        store.close().await;
    });

    let store = store_path.display().to_string();
    let run = env.run(&[
        "--store", &store, "pack", &exercise, "-o", "tabletop", "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let written = run.json();
    assert_eq!(written["drill"], serde_json::Value::Null);
    assert_eq!(written["exercise"], exercise.as_str());
    assert_eq!(
        written["verdict"], "inconclusive",
        "a tabletop proves nothing about the agent"
    );
    let signer = written["signer"].as_str().unwrap_or_default().to_owned();

    let dir = env.path().join("tabletop");
    let pack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("pack.json")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(pack["subject"]["status"], "tabletop");
    assert!(
        pack["summary"]["headline"]
            .as_str()
            .is_some_and(|h| h.contains("tabletop exercise only")),
        "{}",
        pack["summary"]
    );
    let decision = &pack["decisions"][0];
    assert_eq!(decision["title"], "Pull the kill switch");
    assert_eq!(decision["by"], "ivy");
    assert!(
        decision["not_known"]
            .to_string()
            .contains("How many other customers saw notes?")
    );
    assert_eq!(pack["severity"]["assessed"], "SEV1");
    let readiness = pack["summary"]["readiness"].to_string();
    assert!(
        readiness.contains("Team: Communications") && readiness.contains("not-ready"),
        "{readiness}"
    );
    assert!(
        pack["remediation"]
            .to_string()
            .contains("Pre-approve the correction notice template")
    );
    assert_eq!(pack["scenarios"][0]["verdict"], "inconclusive");

    let verify = env.run(&["verify", "tabletop", "--key", &signer]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    assert!(
        verify.stdout.contains("ok   exercise log: 5 entries"),
        "{}",
        verify.stdout
    );
    assert!(
        verify.stdout.contains("tabletop exercise ex-live"),
        "{}",
        verify.stdout
    );

    // An edited log entry breaks its file's digest, and the chain names the entry.
    let log = dir.join("exercise-log.jsonl");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    std::fs::write(
        &log,
        text.replace("Pull the kill switch", "Keep the agent running"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let verify = env.run(&["verify", "tabletop", "--key", &signer]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    assert!(
        verify.stdout.contains("FAIL file exercise-log.jsonl"),
        "{}",
        verify.stdout
    );
    assert!(
        verify
            .stdout
            .contains("FAIL exercise log: exercise-log.jsonl: stream `exercise` event #1"),
        "{}",
        verify.stdout
    );
}
