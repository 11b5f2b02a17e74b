//! The reference agent's own telemetry: each turn as OpenTelemetry GenAI spans, exported the way an
//! instrumented service exports them — batched OTLP/JSON over HTTP to `/v1/traces`, or appended
//! to a JSON Lines file as the collector's file exporter writes it.
//!
//! A turn is one trace: an `invoke_agent` span (the conversation id in `gen_ai.conversation.id`,
//! the customer in `enduser.id`), a `chat` span with the history and reply as
//! `gen_ai.input.messages` / `gen_ai.output.messages`, and an `execute_tool` span per tool the
//! agent ran (`gen_ai.tool.name`, `gen_ai.tool.call.id`, `…arguments`, `…result`). So drills can
//! observe tool calls the agent reports only in its traces, and the evidence side has a real
//! source to ingest.
//!
//! Like an SDK's batch processor, export never blocks a turn and never fails it: spans queue, a
//! background task sends them every [`BATCH_DELAY`], and a failed export is logged and counted.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

use crate::tools::ToolCall;

/// How long spans wait to be batched.
pub const BATCH_DELAY: Duration = Duration::from_millis(100);
const MAX_BATCH: usize = 512;

/// Where the agent's telemetry goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318` (spans go to `{endpoint}/v1/traces`).
    pub endpoint: Option<String>,
    /// A JSON Lines file: one OTLP/JSON export request per line.
    pub file: Option<PathBuf>,
}

impl TelemetryConfig {
    pub fn is_on(&self) -> bool {
        self.endpoint.is_some() || self.file.is_some()
    }
}

/// What one turn did, for its spans.
pub(crate) struct TurnTrace<'a> {
    pub conversation_id: &'a str,
    pub customer_ref: &'a str,
    pub model: &'a str,
    /// Earlier turns, oldest first: `(role, text)` with roles `user` / `assistant`.
    pub history: Vec<(&'static str, String)>,
    pub message: &'a str,
    pub reply: &'a str,
    pub tool_calls: &'a [ToolCall],
    pub started_ns: i64,
    pub ended_ns: i64,
}

/// Counts of what was exported.
#[derive(Debug, Default)]
pub struct TelemetryStats {
    pub spans_sent: AtomicU64,
    pub exports_failed: AtomicU64,
}

/// A running exporter. Cheap to share; dropping the last handle lets the task send what is
/// queued and stop.
#[derive(Clone)]
pub struct Telemetry {
    tx: mpsc::UnboundedSender<Value>,
    pub stats: Arc<TelemetryStats>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

/// A random id of `bytes` bytes (16 for a trace, 8 for a span), as lower-case hex.
fn hex_id(bytes: usize) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    hex[..(bytes * 2).min(hex.len())].to_owned()
}

fn attr(key: &str, value: impl Into<Value>) -> Value {
    match value.into() {
        Value::String(s) => json!({"key": key, "value": {"stringValue": s}}),
        Value::Number(n) if n.is_i64() => json!({"key": key, "value": {"intValue": n.to_string()}}),
        Value::Number(n) => json!({"key": key, "value": {"doubleValue": n}}),
        Value::Bool(b) => json!({"key": key, "value": {"boolValue": b}}),
        other => json!({"key": key, "value": {"stringValue": other.to_string()}}),
    }
}

fn message(role: &str, text: &str) -> Value {
    json!({"role": role, "parts": [{"type": "text", "content": text}]})
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: &str,
    id: &str,
    parent: Option<&str>,
    name: String,
    kind: u8,
    start: i64,
    end: i64,
    attributes: Vec<Value>,
) -> Value {
    let mut s = json!({
        "traceId": trace,
        "spanId": id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": end.to_string(),
        "attributes": attributes,
        "status": {},
    });
    if let Some(p) = parent {
        s["parentSpanId"] = json!(p);
    }
    s
}

