//! The Langfuse public-API reader on Langfuse's documented `/api/public/v2/observations` sample
//! response and on schema-built trace, trace-page and observation-page bodies
//! (`tests/data/README.md` says which is which).

use muster_ingest::{
    ActorRole, EventKind, EvidenceEvent, KeyOrigin, ToolCallPhase, langfuse, time,
};
use serde_json::Value;

use crate::{check_accounting, data, events, kinds, quarantined};

const V2_SAMPLE: &str = "langfuse/observations-v2-sample.json";
const TRACE: &str = "langfuse/trace-full-details.json";
const TRACES_PAGE: &str = "langfuse/traces-list.json";
const OBSERVATIONS_PAGE: &str = "langfuse/observations-v1.json";
const T1: &str = "cda9b61e55ddf90373b055009e8e7e8e";
const T2: &str = "5e2a9c7d1b3f48a6b0c4d8e2f6a1b3c5";

fn read(name: &str) -> (Vec<muster_ingest::Item>, muster_ingest::ReadStats) {
    let (items, stats) = langfuse::read_body(name, &data(name));
    check_accounting(&items, &stats);
    (items, stats)
}

fn rfc3339(e: &EvidenceEvent) -> String {
    time::format_rfc3339(e.time_ns)
}

/// One JSON document on one line, for building JSON Lines from the samples.
fn one_line(name: &str) -> String {
    let v: Value = serde_json::from_slice(&data(name)).unwrap();
    v.to_string()
}

#[test]
fn documented_v2_observations_sample() {
    let (items, stats) = read(V2_SAMPLE);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    assert_eq!((stats.bodies, stats.records, stats.events), (1, 1, 4));
    assert_eq!(
        kinds(&items),
        ["model.call", "prompt", "customer.message", "agent.message"]
    );
    let evs = events(&items);
    for e in &evs {
        assert_eq!(e.source.system, "langfuse");
        assert_eq!(e.source.format, "langfuse-api-json");
        // v2 observations carry their trace's session; the empty `userId` is no customer.
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("support-chat-session")
        );
        assert_eq!(
            e.correlation.conversation_from,
            Some(KeyOrigin::Attribute {
                key: "sessionId".to_owned()
            })
        );
        assert_eq!(e.correlation.customer_ref, None);
        // Not hex: kept as Langfuse wrote them.
        assert_eq!(
            e.correlation.trace_id.as_deref(),
            Some("support-chat-7-950dc53a")
        );
        assert_eq!(
            e.correlation.span_id.as_deref(),
            Some("support-chat-7-950dc53a-gen")
        );
        assert_eq!(e.correlation.parent_span_id, None);
        assert_eq!(e.raw.record.as_deref(), Some("/data/0"));
    }
    assert_eq!(rfc3339(evs[0]), "2025-12-17T16:09:00.875000000Z");
    assert_eq!(
        evs[0].end_time_ns.map(time::format_rfc3339).as_deref(),
        Some("2025-12-17T16:09:01.456000000Z")
    );
    let EventKind::ModelCall {
        operation,
        request_model,
        parameters,
        usage,
        ..
    } = &evs[0].kind
    else {
        panic!("{:?}", evs[0].kind)
    };
    assert_eq!(operation.as_deref(), Some("chat"));
    assert_eq!(request_model.as_deref(), Some("gpt-4o"));
    assert_eq!(parameters["temperature"], 0.2);
    assert_eq!(usage["input_tokens"], 98);
    assert_eq!(usage["output_tokens"], 68);
    assert_eq!(usage["total_tokens"], 166);
    // Input and output are JSON strings in v2: parsed, not repeated as attributes.
    assert!(!evs[0].attributes.contains_key("input"));
    assert_eq!(evs[0].attributes["costDetails"]["total"], 0.00083);
    assert_eq!(evs[2].content.as_deref(), Some("Perfect."));
    assert_eq!(
        evs[3].content.as_deref(),
        Some("You're all set. Have a great day!")
    );
    // The reply is timed at the generation's end.
    assert_eq!(rfc3339(evs[3]), "2025-12-17T16:09:01.456000000Z");
    insta::assert_json_snapshot!("langfuse_v2_sample", evs);
}

