//! Azure AI Foundry's OpenTelemetry spans: the samples in `tests/data/azure-foundry/` (built from
//! the Azure SDK for Python's instrumentors and their tests' expected spans; see the data README)
//! and variations built here. Azure AI Inference records a chat call's messages, and Azure AI
//! Agents a thread's messages and a run's tool calls, as span events whose JSON body is in
//! `gen_ai.event.content`; a thread (`gen_ai.thread.id`) is the conversation.

use muster_ingest::{
    ActorRole, BodyFormat, Convention, EventKind, EvidenceEvent, KeyOrigin, ToolCallPhase,
};
use serde_json::{Value, json};

use crate::{events, kinds, quarantined, read, read_bytes};

const INFERENCE: &str = "azure-foundry/inference-chat-tool-call.json";
const AGENTS: &str = "azure-foundry/agents-thread-run-stream.json";

const SYSTEM: &str =
    "You are Acme's customer support agent. Look up orders with lookup_order before answering.";
const CUSTOMER: &str =
    "Hi, it's Jane Doe (jane@example.com, 07700 900123). Where is my order A-1001?";
const REPLY: &str =
    "Your order A-1001 has shipped with Royal Mail and should arrive by 28 November 2026.";
const RESULT: &str =
    r#"{"order_id": "A-1001", "status": "shipped", "carrier": "Royal Mail", "eta": "2026-11-28"}"#;

/// Seconds after the sample's base time, in ns.
fn at(base: i64, secs: f64) -> i64 {
    base + (secs * 1e9).round() as i64
}

const INFERENCE_T0: i64 = 1_795_723_300_000_000_000;
const AGENTS_T0: i64 = 1_795_723_200_000_000_000;

fn tool_phase(e: &EvidenceEvent) -> Option<ToolCallPhase> {
    match &e.kind {
        EventKind::ToolCall { phase, .. } => Some(*phase),
        _ => None,
    }
}

fn result() -> Value {
    serde_json::from_str(RESULT).unwrap()
}