/// The spans of one turn (root first).
pub(crate) fn turn_spans(t: &TurnTrace<'_>) -> Vec<Value> {
    let trace = hex_id(16);
    let root = hex_id(8);
    let chat = hex_id(8);
    let (start, end) = (t.started_ns, t.ended_ns.max(t.started_ns));
    let mut input: Vec<Value> = t
        .history
        .iter()
        .map(|(role, text)| message(role, text))
        .collect();
    input.push(message("user", t.message));
    let output = vec![json!({
        "role": "assistant",
        "parts": [{"type": "text", "content": t.reply}],
        "finish_reason": "stop",
    })];
    let mut spans = vec![
        span(
            &trace,
            &root,
            None,
            "invoke_agent larkspur-support".into(),
            2,
            start,
            end,
            vec![
                attr("gen_ai.operation.name", "invoke_agent"),
                attr("gen_ai.agent.name", "larkspur-support"),
                attr("gen_ai.conversation.id", t.conversation_id),
                attr("enduser.id", t.customer_ref),
            ],
        ),
        span(
            &trace,
            &chat,
            Some(&root),
            format!("chat {}", t.model),
            1,
            start,
            end,
            vec![
                attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.provider.name", "larkspur"),
                attr("gen_ai.request.model", t.model),
                attr("gen_ai.conversation.id", t.conversation_id),
                attr("gen_ai.input.messages", Value::Array(input).to_string()),
                attr("gen_ai.output.messages", Value::Array(output).to_string()),
                attr("gen_ai.response.finish_reasons", "[\"stop\"]"),
            ],
        ),
    ];
    // Tools ran inside the turn, one after another; their spans split its time evenly.
    let n = i64::try_from(t.tool_calls.len()).unwrap_or(1).max(1);
    let slice = (end - start) / (n + 1);
    for (i, call) in t.tool_calls.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let tool_start = start + slice * (i + 1);
        spans.push(span(
            &trace,
            &hex_id(8),
            Some(&root),
            format!("execute_tool {}", call.name),
            1,
            tool_start,
            (tool_start + slice / 2).min(end),
            vec![
                attr("gen_ai.operation.name", "execute_tool"),
                attr("gen_ai.tool.name", call.name.as_str()),
                attr("gen_ai.tool.call.id", call.id.as_str()),
                attr("gen_ai.tool.call.arguments", call.arguments.to_string()),
                attr("gen_ai.tool.call.result", call.result.to_string()),
                attr("gen_ai.conversation.id", t.conversation_id),
            ],
        ));
    }
    spans
}

fn export_body(spans: Vec<Value>) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            attr("service.name", "larkspur-support"),
            attr("deployment.environment.name", "pre-production"),
            attr("telemetry.sdk.name", "muster-refagent"),
        ]},
        "scopeSpans": [{
            "scope": {"name": "muster-refagent", "version": env!("CARGO_PKG_VERSION")},
            "spans": spans,
        }],
    }]})
}

impl Telemetry {
    /// Start the exporter. Must be called inside a Tokio runtime.
    pub fn start(config: TelemetryConfig, http: reqwest::Client) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(TelemetryStats::default());
        tokio::spawn(export_loop(config, http, rx, stats.clone()));
        Self { tx, stats }
    }

    pub(crate) fn turn(&self, trace: &TurnTrace<'_>) {
        for s in turn_spans(trace) {
            let _ = self.tx.send(s);
        }
    }
}

