//! The genuine captures: current OTel GenAI (JSON and protobuf, spans and operation-details log
//! records) and OpenInference.

use muster_ingest::{
    ActorRole, Convention, EventKind, JsonLinesReader, KeyOrigin, TimeBasis, ToolCallPhase,
};
use serde_json::json;

use crate::{data, events, kinds, only_events, quarantined, read};

const TRACE: &str = "2661401b871331bdff7d75d929a8ed6f";
const ROOT: &str = "6bcf6ca6a86e9a64";

const ALL: &[&str] = &[
    "recv_001_v1_traces.pb",
    "recv_002_v1_traces.pb",
    "recv_003_v1_logs.pb",
    "recv_004_v1_traces.pb",
    "recv_005_v1_traces.pb",
    "recv_006_v1_logs.pb",
    "recv_007_v1_traces.pb",
    "recv_008_v1_traces.pb",
    "recv_026_v1_traces.json",
    "recv_027_v1_traces.json",
    "recv_028_v1_logs.json",
    "recv_029_v1_traces.json",
    "recv_030_v1_traces.json",
    "recv_031_v1_logs.json",
    "recv_032_v1_traces.json",
    "recv_033_v1_traces.json",
    "recv_036_v1_traces.json",
    "recv_037_v1_traces.json",
    "recv_038_v1_traces.json",
    "one-trace-merged.json",
];

#[test]
fn every_fixture_is_read_in_full() {
    for name in ALL {
        let (items, stats) = read(name);
        assert!(
            quarantined(&items).is_empty(),
            "{name}: {:?}",
            quarantined(&items)
        );
        assert_eq!(stats.bodies, 1, "{name}");
        assert!(
            stats.records >= 1 && stats.records == stats.records_mapped,
            "{name}: {stats:?}"
        );
        assert!(stats.events >= stats.records, "{name}: {stats:?}");
        for e in events(&items) {
            assert_eq!(e.source.system, "otlp");
            assert_eq!(e.source.service.as_deref(), Some("support-agent"), "{name}");
            assert!(e.time_ns > 1_795_000_000_000_000_000, "{name}: 2026 times");
            assert_eq!(e.raw.origin, *name);
            assert!(
                e.raw
                    .record
                    .as_deref()
                    .is_some_and(|r| r.starts_with("/resource"))
            );
        }
    }
}

