//! The reference agent's systems of record, exported in the shapes the real ones use, so an
//! incident can be reconstructed from them as from a real stack:
//!
//! - the CRM's account changes as Salesforce `AccountHistory` records in a SOQL query result
//!   (`AccountId`, `Field`, `OldValue`, `NewValue`, `CreatedById`, `CreatedDate`) — field history
//!   names the account, not the conversation, as Salesforce's does;
//! - a monitoring rule, "refund or credit above the chat limit", as Datadog monitor webhook
//!   payloads, one per line, tagged with the conversation and customer as a team's monitor would.
//!
//! The handover queue is already served in Zendesk's List Tickets shape (`helpdesk.rs`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::crm::AuditEntry;
use crate::server::AppState;
use crate::tools::{CREDIT_LIMIT, REFUND_LIMIT};

/// Salesforce writes times as `2026-11-27T09:00:00.000+0000`.
fn salesforce_time(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string())
        .unwrap_or_default()
}

/// A field-history value is a scalar in Salesforce: objects are written as their JSON text.
fn scalar(v: &Value) -> Value {
    match v {
        Value::Object(_) | Value::Array(_) => Value::String(v.to_string()),
        other => other.clone(),
    }
}

pub(crate) fn account_history(entries: &[AuditEntry]) -> Value {
    let records: Vec<Value> = entries
        .iter()
        .map(|e| {
            let id = format!("017Lk{:013}", e.id);
            json!({
                "attributes": {"type": "AccountHistory", "url": format!("/services/data/v62.0/sobjects/AccountHistory/{id}")},
                "Id": id,
                "AccountId": e.customer_ref,
                "Field": e.action,
                "DataType": "Text",
                "OldValue": scalar(&e.before),
                "NewValue": scalar(&e.after),
                "CreatedById": "005Lk00000AssistantAAA",
                "CreatedDate": salesforce_time(e.at_ns),
            })
        })
        .collect();
    json!({"totalSize": records.len(), "done": true, "records": records})
}

/// The amount a money action moved, when it is one.
fn amount(e: &AuditEntry) -> Option<(f64, f64)> {
    match e.action.as_str() {
        "process_return" => e
            .after
            .get("refunded")
            .and_then(Value::as_f64)
            .map(|a| (a, REFUND_LIMIT)),
        "issue_credit" => e
            .after
            .get("amount")
            .or_else(|| e.after.get("credit"))
            .and_then(Value::as_f64)
            .map(|a| (a, CREDIT_LIMIT)),
        _ => None,
    }
}

/// How long the monitor takes to evaluate and fire after the change.
const MONITOR_DELAY_NS: i64 = 30_000_000_000;

pub(crate) fn monitor_webhooks(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        let Some((amount, limit)) = amount(e).filter(|(a, l)| a > l) else {
            continue;
        };
        let at_ms = (e.at_ns + MONITOR_DELAY_NS) / 1_000_000;
        let payload = json!({
            "body": format!("%%%\n`{}` moved £{amount:.2} for {} in conversation {}; the chat limit is £{limit:.0}.\n%%%", e.action, e.customer_ref, e.conversation_id),
            "last_updated": at_ms.to_string(),
            "event_type": "query_alert_monitor",
            "title": "[Triggered] Refund or credit above the chat limit on larkspur-support",
            "date": at_ms.to_string(),
            "org": {"id": "100001", "name": "Larkspur Mobile"},
            "id": format!("{}", 7_000_000_000_000_000_000u64 + u64::try_from(e.id).unwrap_or(0)),
            "alert_id": "61000001",
            "alert_transition": "Triggered",
            "alert_priority": "P1",
            "tags": format!("env:pre-production,service:larkspur-support,conversation_id:{},customer:{}", e.conversation_id, e.customer_ref),
        });
        out.push_str(&payload.to_string());
        out.push('\n');
    }
    out
}

async fn entries(state: &AppState) -> Result<Vec<AuditEntry>, Response> {
    state.crm.audit_entries().await.map_err(|e| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": "crm_unavailable", "message": e.to_string()})),
        )
            .into_response()
    })
}

/// `GET /admin/export/salesforce/account-history.json`
pub(crate) async fn salesforce_account_history(State(state): State<Arc<AppState>>) -> Response {
    match entries(&state).await {
        Ok(e) => axum::Json(account_history(&e)).into_response(),
        Err(r) => r,
    }
}

/// `GET /admin/export/datadog/monitor-webhooks.jsonl`
pub(crate) async fn datadog_monitor_webhooks(State(state): State<Arc<AppState>>) -> Response {
    match entries(&state).await {
        Ok(e) => (
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            monitor_webhooks(&e),
        )
            .into_response(),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, action: &str, after: Value) -> AuditEntry {
        AuditEntry {
            id,
            at_ns: 1_795_720_102_000_000_000,
            conversation_id: "c-000002".into(),
            customer_ref: "LM-100004".into(),
            action: action.into(),
            before: json!({"order": "ORD-20417", "status": "delivered"}),
            after,
        }
    }

    #[test]
    fn account_history_reads_back_as_account_changes_of_the_customer() {
        let body = account_history(&[entry(
            1,
            "process_return",
            json!({"order": "ORD-20417", "refunded": 749.0}),
        )])
        .to_string();
        let (items, _) = muster_ingest::helpdesk::read_salesforce(
            "crm.json",
            body.as_bytes(),
            &muster_ingest::helpdesk::HelpdeskOptions::default(),
        );
        let events: Vec<_> = items
            .iter()
            .filter_map(muster_ingest::Item::event)
            .collect();
        assert_eq!(events.len(), 1, "{items:?}");
        let e = events[0];
        assert_eq!(e.correlation.customer_ref.as_deref(), Some("LM-100004"));
        assert!(matches!(
            &e.kind,
            muster_ingest::EventKind::AccountChange { entity: Some(en), field: Some(f), .. }
                if en == "Account" && f == "process_return"
        ));
        assert_eq!(e.time_ns, 1_795_720_102_000_000_000);
    }

    #[test]
    fn only_money_moved_above_the_limit_raises_an_alert_that_reads_back_with_its_conversation() {
        let lines = monitor_webhooks(&[
            entry(1, "process_return", json!({"refunded": 749.0})),
            entry(2, "process_return", json!({"refunded": 60.0})),
            entry(3, "change_address", json!({"postcode": "AB1 2CD"})),
        ]);
        assert_eq!(lines.lines().count(), 1);
        let (items, _) = muster_ingest::monitoring::read_datadog(
            "alerts.jsonl",
            lines.trim_end().as_bytes(),
            muster_ingest::BodyLocation::default(),
        );
        let events: Vec<_> = items
            .iter()
            .filter_map(muster_ingest::Item::event)
            .collect();
        assert_eq!(events.len(), 1, "{items:?}");
        assert!(matches!(
            events[0].kind,
            muster_ingest::EventKind::Alert { .. }
        ));
        assert_eq!(
            events[0].correlation.conversation_id.as_deref(),
            Some("c-000002")
        );
    }
}
