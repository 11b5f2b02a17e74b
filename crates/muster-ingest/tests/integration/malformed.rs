//! Malformed input is quarantined with a reason and a pointer; the rest of the body is still
//! read; nothing panics.

use muster_ingest::{BodyFormat, JsonLinesReader};
use serde_json::json;

use crate::{data, events, quarantined, read_bytes};

fn span(id: &str) -> serde_json::Value {
    json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": id, "name": format!("span {id}"),
           "startTimeUnixNano": "1795720102180012471",
           "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                          {"key": "gen_ai.tool.name", "value": {"stringValue": "lookup_order"}}]})
}

fn body(spans: Vec<serde_json::Value>) -> Vec<u8> {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
        .to_string()
        .into_bytes()
}

#[test]
fn truncated_json_is_quarantined_whole() {
    let full = data("recv_030_v1_traces.json");
    for cut in [1, 10, full.len() / 2, full.len() - 1] {
        let (items, stats) = read_bytes(&full[..cut], BodyFormat::Json);
        let q = quarantined(&items);
        assert_eq!(q.len(), 1, "cut at {cut}");
        assert!(q[0].reason.starts_with("not JSON"), "{}", q[0].reason);
        assert_eq!(q[0].raw_excerpt.as_bytes(), &full[..cut.min(512)]);
        assert_eq!((stats.bodies_quarantined, stats.events), (1, 0));
    }
}

/// One bad span among good ones costs only itself, and the quarantine says where and why.
#[test]
fn a_bad_record_does_not_lose_the_batch() {
    let mut bad_id = span("eee19b7ec3c1b174");
    bad_id["spanId"] = json!("not-an-id");
    let mut wrong_type = span("eee19b7ec3c1b175");
    wrong_type["attributes"] =
        json!([{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "forty-two"}}]);
    let mut wrong_kind = span("eee19b7ec3c1b176");
    wrong_kind["kind"] = json!("SPAN_KIND_SIDEWAYS");
    let mut no_time = span("eee19b7ec3c1b177");
    no_time
        .as_object_mut()
        .map(|o| o.remove("startTimeUnixNano"));
    let mut attrs_not_list = span("eee19b7ec3c1b178");
    attrs_not_list["attributes"] = json!({"gen_ai.tool.name": "x"});
    let spans = vec![
        span("eee19b7ec3c1b170"),
        bad_id,
        wrong_type,
        json!("a string where a span belongs"),
        wrong_kind,
        no_time,
        attrs_not_list,
        span("eee19b7ec3c1b179"),
    ];
    let (items, stats) = read_bytes(&body(spans), BodyFormat::Json);
    assert_eq!(
        (
            stats.records,
            stats.records_mapped,
            stats.records_quarantined
        ),
        (8, 2, 6)
    );
    assert_eq!(events(&items).len(), 2);
    let q = quarantined(&items);
    let at = |i: usize| format!("/resourceSpans/0/scopeSpans/0/spans/{i}");
    let expect = [
        (
            1,
            "`spanId` `not-an-id` is neither 16 hex digits nor base64 of 8 bytes",
        ),
        (
            2,
            "attribute `gen_ai.usage.input_tokens`: intValue `forty-two` is not an integer",
        ),
        (3, "record is a string, expected an object"),
        (4, "`kind` `SPAN_KIND_SIDEWAYS` is not a known value"),
        (5, "span has neither startTimeUnixNano nor endTimeUnixNano"),
        (6, "attributes is an object, expected an array"),
    ];
    for (q, (i, reason)) in q.iter().zip(expect) {
        assert_eq!(q.pointer.record.as_deref(), Some(at(i).as_str()));
        assert_eq!(q.reason, reason);
        assert_eq!(q.source_format, "otlp-json-traces");
        assert!(!q.raw_excerpt.is_empty());
    }
    // Body order is kept: the good spans come out where they were.
    assert!(items[0].event().is_some() && items[7].event().is_some());
}

#[test]
fn bodies_that_are_not_otlp_requests() {
    for (b, reason) in [
        (
            &b"[1, 2]"[..],
            "not an OTLP export request: the body is not a JSON object",
        ),
        (
            b"{\"spans\": []}",
            "not an OTLP export request: no resourceSpans or resourceLogs",
        ),
        (
            b"{\"resourceSpans\": {}}",
            "`resourceSpans` is an object, expected an array",
        ),
    ] {
        let (items, stats) = read_bytes(b, BodyFormat::Json);
        let q = quarantined(&items);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].reason, reason);
        assert_eq!(stats.bodies_quarantined, 1);
    }
    // JSON handed to the protobuf reader: not silently empty.
    let (items, _) = read_bytes(&data("recv_030_v1_traces.json"), BodyFormat::ProtobufTraces);
    assert!(events(&items).is_empty());
    assert!(
        quarantined(&items)[0]
            .reason
            .contains("not an OTLP export request")
            || !quarantined(&items).is_empty()
    );
}

