//! The receiver over real loopback HTTP, fed the genuine OTLP/HTTP request bodies captured from
//! OpenTelemetry's GenAI instrumentation (muster-ingest's test data).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use muster_ingest::{BodyFormat, BodyLocation, Item, OtlpReader};
use muster_receiver::{DEFAULT_MAX_BODY, Export, Receiver, Signal, Sink, SinkError};

#[derive(Default)]
struct Collect {
    exports: Mutex<Vec<Export>>,
    fail: bool,
}

#[async_trait]
impl Sink for Collect {
    async fn accept(&self, export: Export) -> Result<(), SinkError> {
        if self.fail {
            return Err(SinkError("the store is locked".into()));
        }
        if let Ok(mut e) = self.exports.lock() {
            e.push(export);
        }
        Ok(())
    }
}

impl Collect {
    fn taken(&self) -> Vec<Export> {
        self.exports.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../muster-ingest/tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn start(sink: Arc<Collect>) -> Receiver {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    Receiver::start(addr, sink, DEFAULT_MAX_BODY)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn post(
    receiver: &Receiver,
    signal: Signal,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(format!("{}{}", receiver.endpoint(), signal.path()))
        .header("content-type", content_type)
        .body(body);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let bytes = resp.bytes().await.unwrap_or_default().to_vec();
    (status, headers, bytes)
}

fn events(items: &[Item]) -> usize {
    items.iter().filter(|i| i.event().is_some()).count()
}

/// What reading the same body from a file gives.
fn read_directly(body: &[u8], format: BodyFormat) -> usize {
    let mut reader = OtlpReader::new("file");
    events(&reader.read_body(body, format, BodyLocation::default()))
}

#[tokio::test]
async fn captured_protobuf_and_json_exports_become_the_same_events_as_from_a_file() {
    let sink = Arc::new(Collect::default());
    let receiver = start(sink.clone()).await;
    let cases = [
        (
            "recv_001_v1_traces.pb",
            Signal::Traces,
            "application/x-protobuf",
            BodyFormat::ProtobufTraces,
        ),
        (
            "recv_003_v1_logs.pb",
            Signal::Logs,
            "application/x-protobuf",
            BodyFormat::ProtobufLogs,
        ),
        (
            "recv_029_v1_traces.json",
            Signal::Traces,
            "application/json",
            BodyFormat::JsonTraces,
        ),
        (
            "recv_028_v1_logs.json",
            Signal::Logs,
            "application/json",
            BodyFormat::JsonLogs,
        ),
    ];
    let mut expected_events = 0;
    for (name, signal, content_type, format) in cases {
        let body = data(name);
        let want = read_directly(&body, format);
        assert!(want > 0, "{name} holds events");
        expected_events += want;
        let (status, headers, response) = post(&receiver, signal, content_type, None, body).await;
        assert_eq!(
            status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&response)
        );
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "content-type" && v == content_type),
            "{name}: the response is in the request's encoding"
        );
        if content_type == "application/json" {
            assert_eq!(response, b"{}", "{name}: full success");
        } else {
            assert!(
                response.is_empty(),
                "{name}: an empty ExportServiceResponse"
            );
        }
        let exports = sink.taken();
        let last = exports
            .last()
            .unwrap_or_else(|| panic!("nothing reached the sink"));
        assert_eq!(events(&last.items), want, "{name}");
        assert_eq!(last.signal, signal);
        assert!(last.origin.starts_with("otlp-http/") && last.origin.len() == 10 + 64);
    }
    let stats = receiver.stats();
    assert_eq!(stats.accepted, 4);
    assert_eq!(stats.events as usize, expected_events);
    assert_eq!(stats.refused, 0);
}

#[tokio::test]
async fn a_retried_export_gets_the_same_raw_pointers_and_gzip_is_read() {
    let sink = Arc::new(Collect::default());
    let receiver = start(sink.clone()).await;
    let body = data("recv_001_v1_traces.pb");
    let gz = {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).unwrap_or_else(|e| panic!("{e}"));
        enc.finish().unwrap_or_else(|e| panic!("{e}"))
    };
    let (plain, _, _) = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        None,
        body,
    )
    .await;
    let (zipped, _, _) = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        Some("gzip"),
        gz,
    )
    .await;
    assert_eq!((plain, zipped), (200, 200));
    let exports = sink.taken();
    assert_eq!(exports.len(), 2);
    let pointers = |e: &Export| {
        e.items
            .iter()
            .filter_map(Item::event)
            .map(|ev| ev.raw.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(exports[0].origin, exports[1].origin);
    assert_eq!(pointers(&exports[0]), pointers(&exports[1]));
}

#[tokio::test]
async fn bad_requests_are_refused_in_the_protocols_terms() {
    let sink = Arc::new(Collect::default());
    let receiver = start(sink.clone()).await;

    let (status, _, body) = post(
        &receiver,
        Signal::Traces,
        "text/plain",
        None,
        b"hi".to_vec(),
    )
    .await;
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&body).contains("application/x-protobuf"));

    let (status, _, _) = post(
        &receiver,
        Signal::Traces,
        "application/json",
        Some("br"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "an encoding the receiver cannot read");

    let (status, _, body) = post(
        &receiver,
        Signal::Traces,
        "application/json",
        Some("gzip"),
        b"not gzip".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("gzip"));
    assert!(
        sink.taken().is_empty(),
        "refused before reading: nothing to keep"
    );

    // Unreadable as a whole: answered 400, and still quarantined (it reached the sink).
    let (status, _, body) = post(
        &receiver,
        Signal::Traces,
        "application/json",
        None,
        b"[1, 2".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("not JSON"));
    let exports = sink.taken();
    assert_eq!(exports.len(), 1);
    assert!(exports[0].items.iter().all(|i| i.quarantined().is_some()));

    // One good span, one without any time: 200 with a partial success naming the rejection.
    let span = |id: &str, times: bool| {
        let mut s = serde_json::json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": id, "name": "chat"});
        if times {
            s["startTimeUnixNano"] = "1795720102000000000".into();
            s["endTimeUnixNano"] = "1795720102100000000".into();
        }
        s
    };
    let mixed = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [span("eee19b7ec3c1b174", true), span("eee19b7ec3c1b175", false)]}]}]});
    let (status, _, body) = post(
        &receiver,
        Signal::Traces,
        "application/json",
        None,
        mixed.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1");
    assert!(
        answer["partialSuccess"]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("neither startTimeUnixNano")),
        "{answer}"
    );
    let stats = receiver.stats();
    assert_eq!((stats.accepted, stats.refused), (1, 4));
    assert_eq!(stats.quarantined, 2);
}

#[tokio::test]
async fn a_sink_that_cannot_keep_an_export_asks_the_exporter_to_retry() {
    let sink = Arc::new(Collect {
        fail: true,
        ..Collect::default()
    });
    let receiver = start(sink).await;
    let (status, headers, body) = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        None,
        data("recv_001_v1_traces.pb"),
    )
    .await;
    assert_eq!(status, 503);
    assert!(headers.iter().any(|(k, v)| k == "retry-after" && v == "1"));
    // google.rpc.Status { code: 14 (UNAVAILABLE), message }
    assert_eq!(body.first(), Some(&0x08));
    assert_eq!(body.get(1), Some(&14));
    assert!(String::from_utf8_lossy(&body).contains("the store is locked"));
}

#[tokio::test]
async fn only_the_two_otlp_paths_answer() {
    let receiver = start(Arc::new(Collect::default())).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/metrics", receiver.endpoint()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 404);
}
