//! A scripted stand-in for a helpdesk API on 127.0.0.1: it checks the vendor's documented
//! credentials (answering the vendor's documented 401 body when they are missing or wrong),
//! records every request, and answers from a script whose last entry repeats.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Clone, Debug)]
pub enum Reply {
    /// Status and body, served as JSON.
    Json(u16, String),
    /// Answers only after the wait.
    Slow(Duration, String),
    /// 429 with `Retry-After: 7`.
    TooMany,
    /// 200 with the body and a `Link` header.
    Linked(String, String),
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct Inner {
    /// The header and exact value the vendor requires; `None`: no credentials expected.
    auth: Option<(String, String)>,
    unauthorized: String,
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

#[derive(Clone)]
pub struct Fake(Arc<Inner>);

pub fn data(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

impl Fake {
    /// Starts the server; returns it and its base URL (`http://127.0.0.1:<port>/`).
    pub async fn start(
        auth: Option<(&str, String)>,
        unauthorized: &str,
        script: Vec<Reply>,
    ) -> (Fake, url::Url) {
        let fake = Fake(Arc::new(Inner {
            auth: auth.map(|(h, v)| (h.to_owned(), v)),
            unauthorized: unauthorized.to_owned(),
            script: Mutex::new(script.into()),
            seen: Mutex::new(Vec::new()),
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let base = url::Url::parse(&format!("http://{addr}/")).unwrap_or_else(|e| panic!("{e}"));
        (fake, base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.0.seen.lock().unwrap_or_else(|e| panic!("{e}")).clone()
    }

    pub fn set_script(&self, script: Vec<Reply>) {
        *self.0.script.lock().unwrap_or_else(|e| panic!("{e}")) = script.into();
    }
}

async fn answer(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.0
        .seen
        .lock()
        .unwrap_or_else(|e| panic!("{e}"))
        .push(Seen {
            method,
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: headers.clone(),
            body,
        });
    if let Some((header, expected)) = &fake.0.auth {
        let given = headers.get(header.as_str()).and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return json(401, fake.0.unauthorized.clone());
        }
    }
    let reply = {
        let mut script = fake.0.script.lock().unwrap_or_else(|e| panic!("{e}"));
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    };
    match reply {
        Some(Reply::Json(status, body)) => json(status, body),
        Some(Reply::Slow(wait, body)) => {
            tokio::time::sleep(wait).await;
            json(200, body)
        }
        Some(Reply::TooMany) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7"), ("content-type", "application/json")],
            r#"{"error": "too many requests"}"#,
        )
            .into_response(),
        Some(Reply::Linked(body, link)) => (
            StatusCode::OK,
            [
                ("content-type", "application/json".to_owned()),
                ("link", link),
            ],
            body,
        )
            .into_response(),
        None => json(500, "no scripted reply".to_owned()),
    }
}

fn json(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}