#[test]
fn inference_chat_spans_give_the_model_calls_and_the_exchange() {
    let (items, stats) = read(INFERENCE);
    assert!(quarantined(&items).is_empty(), "{:?}", quarantined(&items));
    assert_eq!((stats.records, stats.records_mapped), (3, 3));
    assert_eq!(
        kinds(&items),
        [
            // chat 1: the customer asks, the model asks for the tool
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested",
            // chat 2: the history again, the tool's result, the answer
            "model.call",
            "prompt",
            "tool.call:Returned",
            "agent.message",
            // the application's own span around both
            "other",
        ]
    );
    let evs = events(&items);
    for e in &evs {
        assert_eq!(
            e.correlation.trace_id.as_deref(),
            Some("8e1d4c7b2a5f9e3d6c0b7a4f1e8d5c2b")
        );
        // Azure AI Inference knows no conversation.
        assert_eq!(e.correlation.conversation_id, None);
    }

    let call = evs[0];
    assert_eq!(call.source.conventions, [Convention::GenAiLegacy]);
    let scope = call.source.scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_deref()),
        (
            "azure.core.tracing.ext.opentelemetry_span",
            Some("1.0.0b11")
        )
    );
    assert_eq!(call.source.service.as_deref(), Some("support-agent"));
    let EventKind::ModelCall {
        operation,
        provider,
        request_model,
        response_model,
        response_id,
        parameters,
        usage,
        finish_reasons,
        error,
    } = &call.kind
    else {
        panic!("{:?}", call.kind)
    };
    assert_eq!(operation.as_deref(), Some("chat"));
    assert_eq!(provider.as_deref(), Some("az.ai.inference"));
    assert_eq!(request_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(response_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(response_id.as_deref(), Some("chatcmpl-fake0001"));
    assert_eq!(
        serde_json::to_value(parameters).unwrap(),
        json!({"max_tokens": 512, "temperature": 0.2})
    );
    assert_eq!(
        serde_json::to_value(usage).unwrap(),
        json!({"input_tokens": 96, "output_tokens": 19})
    );
    assert_eq!(finish_reasons, &["tool_calls"]);
    assert_eq!(error, &None);
    assert_eq!(call.actor.as_ref().map(|a| a.role), Some(ActorRole::Model));
    assert_eq!(
        (call.time_ns, call.end_time_ns, call.observed_ns),
        (
            at(INFERENCE_T0, 0.010),
            Some(at(INFERENCE_T0, 1.210)),
            at(INFERENCE_T0, 1.210)
        )
    );
    assert_eq!(
        call.attributes.get("server.address"),
        Some(&json!("example-resource.services.ai.azure.com"))
    );
    // The message events became events; they are not repeated as attributes.
    assert!(!call.attributes.contains_key("otel.span.events"));

    // The prompt holds the whole request; the customer's message is new in it.
    let EventKind::Prompt { messages, .. } = &evs[1].kind else {
        panic!("{:?}", evs[1].kind)
    };
    let roles: Vec<&str> = messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["system", "user"]);
    assert_eq!(messages[0].text.as_deref(), Some(SYSTEM));
    let customer = evs[2];
    assert_eq!(customer.content.as_deref(), Some(CUSTOMER));
    assert_eq!(customer.time_ns, at(INFERENCE_T0, 0.010));
    assert_eq!(
        customer.actor.as_ref().map(|a| a.role),
        Some(ActorRole::Customer)
    );

    // The model's tool call, from the `gen_ai.choice` event, when the call ended.
    let requested = evs[3];
    assert!(
        matches!(&requested.kind, EventKind::ToolCall { phase: ToolCallPhase::Requested, name: Some(n), arguments: Some(a), .. }
            if n == "lookup_order" && a == &json!({"order_id": "A-1001"})),
        "{:?}",
        requested.kind
    );
    assert_eq!(
        requested.correlation.tool_call_id.as_deref(),
        Some("call_fakeQ2n7Lw0")
    );
    assert_eq!(requested.time_ns, at(INFERENCE_T0, 1.210));

    // Chat 2 re-sends the history: only the tool's result after the assistant's turn is new.
    let EventKind::Prompt { messages, .. } = &evs[5].kind else {
        panic!("{:?}", evs[5].kind)
    };
    let roles: Vec<&str> = messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool"]);
    let returned = evs[6];
    assert!(
        matches!(&returned.kind, EventKind::ToolCall { phase: ToolCallPhase::Returned, name: Some(n), result: Some(r), .. }
            if n == "lookup_order" && r == &result()),
        "{:?}",
        returned.kind
    );
    assert_eq!(
        returned.correlation.tool_call_id.as_deref(),
        Some("call_fakeQ2n7Lw0")
    );
    assert_eq!(returned.time_ns, at(INFERENCE_T0, 1.300));

    let answer = evs[7];
    assert_eq!(answer.content.as_deref(), Some(REPLY));
    assert!(
        matches!(&answer.kind, EventKind::AgentMessage { finish_reason: Some(f) } if f == "stop")
    );
    assert_eq!(answer.time_ns, at(INFERENCE_T0, 3.100));
}

