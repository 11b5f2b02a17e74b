//! Distributed drills end to end: `muster drill --distributed` queues a drill's conversations in
//! PostgreSQL, three `muster worker` processes run them against the reference agent (with a fixed
//! reply latency), and one worker is killed (SIGKILL) while it holds a conversation. Every
//! conversation must be accounted for exactly once, the lost one retried elsewhere and marked as
//! such, and the evidence must verify. Needs `MUSTER_TEST_POSTGRES_URL`; skipped without it,
//! except under CI=true.

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

use crate::common::{TestEnv, repo};
use crate::test_drill::serve;
use crate::test_postgres::{Database, admin_url};

/// Children killed and reaped when the test ends, however it ends.
#[derive(Default)]
struct Processes(Vec<(String, Child)>);

impl Processes {
    fn add(&mut self, name: &str, child: Child) {
        self.0.push((name.to_owned(), child));
    }

    fn get(&mut self, name: &str) -> &mut Child {
        self.0
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    /// Wait for `name` to exit, at most `limit`; its exit code.
    fn wait(&mut self, name: &str, limit: Duration) -> i32 {
        let started = Instant::now();
        let child = self.get(name);
        loop {
            if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
                return status.code().unwrap_or(-1);
            }
            assert!(
                started.elapsed() < limit,
                "{name} did not finish in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait until the drill has queued its conversations (a worker with `--exit-when-idle` started
/// before that would find nothing to do and exit).
fn wait_until_queued(db: &Database) {
    let started = Instant::now();
    loop {
        let queued = db.runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&db.url)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let queued: Option<bool> = sqlx::query_scalar(
                "SELECT to_regclass('drill_queue') IS NOT NULL AND EXISTS (SELECT 1 FROM drill_queue)",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let _ = conn.close().await;
            queued.unwrap_or(false)
        });
        if queued {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the drill queued nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const REPEAT: u32 = 4;

#[test]
fn three_workers_one_killed_mid_drill_every_conversation_is_counted_once() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::new(&admin);
    let env = TestEnv::new();
    let migrated = env.run(&["db", "migrate", "--store", &db.url]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    let agent = serve(&env, &["--hardened", "--latency-ms", "150"]);
    let manifest = repo().join("library/reference/agent.yaml");
    let scenarios = repo().join("library/scenarios");
    let planned: BTreeSet<(usize, u32)> = (0..crate::common::library_runs().0 as usize)
        .flat_map(|i| (1..=REPEAT).map(move |r| (i, r)))
        .collect();

    let mut processes = Processes::default();
    let repeat = REPEAT.to_string();
    let drill = env
        .command(&[
            "drill",
            "--distributed",
            "--store",
            &db.url,
            "--agent",
            &manifest.display().to_string(),
            "--scenarios",
            &scenarios.display().to_string(),
            "--base-url",
            &agent.url,
            "--repeat",
            &repeat,
            "--no-lock",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    processes.add("drill", drill);
    // Read as it is written: a report larger than the pipe would block the drill otherwise.
    let read_all = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read_all(
        processes
            .get("drill")
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = read_all(
        processes
            .get("drill")
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );

    let query = |sql: &str| -> Vec<sqlx::postgres::PgRow> {
        db.runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&db.url)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = conn.close().await;
            rows
        })
    };
    wait_until_queued(&db);

    for name in ["w1", "w2", "w3"] {
        let worker = env
            .command(&[
                "worker",
                "--store",
                &db.url,
                "--id",
                name,
                "--concurrency",
                "2",
                "--lease-seconds",
                "3",
                "--exit-when-idle",
                "--json",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        processes.add(name, worker);
    }

    // Kill w2 while it holds a conversation.
    let held_by_w2 = || {
        query("SELECT id FROM drill_queue WHERE state = 'running' AND worker = 'w2'")
            .iter()
            .map(|r| r.get::<i64, _>(0))
            .collect::<Vec<_>>()
    };
    let started = Instant::now();
    while held_by_w2().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "w2 never took a conversation"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    processes.get("w2").kill().unwrap_or_else(|e| panic!("{e}"));
    let _ = processes.get("w2").wait();
    // What it held when it died: these must be finished by another worker, as a retry.
    let lost = held_by_w2();
    assert!(
        !lost.is_empty(),
        "w2 finished its conversation before it was killed"
    );

    let code = processes.wait("drill", Duration::from_secs(300));
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    assert!([0, 1, 3].contains(&code), "exit {code}\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}\n{stderr}"));
    assert_eq!(report["status"], "sealed", "{stderr}");
    for name in ["w1", "w3"] {
        assert_eq!(processes.wait(name, Duration::from_secs(60)), 0, "{name}");
    }

    // The queue: one done row per planned conversation, none left.
    let rows =
        query("SELECT scenario_index, run, state, attempt, workers FROM drill_queue ORDER BY id");
    assert_eq!(rows.len(), planned.len());
    let mut seen = BTreeSet::new();
    for row in &rows {
        let key = (
            usize::try_from(row.get::<i32, _>(0)).unwrap_or(usize::MAX),
            u32::try_from(row.get::<i32, _>(1)).unwrap_or(0),
        );
        assert_eq!(row.get::<String, _>(2), "done", "{key:?}");
        assert!(seen.insert(key), "{key:?} twice");
    }
    assert_eq!(seen, planned);

    // The lost conversations were retried by a live worker, and say so in their evidence.
    let retried = query(&format!(
        "SELECT attempt, workers, result::jsonb -> 'result' ->> 'stream' FROM drill_queue WHERE id IN ({})",
        lost.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    ));
    for row in &retried {
        let attempt: i32 = row.get(0);
        let workers: Vec<String> = row.get(1);
        let stream: String = row.get(2);
        assert!(attempt >= 2, "{workers:?}");
        assert!(workers.contains(&"w2".to_owned()), "{workers:?}");
        assert_ne!(
            workers.last().map(String::as_str),
            Some("w2"),
            "{workers:?}"
        );
        assert!(stream.ends_with(&format!("/attempt-{attempt}")), "{stream}");
        let marked = query(&format!(
            "SELECT fields FROM events WHERE kind = 'conversation.retried' AND stream = '{stream}'"
        ));
        assert_eq!(marked.len(), 1, "{stream} does not say it was retried");
        let fields: serde_json::Value =
            serde_json::from_str(&marked[0].get::<String, _>(0)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fields["attempt"], attempt);
        assert!(
            fields["previous_workers"]
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w == "w2")),
            "{fields}"
        );
    }

    // The report: exactly one result per planned conversation.
    let runs = report["scenarios"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs"));
    assert_eq!(runs.len(), planned.len());
    let ids: BTreeSet<(String, u64)> = runs
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_owned(),
                r["run"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(ids.len(), planned.len(), "a conversation was counted twice");
    let counts = &report["counts"];
    let total = ["pass", "fail", "inconclusive"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert_eq!(total, planned.len() as u64);

    // The sealed summary records who ran it and what was retried.
    let summary = query("SELECT summary FROM drills");
    let summary: serde_json::Value =
        serde_json::from_str(&summary[0].get::<String, _>(0)).unwrap_or_else(|e| panic!("{e}"));
    let distribution = &summary["distribution"];
    assert!(
        distribution["retried"]
            .as_array()
            .is_some_and(|r| r.len() >= lost.len()),
        "{distribution}"
    );
    assert!(
        distribution["workers"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w == "w2")),
        "{distribution}"
    );

    let verified = env.run(&["store", "verify", "--store", &db.url]);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    drop(processes);
}

#[test]
fn distributed_drills_and_workers_need_a_postgres_store() {
    let env = TestEnv::new();
    let manifest = repo().join("library/reference/agent.yaml");
    let scenarios = repo().join("library/scenarios");
    let refused = [
        env.run(&["worker", "--store", "evidence.db", "--exit-when-idle"]),
        env.run(&[
            "drill",
            "--distributed",
            "--store",
            "evidence.db",
            "--agent",
            &manifest.display().to_string(),
            "--scenarios",
            &scenarios.display().to_string(),
        ]),
    ];
    for run in refused {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("needs a PostgreSQL store"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("postgres://"), "{}", run.stderr);
    }
    // Nothing was created or sent.
    assert!(!env.path().join("evidence.db").exists());
}

#[test]
fn workers_together_keep_the_targets_rate_limit() {
    let Some(admin) = admin_url() else {
        return;
    };
    let db = Database::new(&admin);
    let env = TestEnv::new();
    assert_eq!(env.run(&["db", "migrate", "--store", &db.url]).code, 0);
    let agent = serve(&env, &["--hardened"]);
    // The reference manifest, limited to 10 requests a second; scenarios that plant no test data
    // (their runs may overlap, so both workers send at once).
    let text = std::fs::read_to_string(repo().join("library/reference/agent.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let limited = text.replacen("  timeout: 10s\n", "  timeout: 10s\n  rate_limit: 10\n", 1);
    assert_ne!(limited, text);
    let manifest = env.write("agent.yaml", &limited);
    for entry in std::fs::read_dir(repo().join("library/scenarios"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_else(|e| panic!("{e}"));
        if !text.lines().any(|l| l.starts_with("setup:")) {
            env.write(
                &format!("scenarios/{}", entry.file_name().to_string_lossy()),
                &text,
            );
        }
    }
    let mut processes = Processes::default();
    let drill = env
        .command(&[
            "drill",
            "--distributed",
            "--store",
            &db.url,
            "--agent",
            &manifest.display().to_string(),
            "--scenarios",
            "scenarios",
            "--base-url",
            &agent.url,
            "--repeat",
            "3",
            "--no-lock",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    processes.add("drill", drill);
    wait_until_queued(&db);
    for name in ["w1", "w2"] {
        let worker = env
            .command(&[
                "worker",
                "--store",
                &db.url,
                "--id",
                name,
                "--concurrency",
                "4",
                "--exit-when-idle",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        processes.add(name, worker);
    }
    let code = processes.wait("drill", Duration::from_secs(300));
    assert!([0, 1, 3].contains(&code), "exit {code}");

    // Every request to the agent, from either worker: spaced by the limit overall.
    let (times, workers) = db.runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&db.url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let times: Vec<i64> = sqlx::query_scalar(
            "SELECT time_ns FROM events WHERE kind = 'agent.exchange' ORDER BY time_ns",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let workers: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT worker FROM drill_queue ORDER BY worker")
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        (times, workers)
    });
    assert_eq!(workers, ["w1", "w2"], "both workers must have sent");
    assert!(times.len() > 20, "{}", times.len());
    let span = Duration::from_nanos(u64::try_from(times[times.len() - 1] - times[0]).unwrap_or(0));
    // Alone, each worker would keep to 10 a second; together they must too (less a little for the
    // wake-up of the first and last request).
    let least = Duration::from_millis(100) * u32::try_from(times.len() - 1).unwrap_or(0);
    assert!(
        span + Duration::from_millis(60) >= least,
        "{} requests in {span:?}: faster than 10 a second",
        times.len()
    );
}