#[test]
fn trace_with_full_details_maps_every_observation_and_score() {
    let (items, stats) = read(TRACE);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    // The trace, its eight observations and two scores.
    assert_eq!(stats.records, 11);
    assert_eq!(
        kinds(&items),
        [
            // trace: the turn, its raw input and its answer
            "agent.invocation",
            "prompt",
            "agent.message",
            // AGENT
            "agent.invocation",
            // GUARDRAIL (DEFAULT)
            "confidence.signal",
            // RETRIEVER
            "retrieval",
            // GENERATION asking for a tool
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested",
            // TOOL
            "tool.call:Executed",
            // GENERATION with the tool's result
            "model.call",
            "prompt",
            "tool.call:Returned",
            "agent.message",
            // GUARDRAIL (WARNING)
            "confidence.signal",
            "control.action",
            // EVENT
            "other",
            // scores
            "confidence.signal",
            "confidence.signal",
        ]
    );
    let evs = events(&items);
    for e in &evs {
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c")
        );
        assert_eq!(e.correlation.customer_ref.as_deref(), Some("cus_123"));
        assert_eq!(e.correlation.trace_id.as_deref(), Some(T1));
    }
    // The trace's own keys are attributes of it; its observations' come from the trace.
    assert_eq!(
        evs[0].correlation.conversation_from,
        Some(KeyOrigin::Attribute {
            key: "sessionId".to_owned()
        })
    );
    assert_eq!(
        evs[3].correlation.customer_from,
        Some(KeyOrigin::Attribute {
            key: "trace.userId".to_owned()
        })
    );
    assert_eq!(evs[0].raw.record, None);
    assert_eq!(evs[3].raw.record.as_deref(), Some("/observations/0"));
    assert_eq!(evs[18].raw.record.as_deref(), Some("/scores/0"));

    // The trace: its input is a plain string (kept as the prompt's input), its output the
    // answer, timed at the end its latency gives.
    assert_eq!(rfc3339(evs[0]), "2026-11-26T19:10:33.100000000Z");
    let EventKind::Prompt { input, messages } = &evs[1].kind else {
        panic!()
    };
    assert!(messages.is_empty());
    assert_eq!(input.as_ref().unwrap(), "Where is my order A-1001?");
    assert_eq!(rfc3339(evs[2]), "2026-11-26T19:10:35.900000000Z");
    assert!(
        evs[2]
            .content
            .as_deref()
            .unwrap()
            .starts_with("Your order A-1001 shipped")
    );
    assert_eq!(evs[0].attributes["tags"][0], "support");
    assert!(!evs[0].attributes.contains_key("observations"));

    // The tree: every observation under the agent.
    assert_eq!(
        evs[3].correlation.span_id.as_deref(),
        Some("6bcf6ca6a86e9a64")
    );
    for e in &evs[4..18] {
        assert_eq!(
            e.correlation.parent_span_id.as_deref(),
            Some("6bcf6ca6a86e9a64"),
            "{:?}",
            e.kind
        );
    }

    // Guardrail that passed.
    let EventKind::ConfidenceSignal { name, label, .. } = &evs[4].kind else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("pii-input-check"));
    assert_eq!(label.as_deref(), Some("passed"));

    // Retrieval with its document and version.
    let EventKind::Retrieval {
        data_source,
        query,
        documents,
    } = &evs[5].kind
    else {
        panic!()
    };
    assert_eq!(data_source.as_deref(), Some("kb_search"));
    assert_eq!(query.as_deref(), Some("Where is my order A-1001?"));
    assert_eq!(documents[0].id.as_deref(), Some("kb-12"));
    assert_eq!(documents[0].version.as_deref(), Some("3"));
    assert_eq!(documents[0].score, Some(0.82));
    assert_eq!(
        evs[5].content.as_deref(),
        Some("Orders ship within 2 days.")
    );

    // The first generation: model, parameters, usage; the customer's question; the tool call.
    let EventKind::ModelCall {
        request_model,
        parameters,
        usage,
        ..
    } = &evs[6].kind
    else {
        panic!()
    };
    assert_eq!(request_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(parameters["max_tokens"], 256);
    assert_eq!(usage["input_tokens"], 42);
    assert_eq!(evs[6].actor.as_ref().unwrap().role, ActorRole::Model);
    assert_eq!(evs[8].content.as_deref(), Some("Where is my order A-1001?"));
    assert_eq!(
        evs[8].actor.as_ref().unwrap().id.as_deref(),
        Some("cus_123")
    );
    // The requested call, the tool's execution and the result handed back share one call id.
    for i in [9, 10, 13] {
        assert_eq!(
            evs[i].correlation.tool_call_id.as_deref(),
            Some("call_fake0042"),
            "{i}"
        );
    }
    let EventKind::ToolCall {
        phase: ToolCallPhase::Executed,
        name,
        arguments,
        result,
        error,
    } = &evs[10].kind
    else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("lookup_order"));
    assert_eq!(arguments.as_ref().unwrap()["order_id"], "A-1001");
    assert_eq!(result.as_ref().unwrap()["status"], "shipped");
    assert_eq!(error, &None);
    assert_eq!(rfc3339(evs[14]), "2026-11-26T19:10:35.610000000Z");
    assert!(evs[14].content.as_deref().unwrap().contains("2 November"));

    // The guardrail that flagged the answer: a signal and a control acting.
    let EventKind::ConfidenceSignal {
        name,
        score,
        label,
        explanation,
    } = &evs[15].kind
    else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("answer-confidence"));
    assert_eq!(*score, Some(0.41));
    assert_eq!(label.as_deref(), Some("triggered"));
    assert_eq!(explanation.as_deref(), Some("low confidence"));
    let EventKind::ControlAction {
        control,
        action,
        outcome,
    } = &evs[16].kind
    else {
        panic!()
    };
    assert_eq!(control.as_deref(), Some("answer-confidence"));
    assert_eq!(action.as_deref(), Some("guardrail"));
    assert_eq!(outcome.as_deref(), Some("low confidence"));

    // An EVENT is kept as `other`, with no end.
    let EventKind::Other { name, operation } = &evs[17].kind else {
        panic!()
    };
    assert_eq!(
        (name.as_str(), operation.as_deref()),
        ("handover_offered", Some("event"))
    );
    assert_eq!(evs[17].end_time_ns, None);

    // Scores: numeric, on the second generation; categorical by a reviewer.
    let EventKind::ConfidenceSignal {
        name,
        score,
        explanation,
        ..
    } = &evs[18].kind
    else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("answer_confidence"));
    assert_eq!(*score, Some(0.41));
    assert_eq!(explanation.as_deref(), Some("below threshold"));
    assert_eq!(
        evs[18].correlation.span_id.as_deref(),
        Some("79fbee467bce7e23")
    );
    assert_eq!(rfc3339(evs[18]), "2026-11-26T19:10:35.802000000Z");
    let EventKind::ConfidenceSignal { score, label, .. } = &evs[19].kind else {
        panic!()
    };
    assert_eq!(*score, None);
    assert_eq!(label.as_deref(), Some("unhelpful"));
    let actor = evs[19].actor.as_ref().unwrap();
    assert_eq!(
        (actor.role, actor.id.as_deref()),
        (ActorRole::Staff, Some("user_reviewer_7"))
    );
}

