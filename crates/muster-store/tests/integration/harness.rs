//! One storage suite, two backends: each test is written once against [`TestStore`] and run by
//! [`on_both!`] on a fresh SQLite file and on a fresh PostgreSQL database.
//!
//! PostgreSQL comes from `MUSTER_TEST_POSTGRES_URL` (a database the tests may create databases
//! from; `scripts/test.sh` starts a throwaway cluster on 127.0.0.1 and sets it). Without it the
//! PostgreSQL half is skipped with a message, except under `CI=true`, where it fails.

use std::sync::Arc;

use muster_store::{PgStore, SqliteStore, Store};
use sqlx::Connection;

pub fn expect_ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// The backend's own connection pool, for tampering the way an attacker with the database would.
pub enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub raw: RawPool,
    /// Where it is, to open it again as another process would.
    pub location: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the admin URL and the database made for this test, dropped by `finish`.
    made: Option<(String, String)>,
}

impl TestStore {
    /// Run SQL as an attacker with the database would: SQLite's text on SQLite, PostgreSQL's on
    /// PostgreSQL (there inside a transaction with triggers off, as a superuser can).
    pub async fn tamper(&self, sqlite: &str, postgres: &str) {
        match &self.raw {
            RawPool::Sqlite(pool) => {
                expect_ok(
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_owned()))
                        .execute(pool)
                        .await,
                );
            }
            RawPool::Postgres(pool) => {
                let sql = format!(
                    "BEGIN; SET LOCAL session_replication_role = replica; {postgres}; COMMIT;"
                );
                expect_ok(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await);
            }
        }
    }

    /// Run SQL that is the same on both backends; its result, to check what is refused.
    pub async fn try_sql(&self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.raw {
            RawPool::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
            RawPool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        }
    }

    /// One integer from a query written for each backend.
    pub async fn scalar(&self, sqlite: &str, postgres: &str) -> i64 {
        match &self.raw {
            RawPool::Sqlite(pool) => expect_ok(
                sqlx::query_scalar(sqlx::AssertSqlSafe(sqlite.to_owned()))
                    .fetch_one(pool)
                    .await,
            ),
            RawPool::Postgres(pool) => expect_ok(
                sqlx::query_scalar(sqlx::AssertSqlSafe(postgres.to_owned()))
                    .fetch_one(pool)
                    .await,
            ),
        }
    }

    /// The same store opened again, as a second process would.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        expect_ok(
            muster_store::StoreLocation::parse(&self.location)
                .open()
                .await,
        )
    }

    /// Close the store and drop a PostgreSQL test database.
    pub async fn finish(self) {
        self.store.close().await;
        if let RawPool::Postgres(pool) = &self.raw {
            pool.close().await;
        }
        if let Some((admin, name)) = &self.made {
            drop_database(admin, name).await;
        }
    }
}

pub async fn sqlite() -> TestStore {
    let dir = expect_ok(tempfile::tempdir());
    let path = dir.path().join(".muster/evidence.db");
    let store = expect_ok(SqliteStore::open(&path).await);
    let raw = RawPool::Sqlite(store.pool().clone());
    TestStore {
        store: Arc::new(store),
        raw,
        location: path.display().to_string(),
        _dir: Some(dir),
        made: None,
    }
}

/// The admin URL, or `None` (skip) outside CI when PostgreSQL is not available.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("MUSTER_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "MUSTER_TEST_POSTGRES_URL is not set: under CI=true the PostgreSQL half of the storage \
             suite must run (scripts/test.sh starts PostgreSQL and sets it)"
        ),
        _ => {
            eprintln!(
                "skipped: the PostgreSQL backend (set MUSTER_TEST_POSTGRES_URL, or run scripts/test.sh)"
            );
            None
        }
    }
}

/// A new, empty database on the test cluster; its URL.
pub async fn create_database(admin: &str) -> (String, String) {
    let name = format!("muster_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = expect_ok(sqlx::PgConnection::connect(admin).await);
    expect_ok(
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await,
    );
    expect_ok(conn.close().await);
    let mut url = expect_ok(url::Url::parse(admin));
    url.set_path(&name);
    (url.to_string(), name)
}

pub async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
    }
}

pub async fn postgres() -> Option<TestStore> {
    let admin = postgres_admin_url()?;
    let (url, name) = create_database(&admin).await;
    expect_ok(PgStore::migrate(&url).await);
    let store = expect_ok(PgStore::connect(&url).await);
    let raw = RawPool::Postgres(store.pool().clone());
    Some(TestStore {
        store: Arc::new(store),
        raw,
        location: url,
        _dir: None,
        made: Some((admin, name)),
    })
}

/// Run `async fn $name(t: &TestStore)` on both backends, as `$name::sqlite` and `$name::postgres`.
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = crate::harness::sqlite().await;
                    super::$name(&t).await;
                    t.finish().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(t) = crate::harness::postgres().await {
                        super::$name(&t).await;
                        t.finish().await;
                    }
                }
            }
        )+
    };
}
pub(crate) use on_both;
