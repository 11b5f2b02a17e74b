use crate::common::TestEnv;

async fn tamper(db: &std::path::Path, sql: &str) {
    let store = muster_store::SqliteStore::open(db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let statements = format!(
        "DROP TRIGGER IF EXISTS events_are_append_only_update; DROP TRIGGER IF EXISTS events_are_append_only_delete; {sql}"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(statements))
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store.close().await;
}

#[test]
fn store_verify_passes_untouched_evidence_and_names_an_altered_event() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["demo"]).code, 0);
    let run = env.run(&["store", "verify"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("ok "), "{}", run.stdout);

    let listed = env.run(&["store", "list", "--json"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["status"], "sealed");

    let db = env.path().join(".muster/evidence.db");
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(tamper(&db, "UPDATE events SET fields = json_set(fields, '$.text', 'No refunds are possible.') WHERE kind = 'agent.message' AND stream = 'conv/bereavement-backdated-refund/1' AND seq = (SELECT MIN(seq) FROM events WHERE kind = 'agent.message' AND stream = 'conv/bereavement-backdated-refund/1');"));
    let run = env.run(&["store", "verify", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let out = run.json();
    let problem = &out["drills"][0]["problems"][0];
    assert_eq!(problem["stream"], "conv/bereavement-backdated-refund/1");
    assert!(
        problem["problem"]
            .as_str()
            .is_some_and(|p| p.contains("field `text` was altered")),
        "{problem}"
    );
    assert!(
        problem["event_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36)
    );
}

#[test]
fn deleting_or_reordering_evidence_is_caught() {
    for sql in [
        "DELETE FROM events WHERE kind = 'tool.call' AND stream = 'conv/return-note-injection/1';",
        "UPDATE events SET seq = CASE seq WHEN 1 THEN 2 WHEN 2 THEN 1 END WHERE stream = 'conv/hardship-cancellation-promise/1' AND seq IN (1, 2);",
        "UPDATE events SET time_ns = time_ns + 1 WHERE stream = 'drill' AND kind = 'drill.started';",
    ] {
        let env = TestEnv::new();
        assert_eq!(env.run(&["demo"]).code, 0);
        let db = env.path().join(".muster/evidence.db");
        tokio::runtime::Runtime::new()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(tamper(&db, sql));
        let run = env.run(&["store", "verify"]);
        assert_eq!(run.code, 1, "{sql}\n{}", run.stdout);
        assert!(run.stdout.contains("TAMPERED"), "{}", run.stdout);
    }
}

#[test]
fn verifying_without_a_store_says_how_to_get_one() {
    let env = TestEnv::new();
    let run = env.run(&["store", "verify"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("run a drill first"), "{}", run.stderr);
}
