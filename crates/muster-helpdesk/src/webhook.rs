//! muster's own handover receiver (`kind: webhook`): a loopback HTTP listener the agent POSTs its
//! handover to. Each delivery is recorded as an exchange (what the agent sent, what muster
//! answered) and handed to the next poll.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use muster_model::agent::{QueueKind, WebhookReceiver};
use muster_target::{Exchange, Secrets};
use serde_json::{Value, json};
use url::Url;

use crate::flex::Scalar;
use crate::http::{now_ns, truncate};
use crate::{HandoverQuery, HandoverQueue, HandoverTicket, Lookup, QueueError};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:0";
pub const DEFAULT_PATH: &str = "/handover";

/// Largest handover body accepted; a transcript fits with room to spare.
const MAX_BODY: usize = 1024 * 1024;

/// Where each field sits in the posted JSON.
#[derive(Clone, Debug)]
struct Pointers {
    conversation_id: String,
    id: String,
    customer_ref: String,
    context: String,
    priority: String,
    tags: String,
    queue: String,
}

struct Delivery {
    exchange: Exchange,
    received_at: jiff::Timestamp,
    /// The body, when it was accepted.
    body: Option<Value>,
    /// Why it was refused.
    refused: Option<String>,
    reported: bool,
}

struct Inbox {
    deliveries: Vec<Delivery>,
}

#[derive(Clone)]
struct Shared {
    inbox: Arc<Mutex<Inbox>>,
    secret: Option<(String, String)>,
    secrets: Secrets,
    url: String,
}

/// The receiver. Dropping it stops the listener.
pub struct WebhookQueue {
    shared: Shared,
    pointers: Pointers,
    url: Url,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for WebhookQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookQueue")
            .field("url", &self.url.as_str())
            .field("pointers", &self.pointers)
            .finish_non_exhaustive()
    }
}

impl Drop for WebhookQueue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebhookQueue {
    /// Binds the loopback listener and starts serving. `secret` is the header the sender must
    /// present and its exact expected value.
    pub(crate) fn start(
        settings: &WebhookReceiver,
        secret: Option<(String, String)>,
        secrets: Secrets,
    ) -> Result<Self, QueueError> {
        let listen = settings.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let addr: SocketAddr = listen.parse().map_err(|_| {
            QueueError::Config(format!(
                "`webhook.listen: {listen}` is not an address such as `127.0.0.1:8085`"
            ))
        })?;
        // The receiver accepts handovers from the agent under test on this machine only.
        if !addr.ip().is_loopback() {
            return Err(QueueError::Config(format!(
                "`webhook.listen: {listen}` is not a loopback address; muster only listens on this machine"
            )));
        }
        let path = settings.path.as_deref().unwrap_or(DEFAULT_PATH);
        if !path.starts_with('/') {
            return Err(QueueError::Config(format!(
                "`webhook.path: {path}` must start with `/`"
            )));
        }
        let pointer = |given: &Option<String>, default: &str, name: &str| {
            let p = given.as_deref().unwrap_or(default);
            if p.is_empty() || p.starts_with('/') {
                Ok(p.to_owned())
            } else {
                Err(QueueError::Config(format!(
                    "`webhook.{name}: {p}` is not a JSON pointer"
                )))
            }
        };
        let pointers = Pointers {
            conversation_id: pointer(
                &settings.conversation_id,
                "/conversation_id",
                "conversation_id",
            )?,
            id: pointer(&settings.id, "/id", "id")?,
            customer_ref: pointer(&settings.customer_ref, "/customer_ref", "customer_ref")?,
            context: pointer(&settings.context, "/context", "context")?,
            priority: pointer(&settings.priority, "/priority", "priority")?,
            tags: pointer(&settings.tags, "/tags", "tags")?,
            queue: pointer(&settings.queue, "/queue", "queue")?,
        };
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| QueueError::Listen {
            addr: listen.to_owned(),
            reason: "the webhook receiver must be started inside a Tokio runtime".into(),
        })?;
        let listen_err = |e: std::io::Error| QueueError::Listen {
            addr: listen.to_owned(),
            reason: e.to_string(),
        };
        let std_listener = std::net::TcpListener::bind(addr).map_err(listen_err)?;
        std_listener.set_nonblocking(true).map_err(listen_err)?;
        let bound = std_listener.local_addr().map_err(listen_err)?;
        let url = Url::parse(&format!("http://{bound}{path}")).map_err(|e| QueueError::Listen {
            addr: listen.to_owned(),
            reason: e.to_string(),
        })?;
        let shared = Shared {
            inbox: Arc::new(Mutex::new(Inbox {
                deliveries: Vec::new(),
            })),
            secret,
            secrets,
            url: url.to_string(),
        };
        let app = axum::Router::new()
            .route(path, post(receive))
            .with_state(shared.clone());
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(std_listener).map_err(listen_err)?;
        let task = runtime.spawn(async move {
            // Serving ends only when the queue is dropped (the task is aborted).
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            shared,
            pointers,
            url,
            task,
        })
    }

    fn read(&self, body: &Value, received_at: jiff::Timestamp) -> HandoverTicket {
        let text = |ptr: &str| {
            if ptr.is_empty() {
                return None;
            }
            body.pointer(ptr).and_then(|v| match v {
                Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
                Value::Null => None,
                // A structured transcript is kept whole.
                Value::Array(_) | Value::Object(_) => Some(v.to_string()),
                other => Scalar::from_value(other).map(|s| s.0),
            })
        };
        let tags = match body.pointer(&self.pointers.tags) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Scalar::from_value)
                .map(|s| s.0)
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        HandoverTicket {
            system: QueueKind::Webhook,
            id: text(&self.pointers.id).unwrap_or_else(|| format!("delivery@{received_at}")),
            created_at: Some(received_at),
            conversation_id: text(&self.pointers.conversation_id),
            customer_ref: text(&self.pointers.customer_ref),
            context: text(&self.pointers.context),
            priority: text(&self.pointers.priority),
            tags,
            queue: text(&self.pointers.queue),
            raw: self.shared.secrets.redact_json(body),
        }
    }
}

