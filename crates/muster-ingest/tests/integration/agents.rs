//! The OpenAI Agents SDK reader on the captured `/v1/traces/ingest` body (openai-agents 0.24.0).

use muster_ingest::{ActorRole, EventKind, ToolCallPhase, openai_agents, time};

use crate::{check_accounting, data, events, kinds, quarantined};

const FIXTURE: &str = "openai-agents/traces-ingest-chat-handoff.json";

#[test]
fn handoff_trace_maps_every_span() {
    let (items, stats) = openai_agents::read_body(FIXTURE, &data(FIXTURE));
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    // One trace and nine spans.
    assert_eq!(stats.records, 10);
    let evs = events(&items);
    // Every event carries the trace's keys: group_id is the conversation, metadata the customer.
    for e in &evs {
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c")
        );
        assert_eq!(e.correlation.customer_ref.as_deref(), Some("cus_123"));
        assert_eq!(
            e.correlation.trace_id.as_deref(),
            Some("0a94c6773f0b4ce5855f42fbc5acf700")
        );
        assert_eq!(e.source.system, "openai-agents");
    }
    let k = kinds(&items);
    assert_eq!(k[0], "other", "the trace itself");
    assert!(k.contains(&"confidence.signal".to_owned()));
    assert!(k.contains(&"escalation.decision".to_owned()));
    assert!(k.contains(&"agent.invocation".to_owned()));
    assert!(k.contains(&"tool.call:Requested".to_owned()));
    assert!(k.contains(&"tool.call:Returned".to_owned()));
}

#[test]
fn handoff_tool_call_inside_generation_span() {
    let (items, _) = openai_agents::read_body(FIXTURE, &data(FIXTURE));
    let evs = events(&items);
    let requested = evs
        .iter()
        .find(|e| {
            matches!(
                &e.kind,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Requested,
                    ..
                }
            )
        })
        .expect("the transfer tool call");
    let EventKind::ToolCall {
        name, arguments, ..
    } = &requested.kind
    else {
        unreachable!()
    };
    assert_eq!(name.as_deref(), Some("transfer_to_escalationagent"));
    assert_eq!(arguments.as_ref().unwrap()["order_id"], "A-1001");
    assert_eq!(
        requested.correlation.tool_call_id.as_deref(),
        Some("call_fake0014")
    );
    assert_eq!(requested.attributes["handoff"], true);
    assert_eq!(
        requested.correlation.span_id.as_deref(),
        Some("span_0b7d692b171548028bcd93a8")
    );
    // The generation ended at 19:08:53.201224; the request is timed at the model's answer.
    assert_eq!(
        time::format_rfc3339(requested.time_ns),
        "2026-11-26T19:08:53.201224000Z"
    );
    // The handoff span: TriageAgent → EscalationAgent.
    let handoff = evs
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::EscalationDecision {
                decision, from, to, ..
            } => Some((decision, from, to)),
            _ => None,
        })
        .unwrap();
    assert_eq!(handoff.0.as_deref(), Some("handoff"));
    assert_eq!(handoff.1.as_deref(), Some("TriageAgent"));
    assert_eq!(handoff.2.as_deref(), Some("EscalationAgent"));
    // The tool result handed back in the second generation links by the same call id.
    let returned = evs
        .iter()
        .find(|e| {
            matches!(
                &e.kind,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Returned,
                    ..
                }
            )
        })
        .unwrap();
    assert_eq!(
        returned.correlation.tool_call_id.as_deref(),
        Some("call_fake0014")
    );
}

#[test]
fn customer_and_agent_messages_model_calls_and_guardrail() {
    let (items, _) = openai_agents::read_body(FIXTURE, &data(FIXTURE));
    let evs = events(&items);
    let customer: Vec<_> = evs
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CustomerMessage { .. }))
        .collect();
    // The question is new only in the first generation's prompt.
    assert_eq!(customer.len(), 1);
    assert_eq!(
        customer[0].content.as_deref(),
        Some("Where is my order A-1001?")
    );
    assert_eq!(
        customer[0].actor.as_ref().unwrap().role,
        ActorRole::Customer
    );
    let reply = evs
        .iter()
        .find(|e| matches!(e.kind, EventKind::AgentMessage { .. }))
        .unwrap();
    assert!(
        reply
            .content
            .as_deref()
            .unwrap()
            .starts_with("Your order A-1001 shipped")
    );
    let models: Vec<_> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ModelCall {
                request_model,
                usage,
                ..
            } => Some((request_model, usage)),
            _ => None,
        })
        .collect();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].0.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(models[0].1["input_tokens"], 42);
    let guard = evs
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::ConfidenceSignal { name, label, .. } => Some((name, label, e)),
            _ => None,
        })
        .unwrap();
    assert_eq!(guard.0.as_deref(), Some("pii_guard"));
    assert_eq!(guard.1.as_deref(), Some("passed"));
    assert_eq!(
        time::format_rfc3339(guard.2.time_ns),
        "2026-11-26T19:08:52.887005000Z"
    );
    assert_eq!(
        guard.2.end_time_ns.map(time::format_rfc3339).as_deref(),
        Some("2026-11-26T19:08:52.887027000Z")
    );
    let agents: Vec<_> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AgentInvocation { agent_name, .. } => agent_name.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(agents, ["TriageAgent", "EscalationAgent"]);
}

