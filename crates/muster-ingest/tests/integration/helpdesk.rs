//! The helpdesk and CRM readers on the vendors' documented examples (`tests/data/<vendor>/`,
//! sources in `tests/data/README.md`) and the Intercom example in `shared/fixtures`.

use muster_ingest::helpdesk::{
    HelpdeskOptions, read_freshdesk, read_intercom, read_salesforce, read_zendesk,
};
use muster_ingest::{ActorRole, EventKind, Item, ReadStats, ToolCallPhase, time};
use serde_json::json;

use crate::{check_accounting, data, events, kinds, quarantined};

fn ok(read: (Vec<Item>, ReadStats)) -> Vec<Item> {
    let (items, stats) = read;
    check_accounting(&items, &stats);
    assert_eq!(stats.quarantined, 0, "{:?}", quarantined(&items));
    items
}

fn ticket_event(e: &muster_ingest::EvidenceEvent) -> (Option<&str>, Option<&str>) {
    match &e.kind {
        EventKind::TicketEvent { action, field, .. } => (action.as_deref(), field.as_deref()),
        k => panic!("not a ticket event: {k:?}"),
    }
}

#[test]
fn zendesk_ticket_external_id_is_the_conversation() {
    let none = HelpdeskOptions::default();
    let name = "zendesk/incremental-tickets-sample.json";
    let items = ok(read_zendesk(name, &data(name), &none));
    let evs = events(&items);
    assert_eq!(kinds(&items), ["ticket.event", "ticket.event"]);
    let c = &evs[0].correlation;
    assert_eq!(c.ticket_id.as_deref(), Some("35436"));
    assert_eq!(c.conversation_id.as_deref(), Some("ahg35h3jh"));
    assert_eq!(c.customer_ref.as_deref(), Some("20978392"));
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2009-07-20T22:55:29.000000000Z"
    );
    assert!(
        evs[0]
            .content
            .as_deref()
            .unwrap()
            .starts_with("Help, my printer is on fire!")
    );
    assert_eq!(evs[0].attributes["priority"], "high");
    assert_eq!(
        time::format_rfc3339(evs[1].time_ns),
        "2011-05-05T10:38:52.000000000Z"
    );
    // A declared custom field wins over external_id.
    let by_field = HelpdeskOptions {
        conversation_field: Some("27642".to_owned()),
    };
    let items = ok(read_zendesk(name, &data(name), &by_field));
    assert_eq!(
        events(&items)[0].correlation.conversation_id.as_deref(),
        Some("745")
    );
    // The Show Ticket example.
    let name = "zendesk/show-ticket.json";
    let items = ok(read_zendesk(name, &data(name), &none));
    assert_eq!(
        events(&items)[0].correlation.ticket_id.as_deref(),
        Some("35436")
    );
}

#[test]
fn zendesk_audits_and_ticket_events() {
    let none = HelpdeskOptions::default();
    let name = "zendesk/list-audits.json";
    let items = ok(read_zendesk(name, &data(name), &none));
    let evs = events(&items);
    assert_eq!(evs.len(), 3);
    assert_eq!(ticket_event(evs[0]), (Some("comment"), None));
    assert_eq!(
        evs[0].content.as_deref(),
        Some("This is a new private comment")
    );
    assert_eq!(evs[0].attributes["public"], false);
    assert_eq!(ticket_event(evs[1]), (Some("change"), Some("status")));
    let EventKind::TicketEvent { before, after, .. } = &evs[1].kind else {
        panic!()
    };
    assert_eq!(
        (before.clone(), after.clone()),
        (Some(json!("new")), Some(json!("open")))
    );
    for e in &evs {
        assert_eq!(e.correlation.ticket_id.as_deref(), Some("666"));
        assert_eq!(
            time::format_rfc3339(e.time_ns),
            "2011-09-25T22:35:44.000000000Z"
        );
        assert_eq!(e.source.format, "zendesk-ticket-audits");
    }
    let name = "zendesk/show-audit.json";
    let items = ok(read_zendesk(name, &data(name), &none));
    let evs = events(&items);
    assert_eq!(ticket_event(evs[1]), (Some("notification"), None));
    assert_eq!(evs[0].content.as_deref(), Some("Thanks for your help!"));

    let name = "zendesk/incremental-ticket-events.json";
    let items = ok(read_zendesk(name, &data(name), &none));
    let evs = events(&items);
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].content.as_deref(), Some("This is a comment"));
    // The epoch-seconds `timestamp` and the ISO `created_at` are the same instant.
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2009-06-25T10:15:18.000000000Z"
    );
    // A Change child names its field as its own key.
    assert_eq!(ticket_event(evs[1]), (Some("change"), Some("status")));
    let EventKind::TicketEvent { before, after, .. } = &evs[1].kind else {
        panic!()
    };
    assert_eq!(
        (before.clone(), after.clone()),
        (Some(json!("new")), Some(json!("open")))
    );

    // The documentation's own example holds a metric event timed by `time`.
    let name = "zendesk/incremental-ticket-events-doc.json";
    let items = ok(read_zendesk(name, &data(name), &none));
    let evs = events(&items);
    assert_eq!(
        ticket_event(evs[0]),
        (Some("measure"), Some("agent_work_time"))
    );
    assert_eq!(evs[0].correlation.ticket_id.as_deref(), Some("155"));
}