async fn export_loop(
    config: TelemetryConfig,
    http: reqwest::Client,
    mut rx: mpsc::UnboundedReceiver<Value>,
    stats: Arc<TelemetryStats>,
) {
    let url = config
        .endpoint
        .as_ref()
        .map(|e| format!("{}/v1/traces", e.trim_end_matches('/')));
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH_DELAY;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(s)) => batch.push(s),
                Ok(None) | Err(_) => break,
            }
        }
        let count = batch.len() as u64;
        let body = export_body(batch).to_string();
        let mut ok = true;
        if let Some(url) = &url {
            let sent = http
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    ok = false;
                    tracing::warn!("OTLP export to {url} answered {}", r.status());
                }
                Err(e) => {
                    ok = false;
                    tracing::warn!("OTLP export to {url} failed: {e}");
                }
            }
        }
        if let Some(path) = &config.file {
            let written = async {
                let mut f = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await?;
                f.write_all(format!("{body}\n").as_bytes()).await?;
                f.flush().await
            }
            .await;
            if let Err(e) = written {
                ok = false;
                tracing::warn!("cannot write telemetry to {}: {e}", path.display());
            }
        }
        if ok {
            stats.spans_sent.fetch_add(count, Ordering::Relaxed);
        } else {
            stats.exports_failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_with_two_tools_gives_a_root_a_chat_and_two_tool_spans_in_one_trace() {
        let calls = [
            ToolCall {
                id: "call-1".into(),
                name: "lookup_order".into(),
                arguments: json!({"order_ref": "ORD-1"}),
                result: json!({"status": "delivered"}),
            },
            ToolCall {
                id: "call-2".into(),
                name: "process_return".into(),
                arguments: json!({"amount": 749.0}),
                result: json!({"ok": true}),
            },
        ];
        let spans = turn_spans(&TurnTrace {
            conversation_id: "c-000001",
            customer_ref: "LM-100004",
            model: "larkspur-support-rules",
            history: vec![("user", "hi".into()), ("assistant", "hello".into())],
            message: "return it",
            reply: "done",
            tool_calls: &calls,
            started_ns: 1_000,
            ended_ns: 9_000,
        });
        assert_eq!(spans.len(), 4);
        let trace = &spans[0]["traceId"];
        assert!(spans.iter().all(|s| &s["traceId"] == trace));
        assert!(
            spans[1..]
                .iter()
                .all(|s| s["parentSpanId"] == spans[0]["spanId"])
        );
        let names: Vec<_> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "invoke_agent larkspur-support",
                "chat larkspur-support-rules",
                "execute_tool lookup_order",
                "execute_tool process_return"
            ]
        );
        for s in &spans[2..] {
            let start: i64 = s["startTimeUnixNano"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1);
            let end: i64 = s["endTimeUnixNano"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1);
            assert!(
                (1_000..=9_000).contains(&start) && start <= end && end <= 9_000,
                "{s}"
            );
        }
        let input = spans[1]["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["key"] == "gen_ai.input.messages"))
            .and_then(|a| a["value"]["stringValue"].as_str())
            .unwrap_or_default();
        let input: Value = serde_json::from_str(input).unwrap_or_default();
        assert_eq!(
            input.as_array().map(Vec::len),
            Some(3),
            "history and the new message"
        );
    }

    #[test]
    fn the_export_reads_back_as_a_conversation_with_its_tool_calls() {
        let calls = [ToolCall {
            id: "call-9".into(),
            name: "issue_credit".into(),
            arguments: json!({"amount": 500}),
            result: json!({"ok": true}),
        }];
        let spans = turn_spans(&TurnTrace {
            conversation_id: "c-000042",
            customer_ref: "LM-100001",
            model: "m",
            history: Vec::new(),
            message: "credit me",
            reply: "done",
            tool_calls: &calls,
            started_ns: 1_795_720_102_000_000_000,
            ended_ns: 1_795_720_102_050_000_000,
        });
        let body = export_body(spans).to_string();
        let mut reader = muster_ingest::OtlpReader::new("test");
        let items = reader.read_body(
            body.as_bytes(),
            muster_ingest::BodyFormat::JsonTraces,
            muster_ingest::BodyLocation::default(),
        );
        let events: Vec<_> = items
            .iter()
            .filter_map(muster_ingest::Item::event)
            .collect();
        assert_eq!(items.len(), events.len(), "nothing quarantined");
        assert!(
            events
                .iter()
                .all(|e| e.correlation.conversation_id.as_deref() == Some("c-000042"))
        );
        let tool = events
            .iter()
            .find(|e| matches!(e.kind, muster_ingest::EventKind::ToolCall { .. }))
            .unwrap_or_else(|| panic!("no tool call event"));
        match &tool.kind {
            muster_ingest::EventKind::ToolCall {
                name, arguments, ..
            } => {
                assert_eq!(name.as_deref(), Some("issue_credit"));
                assert_eq!(arguments.as_ref(), Some(&json!({"amount": 500})));
            }
            other => panic!("{other:?}"),
        }
    }
}
