use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_muster")
}

impl TestEnv {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("MUSTER_STORE")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run muster: {e}"));
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }
}

/// Replace what changes from run to run (ids, digests, ports, paths) so output can be snapshotted.
pub fn stable(text: &str) -> String {
    let patterns = [
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[id]",
        ),
        (r"\b[0-9a-f]{8}-[0-9a-f]{4}\b", "[id-prefix]"),
        (r"\b[0-9a-f]{16,64}\b", "[digest]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"/tmp/[^\s:]+", "[tmp]"),
        (r"MUSTER-CANARY-[0-9A-F]{12}", "MUSTER-CANARY-[random]"),
    ];
    patterns
        .iter()
        .fold(text.to_owned(), |acc, (p, r)| match regex::Regex::new(p) {
            Ok(re) => re.replace_all(&acc, *r).into_owned(),
            Err(_) => acc,
        })
}

/// After checking that every ingested source's chain verifies: the events the store holds, the
/// events its committed ingest batches account for, and the first source's event count. For the
/// crash tests, which kill an ingest and then count what survived.
pub fn ingest_counts(db: &Path, runtime: &tokio::runtime::Runtime) -> (i64, i64, i64) {
    runtime.block_on(async {
        use muster_store::EvidenceStore;
        let store = muster_store::SqliteStore::open(db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let sources = store.sources().await.unwrap_or_else(|e| panic!("{e}"));
        for v in store
            .verify_sources()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        {
            assert!(v.report.is_intact(), "{:?}", v.report.problems);
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence")
            .fetch_one(store.pool())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let committed: i64 =
            sqlx::query_scalar("SELECT COALESCE(SUM(events), 0) FROM ingest_batches")
                .fetch_one(store.pool())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        store.close().await;
        (
            rows,
            committed,
            sources.first().map_or(0, |s| s.events as i64),
        )
    })
}

/// The built-in library as a drill of it counts: (scenarios, runs under the default pass policy).
pub fn library_runs() -> (u64, u64) {
    let policy = muster_drill::PassPolicy::default();
    muster_library::scenarios()
        .iter()
        .filter_map(|f| muster_model::load_scenario(f.text).value)
        .fold((0, 0), |(scenarios, runs), s| {
            (
                scenarios + 1,
                runs + u64::from(policy.for_severity(s.severity).min_runs),
            )
        })
}