#[test]
fn intercom_conversation_with_parts() {
    let name = "intercom/conversation.example.json";
    let items = ok(read_intercom(
        name,
        &data(name),
        &HelpdeskOptions::default(),
    ));
    let evs = events(&items);
    // The header gives the opening message and the state; each of the four parts one event.
    assert_eq!(evs.len(), 6);
    for e in &evs {
        assert_eq!(e.correlation.conversation_id.as_deref(), Some("503"));
        assert_eq!(e.correlation.ticket_id.as_deref(), Some("503"));
        assert_eq!(e.correlation.customer_ref.as_deref(), Some("70"));
    }
    // The opening message was written by an admin: a staff comment, epoch seconds.
    assert_eq!(ticket_event(evs[0]), (Some("comment"), None));
    assert_eq!(evs[0].content.as_deref(), Some("this is the message body"));
    assert_eq!(evs[0].actor.as_ref().unwrap().role, ActorRole::Staff);
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2024-12-18T15:58:31.000000000Z"
    );
    let EventKind::TicketEvent { after, .. } = &evs[1].kind else {
        panic!()
    };
    assert_eq!(after.as_ref().unwrap(), "closed");
    assert_eq!(evs[2].content.as_deref(), Some("Okay!"));
    let EventKind::ToolCall { phase, name, .. } = &evs[3].kind else {
        panic!()
    };
    assert_eq!(
        (*phase, name.as_deref()),
        (ToolCallPhase::Requested, Some("Jira Create Issue"))
    );
    assert_eq!(
        evs[3].raw.record.as_deref(),
        Some("/conversation_parts/conversation_parts/1")
    );
    // Fin (a bot) set an attribute.
    assert_eq!(
        ticket_event(evs[4]),
        (
            Some("conversation_attribute_updated_by_admin"),
            Some("jira_issue_key")
        )
    );
    assert_eq!(evs[4].actor.as_ref().unwrap().role, ActorRole::Agent);
    let EventKind::ToolCall { phase, result, .. } = &evs[5].kind else {
        panic!()
    };
    assert_eq!(
        (*phase, result.clone()),
        (ToolCallPhase::Executed, Some(json!("success")))
    );
    assert_eq!(
        time::format_rfc3339(evs[5].time_ns),
        "2025-02-21T12:44:17.000000000Z"
    );
}

#[test]
fn intercom_custom_attribute_and_bad_parts() {
    let mut conv: serde_json::Value =
        serde_json::from_slice(&data("intercom/conversation.example.json")).unwrap();
    conv["custom_attributes"] = json!({"muster_conversation": "conv-7f3a9c"});
    conv["ai_agent"] = json!({"resolution_state": "routed_to_team", "rating": 2});
    conv["conversation_parts"]["conversation_parts"][2]["created_at"] = json!("soon");
    conv["conversation_parts"]["conversation_parts"][0]["author"] =
        json!({"type": "user", "id": "c1"});
    let opts = HelpdeskOptions {
        conversation_field: Some("muster_conversation".to_owned()),
    };
    let (items, stats) = read_intercom("t", conv.to_string().as_bytes(), &opts);
    check_accounting(&items, &stats);
    let q = quarantined(&items);
    assert_eq!(q.len(), 1);
    assert_eq!(
        q[0].pointer.record.as_deref(),
        Some("/conversation_parts/conversation_parts/2")
    );
    let evs = events(&items);
    assert!(
        evs.iter()
            .all(|e| e.correlation.conversation_id.as_deref() == Some("conv-7f3a9c"))
    );
    assert!(evs.iter().any(|e| matches!(&e.kind, EventKind::ConfidenceSignal { label: Some(l), score: Some(s), .. } if l == "routed_to_team" && *s == 2.0)));
    assert!(
        evs.iter()
            .any(|e| matches!(e.kind, EventKind::CustomerMessage { .. })
                && e.content.as_deref() == Some("Okay!"))
    );
}

