//! Dialects no captured fixture holds, written from the conventions' specifications and the
//! captured attribute sets in trace-formats §1.4–§3.2: legacy GenAI message events, OpenLLMetry,
//! Langfuse, OpenInference retrievers and tools, evaluation events.

use muster_ingest::{BodyFormat, Convention, EventKind, KeyOrigin, ToolCallPhase};
use serde_json::{Value, json};

use crate::{events, kinds, read_bytes};

const TRACE: &str = "7f2366b7b48ad86e62494bd4bc49c2f8";

fn s(v: &str) -> Value {
    json!({ "stringValue": v })
}

fn attrs<K: AsRef<str>>(pairs: &[(K, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"key": k.as_ref(), "value": v}))
            .collect(),
    )
}

fn span(id: &str, parent: Option<&str>, name: &str, a: Value) -> Value {
    json!({"traceId": TRACE, "spanId": id, "parentSpanId": parent.unwrap_or(""), "name": name,
           "kind": 1, "startTimeUnixNano": "1795720097000000000", "endTimeUnixNano": "1795720097500000000",
           "attributes": a})
}

fn traces(spans: Vec<Value>) -> Vec<u8> {
    json!({"resourceSpans": [{"resource": {"attributes": attrs(&[("service.name", s("support-agent"))])},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]})
    .to_string()
    .into_bytes()
}

fn log(event: &str, body: Value) -> Value {
    json!({"timeUnixNano": "1795720097087708378", "severityNumber": 9, "body": body,
           "attributes": attrs(&[("gen_ai.system", s("openai")), ("event.name", s(event))]),
           "traceId": TRACE, "spanId": "b6e29a8d02d34145"})
}

fn kv(pairs: &[(&str, Value)]) -> Value {
    json!({"kvlistValue": {"values": pairs.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()}})
}

/// opentelemetry-instrumentation-openai-v2 2.1b0 (conventions ≤ 1.36): content as one log
/// record per message, bodies as kvlists.
#[test]
fn legacy_genai_message_events() {
    let tool_call = kv(&[
        ("id", s("call_fake0001")),
        ("type", s("function")),
        (
            "function",
            kv(&[
                ("name", s("lookup_order")),
                ("arguments", s("{\"order_id\": \"A-1001\"}")),
            ]),
        ),
    ]);
    let records = vec![
        log(
            "gen_ai.system.message",
            kv(&[("content", s("You are a support agent for Acme."))]),
        ),
        log(
            "gen_ai.user.message",
            kv(&[("content", s("Where is my order A-1001?"))]),
        ),
        log(
            "gen_ai.choice",
            kv(&[
                ("index", json!({"intValue": "0"})),
                ("finish_reason", s("tool_calls")),
                (
                    "message",
                    kv(&[
                        ("role", s("assistant")),
                        ("tool_calls", json!({"arrayValue": {"values": [tool_call]}})),
                    ]),
                ),
            ]),
        ),
        log(
            "gen_ai.tool.message",
            kv(&[
                ("content", s("{\"status\": \"shipped\"}")),
                ("id", s("call_fake0001")),
            ]),
        ),
        log(
            "gen_ai.choice",
            kv(&[
                ("index", json!({"intValue": "0"})),
                ("finish_reason", s("stop")),
                (
                    "message",
                    kv(&[("role", s("assistant")), ("content", s("It shipped."))]),
                ),
            ]),
        ),
    ];
    let body = json!({"resourceLogs": [{"scopeLogs": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2"},
        "schemaUrl": "https://opentelemetry.io/schemas/1.28.0", "logRecords": records}]}]})
    .to_string();
    let (items, stats) = read_bytes(body.as_bytes(), BodyFormat::Json);
    assert_eq!(stats.records_mapped, 5);
    assert_eq!(
        kinds(&items),
        [
            "prompt",
            "customer.message",
            "tool.call:Requested",
            "tool.call:Returned",
            "agent.message"
        ]
    );
    let evs = events(&items);
    assert!(
        evs.iter()
            .all(|e| e.source.conventions == [Convention::GenAiLegacy])
    );
    assert_eq!(evs[1].content.as_deref(), Some("Where is my order A-1001?"));
    assert!(
        matches!(&evs[2].kind, EventKind::ToolCall { name: Some(n), arguments: Some(a), .. }
        if n == "lookup_order" && a == &json!({"order_id": "A-1001"}))
    );
    assert_eq!(
        evs[2].correlation.tool_call_id.as_deref(),
        Some("call_fake0001")
    );
    assert_eq!(
        evs[3].correlation.tool_call_id.as_deref(),
        Some("call_fake0001")
    );
    assert!(
        matches!(&evs[3].kind, EventKind::ToolCall { result: Some(r), .. } if r == &json!({"status": "shipped"}))
    );
    assert!(
        matches!(&evs[4].kind, EventKind::AgentMessage { finish_reason: Some(f) } if f == "stop")
    );
    assert_eq!(evs[4].content.as_deref(), Some("It shipped."));
}

