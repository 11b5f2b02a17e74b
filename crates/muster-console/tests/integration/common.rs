//! A console on 127.0.0.1 with a fresh store, and a small client that keeps a session.

use std::sync::Arc;
use std::time::Duration;

use muster_console::roles::Role;
use muster_console::{AppState, ConsoleConfig, ScenarioBrief};
use muster_evidence::EventDraft;
use muster_store::{DrillHeader, DrillStatus, SqliteStore, Store};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};

pub const PASSWORD: &str = "a long test passphrase";
/// Synthetic personal data planted in the drill the exercises review.
pub const SECRET_EMAIL: &str = "jo.bloggs@example.com";

pub struct Console {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    pub drill_id: String,
    /// The SQLite store's own pool, for tests that tamper with the file.
    pub sqlite: Option<sqlx::SqlitePool>,
    _dir: Option<tempfile::TempDir>,
}

pub fn scenario() -> ScenarioBrief {
    ScenarioBrief {
        id: "bereavement-refund".into(),
        title: "Backdated bereavement refund promised".into(),
        ticket:
            "INC-1 · Web chat · A customer was told a bereavement refund applies retroactively."
                .into(),
        severity: "high".into(),
        mode: "advice".into(),
        journeys: vec!["refunds".into()],
    }
}

pub async fn planted_drill(store: &dyn Store) -> String {
    let id = "drill-console-test".to_owned();
    store
        .begin_drill(&DrillHeader {
            id: id.clone(),
            started_at_ns: 1,
            agent: "refagent".into(),
            environment: "pre-production".into(),
            manifest_digest: "0".repeat(64),
            muster_version: "test".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("begin drill: {e}"));
    store
        .append(
            &id,
            "conv/bereavement-refund/1",
            vec![
                EventDraft::new("customer.message", 2)
                    .field("turn", 1)
                    .field(
                        "text",
                        format!("My dad died. Email me at {SECRET_EMAIL} about the refund."),
                    ),
                EventDraft::new("agent.message", 3).field("turn", 1).field(
                    "text",
                    "I'm so sorry. I guarantee a full refund backdated to March.",
                ),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("append: {e}"));
    store
        .seal_drill(&id, DrillStatus::Sealed, 4, &json!({}))
        .await
        .unwrap_or_else(|e| panic!("seal: {e}"));
    id
}

pub async fn start() -> Console {
    start_with(|_| {}).await
}

/// A console whose configuration `adjust` changes first.
pub async fn start_with(adjust: impl FnOnce(&mut ConsoleConfig)) -> Console {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let sqlite = SqliteStore::open(&dir.path().join("evidence.db"))
        .await
        .unwrap_or_else(|e| panic!("open store: {e}"));
    let pool = sqlite.pool().clone();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let drill_id = planted_drill(&*store).await;
    let mut console = start_on(store, drill_id, adjust).await;
    console.sqlite = Some(pool);
    console._dir = Some(dir);
    console
}

/// A console on `store` (which may be shared with other consoles, as server processes share a
/// PostgreSQL store), reviewing `drill_id`.
pub async fn start_on(
    store: Arc<dyn Store>,
    drill_id: String,
    adjust: impl FnOnce(&mut ConsoleConfig),
) -> Console {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = ConsoleConfig::new(store.clone());
    config.scenarios = vec![scenario()];
    config.scheduler_tick = Duration::from_millis(50);
    config.tail_tick = Duration::from_millis(50);
    adjust(&mut config);
    let state = AppState::new(config);
    muster_console::live::start(&state);
    let (router, _) = muster_console::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Console {
        base: format!("http://{addr}"),
        store,
        state,
        drill_id,
        sqlite: None,
        _dir: None,
    }
}

impl Console {
    pub async fn add_user(&self, username: &str, role: Role) {
        let user = muster_console::api::new_user(
            username,
            &format!("{username} (test)"),
            role,
            PASSWORD,
            false,
        )
        .unwrap_or_else(|e| panic!("new user: {e}"));
        self.store
            .create_user(&user)
            .await
            .unwrap_or_else(|e| panic!("create user: {e}"));
    }

    /// Adds the account and signs it in.
    pub async fn user(&self, username: &str, role: Role) -> Client {
        self.add_user(username, role).await;
        self.sign_in(username).await
    }

    pub async fn sign_in(&self, username: &str) -> Client {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        let response = http
            .post(format!("{}/api/session", self.base))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("sign in: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "sign in as {username}");
        let cookie = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await.unwrap_or_default();
        Client {
            http,
            base: self.base.clone(),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

impl Client {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie);
        if method != reqwest::Method::GET {
            request = request
                .header("x-csrf-token", &self.csrf)
                .header(CONTENT_TYPE, "application/json")
                .body(body.unwrap_or(json!({})).to_string());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The status of a GET, without reading the body.
    pub async fn status_of(&self, path: &str) -> StatusCode {
        self.http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .map(|r| r.status())
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// POST expecting success; returns the body.
    pub async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert!(status.is_success(), "POST {path}: {status} {value}");
        value
    }

    /// Creates an exercise reviewing `drill_id` and returns its id.
    pub async fn exercise(&self, drill_id: &str, extra: Value) -> String {
        let mut body = json!({"scenario": "bereavement-refund", "drill_id": drill_id});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let created = self.ok("/api/exercises", body).await;
        created["id"].as_str().unwrap_or_default().to_owned()
    }
}