#[test]
fn freshdesk_tickets_and_conversations() {
    let none = HelpdeskOptions::default();
    let name = "freshdesk/view-ticket.json";
    let items = ok(read_freshdesk(name, &data(name), &none));
    let evs = events(&items);
    assert_eq!(evs[0].correlation.ticket_id.as_deref(), Some("20"));
    assert_eq!(evs[0].correlation.customer_ref.as_deref(), Some("1"));
    assert_eq!(evs[0].attributes["status_name"], "open");
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2015-08-24T11:56:51.000000000Z"
    );

    let name = "freshdesk/filter-tickets.json";
    let items = ok(read_freshdesk(name, &data(name), &none));
    assert_eq!(
        events(&items)
            .iter()
            .filter(|e| ticket_event(e).0 == Some("created"))
            .count(),
        2
    );
    let opts = HelpdeskOptions {
        conversation_field: Some("cf_sector_no".to_owned()),
    };
    let items = ok(read_freshdesk(name, &data(name), &opts));
    assert!(events(&items)[0].correlation.conversation_id.is_some());

    let name = "freshdesk/list-conversations.json";
    let items = ok(read_freshdesk(name, &data(name), &none));
    let evs = events(&items);
    assert!(matches!(evs[0].kind, EventKind::CustomerMessage { .. }));
    assert!(
        evs[0]
            .content
            .as_deref()
            .unwrap()
            .starts_with("Where is my order A-1001?")
    );
    assert_eq!(evs[0].correlation.ticket_id.as_deref(), Some("20"));
    assert_eq!(ticket_event(evs[1]), (Some("note"), None));
    assert_eq!(evs[1].actor.as_ref().unwrap().role, ActorRole::Staff);

    // A ticket with its conversations included: the conversations inherit its keys.
    let mut ticket: serde_json::Value =
        serde_json::from_slice(&data("freshdesk/view-ticket.json")).unwrap();
    ticket["conversations"] = serde_json::from_slice(&data(name)).unwrap();
    let items = ok(read_freshdesk("t", ticket.to_string().as_bytes(), &none));
    let evs = events(&items);
    assert_eq!(
        evs.last().unwrap().raw.record.as_deref(),
        Some("/conversations/1")
    );
}

#[test]
fn salesforce_case_and_history() {
    let opts = HelpdeskOptions {
        conversation_field: Some("Conversation_Id__c".to_owned()),
    };
    let name = "salesforce/query-case.json";
    let items = ok(read_salesforce(name, &data(name), &opts));
    let evs = events(&items);
    assert_eq!(evs.len(), 1);
    let c = &evs[0].correlation;
    assert_eq!(c.case_id.as_deref(), Some("500RO00000AbCdEYAV"));
    assert_eq!(c.conversation_id.as_deref(), Some("conv-7f3a9c"));
    assert_eq!(c.customer_ref.as_deref(), Some("003RO0000035WQgYAM"));
    // Salesforce's `+0000` offset without a colon.
    assert_eq!(
        time::format_rfc3339(evs[0].time_ns),
        "2026-11-27T06:00:05.000000000Z"
    );
    assert_eq!(evs[0].attributes["CaseNumber"], "00001003");

    let name = "salesforce/query-case-history.json";
    let items = ok(read_salesforce(name, &data(name), &opts));
    let evs = events(&items);
    let EventKind::AccountChange {
        entity,
        record_id,
        field,
        before,
        after,
    } = &evs[0].kind
    else {
        panic!()
    };
    assert_eq!(entity.as_deref(), Some("Case"));
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

    // Records that are not Cases are kept as `other`, without a time they are quarantined.
    let name = "salesforce/query-accounts.json";
    let (items, stats) = read_salesforce(name, &data(name), &opts);
    check_accounting(&items, &stats);
    assert_eq!(stats.records, 2);
}

#[test]
fn malformed_helpdesk_records_are_quarantined() {
    let none = HelpdeskOptions::default();
    let (items, stats) = read_zendesk(
        "t",
        br#"{"tickets":[{"id":1,"created_at":"2026-11-26T19:08:52Z"},{"id":{"x":1}},{"id":3}]}"#,
        &none,
    );
    check_accounting(&items, &stats);
    let q = quarantined(&items);
    assert_eq!(q.len(), 2);
    assert_eq!(q[0].pointer.record.as_deref(), Some("/tickets/1"));
    assert!(q[1].reason.contains("no time"), "{}", q[1].reason);
    for (read, body) in [
        (
            read_zendesk as fn(&str, &[u8], &HelpdeskOptions) -> (Vec<Item>, ReadStats),
            &b"{\"nothing\":1}"[..],
        ),
        (read_intercom, b"[1,2]"),
        (read_freshdesk, b"\"x\""),
        (read_salesforce, b"{broken"),
    ] {
        let (items, stats) = read("t", body, &none);
        check_accounting(&items, &stats);
        assert_eq!(stats.bodies_quarantined, 1, "{items:?}");
    }
    let (items, stats) = read_salesforce(
        "t",
        br#"{"records":[{"attributes":{"type":"CaseHistory"},"Id":"017","CaseId":"500","Field":"Status","CreatedDate":"not a date"},{"Foo":1}]}"#,
        &none,
    );
    check_accounting(&items, &stats);
    assert_eq!(stats.records_quarantined, 2);
}