/// OpenLLMetry/Traceloop: flattened, numerically indexed prompts and completions.
#[test]
fn openllmetry_flattened_prompt_and_completion() {
    let mut a: Vec<(String, Value)> = [
        ("gen_ai.system", s("openai")),
        ("llm.request.type", s("chat")),
        ("gen_ai.request.model", s("gpt-4o-mini")),
        ("gen_ai.response.model", s("gpt-4o-mini-2024-07-18")),
        ("gen_ai.usage.prompt_tokens", json!({"intValue": "42"})),
        (
            "traceloop.association.properties.session_id",
            s("conv-7f3a9c"),
        ),
        ("traceloop.association.properties.user_id", s("cus_123")),
        ("gen_ai.completion.0.role", s("assistant")),
        ("gen_ai.completion.0.finish_reason", s("tool_calls")),
        ("gen_ai.completion.0.tool_calls.0.id", s("call_fake0002")),
        ("gen_ai.completion.0.tool_calls.0.name", s("lookup_order")),
        (
            "gen_ai.completion.0.tool_calls.0.arguments",
            s("{\"order_id\":\"A-1001\"}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    // Eleven prompt messages: `10` must sort after `9`, so the customer's turn is last.
    for i in 0..10 {
        let role = if i == 0 {
            "system"
        } else if i % 2 == 0 {
            "user"
        } else {
            "assistant"
        };
        a.push((format!("gen_ai.prompt.{i}.role"), s(role)));
        a.push((format!("gen_ai.prompt.{i}.content"), s(&format!("m{i}"))));
    }
    a.push(("gen_ai.prompt.10.role".to_owned(), s("user")));
    a.push((
        "gen_ai.prompt.10.content".to_owned(),
        s("Where is my order A-1001?"),
    ));
    let body = traces(vec![span(
        "00f067aa0ba902b7",
        None,
        "openai.chat",
        attrs(&a),
    )]);
    let (items, _) = read_bytes(&body, BodyFormat::Json);
    assert_eq!(
        kinds(&items),
        [
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested"
        ]
    );
    let evs = events(&items);
    assert!(evs[0].source.conventions.contains(&Convention::OpenLlmetry));
    assert_eq!(
        evs[0].correlation.conversation_id.as_deref(),
        Some("conv-7f3a9c")
    );
    assert_eq!(evs[0].correlation.customer_ref.as_deref(), Some("cus_123"));
    assert!(matches!(&evs[1].kind, EventKind::Prompt { messages, .. } if messages.len() == 11));
    assert_eq!(evs[2].content.as_deref(), Some("Where is my order A-1001?"));
    assert!(
        matches!(&evs[3].kind, EventKind::ToolCall { name: Some(n), arguments: Some(args), .. }
        if n == "lookup_order" && args == &json!({"order_id": "A-1001"}))
    );
    assert!(
        matches!(&evs[0].kind, EventKind::ModelCall { usage, .. } if usage.get("prompt_tokens") == Some(&json!(42)))
    );
}

/// Langfuse SDK v3+ spans (the captured attribute sets): a generation and a guardrail under a
/// trace root that alone carries `session.id`.
#[test]
fn langfuse_observations() {
    let root = span(
        "1111111111111111",
        None,
        "support-turn",
        attrs(&[
            ("langfuse.trace.name", s("support-turn")),
            ("session.id", s("conv-7f3a9c")),
            ("user.id", s("cus_123")),
            ("langfuse.observation.type", s("agent")),
        ]),
    );
    let generation = span(
        "2222222222222222",
        Some("1111111111111111"),
        "llm",
        attrs(&[
            ("langfuse.observation.type", s("generation")),
            ("langfuse.observation.model.name", s("gpt-4o-mini")),
            (
                "langfuse.observation.model.parameters",
                s("{\"temperature\": 0.2}"),
            ),
            (
                "langfuse.observation.input",
                s("[{\"role\": \"user\", \"content\": \"Where is my order A-1001?\"}]"),
            ),
            (
                "langfuse.observation.output",
                s("{\"role\": \"assistant\", \"content\": \"It shipped on 2 Nov.\"}"),
            ),
            (
                "langfuse.observation.usage_details",
                s("{\"input\": 42, \"output\": 12}"),
            ),
        ]),
    );
    let guardrail = span(
        "3333333333333333",
        Some("2222222222222222"),
        "confidence-check",
        attrs(&[
            ("langfuse.observation.type", s("guardrail")),
            ("langfuse.observation.level", s("WARNING")),
            ("langfuse.observation.status_message", s("low confidence")),
        ]),
    );
    let (items, _) = read_bytes(&traces(vec![guardrail, generation, root]), BodyFormat::Json);
    assert_eq!(
        kinds(&items),
        [
            "control.action",
            "model.call",
            "prompt",
            "customer.message",
            "agent.message",
            "agent.invocation"
        ]
    );
    let evs = events(&items);
    for e in &evs {
        assert!(e.source.conventions.contains(&Convention::Langfuse));
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c")
        );
        assert_eq!(e.correlation.customer_ref.as_deref(), Some("cus_123"));
    }
    // The guardrail is a grandchild: the key comes from the root, named as such.
    assert_eq!(
        evs[0].correlation.conversation_from,
        Some(KeyOrigin::Span {
            span_id: "1111111111111111".to_owned(),
            key: "session.id".to_owned()
        })
    );
    assert!(
        matches!(&evs[0].kind, EventKind::ControlAction { outcome: Some(o), .. } if o == "low confidence")
    );
    assert!(
        matches!(&evs[1].kind, EventKind::ModelCall { request_model: Some(m), parameters, usage, .. }
        if m == "gpt-4o-mini" && parameters.get("temperature") == Some(&json!(0.2)) && usage.get("output_tokens") == Some(&json!(12)))
    );
    assert_eq!(evs[4].content.as_deref(), Some("It shipped on 2 Nov."));
}

/// OpenInference retriever and tool spans, and a GenAI evaluation event on a span.
#[test]
fn openinference_retriever_tool_and_evaluation_event() {
    let retriever = span(
        "4444444444444444",
        None,
        "kb_search",
        attrs(&[
            ("openinference.span.kind", s("RETRIEVER")),
            ("session.id", s("conv-7f3a9c")),
            ("input.value", s("Where is my order?")),
            ("retrieval.documents.0.document.id", s("kb-12")),
            (
                "retrieval.documents.0.document.content",
                s("Orders ship within 2 days."),
            ),
            (
                "retrieval.documents.0.document.score",
                json!({"doubleValue": 0.91}),
            ),
            (
                "retrieval.documents.0.document.metadata",
                s("{\"version\": \"2026-10-01\"}"),
            ),
            ("retrieval.documents.1.document.id", s("kb-40")),
        ]),
    );
    let mut tool = span(
        "5555555555555555",
        Some("4444444444444444"),
        "lookup_order",
        attrs(&[
            ("openinference.span.kind", s("TOOL")),
            ("tool.name", s("lookup_order")),
            ("input.value", s("{\"order_id\": \"A-1001\"}")),
            ("output.value", s("{\"status\": \"shipped\"}")),
        ]),
    );
    tool["events"] = json!([{"timeUnixNano": "1795720097400000000", "name": "gen_ai.evaluation.result",
        "attributes": attrs(&[("gen_ai.evaluation.name", s("answer_confidence")), ("gen_ai.evaluation.score.value", json!({"doubleValue": 0.41})), ("gen_ai.evaluation.explanation", s("below threshold"))])},
        {"timeUnixNano": "1795720097450000000", "name": "exception", "attributes": attrs(&[("exception.message", s("slow"))])}]);
    let (items, _) = read_bytes(&traces(vec![retriever, tool]), BodyFormat::Json);
    assert_eq!(
        kinds(&items),
        ["retrieval", "tool.call:Executed", "confidence.signal"]
    );
    let evs = events(&items);
    let EventKind::Retrieval {
        documents, query, ..
    } = &evs[0].kind
    else {
        panic!()
    };
    assert_eq!(query.as_deref(), Some("Where is my order?"));
    assert_eq!(documents[0].id.as_deref(), Some("kb-12"));
    assert_eq!(documents[0].version.as_deref(), Some("2026-10-01"));
    assert_eq!(documents[0].score, Some(0.91));
    assert_eq!(documents[1].id.as_deref(), Some("kb-40"));
    assert_eq!(
        evs[0].content.as_deref(),
        Some("Orders ship within 2 days.")
    );
    assert!(
        matches!(&evs[1].kind, EventKind::ToolCall { phase: ToolCallPhase::Executed, name: Some(n), arguments: Some(a), result: Some(r), .. }
        if n == "lookup_order" && a == &json!({"order_id": "A-1001"}) && r == &json!({"status": "shipped"}))
    );
    assert_eq!(
        evs[1].correlation.conversation_id.as_deref(),
        Some("conv-7f3a9c")
    );
    // Non-evaluation span events stay on the span's event.
    assert_eq!(
        evs[1]
            .attributes
            .get("otel.span.events")
            .and_then(|v| v[0].get("name")),
        Some(&json!("exception"))
    );
    assert!(
        matches!(&evs[2].kind, EventKind::ConfidenceSignal { name: Some(n), score: Some(sc), explanation: Some(x), .. }
        if n == "answer_confidence" && (*sc - 0.41).abs() < 1e-9 && x == "below threshold")
    );
    assert_eq!(evs[2].time_ns, 1_795_720_097_400_000_000);
}

/// A span with no recognised convention is kept as `other`, never dropped.
#[test]
fn unknown_spans_are_kept() {
    let (items, _) = read_bytes(
        &traces(vec![span(
            "6666666666666666",
            None,
            "GET /orders",
            attrs(&[("http.method", s("GET"))]),
        )]),
        BodyFormat::Json,
    );
    let evs = events(&items);
    assert!(
        matches!(&evs[0].kind, EventKind::Other { name, operation: None } if name == "GET /orders")
    );
    assert_eq!(evs[0].attributes.get("http.method"), Some(&json!("GET")));
    assert!(evs[0].source.conventions.is_empty());
}
