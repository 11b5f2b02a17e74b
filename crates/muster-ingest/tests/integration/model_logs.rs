//! Model request/response logs: Chat Completions, Responses and Anthropic Messages pairs.

use muster_ingest::{EventKind, ToolCallPhase, model_logs, time};

use crate::{check_accounting, data, events, kinds, quarantined};

#[test]
fn pairs_of_three_apis() {
    let body = data("model-logs/pairs.jsonl");
    let mut reader = model_logs::read_lines(body.as_slice(), "pairs.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    assert_eq!((stats.bodies, stats.records), (3, 3));
    let evs = events(&items);
    let lines: Vec<_> = evs.iter().map(|e| e.raw.line.unwrap()).collect();
    // Chat: model call, prompt, the question, the requested tool call.
    assert_eq!(
        &kinds(&items)[..4],
        [
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested"
        ]
    );
    assert_eq!(evs[0].source.system, "openai");
    assert_eq!(
        evs[0].correlation.conversation_id.as_deref(),
        Some("conv-7f3a9c")
    );
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2024-11-04T00:28:38.120000000Z"
    );
    let EventKind::ModelCall {
        response_model,
        usage,
        parameters,
        finish_reasons,
        ..
    } = &evs[0].kind
    else {
        panic!()
    };
    assert_eq!(response_model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(usage["total_tokens"], 126);
    assert_eq!(parameters["temperature"], 0.2);
    assert_eq!(finish_reasons, &["tool_calls"]);
    let EventKind::ToolCall {
        name, arguments, ..
    } = &evs[3].kind
    else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("get_current_weather"));
    assert_eq!(arguments.as_ref().unwrap()["location"], "Seattle, WA");
    assert_eq!(
        evs[3].correlation.tool_call_id.as_deref(),
        Some("call_6YvurIMPOgMo2q6V6KGJDA6g")
    );

    // Responses: timed by `created_at` (epoch s), the tool output handed back, the reply.
    let resp: Vec<_> = evs.iter().filter(|e| e.raw.line == Some(2)).collect();
    assert_eq!(
        time::format_rfc3339(resp[0].time_ns),
        "2026-11-26T19:08:22.000000000Z"
    );
    assert_eq!(
        resp[0].correlation.conversation_id.as_deref(),
        Some("conv_7f3a9c")
    );
    assert!(resp.iter().any(|e| matches!(
        &e.kind,
        EventKind::ToolCall {
            phase: ToolCallPhase::Returned,
            ..
        }
    ) && e.correlation.tool_call_id.as_deref()
        == Some("call_fake0020")));
    assert_eq!(
        resp.last().unwrap().content.as_deref(),
        Some("Your order A-1001 has shipped.")
    );

    // Anthropic: a float epoch-seconds timestamp, tool_result blocks, metadata.user_id.
    let anth: Vec<_> = evs.iter().filter(|e| e.raw.line == Some(3)).collect();
    assert_eq!(anth[0].source.system, "anthropic");
    assert_eq!(
        time::format_rfc3339(anth[0].time_ns),
        "2026-11-26T19:08:23.250000000Z"
    );
    assert_eq!(anth[0].correlation.customer_ref.as_deref(), Some("cus_123"));
    assert!(
        anth.iter()
            .any(|e| e.correlation.tool_call_id.as_deref() == Some("toolu_fake0030"))
    );
    let EventKind::AgentMessage { finish_reason } = &anth.last().unwrap().kind else {
        panic!()
    };
    assert_eq!(finish_reason.as_deref(), Some("end_turn"));
    assert!(lines.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn malformed_pairs_are_quarantined() {
    let text = "{\"request\":{}}\nnot json\n\n{\"request\":{\"messages\":[]},\"response\":{\"content\":[]}}\n[1]\n";
    let mut reader = model_logs::read_lines(text.as_bytes(), "t").max_line(1 << 20);
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    let q = quarantined(&items);
    assert_eq!(q.len(), 4);
    assert!(q[0].reason.contains("request"));
    assert_eq!(q[1].pointer.line, Some(2));
    assert!(q[2].reason.contains("no time"), "{}", q[2].reason);
    assert_eq!(q[3].pointer.line, Some(5));
    let mut reader = model_logs::read_lines(&b"{\"a\":\"0123456789\"}\n"[..], "t").max_line(5);
    let items: Vec<_> = reader.by_ref().collect();
    assert!(quarantined(&items)[0].reason.contains("exceeds"));
}
