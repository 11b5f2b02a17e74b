//! Amazon Bedrock model-invocation logs, with a guardrail intervention.

use muster_ingest::{EventKind, bedrock, time};

use crate::{check_accounting, data, events, kinds, quarantined};

#[test]
fn converse_logs_with_guardrail_assessment() {
    let body = data("bedrock/model-invocation-logs.jsonl");
    let mut reader = bedrock::read_lines(body.as_slice(), "bedrock.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    let k = kinds(&items);
    assert_eq!(
        k,
        [
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested",
            "model.call",
            "prompt",
            "tool.call:Returned",
            "customer.message",
            "agent.message",
            "confidence.signal",
            "control.action"
        ]
    );
    let evs = events(&items);
    assert!(
        evs.iter()
            .all(|e| e.correlation.conversation_id.as_deref() == Some("conv-7f3a9c"))
    );
    assert_eq!(evs[0].source.system, "aws.bedrock");
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2026-11-26T19:08:52.000000000Z"
    );
    let EventKind::ModelCall {
        request_model,
        usage,
        parameters,
        ..
    } = &evs[0].kind
    else {
        panic!()
    };
    assert_eq!(
        request_model.as_deref(),
        Some("anthropic.claude-3-haiku-20240307-v1:0")
    );
    assert_eq!(usage["input_tokens"], 35);
    assert_eq!(parameters["temperature"], 0.2);
    assert_eq!(
        evs[3].correlation.tool_call_id.as_deref(),
        Some("tooluse_fake0040")
    );
    assert_eq!(
        evs[6].correlation.tool_call_id.as_deref(),
        Some("tooluse_fake0040")
    );
    let EventKind::ConfidenceSignal {
        name,
        label,
        explanation,
        ..
    } = &evs[9].kind
    else {
        panic!()
    };
    assert_eq!(
        name.as_deref(),
        Some("bedrock.guardrail.contentPolicy.INSULTS")
    );
    assert_eq!(label.as_deref(), Some("BLOCKED"));
    assert_eq!(explanation.as_deref(), Some("confidence HIGH"));
    let EventKind::ControlAction { action, .. } = &evs[10].kind else {
        panic!()
    };
    assert_eq!(action.as_deref(), Some("intervened"));
}

#[test]
fn malformed_invocation_logs() {
    let text = "{\"schemaType\":\"Other\"}\n{\"schemaType\":\"ModelInvocationLog\"}\n[]\n{\"timestamp\":\"2026-11-26T19:08:52Z\",\"modelId\":\"m\",\"input\":{\"inputBodyJson\":{\"prompt\":\"hi\"}}}\n";
    let mut reader = bedrock::read_lines(text.as_bytes(), "t");
    let items: Vec<_> = reader.by_ref().collect();
    check_accounting(&items, &reader.stats());
    let q = quarantined(&items);
    assert_eq!(q.len(), 3);
    assert!(q[0].reason.contains("schemaType"));
    assert!(q[1].reason.contains("timestamp"));
    // A model-native body muster does not parse is kept whole as the prompt's input.
    assert_eq!(kinds(&items), ["model.call", "prompt"]);
}