#[async_trait]
impl HandoverQueue for WebhookQueue {
    async fn find_handover(&self, query: &HandoverQuery) -> Lookup {
        let mut inbox = self
            .shared
            .inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut exchanges = Vec::new();
        let mut refused = None;
        for d in inbox.deliveries.iter_mut().filter(|d| !d.reported) {
            d.reported = true;
            exchanges.push(d.exchange.clone());
            if let Some(why) = &d.refused {
                refused.get_or_insert_with(|| why.clone());
            }
        }
        // A refused delivery cannot be attributed to a conversation: it might have been this one.
        if let Some(reason) = refused {
            return Lookup::failed(
                QueueError::Rejected {
                    url: self.url.to_string(),
                    reason,
                },
                exchanges,
            );
        }
        let found = inbox.deliveries.iter().find_map(|d| {
            let body = d.body.as_ref()?;
            let ticket = self.read(body, d.received_at);
            (ticket.conversation_id.as_deref() == Some(query.conversation_id.as_str()))
                .then_some(ticket)
        });
        Lookup {
            outcome: Ok(found),
            exchanges,
        }
    }

    fn describe(&self) -> String {
        format!(
            "handover webhook receiver at {} (conversation id at `{}`)",
            self.url, self.pointers.conversation_id
        )
    }

    fn endpoint(&self) -> Option<Url> {
        Some(self.url.clone())
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let received_at = jiff::Timestamp::now();
    let started_at_ns = now_ns();
    let secret_header = shared.secret.as_ref().map(|(h, _)| h.as_str());
    let request_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            let value = if secret_header.is_some_and(|h| h.eq_ignore_ascii_case(k.as_str()))
                || k == axum::http::header::AUTHORIZATION
            {
                "[redacted]".to_owned()
            } else {
                shared
                    .secrets
                    .redact(&String::from_utf8_lossy(v.as_bytes()))
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let refused = if body.len() > MAX_BODY {
        Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {MAX_BODY} bytes"),
        ))
    } else if let Some((header, expected)) = &shared.secret {
        let given = headers
            .get(header.as_str())
            .map(axum::http::HeaderValue::as_bytes);
        match given {
            Some(given) if same(given, expected.as_bytes()) => None,
            Some(_) => Some((
                StatusCode::UNAUTHORIZED,
                format!("the `{header}` header has the wrong secret"),
            )),
            None => Some((
                StatusCode::UNAUTHORIZED,
                format!("the `{header}` header is missing"),
            )),
        }
    } else {
        None
    };
    let refused = refused.or_else(|| match &parsed {
        Some(Value::Object(_)) => None,
        Some(other) => Some((
            StatusCode::BAD_REQUEST,
            format!(
                "the body is {}, not a JSON object",
                crate::flex::kind_of(other)
            ),
        )),
        None => Some((StatusCode::BAD_REQUEST, "the body is not JSON".to_owned())),
    });
    let (status, answer) = match &refused {
        Some((status, why)) => (*status, json!({"error": why})),
        None => (StatusCode::ACCEPTED, json!({"received": true})),
    };
    let recorded_body = match &parsed {
        Some(v) => shared.secrets.redact_json(v),
        None => Value::String(
            shared
                .secrets
                .redact(&truncate(&String::from_utf8_lossy(&body), 64 * 1024)),
        ),
    };
    let exchange = Exchange {
        method: "POST".to_owned(),
        url: shared.url.clone(),
        request_headers,
        request_body: Some(recorded_body),
        status: Some(status.as_u16()),
        response_body: Some(answer.clone()),
        started_at_ns,
        elapsed: Duration::ZERO,
        error: refused.as_ref().map(|(_, why)| format!("refused: {why}")),
    };
    let delivery = Delivery {
        exchange,
        received_at,
        body: if refused.is_none() { parsed } else { None },
        refused: refused.map(|(_, why)| why),
        reported: false,
    };
    shared
        .inbox
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .deliveries
        .push(delivery);
    (status, axum::Json(answer)).into_response()
}

/// Compares in time independent of where the first difference is, so the secret cannot be
/// guessed byte by byte from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