/// Two protobuf bodies concatenated are one valid request (repeated fields merge); cut it
/// anywhere and everything before the cut is still read, the rest quarantined with a reason.
#[test]
fn truncated_protobuf_keeps_what_came_before_the_cut() {
    let first = data("recv_008_v1_traces.pb");
    let mut both = first.clone();
    both.extend(data("recv_005_v1_traces.pb"));
    let (items, stats) = read_bytes(&both, BodyFormat::ProtobufTraces);
    assert_eq!((stats.records_mapped, stats.quarantined), (2, 0));
    assert_eq!(events(&items)[0].kind.name(), "agent.invocation");

    for cut in (1..both.len()).filter(|c| *c != first.len()) {
        let (items, stats) = read_bytes(&both[..cut], BodyFormat::ProtobufTraces);
        let q = quarantined(&items);
        assert!(!q.is_empty(), "cut at {cut} must be reported");
        assert!(
            q.iter()
                .all(|q| !q.reason.is_empty() && !q.raw_excerpt.is_empty())
        );
        if cut > first.len() {
            assert_eq!(
                events(&items).first().map(|e| e.kind.name()),
                Some("agent.invocation"),
                "cut at {cut}"
            );
        }
        assert!(stats.records_mapped <= 2);
    }
    let (items, _) = read_bytes(&both[..both.len() - 3], BodyFormat::ProtobufTraces);
    assert!(
        quarantined(&items)[0].reason.contains("truncated"),
        "{:?}",
        quarantined(&items)
    );
}

#[test]
fn bad_protobuf_ids_are_quarantined_per_span() {
    // A hand-built span: trace id of 3 bytes.
    let span: Vec<u8> = [
        &[0x0a, 3, 1, 2, 3][..],
        &[0x2a, 1, b'x'],
        &[0x39, 1, 0, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    let scope: Vec<u8> = [&[0x12, u8::try_from(span.len()).unwrap_or(0)][..], &span].concat();
    let resource: Vec<u8> = [&[0x12, u8::try_from(scope.len()).unwrap_or(0)][..], &scope].concat();
    let body: Vec<u8> = [
        &[0x0a, u8::try_from(resource.len()).unwrap_or(0)][..],
        &resource,
    ]
    .concat();
    let (items, stats) = read_bytes(&body, BodyFormat::ProtobufTraces);
    let q = quarantined(&items);
    assert_eq!(stats.records_quarantined, 1);
    assert_eq!(q[0].reason, "traceId has 3 bytes, expected 16");
    assert_eq!(
        q[0].pointer.record.as_deref(),
        Some("/resourceSpans/0/scopeSpans/0/spans/0")
    );
    assert_eq!(q[0].source_format, "otlp-protobuf-traces");
}

#[test]
fn a_bad_line_in_json_lines_costs_only_that_line() {
    let good = String::from_utf8(data("logs-inference-details.jsonl")).unwrap_or_default();
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(1, "{\"resourceLogs\": [{\"scopeLogs\": [");
    lines.insert(2, "");
    let text = lines.join("\n");
    let mut reader = JsonLinesReader::new(text.as_bytes(), "mixed.jsonl");
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap_or_default();
    assert_eq!(
        (stats.bodies, stats.bodies_quarantined, stats.records_mapped),
        (3, 1, 2)
    );
    let q = quarantined(&items);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].pointer.line, Some(2));
    assert!(q[0].to_string().contains("mixed.jsonl:2"), "{}", q[0]);
    assert_eq!(events(&items).last().and_then(|e| e.raw.line), Some(4));
}

#[test]
fn an_oversized_line_is_quarantined_without_being_held() {
    let big = format!(
        "{{\"resourceSpans\": [], \"pad\": \"{}\"}}\n{{}}\n",
        "x".repeat(10_000)
    );
    let mut reader = JsonLinesReader::new(big.as_bytes(), "big.jsonl").max_line(1024);
    let items: Vec<_> = reader.by_ref().collect();
    let q = quarantined(&items);
    assert_eq!(q.len(), 1);
    assert!(
        q[0].reason.contains("exceeds the 1024 byte limit"),
        "{}",
        q[0].reason
    );
    assert!(q[0].raw_excerpt.len() <= 1024);
    assert_eq!(reader.stats().bodies, 2);
}

#[test]
fn a_read_error_is_reported_at_the_end() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk gone"))
        }
    }
    let mut reader = JsonLinesReader::new(std::io::BufReader::new(Failing), "failing");
    assert_eq!(reader.by_ref().count(), 0);
    let err = reader.finish().err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some("cannot read failing: disk gone"));
}

/// Parent links that loop (bad input) end the walk up the tree instead of looping forever.
#[test]
fn parent_cycles_terminate() {
    let mut a = span("aaaaaaaaaaaaaaaa");
    a["parentSpanId"] = json!("bbbbbbbbbbbbbbbb");
    let mut b = span("bbbbbbbbbbbbbbbb");
    b["parentSpanId"] = json!("aaaaaaaaaaaaaaaa");
    let mut c = span("cccccccccccccccc");
    c["parentSpanId"] = json!("cccccccccccccccc");
    let (items, stats) = read_bytes(&body(vec![a, b, c]), BodyFormat::Json);
    assert_eq!(stats.records_mapped, 3);
    assert!(
        events(&items)
            .iter()
            .all(|e| e.correlation.conversation_id.is_none())
    );
}