#[test]
fn agents_spans_give_the_thread_as_the_conversation_with_its_messages_and_tool_call() {
    let (items, stats) = read(AGENTS);
    assert!(quarantined(&items).is_empty(), "{:?}", quarantined(&items));
    assert_eq!((stats.records, stats.records_mapped), (8, 8));
    assert_eq!(
        kinds(&items),
        [
            // create_agent: the agent and its instructions
            "agent.invocation",
            "prompt",
            // create_thread
            "other",
            // create_message: the customer's message
            "other",
            "customer.message",
            // submit_tool_outputs
            "other",
            // process_thread_run: the run, the tool's result, the model's call, the answer
            "agent.invocation",
            "tool.call:Returned",
            "tool.call:Requested",
            "agent.message",
            // list_messages: the thread as listed afterwards, newest first
            "other",
            "agent.message",
            "customer.message",
            // the tool function (`@trace_function`), inside the run
            "other",
            // the application's own span
            "other",
        ]
    );
    let evs = events(&items);
    let span_of = |e: &EvidenceEvent| e.correlation.span_id.clone().unwrap();
    for e in &evs {
        assert_eq!(
            e.correlation.trace_id.as_deref(),
            Some("3f6c2a9e8d1b4c7a9e2f5d8b1c4a7e90")
        );
        let expected = match span_of(e).as_str() {
            // create_agent and the application's span belong to no thread.
            "b2c3d4e5f6071829" | "a1b2c3d4e5f60718" => None,
            // The tool function's span has no attributes of Foundry's: it inherits the run's.
            "f60718293a4b5c6d" => Some(KeyOrigin::Span {
                span_id: "e5f60718293a4b5c".to_owned(),
                key: "gen_ai.thread.id".to_owned(),
            }),
            _ => Some(KeyOrigin::Attribute {
                key: "gen_ai.thread.id".to_owned(),
            }),
        };
        assert_eq!(e.correlation.conversation_from, expected, "{:?}", e.kind);
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            expected.is_some().then_some("thread_fake7Qm2XkP9"),
            "{:?}",
            e.kind
        );
    }

    let agent = evs[0];
    assert!(
        matches!(&agent.kind, EventKind::AgentInvocation { agent_name: Some(n), agent_id: Some(id) }
            if n == "support-agent" && id == "asst_fakeR3v8LwN1"),
        "{:?}",
        agent.kind
    );
    assert_eq!(agent.source.conventions, [Convention::GenAiLegacy]);
    let EventKind::Prompt { messages, .. } = &evs[1].kind else {
        panic!("{:?}", evs[1].kind)
    };
    assert_eq!(messages[0].role, "system");
    assert_eq!(messages[0].text.as_deref(), Some(SYSTEM));
    assert_eq!(evs[1].time_ns, at(AGENTS_T0, 0.011));

    // The customer's message, at the time the SDK recorded it.
    let customer = evs[4];
    assert_eq!(customer.content.as_deref(), Some(CUSTOMER));
    assert_eq!(customer.time_ns, at(AGENTS_T0, 0.621));
    assert_eq!(
        customer.attributes.get("otel.event_name"),
        Some(&json!("gen_ai.user.message"))
    );
    assert!(!customer.attributes.contains_key("gen_ai.event.content"));

    // The run: an agent invocation without a name (the span's name is the operation's).
    let run = evs[6];
    assert!(
        matches!(&run.kind, EventKind::AgentInvocation { agent_name: None, agent_id: Some(id) }
            if id == "asst_fakeR3v8LwN1"),
        "{:?}",
        run.kind
    );
    assert_eq!(
        (run.time_ns, run.end_time_ns),
        (at(AGENTS_T0, 0.850), Some(at(AGENTS_T0, 6.900)))
    );
    for (k, v) in [
        ("gen_ai.thread.run.id", json!("run_fake5Hc0TyB4")),
        ("gen_ai.thread.run.status", json!("completed")),
        ("gen_ai.response.model", json!("gpt-4o-mini")),
        ("gen_ai.usage.input_tokens", json!(861)),
    ] {
        assert_eq!(run.attributes.get(k), Some(&v), "{k}");
    }
    assert!(!run.attributes.contains_key("otel.span.events"));

    // The tool's result is recorded when submitted, before the run step that asked for it is
    // reported; the id names the call either way.
    let returned = evs[7];
    assert!(
        matches!(&returned.kind, EventKind::ToolCall { phase: ToolCallPhase::Returned, name: Some(n), result: Some(r), .. }
            if n == "lookup_order" && r == &result()),
        "{:?}",
        returned.kind
    );
    assert_eq!(returned.content.as_deref(), Some(RESULT));
    assert_eq!(returned.time_ns, at(AGENTS_T0, 2.190));
    let requested = evs[8];
    assert!(
        matches!(&requested.kind, EventKind::ToolCall { phase: ToolCallPhase::Requested, name: Some(n), arguments: Some(a), .. }
            if n == "lookup_order" && a == &json!({"order_id": "A-1001"})),
        "{:?}",
        requested.kind
    );
    assert_eq!(requested.time_ns, at(AGENTS_T0, 2.530));
    assert_eq!(
        requested.attributes.get("gen_ai.run_step.start.timestamp"),
        Some(&json!("2026-11-26T20:00:01+00:00"))
    );
    for e in [returned, requested] {
        assert_eq!(
            e.correlation.tool_call_id.as_deref(),
            Some("call_fakeD9sK2mV6")
        );
    }

    let answer = evs[9];
    assert_eq!(answer.content.as_deref(), Some(REPLY));
    assert_eq!(answer.time_ns, at(AGENTS_T0, 6.880));
    assert_eq!(
        answer.actor.as_ref().map(|a| a.role),
        Some(ActorRole::Agent)
    );
    assert_eq!(
        answer.attributes.get("gen_ai.message.id"),
        Some(&json!("msg_fakeA5d6e7f8"))
    );

    // Listed messages carry their message ids, so the same message seen twice can be merged.
    let (listed_answer, listed_customer) = (evs[11], evs[12]);
    assert_eq!(listed_answer.content.as_deref(), Some(REPLY));
    assert_eq!(listed_customer.content.as_deref(), Some(CUSTOMER));
    assert_eq!(
        listed_customer.attributes.get("gen_ai.message.id"),
        Some(&json!("msg_fakeU1a2b3c4"))
    );
    assert_eq!(listed_customer.time_ns, at(AGENTS_T0, 7.291));

    // The tool function's span is kept, parameters and return value as attributes.
    let function = evs[13];
    assert!(matches!(&function.kind, EventKind::Other { name, .. } if name == "lookup_order"));
    assert_eq!(
        function.attributes.get("code.function.parameter.order_id"),
        Some(&json!("A-1001"))
    );
    assert_eq!(
        evs.iter().filter(|e| tool_phase(e).is_some()).count(),
        2,
        "one call requested and returned"
    );
}