#[test]
fn pages_as_json_lines_carry_trace_keys_to_v1_observations() {
    // A trace page, then the second trace's observations (v1 has no session or user), as an
    // export streamed line by line.
    let text = format!(
        "{}\n\n{}\n",
        one_line(TRACES_PAGE),
        one_line(OBSERVATIONS_PAGE)
    );
    let mut reader = langfuse::read_lines(text.as_bytes(), "export.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    assert_eq!((stats.bodies, stats.records), (2, 4));
    assert_eq!(
        kinds(&items),
        [
            "agent.invocation",
            "prompt",
            "agent.message",
            "agent.invocation",
            "prompt",
            "agent.message",
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested",
            "tool.call:Executed",
            "confidence.signal",
        ]
    );
    let evs = events(&items);
    // A trace page lists observation and score ids: attributes of the trace, not records.
    assert_eq!(
        evs[0].attributes["observations"].as_array().unwrap().len(),
        8
    );
    assert_eq!(evs[0].raw.record.as_deref(), Some("/data/0"));
    assert_eq!(evs[0].raw.line, Some(1));
    assert_eq!(evs[3].correlation.trace_id.as_deref(), Some(T2));
    for e in &evs[6..] {
        assert_eq!(e.raw.line, Some(3));
        assert_eq!(e.correlation.trace_id.as_deref(), Some(T2));
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c")
        );
        assert_eq!(
            e.correlation.conversation_from,
            Some(KeyOrigin::Attribute {
                key: "trace.sessionId".to_owned()
            })
        );
        assert_eq!(e.correlation.customer_ref.as_deref(), Some("cus_123"));
    }
    assert_eq!(rfc3339(evs[8]), "2026-11-26T19:13:40.520000000Z");
    assert_eq!(
        evs[8].content.as_deref(),
        Some("Can I talk to a person, please?")
    );
    // The failed tool: its error, and the level as a signal of its own.
    let EventKind::ToolCall { error, name, .. } = &evs[10].kind else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("create_ticket"));
    assert_eq!(error.as_deref(), Some("helpdesk timeout after 1000 ms"));
    assert_eq!(
        evs[10].correlation.tool_call_id.as_deref(),
        Some("call_fake0043")
    );
    assert_eq!(
        evs[10].correlation.parent_span_id.as_deref(),
        Some("f0e1d2c3b4a59687")
    );
    let EventKind::ConfidenceSignal {
        name,
        label,
        explanation,
        ..
    } = &evs[11].kind
    else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("langfuse.level"));
    assert_eq!(label.as_deref(), Some("ERROR"));
    assert_eq!(
        explanation.as_deref(),
        Some("helpdesk timeout after 1000 ms")
    );

    // Read alone, the v1 observations have only their trace id: correlation links them.
    let (items, _) = read(OBSERVATIONS_PAGE);
    for e in events(&items) {
        assert_eq!(e.correlation.trace_id.as_deref(), Some(T2));
        assert_eq!(e.correlation.conversation_id, None);
    }
}