#[test]
fn malformed_spans_are_quarantined_alone() {
    let body = br#"{"data":[
        {"object":"trace","id":"trace_0a94c6773f0b4ce5855f42fbc5acf700","group_id":"g1"},
        {"object":"trace.span","id":"span_1","trace_id":"trace_0a94c6773f0b4ce5855f42fbc5acf700","started_at":"yesterday","span_data":{"type":"agent","name":"A"}},
        {"object":"trace.span","id":"span_2","trace_id":"trace_0a94c6773f0b4ce5855f42fbc5acf700","started_at":"2026-11-26T19:08:52.887005+00:00","span_data":"agent"},
        {"object":"trace.span","id":"span_3","trace_id":"trace_0a94c6773f0b4ce5855f42fbc5acf700","span_data":{"type":"agent"}},
        42,
        {"object":"trace.span","id":"span_4","trace_id":"trace_0a94c6773f0b4ce5855f42fbc5acf700","started_at":"2026-11-26T19:08:52.887005+00:00","span_data":{"type":"function","name":"lookup_order","input":"{\"order_id\":\"A-1001\"}","output":"shipped"},"error":{"message":"timeout","data":null}}
    ]}"#;
    let (items, stats) = openai_agents::read_body("t", body);
    check_accounting(&items, &stats);
    assert_eq!(stats.records, 6);
    assert_eq!(stats.records_quarantined, 4);
    let q = quarantined(&items);
    assert!(q[0].reason.contains("started_at"), "{}", q[0].reason);
    assert_eq!(q[0].pointer.record.as_deref(), Some("/data/1"));
    assert!(q[1].reason.contains("span_data"));
    assert!(q[2].reason.contains("neither"));
    let evs = events(&items);
    let EventKind::ToolCall {
        arguments,
        result,
        error,
        ..
    } = &evs.last().unwrap().kind
    else {
        panic!("{:?}", evs.last())
    };
    assert_eq!(arguments.as_ref().unwrap()["order_id"], "A-1001");
    assert_eq!(result.as_ref().unwrap(), "shipped");
    assert_eq!(error.as_deref(), Some("timeout"));
    assert_eq!(
        evs.last().unwrap().correlation.conversation_id.as_deref(),
        Some("g1")
    );

    for bad in [&b"not json"[..], b"{\"nodata\":1}", b"7"] {
        let (items, stats) = openai_agents::read_body("t", bad);
        check_accounting(&items, &stats);
        assert_eq!(stats.bodies_quarantined, 1);
        assert_eq!(items.len(), 1);
    }
}

#[test]
fn keys_carry_to_spans_in_later_bodies() {
    let mut reader = openai_agents::AgentsReader::new("t");
    reader.read_body(
        br#"{"data":[{"object":"trace","id":"trace_x","group_id":"conv-1","metadata":{"user_id":"u9"}}]}"#,
        Default::default(),
    );
    let items = reader.read_body(
        br#"{"data":[{"object":"trace.span","id":"span_a","trace_id":"trace_x","started_at":"2026-11-26T19:08:52Z","span_data":{"type":"handoff","from_agent":"A","to_agent":"B"}}]}"#,
        Default::default(),
    );
    let e = items[0].event().unwrap();
    assert_eq!(e.correlation.conversation_id.as_deref(), Some("conv-1"));
    assert_eq!(e.correlation.customer_ref.as_deref(), Some("u9"));
    assert_eq!(reader.stats().records, 2);
    assert_eq!(reader.stats().bodies, 2);
}

#[test]
fn json_lines_of_bodies_carry_keys() {
    let text = concat!(
        r#"{"data":[{"object":"trace","id":"trace_x","group_id":"conv-1"}]}"#,
        "\n\n",
        r#"{"data":[{"object":"trace.span","id":"span_a","trace_id":"trace_x","started_at":"2026-11-26T19:08:52Z","span_data":{"type":"handoff","from_agent":"A","to_agent":"B"}}]}"#,
        "\nnot json\n"
    );
    let mut reader = openai_agents::read_lines(text.as_bytes(), "dump.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    let e = events(&items)[0];
    assert_eq!(e.correlation.conversation_id.as_deref(), Some("conv-1"));
    assert_eq!(e.raw.line, Some(3));
    assert_eq!(
        (stats.bodies, stats.bodies_quarantined, stats.records),
        (3, 1, 2)
    );
}
