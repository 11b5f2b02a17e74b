//! muster's OTLP/HTTP receiver: `POST /v1/traces` and `POST /v1/logs`, protobuf or JSON,
//! optionally gzip-compressed, as the OpenTelemetry Protocol specification defines them — so a
//! pre-production agent's SDK exports straight into muster (`muster ingest --listen`, or a drill
//! observing the tool calls the agent reports only in its traces).
//!
//! Each request body is read by `muster-ingest`'s OTLP reader (one reader for the receiver's
//! life, so conversation keys carry from request to request) and handed, as events and
//! quarantined records, to a [`Sink`]. Each request is named by the SHA-256 of its (decompressed)
//! body: an exporter that retries a request it thinks failed sends the same body, which gives the
//! same raw pointers, so a store's idempotent ingest does not keep it twice.
//!
//! **Invariants:** every record of a body the receiver accepted reaches the sink as an event or a
//! quarantined item (counted); a body that cannot be read at all is quarantined too and answered
//! `400`. A sink that cannot take a request is answered `503` with `Retry-After`, so the exporter
//! retries rather than loses it. Responses follow the specification: the request's encoding,
//! `partial_success` naming how many records were rejected and why.

mod response;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use muster_ingest::{BodyFormat, BodyLocation, Item, OtlpReader};
use sha2::{Digest as _, Sha256};
use tokio::sync::Mutex;

pub use response::Encoding;

/// The default address: OTLP/HTTP's registered port, on this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4318";

/// The largest body accepted (compressed or not), as OTLP exporters' default request sizes are
/// far below it.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

/// Which signal a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
}

impl Signal {
    pub fn path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
        }
    }
}

/// One accepted request, read.
#[derive(Clone, Debug)]
pub struct Export {
    pub signal: Signal,
    /// `otlp-http/<sha256 of the body>`: the raw pointers' origin.
    pub origin: String,
    /// The body as received (decompressed), for sinks that keep raw records.
    pub body: Bytes,
    pub encoding: Encoding,
    /// Events and quarantined records, in body order.
    pub items: Vec<Item>,
}

/// Why a sink could not take a request; the exporter is told to retry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// Where accepted requests go.
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// Take one request's events. Return only once they are kept: the exporter is answered after.
    async fn accept(&self, export: Export) -> Result<(), SinkError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

/// What the receiver has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Requests answered 200.
    pub accepted: u64,
    /// Requests refused: unsupported media type or encoding, too large, unreadable, or the sink
    /// could not take them.
    pub refused: u64,
    pub events: u64,
    pub quarantined: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    events: AtomicU64,
    quarantined: AtomicU64,
}

#[derive(Clone)]
struct Shared {
    sink: Arc<dyn Sink>,
    reader: Arc<Mutex<OtlpReader>>,
    counters: Arc<Counters>,
    max_body: usize,
}

