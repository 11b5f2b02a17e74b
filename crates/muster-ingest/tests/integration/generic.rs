//! The generic reader: JSON Lines and CSV through a declared mapping.

use muster_ingest::generic::{self, Mapping};
use muster_ingest::{EventKind, time};
use serde_json::json;

use crate::{check_accounting, data, events, quarantined};

#[test]
fn jsonl_chat_log_with_role_mapping() {
    let mapping: Mapping = serde_json::from_value(json!({
        "system": "chat-log",
        "time": "ts",
        "kind_field": "role",
        "kinds": {"user": "customer.message", "assistant": "agent.message"},
        "content": "text",
        "conversation_id": "session",
        "customer_ref": "user.id"
    }))
    .unwrap();
    let body = data("generic/chat-log.jsonl");
    let mut reader = generic::read_jsonl(body.as_slice(), "chat-log.jsonl", mapping);
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    let evs = events(&items);
    assert_eq!(evs.len(), 2);
    assert!(matches!(evs[0].kind, EventKind::CustomerMessage { .. }));
    assert!(matches!(evs[1].kind, EventKind::AgentMessage { .. }));
    assert_eq!(evs[0].content.as_deref(), Some("Where is my order A-1001?"));
    assert_eq!(
        evs[0].correlation.conversation_id.as_deref(),
        Some("conv-7f3a9c")
    );
    assert_eq!(evs[0].correlation.customer_ref.as_deref(), Some("cus_123"));
    assert_eq!(evs[0].source.system, "chat-log");
    assert_eq!(
        time::format_rfc3339(evs[1].time_ns),
        "2026-11-26T19:08:53.249000000Z"
    );
    let q = quarantined(&items);
    assert_eq!(q[0].pointer.line, Some(3));
    assert!(q[0].reason.contains("no time"));
}

#[test]
fn csv_case_history_export() {
    let mapping = generic::salesforce_case_history_csv();
    let body = data("generic/case-history-export.csv");
    let mut reader = generic::read_csv(body.as_slice(), "export.csv", mapping);
    let items: Vec<_> = reader.by_ref().collect();
    let stats = reader.finish().unwrap();
    check_accounting(&items, &stats);
    let evs = events(&items);
    assert_eq!(evs.len(), 2);
    let EventKind::AccountChange {
        record_id,
        field,
        before,
        after,
        ..
    } = &evs[0].kind
    else {
        panic!()
    };
    assert_eq!(record_id.as_deref(), Some("500RO00000AbCdEYAV"));
    assert_eq!(field.as_deref(), Some("Status"));
    assert_eq!(
        (before.clone(), after.clone()),
        (Some(json!("New")), Some(json!("Escalated")))
    );
    assert_eq!(
        evs[0].correlation.case_id.as_deref(),
        Some("500RO00000AbCdEYAV")
    );
    let EventKind::AccountChange { after, .. } = &evs[1].kind else {
        panic!()
    };
    assert_eq!(
        after.clone(),
        Some(json!("Tier 2 Support, \"Escalations\""))
    );
    assert_eq!(
        evs[1].actor.as_ref().unwrap().id.as_deref(),
        Some("0053X00000BcDeFQAV")
    );
    let q = quarantined(&items);
    assert_eq!(q.len(), 1);
    assert!(q[0].reason.contains("3 cells where the header has 7"));
    assert_eq!(q[0].pointer.line, Some(4));
}

#[test]
fn unknown_kind_and_epoch_unit() {
    // A kind the reader does not know cannot be declared: the mapping does not load.
    let unknown = serde_json::from_value::<Mapping>(json!({
        "system": "x", "time": "t", "kind": "nonsense"
    }));
    assert!(unknown.is_err());
    let mapping = Mapping {
        system: "x".to_owned(),
        time: "t".to_owned(),
        time_unit: Some(generic::TimeUnit::Millis),
        kind: Some(generic::MappedKind::CustomerMessage),
        ..Mapping::default()
    };
    let text = "{\"t\": 1795720102180}\n\"x\"\n{oops\n";
    let mut reader = generic::read_jsonl(text.as_bytes(), "t", mapping.clone());
    let items: Vec<_> = reader.by_ref().collect();
    check_accounting(&items, &reader.stats());
    let q = quarantined(&items);
    assert_eq!(q.len(), 2);
    assert!(matches!(
        events(&items)[0].kind,
        EventKind::CustomerMessage { .. }
    ));
    let ok = Mapping {
        kind: None,
        ..mapping
    };
    let mut reader = generic::read_jsonl(&b"{\"t\": \"1795720102180\"}"[..], "t", ok);
    let e = reader.next().unwrap().into_result().unwrap();
    assert_eq!(
        time::format_rfc3339(e.time_ns),
        "2026-11-26T19:08:22.180000000Z"
    );
}