// Variations built in code, in the instrumentors' shapes.

const TRACE: &str = "5d0c3b8a7f6e4d2c1b0a9f8e7d6c5b4a";

fn s(v: &str) -> Value {
    json!({ "stringValue": v })
}

fn attrs(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

fn event(name: &str, secs: u32, content: &Value, extra: &[(&str, Value)]) -> Value {
    let mut a = vec![("gen_ai.event.content", s(&content.to_string()))];
    a.extend(extra.iter().cloned());
    json!({"timeUnixNano": format!("17957233{secs:02}000000000"), "name": name, "attributes": attrs(&a)})
}

fn span(id: &str, parent: &str, op: &str, a: &[(&str, Value)], events: Vec<Value>) -> Value {
    let mut all = vec![("gen_ai.operation.name", s(op))];
    all.extend(a.iter().cloned());
    json!({"traceId": TRACE, "spanId": id, "parentSpanId": parent, "name": op, "kind": 3,
           "startTimeUnixNano": "1795723300000000000", "endTimeUnixNano": "1795723360000000000",
           "attributes": attrs(&all), "events": events})
}

fn body(spans: Vec<Value>) -> Vec<u8> {
    json!({"resourceSpans": [{"resource": {"attributes": attrs(&[("service.name", s("support-agent"))])},
        "scopeSpans": [{"scope": {"name": "azure.core.tracing.ext.opentelemetry_span"}, "spans": spans}]}]})
    .to_string()
    .into_bytes()
}

/// Content recording off (the default): bodies keep roles and call ids only. A built-in tool of
/// a listed run step is named by its type.
#[test]
fn agents_without_content_recording_still_give_the_messages_and_calls() {
    let thread = [("gen_ai.thread.id", s("thread_fake0001"))];
    let spans = vec![
        span(
            "1000000000000001",
            "",
            "create_message",
            &thread,
            vec![event(
                "gen_ai.user.message",
                1,
                &json!({"role": "user"}),
                &[],
            )],
        ),
        span(
            "1000000000000002",
            "",
            "process_thread_run",
            &thread,
            vec![
                event(
                    "gen_ai.tool.message",
                    2,
                    &json!({"content": "", "id": "call_fake0001"}),
                    &[],
                ),
                event(
                    "gen_ai.assistant.message",
                    3,
                    &json!({"tool_calls": [{"id": "call_fake0001", "type": "function"}]}),
                    &[],
                ),
                event(
                    "gen_ai.assistant.message",
                    4,
                    &json!({"role": "assistant"}),
                    &[],
                ),
            ],
        ),
        span(
            "1000000000000003",
            "",
            "list_run_steps",
            &thread,
            vec![
                event(
                    "gen_ai.run_step.tool_calls",
                    5,
                    &json!({"tool_calls": [{"id": "call_fake0002", "type": "code_interpreter",
                        "code_interpreter": {"input": "print(1)", "outputs": []}}]}),
                    &[("gen_ai.run_step.status", s("completed"))],
                ),
                // Not a message: it stays with the span.
                json!({"timeUnixNano": "1795723306000000000", "name": "gen_ai.run_step.message_creation",
                       "attributes": attrs(&[("gen_ai.message.id", s("msg_fake0001"))])}),
            ],
        ),
    ];
    let (items, _) = read_bytes(&body(spans), BodyFormat::Json);
    assert!(quarantined(&items).is_empty());
    assert_eq!(
        kinds(&items),
        [
            "other",
            "customer.message",
            "agent.invocation",
            "tool.call:Returned",
            "tool.call:Requested",
            "other",
            "tool.call:Requested",
        ]
    );
    let evs = events(&items);
    assert_eq!(evs[1].content, None);
    assert_eq!(evs[1].time_ns, 1_795_723_301_000_000_000);
    assert!(
        matches!(
            &evs[3].kind,
            EventKind::ToolCall {
                name: None,
                result: None,
                ..
            }
        ),
        "{:?}",
        evs[3].kind
    );
    assert!(
        matches!(
            &evs[4].kind,
            EventKind::ToolCall {
                name: None,
                arguments: None,
                ..
            }
        ),
        "{:?}",
        evs[4].kind
    );
    for e in &evs[3..5] {
        assert_eq!(e.correlation.tool_call_id.as_deref(), Some("call_fake0001"));
    }
    // An assistant message event without content is no agent message.
    assert!(
        evs.iter()
            .all(|e| !matches!(e.kind, EventKind::AgentMessage { .. }))
    );
    assert!(
        matches!(&evs[6].kind, EventKind::ToolCall { name: Some(n), arguments: Some(a), .. }
            if n == "code_interpreter" && a == &json!({"input": "print(1)", "outputs": []})),
        "{:?}",
        evs[6].kind
    );
    assert_eq!(
        evs[5].attributes.get("otel.span.events"),
        Some(
            &json!([{"name": "gen_ai.run_step.message_creation", "time_ns": 1_795_723_306_000_000_000_i64,
                      "attributes": {"gen_ai.message.id": "msg_fake0001"}}])
        )
    );
    for e in &evs {
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("thread_fake0001")
        );
    }
}