/// A running receiver. Dropping it stops the listener.
pub struct Receiver {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Bind `addr` (port 0 picks a free one) and serve until dropped. Must be called inside a
    /// Tokio runtime.
    pub async fn start(
        addr: SocketAddr,
        sink: Arc<dyn Sink>,
        max_body: usize,
    ) -> Result<Self, ReceiverError> {
        let listen_err = |e: std::io::Error| ReceiverError::Listen {
            addr: addr.to_string(),
            reason: e.to_string(),
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(listen_err)?;
        let bound = listener.local_addr().map_err(listen_err)?;
        let counters = Arc::new(Counters::default());
        let shared = Shared {
            sink,
            reader: Arc::new(Mutex::new(OtlpReader::new("otlp-http"))),
            counters: counters.clone(),
            max_body,
        };
        let app = axum::Router::new()
            .route(Signal::Traces.path(), post(traces))
            .route(Signal::Logs.path(), post(logs))
            // Limits are enforced in `receive` so a refusal is counted and answered in OTLP's
            // shape; axum's own default (2 MB) would refuse ordinary exports first.
            .layer(DefaultBodyLimit::max(max_body.saturating_add(1)))
            .with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr: bound,
            counters,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`: what an SDK's `OTEL_EXPORTER_OTLP_ENDPOINT` should be.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stats(&self) -> ReceiverStats {
        let c = &self.counters;
        ReceiverStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            events: c.events.load(Ordering::Relaxed),
            quarantined: c.quarantined.load(Ordering::Relaxed),
        }
    }
}

async fn traces(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    receive(shared, Signal::Traces, headers, body).await
}

async fn logs(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    receive(shared, Signal::Logs, headers, body).await
}

async fn receive(shared: Shared, signal: Signal, headers: HeaderMap, body: Bytes) -> Response {
    let refuse = |status: StatusCode, encoding: Encoding, message: String| {
        shared.counters.refused.fetch_add(1, Ordering::Relaxed);
        response::status(status, encoding, &message)
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(encoding) = Encoding::from_content_type(content_type) else {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Encoding::Json,
            format!(
                "unsupported Content-Type `{content_type}`: send application/x-protobuf or application/json"
            ),
        );
    };
    if body.len() > shared.max_body {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            encoding,
            format!(
                "the body is {} bytes; this receiver takes at most {}",
                body.len(),
                shared.max_body
            ),
        );
    }
    let body = match headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        None | Some("") | Some("identity") => body,
        Some(e) if e.eq_ignore_ascii_case("gzip") => match gunzip(&body, shared.max_body) {
            Ok(b) => Bytes::from(b),
            Err(reason) => return refuse(StatusCode::BAD_REQUEST, encoding, reason),
        },
        Some(other) => {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                encoding,
                format!("unsupported Content-Encoding `{other}`: send gzip or none"),
            );
        }
    };
    let origin = format!("otlp-http/{}", hex::encode(Sha256::digest(&body)));
    let format = match (signal, encoding) {
        (Signal::Traces, Encoding::Protobuf) => BodyFormat::ProtobufTraces,
        (Signal::Logs, Encoding::Protobuf) => BodyFormat::ProtobufLogs,
        (Signal::Traces, Encoding::Json) => BodyFormat::JsonTraces,
        (Signal::Logs, Encoding::Json) => BodyFormat::JsonLogs,
    };
    let items = {
        let mut reader = shared.reader.lock().await;
        reader.set_origin(origin.clone());
        reader.read_body(&body, format, BodyLocation::default())
    };
    let events = items.iter().filter(|i| i.event().is_some()).count() as u64;
    let rejected: Vec<String> = items
        .iter()
        .filter_map(Item::quarantined)
        .map(|q| q.reason.clone())
        .collect();
    let export = Export {
        signal,
        origin,
        body,
        encoding,
        items,
    };
    if let Err(e) = shared.sink.accept(export).await {
        tracing::warn!("an OTLP export could not be kept: {e}");
        let mut r = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            encoding,
            format!("the evidence store could not take this export: {e}"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return r;
    }
    let c = &shared.counters;
    c.events.fetch_add(events, Ordering::Relaxed);
    c.quarantined
        .fetch_add(rejected.len() as u64, Ordering::Relaxed);
    // Nothing readable in it: the request failed as a whole (its records are quarantined).
    if events == 0 && !rejected.is_empty() {
        c.refused.fetch_add(1, Ordering::Relaxed);
        return response::status(
            StatusCode::BAD_REQUEST,
            encoding,
            &format!("nothing in this export could be read: {}", rejected[0]),
        );
    }
    c.accepted.fetch_add(1, Ordering::Relaxed);
    response::export_ok(signal, encoding, &rejected).into_response()
}

/// Decompress a gzip body, refusing one that inflates past `limit` (a zip bomb).
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut out = Vec::new();
    let decoder = flate2::read::GzDecoder::new(body);
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the gzip body could not be decompressed: {e}"))?;
    if out.len() > limit {
        return Err(format!(
            "the body decompresses to more than {limit} bytes; this receiver takes at most that"
        ));
    }
    Ok(out)
}