#[test]
fn the_merged_trace_is_one_conversation_with_its_tool_call_and_documents() {
    let evs = only_events("one-trace-merged.json");
    assert_eq!(
        kinds(&read("one-trace-merged.json").0),
        [
            "model.call",
            "agent.invocation",
            "retrieval",
            "model.call",
            "prompt",
            "customer.message",
            "tool.call:Requested",
            "tool.call:Executed",
            "model.call",
            "prompt",
            "tool.call:Returned",
            "agent.message",
        ]
    );
    // The conversation id is on the root span only; every event of the trace carries it.
    for e in &evs {
        assert_eq!(e.correlation.trace_id.as_deref(), Some(TRACE));
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c"),
            "{:?}",
            e.kind
        );
        let expected = if e.correlation.span_id.as_deref() == Some(ROOT) {
            KeyOrigin::Attribute {
                key: "gen_ai.conversation.id".to_owned(),
            }
        } else {
            KeyOrigin::Span {
                span_id: ROOT.to_owned(),
                key: "gen_ai.conversation.id".to_owned(),
            }
        };
        assert_eq!(e.correlation.conversation_from.as_ref(), Some(&expected));
        assert_eq!(e.source.conventions, [Convention::GenAi]);
    }

    let executed = evs
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Executed,
                    ..
                }
            )
        })
        .expect("an executed tool call");
    let EventKind::ToolCall {
        name,
        arguments,
        result,
        ..
    } = &executed.kind
    else {
        unreachable!()
    };
    assert_eq!(name.as_deref(), Some("lookup_order"));
    assert_eq!(arguments, &Some(json!({"order_id": "A-1001"})));
    assert_eq!(
        result,
        &Some(json!({"status": "shipped", "shipped_at": "2025-11-02"}))
    );
    assert_eq!(
        executed.correlation.tool_call_id.as_deref(),
        Some("call_fake0010")
    );
    assert_eq!(
        executed.actor.as_ref().map(|a| a.role),
        Some(ActorRole::Tool)
    );

    // The model's request for the call links to its execution by the call id.
    let requested = evs
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                EventKind::ToolCall {
                    phase: ToolCallPhase::Requested,
                    ..
                }
            )
        })
        .expect("a requested tool call");
    assert_eq!(
        requested.correlation.tool_call_id,
        executed.correlation.tool_call_id
    );
    assert!(requested.time_ns <= executed.time_ns);

    let retrieval = evs.iter().find_map(|e| match &e.kind {
        EventKind::Retrieval {
            data_source,
            query,
            documents,
        } => Some((data_source, query, documents)),
        _ => None,
    });
    let (source, query, documents) = retrieval.expect("a retrieval");
    assert_eq!(source.as_deref(), Some("kb-shipping"));
    assert_eq!(query.as_deref(), Some("Where is my order A-1001?"));
    let docs: Vec<(Option<&str>, Option<f64>)> = documents
        .iter()
        .map(|d| (d.id.as_deref(), d.score))
        .collect();
    assert_eq!(
        docs,
        [(Some("kb-12"), Some(0.91)), (Some("kb-40"), Some(0.55))]
    );

    let models: Vec<(Option<&str>, Option<&str>, Option<&str>)> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ModelCall {
                operation,
                request_model,
                response_model,
                ..
            } => Some((
                operation.as_deref(),
                request_model.as_deref(),
                response_model.as_deref(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        models,
        [
            (
                Some("embeddings"),
                Some("text-embedding-3-small"),
                Some("text-embedding-3-small")
            ),
            (
                Some("chat"),
                Some("gpt-4o-mini"),
                Some("gpt-4o-mini-2024-07-18")
            ),
            (
                Some("chat"),
                Some("gpt-4o-mini"),
                Some("gpt-4o-mini-2024-07-18")
            ),
        ]
    );
    let first_chat = evs
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::ModelCall {
                parameters, usage, ..
            } if !parameters.is_empty() => Some((parameters, usage)),
            _ => None,
        })
        .expect("parameters");
    assert_eq!(first_chat.0.get("temperature"), Some(&json!(0.2)));
    assert_eq!(first_chat.1.get("input_tokens"), Some(&json!(42)));

    let said = |kind: &str| -> Vec<&str> {
        evs.iter()
            .filter(|e| e.kind.name() == kind)
            .filter_map(|e| e.content.as_deref())
            .collect()
    };
    assert_eq!(
        said("customer.message"),
        ["Where is my order A-1001? My email is jane@example.com"]
    );
    assert_eq!(
        said("agent.message"),
        ["Your order A-1001 shipped on 2025-11-02. I can escalate to a human if needed."]
    );
}

#[test]
fn merged_trace_snapshot() {
    insta::assert_json_snapshot!("one_trace_merged", only_events("one-trace-merged.json"));
}

#[test]
fn openinference_snapshot() {
    insta::assert_json_snapshot!(
        "openinference_tool_call",
        only_events("recv_036_v1_traces.json")
    );
}

#[test]
fn operation_details_log_snapshot() {
    insta::assert_json_snapshot!(
        "operation_details_log",
        only_events("recv_031_v1_logs.json")
    );
}

/// `call_fake0010` and `chatcmpl-fake0011` differ between runs; drop their numbers.
fn scrub_run_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, piece) in text.split("fake").enumerate() {
        if i > 0 {
            out.push_str("fake");
        }
        out.push_str(if i > 0 {
            piece.trim_start_matches(|c: char| c.is_ascii_digit())
        } else {
            piece
        });
    }
    out
}

/// The JSON and protobuf captures are separate runs of the same agent turn: ids and times
/// differ, what happened does not.
#[test]
fn protobuf_and_json_give_the_same_events() {
    let pairs = [
        ("recv_026_v1_traces.json", "recv_001_v1_traces.pb"),
        ("recv_027_v1_traces.json", "recv_002_v1_traces.pb"),
        ("recv_028_v1_logs.json", "recv_003_v1_logs.pb"),
        ("recv_029_v1_traces.json", "recv_004_v1_traces.pb"),
        ("recv_030_v1_traces.json", "recv_005_v1_traces.pb"),
        ("recv_031_v1_logs.json", "recv_006_v1_logs.pb"),
        ("recv_032_v1_traces.json", "recv_007_v1_traces.pb"),
        ("recv_033_v1_traces.json", "recv_008_v1_traces.pb"),
    ];
    for (j, p) in pairs {
        let (ji, _) = read(j);
        let (pi, _) = read(p);
        assert_eq!(kinds(&ji), kinds(&pi), "{j} vs {p}");
        for (a, b) in events(&ji).iter().zip(events(&pi)) {
            // Same payload apart from run-specific ids.
            let strip =
                |k: &EventKind| scrub_run_ids(&serde_json::to_string(k).unwrap_or_default());
            assert_eq!(strip(&a.kind), strip(&b.kind), "{j} vs {p}");
            assert_eq!(
                a.content.as_deref().map(scrub_run_ids),
                b.content.as_deref().map(scrub_run_ids),
                "{j} vs {p}"
            );
            assert_eq!(a.time_basis, b.time_basis);
            assert_ne!(
                a.correlation.trace_id, b.correlation.trace_id,
                "separate runs"
            );
        }
    }
    let pb_tool = only_events("recv_005_v1_traces.pb");
    assert!(
        pb_tool[0]
            .correlation
            .trace_id
            .as_deref()
            .is_some_and(|t| t.starts_with("db72f1ee") && t.len() == 32)
    );
}