#[test]
fn malformed_records_are_quarantined_and_their_neighbours_kept() {
    let body = br#"{"data": [
        {"id": "a1", "traceId": "t1", "type": "TOOL", "name": "ok", "startTime": "2026-11-26T19:10:33Z"},
        {"id": "a2", "traceId": "t1", "type": "SPAN", "name": "no start"},
        42,
        {"id": "a3", "traceId": "t1", "type": "SPAN", "startTime": "soon"},
        {"foo": 1},
        {"id": "s1", "traceId": "t1", "name": "x", "value": 1, "dataType": "NUMERIC"},
        {"id": "a4", "traceId": "t1", "type": "CHAIN", "name": "kept", "startTime": "2026-11-26T19:10:34Z"}
    ], "meta": {}}"#;
    let (items, stats) = langfuse::read_body("page.json", body);
    check_accounting(&items, &stats);
    assert_eq!((stats.records, stats.records_quarantined), (7, 5));
    assert_eq!(kinds(&items), ["tool.call:Executed", "other"]);
    let q = quarantined(&items);
    let reasons: Vec<(&str, &str)> = q
        .iter()
        .map(|q| (q.pointer.record.as_deref().unwrap(), q.reason.as_str()))
        .collect();
    assert_eq!(
        reasons[0],
        ("/data/1", "an observation without `startTime`")
    );
    assert_eq!(reasons[1], ("/data/2", "an entry is not a JSON object"));
    assert_eq!(reasons[2].0, "/data/3");
    assert!(reasons[2].1.starts_with("`startTime`:"), "{}", reasons[2].1);
    assert_eq!(reasons[3].0, "/data/4");
    assert!(
        reasons[3].1.starts_with("neither a trace"),
        "{}",
        reasons[3].1
    );
    assert_eq!(reasons[4], ("/data/5", "a score without `timestamp`"));
    assert!(q[0].raw_excerpt.contains("no start"));

    // A bad observation inside a trace costs only itself; the trace and the rest are kept.
    let mut trace: Value = serde_json::from_slice(&data(TRACE)).unwrap();
    trace["observations"][2]["startTime"] = Value::from("not a time");
    trace["observations"][4] = Value::from("gone");
    let (items, stats) = langfuse::read_body("t.json", trace.to_string().as_bytes());
    check_accounting(&items, &stats);
    assert_eq!((stats.records, stats.records_quarantined), (11, 2));
    let q = quarantined(&items);
    assert_eq!(q[0].pointer.record.as_deref(), Some("/observations/2"));
    assert_eq!(q[1].pointer.record.as_deref(), Some("/observations/4"));
    assert_eq!(stats.events, 20 - 2);

    // Whole bodies that are not Langfuse's.
    for (body, reason) in [
        (&b"{\"data\": "[..], "not JSON"),
        (b"{\"data\": {}}", "`data` is not a list"),
        (b"{\"hello\": 1}", "not a Langfuse trace"),
        (b"\"x\"", "not a JSON object or list"),
    ] {
        let (items, stats) = langfuse::read_body("b", body);
        check_accounting(&items, &stats);
        assert_eq!(stats.bodies_quarantined, 1);
        assert!(
            quarantined(&items)[0].reason.starts_with(reason),
            "{body:?}"
        );
    }

    // A broken line between good ones.
    let text = format!(
        "{}\n{{\"data\": [\n{}\n",
        one_line(V2_SAMPLE),
        one_line(TRACE)
    );
    let mut reader = langfuse::read_lines(text.as_bytes(), "x.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    assert_eq!((stats.bodies, stats.bodies_quarantined), (3, 1));
    assert_eq!(quarantined(&items)[0].pointer.line, Some(2));
    assert_eq!(stats.events, 4 + 20);
}

