//! What real senders do that the OTLP/JSON spec does not say (trace-formats §1.6).

use muster_ingest::{BodyFormat, EventKind, TimeBasis};
use serde_json::json;

use crate::{events, quarantined, read_bytes};

fn body(spans: serde_json::Value) -> Vec<u8> {
    json!({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "support-agent"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]})
    .to_string()
    .into_bytes()
}

/// The opentelemetry-proto example: upper-case hex ids, nanoseconds as bare numbers.
#[test]
fn upper_case_hex_and_bare_numbers() {
    let b = body(json!([{
        "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "EEE19B7EC3C1B173", "name": "I'm a server span",
        "startTimeUnixNano": 1544712660000000000u64, "endTimeUnixNano": 1544712661000000000u64,
        "kind": 2, "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}]
    }]));
    let (items, _) = read_bytes(&b, BodyFormat::Json);
    let e = events(&items)[0];
    assert_eq!(
        e.correlation.trace_id.as_deref(),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(e.correlation.span_id.as_deref(), Some("eee19b7ec3c1b174"));
    assert_eq!(e.time_ns, 1_544_712_660_000_000_000);
    assert_eq!(e.end_time_ns, Some(1_544_712_661_000_000_000));
    assert_eq!(e.attributes.get("otel.span.kind"), Some(&json!("server")));
    assert!(matches!(&e.kind, EventKind::Other { name, .. } if name == "I'm a server span"));
}

/// The plain protobuf JSON mapping: base64 ids, enum names, snake_case keys; protobufjs Long
/// and Buffer objects.
#[test]
fn base64_ids_enum_names_snake_case_and_protobufjs_objects() {
    let b = body(json!([
        {"trace_id": "A8suuE3VKsm8FJapnHM4gA==", "span_id": "AQIDBAUGBwg=", "name": "chat m",
         "kind": "SPAN_KIND_CLIENT", "start_time_unix_nano": "1795720102180012471",
         "status": {"code": "STATUS_CODE_ERROR", "message": "Error code: 429"},
         "attributes": [{"key": "gen_ai.operation.name", "value": {"string_value": "chat"}},
                        {"key": "gen_ai.usage.input_tokens", "value": {"int_value": 42}}]},
        {"traceId": {"type": "Buffer", "data": [3,203,46,184,77,213,42,201,188,20,150,169,156,115,56,128]},
         "spanId": {"type": "Buffer", "data": [1,2,3,4,5,6,7,9]}, "name": "later",
         "startTimeUnixNano": {"low": 1_000_000, "high": 418_094_000, "unsigned": true}}
    ]));
    let (items, stats) = read_bytes(&b, BodyFormat::JsonTraces);
    assert_eq!(stats.records_mapped, 2, "{:?}", quarantined(&items));
    let evs = events(&items);
    assert_eq!(
        evs[0].correlation.trace_id.as_deref(),
        Some("03cb2eb84dd52ac9bc1496a99c733880")
    );
    assert_eq!(
        evs[0].correlation.span_id.as_deref(),
        Some("0102030405060708")
    );
    assert_eq!(evs[0].time_ns, 1_795_720_102_180_012_471);
    assert_eq!(
        evs[0].attributes.get("otel.span.kind"),
        Some(&json!("client"))
    );
    assert!(
        matches!(&evs[0].kind, EventKind::ModelCall { error: Some(e), usage, .. }
        if e == "Error code: 429" && usage.get("input_tokens") == Some(&json!(42)))
    );
    assert_eq!(evs[1].correlation.trace_id, evs[0].correlation.trace_id);
    assert_eq!(evs[1].time_ns, (418_094_000i64 << 32) + 1_000_000);
}

#[test]
fn pre_1_0_instrumentation_library_envelope() {
    let b = json!({"resourceSpans": [{"instrumentationLibrarySpans": [{
        "instrumentationLibrary": {"name": "old", "version": "0.9"},
        "spans": [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
                   "name": "x", "startTimeUnixNano": "1"}]}]}]})
    .to_string();
    let (items, _) = read_bytes(b.as_bytes(), BodyFormat::Json);
    let e = events(&items)[0];
    assert_eq!(
        e.source
            .scope
            .as_ref()
            .map(|s| (s.name.as_str(), s.version.as_deref())),
        Some(("old", Some("0.9")))
    );
}

#[test]
fn log_record_with_only_observed_time_and_string_severity() {
    let b = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"observedTimeUnixNano": 1795720102278765022u64, "severityNumber": "SEVERITY_NUMBER_WARN",
         "severityText": "WARN", "body": {"stringValue": "refund limit reached"}}]}]}]})
    .to_string();
    let (items, _) = read_bytes(b.as_bytes(), BodyFormat::Json);
    let e = events(&items)[0];
    assert_eq!(e.time_basis, TimeBasis::Observed);
    assert_eq!(
        (e.time_ns, e.observed_ns),
        (1_795_720_102_278_765_022, 1_795_720_102_278_765_022)
    );
    assert_eq!(e.content.as_deref(), Some("refund limit reached"));
    assert_eq!(e.attributes.get("otel.severity_number"), Some(&json!(13)));
}

#[test]
fn an_empty_request_is_empty_not_malformed() {
    for b in [
        "{}",
        r#"{"resourceSpans": []}"#,
        r#"{"resourceLogs": [{"scopeLogs": []}]}"#,
    ] {
        let (items, stats) = read_bytes(b.as_bytes(), BodyFormat::Json);
        assert!(items.is_empty(), "{b}");
        assert_eq!((stats.bodies, stats.records, stats.quarantined), (1, 0, 0));
    }
    let (items, _) = read_bytes(b"", BodyFormat::ProtobufTraces);
    assert!(items.is_empty());
}

#[test]
fn a_byte_order_mark_is_not_an_error() {
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend(crate::data("recv_030_v1_traces.json"));
    let (items, stats) = read_bytes(&b, BodyFormat::Json);
    assert_eq!(
        (stats.records_mapped, stats.quarantined),
        (1, 0),
        "{:?}",
        quarantined(&items)
    );
}

#[test]
fn span_links_are_kept() {
    let b = body(json!([{
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "turn 2",
        "startTimeUnixNano": "1795720102180012471",
        "links": [{"traceId": "2661401B871331BDFF7D75D929A8ED6F", "spanId": "6bcf6ca6a86e9a64",
                   "attributes": [{"key": "link.kind", "value": {"stringValue": "previous_turn"}}]}]
    }]));
    let (items, _) = read_bytes(&b, BodyFormat::Json);
    assert_eq!(
        events(&items)[0].attributes.get("otel.span.links"),
        Some(
            &json!([{"trace_id": "2661401b871331bdff7d75d929a8ed6f", "span_id": "6bcf6ca6a86e9a64",
                      "attributes": {"link.kind": "previous_turn"}}])
        )
    );
}