#[test]
fn operation_details_logs_use_the_observed_time_and_the_chat_span_ids() {
    let evs = only_events("recv_028_v1_logs.json");
    for e in &evs {
        assert_eq!(e.time_basis, TimeBasis::Observed);
        assert_eq!(e.time_ns, 1_795_720_102_278_765_022);
        assert_eq!(e.correlation.span_id.as_deref(), Some("24b343195f1c60d6"));
    }
    let EventKind::ToolCall {
        name, arguments, ..
    } = &evs[3].kind
    else {
        panic!("{:?}", evs[3].kind)
    };
    assert_eq!(name.as_deref(), Some("lookup_order"));
    assert_eq!(arguments, &Some(json!({"order_id": "A-1001"})));
}

#[test]
fn openinference_spans_carry_session_user_and_tool_calls() {
    for name in [
        "recv_036_v1_traces.json",
        "recv_037_v1_traces.json",
        "recv_038_v1_traces.json",
    ] {
        for e in only_events(name) {
            assert_eq!(
                e.correlation.conversation_id.as_deref(),
                Some("conv-7f3a9c")
            );
            assert_eq!(
                e.correlation.conversation_from,
                Some(KeyOrigin::Attribute {
                    key: "session.id".to_owned()
                })
            );
            assert_eq!(e.correlation.customer_ref.as_deref(), Some("cus_123"));
            assert_eq!(e.source.conventions, [Convention::OpenInference]);
        }
    }
    let evs = only_events("recv_036_v1_traces.json");
    let EventKind::ModelCall {
        request_model,
        response_model,
        usage,
        finish_reasons,
        ..
    } = &evs[0].kind
    else {
        panic!("{:?}", evs[0].kind)
    };
    assert_eq!(request_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(response_model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(usage.get("input_tokens"), Some(&json!(42)));
    assert_eq!(finish_reasons, &["tool_calls"]);
    let call = evs
        .iter()
        .find(|e| e.kind.name() == "tool.call")
        .expect("tool call");
    let EventKind::ToolCall {
        name,
        arguments,
        phase,
        ..
    } = &call.kind
    else {
        unreachable!()
    };
    assert_eq!(
        (name.as_deref(), *phase),
        (Some("lookup_order"), ToolCallPhase::Requested)
    );
    assert_eq!(arguments, &Some(json!({"order_id": "A-1001"})));
    assert_eq!(
        call.correlation.tool_call_id.as_deref(),
        Some("call_fake0017")
    );
    let customer = evs
        .iter()
        .find(|e| e.kind.name() == "customer.message")
        .expect("customer");
    assert_eq!(
        customer.content.as_deref(),
        Some("Where is my order A-1001?")
    );
    assert_eq!(
        customer.actor.as_ref().and_then(|a| a.id.as_deref()),
        Some("cus_123")
    );

    let answer = only_events("recv_037_v1_traces.json");
    let returned = answer
        .iter()
        .find(|e| e.kind.name() == "tool.call")
        .expect("returned");
    assert!(
        matches!(&returned.kind, EventKind::ToolCall { phase: ToolCallPhase::Returned, name: Some(n), result: Some(r), .. }
        if n == "lookup_order" && r == &json!({"status": "shipped"}))
    );
}

fn compact_line(name: &str) -> String {
    let v: serde_json::Value = serde_json::from_slice(&data(name)).unwrap_or_default();
    serde_json::to_string(&v).unwrap_or_default()
}

#[test]
fn json_lines_are_read_one_body_at_a_time_with_line_pointers() {
    let bytes = data("logs-inference-details.jsonl");
    let first_len = bytes.iter().position(|b| *b == b'\n').unwrap_or(0) as u64;
    let mut reader = JsonLinesReader::new(&bytes[..], "logs-inference-details.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().expect("no read error");
    assert_eq!((stats.bodies, stats.records, stats.quarantined), (2, 2, 0));
    let evs = events(&items);
    assert_eq!(evs.len(), 8);
    assert_eq!((evs[0].raw.line, evs[0].raw.offset), (Some(1), Some(0)));
    assert_eq!(
        (evs[7].raw.line, evs[7].raw.offset),
        (Some(2), Some(first_len + 1))
    );
    // Each pointer leads back to its line.
    let line2 = &bytes[usize::try_from(first_len + 1).unwrap_or(0)..];
    assert!(line2.starts_with(b"{\"resourceLogs\""));
}

/// Within a JSON Lines stream, keys flow from spans already seen to later children and to log
/// records of those spans; a child that comes *before* its root cannot inherit (documented).
#[test]
fn conversation_keys_carry_across_bodies_in_order_seen() {
    let children = [
        "recv_026_v1_traces.json",
        "recv_027_v1_traces.json",
        "recv_029_v1_traces.json",
        "recv_030_v1_traces.json",
        "recv_032_v1_traces.json",
    ];
    let root = "recv_033_v1_traces.json";
    let logs = ["recv_028_v1_logs.json", "recv_031_v1_logs.json"];

    let root_first: Vec<String> = std::iter::once(root)
        .chain(children)
        .chain(logs)
        .map(compact_line)
        .collect();
    let text = root_first.join("\n");
    let items: Vec<_> = JsonLinesReader::new(text.as_bytes(), "stream").collect();
    let evs = events(&items);
    assert_eq!(evs.len(), 1 + 1 + 1 + 4 + 1 + 4 + 4 + 4);
    for e in &evs {
        assert_eq!(
            e.correlation.conversation_id.as_deref(),
            Some("conv-7f3a9c"),
            "{:?} line {:?}",
            e.kind,
            e.raw.line
        );
    }

    // Arrival order of the exporter (children first): the children do not know the conversation.
    let child_first: Vec<String> = children
        .into_iter()
        .chain([root])
        .map(compact_line)
        .collect();
    let text = child_first.join("\n");
    let items: Vec<_> = JsonLinesReader::new(text.as_bytes(), "stream").collect();
    let with_conv = events(&items)
        .iter()
        .filter(|e| e.correlation.conversation_id.is_some())
        .count();
    assert_eq!(with_conv, 1, "only the root");
}

#[test]
fn events_become_store_drafts() {
    let evs = only_events("recv_030_v1_traces.json");
    let draft = evs[0].to_draft();
    assert_eq!(draft.kind, "tool.call");
    assert_eq!(draft.time_ns, evs[0].time_ns);
    assert_eq!(
        draft.fields.get("kind").and_then(|k| k.get("name")),
        Some(&json!("lookup_order"))
    );
    assert!(draft.fields.contains_key("correlation") && draft.fields.contains_key("raw"));
}

#[test]
fn the_event_json_shape_round_trips() {
    for name in ALL {
        for e in only_events(name) {
            let text = serde_json::to_string(&e).expect("serialise");
            let back: muster_ingest::EvidenceEvent =
                serde_json::from_str(&text).expect("deserialise");
            assert_eq!(back, e, "{name}");
        }
    }
}

/// The JSON Lines reader pulls one line at a time: an endless input still yields items.
#[test]
fn json_lines_stream_lazily() {
    struct Endless {
        line: Vec<u8>,
        at: usize,
    }
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut n = 0;
            while n < buf.len() {
                buf[n] = self.line[self.at];
                self.at = (self.at + 1) % self.line.len();
                n += 1;
            }
            Ok(n)
        }
    }
    let mut line = compact_line("recv_030_v1_traces.json").into_bytes();
    line.push(b'\n');
    let endless = std::io::BufReader::new(Endless { line, at: 0 });
    let mut reader = JsonLinesReader::new(endless, "endless");
    let taken: Vec<_> = reader.by_ref().take(1000).collect();
    assert_eq!(events(&taken).len(), 1000);
    assert_eq!(taken[999].event().and_then(|e| e.raw.line), Some(1000));
    assert_eq!(reader.stats().bodies, 1000);
}
