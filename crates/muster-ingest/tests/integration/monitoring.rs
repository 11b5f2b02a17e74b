//! Splunk HEC and Datadog (Logs API pages from Datadog's own recorded cassettes, monitor
//! webhooks).

use muster_ingest::{EventKind, monitoring, time};

use crate::{check_accounting, data, events, quarantined};

#[test]
fn splunk_hec_concatenated_events() {
    let body = data("splunk/hec-events.json");
    let (items, stats) = monitoring::read_hec("hec", &body, Default::default());
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    let evs = events(&items);
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[0].content.as_deref(), Some("Hello world!"));
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2015-03-13T20:43:59.000000000Z"
    );
    // 1433188255.500: June 1, 2015, 19:50:55.5 GMT, exactly.
    assert_eq!(
        time::format_rfc3339(evs[1].time_ns),
        "2015-06-01T19:50:55.500000000Z"
    );
    assert_eq!(evs[1].content.as_deref(), Some("handover requested"));
    let c = &evs[1].correlation;
    assert_eq!(c.conversation_id.as_deref(), Some("conv-7f3a9c"));
    assert_eq!(c.ticket_id.as_deref(), Some("35436"));
    assert_eq!(c.customer_ref.as_deref(), Some("cus_123"));
    assert_eq!(evs[1].source.service.as_deref(), Some("support-agent"));
    assert_eq!(
        time::format_rfc3339(evs[2].time_ns),
        "2015-06-01T19:50:56.250000000Z"
    );

    // The same file read line by line.
    let mut reader = monitoring::read_hec_lines(body.as_slice(), "hec");
    let n = reader.by_ref().count();
    assert_eq!((n, reader.finish().unwrap().records), (3, 3));
}

#[test]
fn splunk_malformed() {
    let (items, stats) = monitoring::read_hec(
        "t",
        br#"{"event":"no time"}{"time":1,"nope":1}{"time":"x","event":1} {"time": 1433188255, "event": "#,
        Default::default(),
    );
    check_accounting(&items, &stats);
    let q = quarantined(&items);
    assert_eq!(q.len(), 4, "{q:?}");
    assert!(q[0].reason.contains("no `time`"));
    assert!(q[3].reason.contains("not JSON"));
    assert_eq!(q[3].pointer.record.as_deref(), Some("/3"));
}

#[test]
fn datadog_log_pages_and_monitor() {
    let name = "datadog/list-logs-page2.json";
    let (items, stats) = monitoring::read_datadog(name, &data(name), Default::default());
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0);
    let evs = events(&items);
    assert_eq!(evs.len(), 1);
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2022-04-12T09:51:55.000000000Z"
    );
    assert!(
        evs[0]
            .content
            .as_deref()
            .unwrap()
            .contains("GET / HTTP/1.1")
    );
    assert_eq!(evs[0].attributes["attributes"]["http"]["status_code"], 200);
    assert_eq!(evs[0].raw.record.as_deref(), Some("/data/0"));
    let EventKind::Other { operation, .. } = &evs[0].kind else {
        panic!()
    };
    assert_eq!(operation.as_deref(), Some("ok"));
    let name = "datadog/list-logs-page1.json";
    let (items, stats) = monitoring::read_datadog(name, &data(name), Default::default());
    check_accounting(&items, &stats);
    assert_eq!(events(&items).len(), 2);

    let name = "datadog/monitor-webhook.json";
    let (items, stats) = monitoring::read_datadog(name, &data(name), Default::default());
    check_accounting(&items, &stats);
    let evs = events(&items);
    let EventKind::Alert {
        name,
        status,
        severity,
    } = &evs[0].kind
    else {
        panic!()
    };
    assert_eq!(
        name.as_deref(),
        Some("[Triggered] Low answer confidence on support-agent")
    );
    assert_eq!(
        (status.as_deref(), severity.as_deref()),
        (Some("Triggered"), Some("P2"))
    );
    // `date` in epoch milliseconds, as a string.
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2026-11-26T19:09:40.000000000Z"
    );
    assert_eq!(
        evs[0].correlation.conversation_id.as_deref(),
        Some("conv-7f3a9c")
    );

    let (items, stats) = monitoring::read_datadog(
        "t",
        br#"[{"message":"no time"},{"timestamp":"2026-11-26T19:09:40Z","message":"ok","usr":{"id":"cus_9"},"otel.trace_id":"2661401B871331BDFF7D75D929A8ED6F"},3]"#,
        Default::default(),
    );
    check_accounting(&items, &stats);
    assert_eq!(stats.records_quarantined, 2);
    let e = events(&items)[0];
    assert_eq!(e.correlation.customer_ref.as_deref(), Some("cus_9"));
    assert_eq!(
        e.correlation.trace_id.as_deref(),
        Some("2661401b871331bdff7d75d929a8ed6f")
    );
}