/// `azure-ai-projects`' Responses instrumentor in its message-event mode (a conversation id, and
/// bodies `{"content": [{"type": "text", …}]}`, `{"tool_calls": …}`, `{"tool_call_outputs": …}`).
#[test]
fn projects_responses_message_events() {
    let spans = vec![span(
        "2000000000000001",
        "",
        "responses",
        &[
            ("gen_ai.provider.name", s("azure.openai")),
            ("gen_ai.conversation.id", s("conv_fake0001")),
        ],
        vec![
            event(
                "gen_ai.user.message",
                1,
                &json!({"content": [{"type": "text", "text": "Where is A-1001?"}]}),
                &[("gen_ai.message.role", s("user"))],
            ),
            event(
                "gen_ai.assistant.message",
                2,
                &json!({"tool_calls": [{"type": "function", "id": "call_fake0003",
                    "function": {"name": "lookup_order", "arguments": "{\"order_id\": \"A-1001\"}"}}]}),
                &[],
            ),
            event(
                "gen_ai.tool.message",
                3,
                &json!({"tool_call_outputs": [{"type": "function", "id": "call_fake0003",
                    "output": {"status": "shipped"}}]}),
                &[],
            ),
            event(
                "gen_ai.assistant.message",
                4,
                &json!({"content": [{"type": "text", "text": "It shipped."}]}),
                &[],
            ),
        ],
    )];
    let (items, _) = read_bytes(&body(spans), BodyFormat::Json);
    assert_eq!(
        kinds(&items),
        [
            "other",
            "customer.message",
            "tool.call:Requested",
            "tool.call:Returned",
            "agent.message",
        ]
    );
    let evs = events(&items);
    assert_eq!(evs[0].source.conventions, [Convention::GenAi]);
    assert_eq!(evs[1].content.as_deref(), Some("Where is A-1001?"));
    assert!(
        matches!(&evs[3].kind, EventKind::ToolCall { name: Some(n), result: Some(r), .. }
            if n == "lookup_order" && r == &json!({"status": "shipped"})),
        "{:?}",
        evs[3].kind
    );
    assert_eq!(evs[4].content.as_deref(), Some("It shipped."));
    assert!(
        evs.iter()
            .all(|e| e.correlation.conversation_id.as_deref() == Some("conv_fake0001"))
    );
}

/// A log record naming its thread is in that conversation too.
#[test]
fn a_thread_id_on_a_log_record_is_its_conversation() {
    let body = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "timeUnixNano": "1795723300000000000", "body": s("run finished"),
        "attributes": attrs(&[("gen_ai.thread.id", s("thread_fake0002"))])}]}]}]})
    .to_string();
    let (items, _) = read_bytes(body.as_bytes(), BodyFormat::Json);
    let evs = events(&items);
    assert_eq!(
        evs[0].correlation.conversation_id.as_deref(),
        Some("thread_fake0002")
    );
    assert_eq!(
        evs[0].correlation.conversation_from,
        Some(KeyOrigin::Attribute {
            key: "gen_ai.thread.id".to_owned()
        })
    );
}