#[test]
fn ids_types_and_levels() {
    // Upper-case hex ids become OTLP's lower case; an embedded observation without `traceId`
    // takes its trace's; unknown types are kept; a WARNING generation is a signal too.
    let body = br#"{
        "id": "CDA9B61E55DDF90373B055009E8E7E8E", "timestamp": "2026-11-26T19:10:33.100Z",
        "observations": [
            {"id": "6BCF6CA6A86E9A64", "type": "GENERATION", "startTime": "2026-11-26T19:10:33.2Z",
             "level": "WARNING", "statusMessage": "low confidence",
             "input": "Summarise the order", "output": {"summary": "shipped"},
             "usage": {"input": 5, "output": 2, "total": 7, "unit": "TOKENS", "totalCost": 0.1}},
            {"id": "x", "type": "REASONER", "startTime": "2026-11-26T19:10:33.3Z", "output": "ok"},
            {"id": "y", "type": "EMBEDDING", "startTime": "2026-11-26T19:10:33.4Z", "model": "e-3"}
        ],
        "scores": []
    }"#;
    let (items, stats) = langfuse::read_body("b", body);
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    assert_eq!(
        kinds(&items),
        [
            "agent.invocation",
            "model.call",
            "prompt",
            "confidence.signal",
            "other",
            "model.call"
        ]
    );
    let evs = events(&items);
    assert!(
        evs.iter()
            .all(|e| e.correlation.trace_id.as_deref() == Some(T1))
    );
    assert_eq!(
        evs[1].correlation.span_id.as_deref(),
        Some("6bcf6ca6a86e9a64")
    );
    assert_eq!(evs[0].correlation.conversation_id, None);
    let EventKind::ModelCall { usage, error, .. } = &evs[1].kind else {
        panic!()
    };
    // The deprecated `usage`: tokens, not its costs or unit.
    assert_eq!(usage.len(), 3, "{usage:?}");
    assert_eq!(usage["total_tokens"], 7);
    assert_eq!(error, &None);
    // An output that is not a chat message stays, as an attribute.
    assert_eq!(evs[1].attributes["output"]["summary"], "shipped");
    let EventKind::Prompt { input, .. } = &evs[2].kind else {
        panic!()
    };
    assert_eq!(input.as_ref().unwrap(), "Summarise the order");
    let EventKind::ConfidenceSignal { label, .. } = &evs[3].kind else {
        panic!()
    };
    assert_eq!(label.as_deref(), Some("WARNING"));
    let EventKind::Other { name, operation } = &evs[4].kind else {
        panic!()
    };
    assert_eq!(
        (name.as_str(), operation.as_deref()),
        ("reasoner", Some("reasoner"))
    );
    assert_eq!(evs[4].content.as_deref(), Some("ok"));
    let EventKind::ModelCall { operation, .. } = &evs[5].kind else {
        panic!()
    };
    assert_eq!(operation.as_deref(), Some("embeddings"));
}

#[test]
fn reading_twice_gives_the_same_events() {
    let (a, _) = read(TRACE);
    let (b, _) = read(TRACE);
    assert_eq!(a, b);
}
