//! Helpdesk and CRM records: Zendesk tickets, ticket audits and incremental ticket events;
//! Intercom conversations with their parts; Freshdesk tickets and conversations; Salesforce
//! Case, CaseHistory (and other `…History` objects) and CaseComment as REST JSON.
//!
//! The vendors' wire types are `muster-helpdesk`'s, the same the handover-queue adapters read,
//! so the two cannot drift. Envelopes are read as raw lists and each entry is decoded on its
//! own, so one bad record is quarantined without spoiling its page.
//!
//! Keys: the helpdesk record's own id is `ticket_id` (Zendesk, Freshdesk, Intercom) or
//! `case_id` (Salesforce); the agent's conversation id is found where [`HelpdeskOptions`]
//! says (a custom field), else where the vendor puts it by default (Zendesk `external_id`,
//! Intercom the conversation's own id); the customer is the requester or contact.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use muster_helpdesk::{freshdesk, html_to_text, intercom, salesforce, zendesk};

use crate::common::{
    Doc, Ev, Out, Rec, attr_key, epoch_seconds_at, parse_body, rest, str_at, text, time_at,
};
use crate::event::{ActorRole, Correlation, EventKind, EvidenceEvent, ToolCallPhase};
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};

/// Where a helpdesk record names the agent's conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelpdeskOptions {
    /// Zendesk: a custom field id (`360001234567`); Freshdesk: a custom field (`cf_conversation`);
    /// Intercom: a custom attribute name; Salesforce: a Case field (`Conversation_Id__c`).
    /// Without it: Zendesk `external_id`, Intercom the conversation id, none for the others.
    pub conversation_field: Option<String>,
}

/// The shape every vendor's reader here has: origin, body, options.
pub type BodyReader = fn(&str, &[u8], &HelpdeskOptions) -> (Vec<Item>, ReadStats);

type Mapped = Result<Vec<EvidenceEvent>, String>;

fn doc<'a>(origin: &'a str, system: &'static str, format: &'static str) -> Doc<'a> {
    Doc {
        origin,
        system,
        format,
        at: BodyLocation::default(),
    }
}

/// Decode one record into a vendor wire type, naming the problem when it does not fit.
fn typed<T: DeserializeOwned>(v: &Value, what: &str) -> Result<T, String> {
    T::deserialize(v).map_err(|e| format!("not a {what}: {e}"))
}

fn read_list(
    out: &mut Out,
    doc: &Doc<'_>,
    key: &str,
    list: &[Value],
    map: &dyn Fn(&Doc<'_>, &str, &Value) -> Mapped,
) {
    for (i, v) in list.iter().enumerate() {
        let record = if key.is_empty() {
            format!("/{i}")
        } else {
            format!("/{key}/{i}")
        };
        let result = map(doc, &record, v);
        out.record(doc, &record, v, result);
    }
}

/// A body's JSON, or the body quarantined.
fn body_json(out: &mut Out, doc: &Doc<'_>, body: &[u8]) -> Option<Value> {
    out.stats.bodies = 1;
    match parse_body(body) {
        Ok(v) => Some(v),
        Err(reason) => {
            out.body_failed(doc, reason, body);
            None
        }
    }
}

fn scalar(s: &Option<muster_helpdesk::Scalar>) -> Option<String> {
    s.as_ref()
        .map(|s| s.as_str().to_owned())
        .filter(|s| !s.is_empty())
}

/// A record's creation time, required: a ticket nobody can place in time cannot join a timeline.
fn required_time(obj: &Map<String, Value>, keys: &[&str]) -> Result<i64, String> {
    for k in keys {
        if let Some(t) = time_at(obj, k)? {
            return Ok(t);
        }
    }
    Err(format!("no time: none of {}", keys.join(", ")))
}

// ---------------------------------------------------------------------------------------------
// Zendesk

/// Read a Zendesk body: a ticket (`{"ticket"}`), a ticket list or incremental ticket export
/// (`{"tickets"}`), search results (`{"results"}`, tickets only), audits (`{"audits"}` or
/// `{"audit"}`) or the incremental ticket event export (`{"ticket_events"}`).
pub fn read_zendesk(origin: &str, body: &[u8], opts: &HelpdeskOptions) -> (Vec<Item>, ReadStats) {
    let mut out = Out::default();
    let d = doc(origin, "zendesk", "zendesk-json");
    let Some(value) = body_json(&mut out, &d, body) else {
        return out.finish();
    };
    let Some(obj) = value.as_object() else {
        out.body_failed(
            &d,
            "not a Zendesk response: not a JSON object".to_owned(),
            body,
        );
        return out.finish();
    };
    let ticket = |d: &Doc<'_>, r: &str, v: &Value| zendesk_ticket(d, r, v, opts);
    let audit = |d: &Doc<'_>, r: &str, v: &Value| zendesk_audit(d, r, v, opts);
    let event = |d: &Doc<'_>, r: &str, v: &Value| zendesk_ticket_event(d, r, v);
    if let Some(t) = obj.get("ticket") {
        let d = doc(origin, "zendesk", "zendesk-tickets");
        let result = ticket(&d, "/ticket", t);
        out.record(&d, "/ticket", t, result);
    } else if let Some(Value::Array(list)) = obj.get("tickets") {
        // Tickets (a list page, or an incremental export page) are decoded one by one as
        // `zendesk::Ticket`, so a bad ticket is quarantined without spoiling the page.
        let d = doc(origin, "zendesk", "zendesk-tickets");
        read_list(&mut out, &d, "tickets", list, &ticket);
    } else if let Ok(results) = typed::<zendesk::SearchResults>(&value, "search results") {
        let d = doc(origin, "zendesk", "zendesk-search");
        read_list(&mut out, &d, "results", &results.results, &|d, r, v| {
            match v.get("result_type").and_then(Value::as_str) {
                Some("ticket") | None => zendesk_ticket(d, r, v, opts),
                // Users, groups and organisations are not evidence of what happened; they are
                // counted as read and give no events.
                Some(_) => Ok(Vec::new()),
            }
        });
    } else if let Ok(list) = typed::<zendesk::AuditList>(&value, "audit list") {
        let d = doc(origin, "zendesk", "zendesk-ticket-audits");
        read_list(&mut out, &d, "audits", &list.audits, &audit);
    } else if let Some(a) = obj.get("audit") {
        let d = doc(origin, "zendesk", "zendesk-ticket-audits");
        let result = audit(&d, "/audit", a);
        out.record(&d, "/audit", a, result);
    } else if let Ok(list) = typed::<zendesk::IncrementalTicketEvents>(&value, "ticket events") {
        let d = doc(origin, "zendesk", "zendesk-incremental-ticket-events");
        read_list(&mut out, &d, "ticket_events", &list.ticket_events, &event);
    } else {
        out.body_failed(
            &d,
            "not a Zendesk response: no ticket, tickets, results, audits or ticket_events"
                .to_owned(),
            body,
        );
    }
    out.finish()
}

fn zendesk_keys(t: &zendesk::Ticket, opts: &HelpdeskOptions) -> Correlation {
    let mut c = Correlation {
        ticket_id: Some(t.id.as_str().to_owned()),
        ..Correlation::default()
    };
    let from_field = opts.conversation_field.as_deref().and_then(|f| {
        t.custom_field(f)
            .map(|v| (v.as_str().to_owned(), format!("custom_fields.{f}")))
    });
    if let Some((v, k)) =
        from_field.or_else(|| scalar(&t.external_id).map(|v| (v, "external_id".to_owned())))
    {
        c.conversation_id = Some(v);
        c.conversation_from = attr_key(&k);
    }
    if let Some(r) = scalar(&t.requester_id) {
        c.customer_ref = Some(r);
        c.customer_from = attr_key("requester_id");
    }
    c
}

fn zendesk_ticket(d: &Doc<'_>, record: &str, v: &Value, opts: &HelpdeskOptions) -> Mapped {
    let t: zendesk::Ticket = typed(v, "Zendesk ticket")?;
    let obj = v.as_object().ok_or("a ticket is not an object")?;
    let created = required_time(obj, &["created_at", "updated_at"])?;
    let updated = time_at(obj, "updated_at")?;
    let mut rec = Rec::new(
        d,
        record.to_owned(),
        d.source(None),
        zendesk_keys(&t, opts),
        updated.unwrap_or(created),
    );
    let content = match (&t.subject, &t.description) {
        (Some(s), Some(desc)) => Some(format!("{s}\n\n{desc}")),
        (s, desc) => s.clone().or_else(|| desc.clone()),
    };
    rec.push(
        Ev::new(
            created,
            EventKind::TicketEvent {
                action: Some("created".to_owned()),
                field: None,
                before: None,
                after: None,
            },
        )
        .content(content)
        .attributes(rest(
            obj,
            &["id", "subject", "description", "created_at", "updated_at"],
        )),
    );
    // The record is a snapshot: its state is known as of `updated_at`.
    if let Some(u) = updated.filter(|u| *u > created) {
        rec.push(Ev::new(
            u,
            EventKind::TicketEvent {
                action: Some("state".to_owned()),
                field: Some("status".to_owned()),
                before: None,
                after: t.status.clone().map(Value::String),
            },
        ));
    }
    Ok(rec.finish())
}

/// One audit or child event (`Create`, `Change`, `Comment`…) as a ticket event.
fn zendesk_child(time_ns: i64, e: &Map<String, Value>, known: &[&str]) -> Ev {
    let kind = str_at(e, "type")
        .or_else(|| str_at(e, "event_type"))
        .unwrap_or("unknown");
    let action = kind.to_ascii_lowercase();
    match kind {
        "Comment" => {
            let body = text(e.get("plain_body"))
                .or_else(|| text(e.get("body")))
                .or_else(|| text(e.get("html_body")).map(|h| html_to_text(&h)));
            Ev::new(
                time_ns,
                EventKind::TicketEvent {
                    action: Some("comment".to_owned()),
                    field: None,
                    before: None,
                    after: None,
                },
            )
            .content(body)
            .attributes(rest(
                e,
                &["type", "event_type", "body", "html_body", "plain_body"],
            ))
        }
        _ => {
            // Audits name the field (`field_name`); incremental child events use the field's
            // own name as a key beside `previous_value`.
            let change = matches!(kind, "Change" | "Create");
            let field = text(e.get("field_name")).or_else(|| {
                change
                    .then(|| e.keys().find(|k| !known.contains(&k.as_str())).cloned())
                    .flatten()
            });
            let after = e
                .get("value")
                .or_else(|| field.as_deref().and_then(|f| e.get(f)))
                .filter(|v| !v.is_null())
                .cloned();
            Ev::new(
                time_ns,
                EventKind::TicketEvent {
                    action: Some(action),
                    field: field.clone(),
                    before: e.get("previous_value").filter(|v| !v.is_null()).cloned(),
                    after,
                },
            )
            // Notifications, SMS, tweets… carry their text in `body`.
            .content((!change).then(|| text(e.get("body"))).flatten())
            .attributes(rest(
                e,
                &[
                    "type",
                    "event_type",
                    "field_name",
                    "value",
                    "previous_value",
                    "body",
                    field.as_deref().unwrap_or(""),
                ],
            ))
        }
    }
}

/// Keys of an incremental child event that are not the changed field.
const CHILD_KNOWN: &[&str] = &[
    "id",
    "via",
    "via_reference_id",
    "event_type",
    "type",
    "previous_value",
    "field_name",
    "value",
    "created_at",
    "audit_id",
    "author_id",
    "public",
    "attachments",
    "comment_present",
    "comment_public",
    "body",
    "html_body",
    "plain_body",
    "system",
    "metadata",
];

fn zendesk_audit(d: &Doc<'_>, record: &str, v: &Value, opts: &HelpdeskOptions) -> Mapped {
    let a: zendesk::Audit = typed(v, "Zendesk ticket audit")?;
    let obj = v.as_object().ok_or("an audit is not an object")?;
    let t = required_time(obj, &["created_at"])?;
    let mut corr = Correlation {
        ticket_id: scalar(&a.ticket_id),
        ..Correlation::default()
    };
    // An audit that sets the conversation field (usually the ticket's `Create`) names the
    // conversation.
    let conv_field = opts.conversation_field.as_deref().unwrap_or("external_id");
    if let Some(val) = a.events.iter().find_map(|e| {
        (e.get("field_name").and_then(|f| text(Some(f))).as_deref() == Some(conv_field))
            .then(|| text(e.get("value")))
            .flatten()
    }) {
        corr.conversation_id = Some(val);
        corr.conversation_from = attr_key(&format!("events.{conv_field}"));
    }
    let mut rec = Rec::new(d, record.to_owned(), d.source(None), corr, t);
    let author = scalar(&a.author_id).map(Value::String);
    for e in &a.events {
        let ev = match e.as_object() {
            Some(e) => zendesk_child(t, e, CHILD_KNOWN),
            None => Ev::new(
                t,
                EventKind::TicketEvent {
                    action: Some("unknown".to_owned()),
                    field: None,
                    before: None,
                    after: Some(e.clone()),
                },
            ),
        };
        rec.push(
            ev.attr("audit_author_id", author.clone())
                .attr("audit_id", Some(Value::String(a.id.as_str().to_owned()))),
        );
    }
    if a.events.is_empty() {
        rec.push(Ev::new(
            t,
            EventKind::TicketEvent {
                action: Some("audit".to_owned()),
                field: None,
                before: None,
                after: None,
            },
        ));
    }
    Ok(rec.finish())
}

fn zendesk_ticket_event(d: &Doc<'_>, record: &str, v: &Value) -> Mapped {
    let e: zendesk::IncrementalTicketEvent = typed(v, "Zendesk ticket event")?;
    let obj = v.as_object().ok_or("a ticket event is not an object")?;
    // `timestamp` is declared epoch seconds; `created_at` the same instant in ISO.
    let t = match epoch_seconds_at(obj, "timestamp")? {
        Some(t) => t,
        // The documented example holds metric events timed by `time` instead.
        None => required_time(obj, &["created_at", "time"])?,
    };
    let corr = Correlation {
        ticket_id: scalar(&e.ticket_id),
        ..Correlation::default()
    };
    let mut rec = Rec::new(d, record.to_owned(), d.source(None), corr, t);
    let updater = scalar(&e.updater_id).map(Value::String);
    for c in &e.child_events {
        let ev = match c.as_object() {
            Some(c) => zendesk_child(t, c, CHILD_KNOWN),
            None => Ev::new(
                t,
                EventKind::TicketEvent {
                    action: Some("unknown".to_owned()),
                    field: None,
                    before: None,
                    after: Some(c.clone()),
                },
            ),
        };
        rec.push(ev.attr("updater_id", updater.clone()));
    }
    if e.child_events.is_empty() {
        rec.push(
            Ev::new(
                t,
                EventKind::TicketEvent {
                    action: e
                        .event_type
                        .as_deref()
                        .or_else(|| str_at(obj, "type"))
                        .map(str::to_ascii_lowercase),
                    field: text(obj.get("metric")),
                    before: None,
                    after: None,
                },
            )
            .attr("updater_id", updater)
            .attributes(rest(
                obj,
                &[
                    "id",
                    "ticket_id",
                    "timestamp",
                    "created_at",
                    "time",
                    "event_type",
                    "type",
                    "metric",
                    "child_events",
                ],
            )),
        );
    }
    Ok(rec.finish())
}

// ---------------------------------------------------------------------------------------------
// Intercom

/// Read an Intercom body: one conversation (`GET /conversations/{id}`) or a list or search page
/// (`{"conversations": […]}`). The conversation (its opening message, state and Fin's outcome)
/// is one record and each part another.
pub fn read_intercom(origin: &str, body: &[u8], opts: &HelpdeskOptions) -> (Vec<Item>, ReadStats) {
    let mut out = Out::default();
    let d = doc(origin, "intercom", "intercom-conversations");
    let Some(value) = body_json(&mut out, &d, body) else {
        return out.finish();
    };
    match &value {
        Value::Object(o)
            if o.get("type").and_then(Value::as_str) == Some("conversation")
                || o.contains_key("conversation_parts") =>
        {
            intercom_conversation(&mut out, &d, "", &value, opts);
        }
        Value::Object(o) if o.get("conversations").is_some_and(Value::is_array) => {
            if let Some(Value::Array(list)) = o.get("conversations") {
                for (i, c) in list.iter().enumerate() {
                    intercom_conversation(&mut out, &d, &format!("/conversations/{i}"), c, opts);
                }
            }
        }
        _ => out.body_failed(
            &d,
            "not an Intercom conversation or conversation list".to_owned(),
            body,
        ),
    }
    out.finish()
}

fn intercom_role(author: Option<&intercom::Author>) -> (ActorRole, Option<String>) {
    let Some(a) = author else {
        return (ActorRole::System, None);
    };
    let id = scalar(&a.id);
    let role = match a.kind.as_deref() {
        Some("user" | "lead" | "contact") => ActorRole::Customer,
        Some("bot") => ActorRole::Agent,
        _ if a.from_ai_agent == Some(true) || a.is_ai_answer == Some(true) => ActorRole::Agent,
        Some("admin" | "team") => ActorRole::Staff,
        _ => ActorRole::System,
    };
    (role, id)
}

/// A message by who wrote it: the customer's, the AI agent's, or staff's (a ticket comment).
fn message_kind(role: ActorRole, staff_action: &str) -> EventKind {
    match role {
        ActorRole::Customer => EventKind::CustomerMessage {
            channel: Some("intercom".to_owned()),
        },
        ActorRole::Agent => EventKind::AgentMessage {
            finish_reason: None,
        },
        _ => EventKind::TicketEvent {
            action: Some(staff_action.to_owned()),
            field: None,
            before: None,
            after: None,
        },
    }
}

fn intercom_conversation(
    out: &mut Out,
    d: &Doc<'_>,
    base: &str,
    v: &Value,
    opts: &HelpdeskOptions,
) {
    let header_record = if base.is_empty() {
        "/".to_owned()
    } else {
        base.to_owned()
    };
    // The header is decoded without its parts, so a bad part costs only itself.
    let mut head = v.clone();
    let parts = head
        .as_object_mut()
        .and_then(|o| o.remove("conversation_parts"))
        .and_then(|p| p.get("conversation_parts").cloned())
        .and_then(|p| match p {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .unwrap_or_default();
    let header: Result<(intercom::Conversation, Correlation), String> =
        typed::<intercom::Conversation>(&head, "Intercom conversation").map(|c| {
            let mut corr = Correlation {
                ticket_id: Some(c.id.as_str().to_owned()),
                ..Correlation::default()
            };
            let custom = opts.conversation_field.as_deref().and_then(|f| {
                text(c.custom_attributes.get(f)).map(|v| (v, format!("custom_attributes.{f}")))
            });
            let (conv, key) = custom.unwrap_or_else(|| (c.id.as_str().to_owned(), "id".to_owned()));
            corr.conversation_id = Some(conv);
            corr.conversation_from = attr_key(&key);
            if let Some(contact) = c.contacts.as_ref().and_then(|l| l.contacts.first()) {
                if let Some(x) = scalar(&contact.external_id) {
                    corr.customer_ref = Some(x);
                    corr.customer_from = attr_key("contacts.external_id");
                } else if let Some(x) = scalar(&contact.id) {
                    corr.customer_ref = Some(x);
                    corr.customer_from = attr_key("contacts.id");
                }
            }
            (c, corr)
        });
    let (conv, corr) = match header {
        Ok(h) => h,
        Err(reason) => {
            out.record(d, &header_record, v, Err(reason));
            // Parts of a conversation that cannot be read cannot be placed: each is
            // quarantined with the same reason so none disappears.
            for (i, p) in parts.iter().enumerate() {
                let r = format!("{base}/conversation_parts/conversation_parts/{i}");
                out.record(
                    d,
                    &r,
                    p,
                    Err("its conversation could not be read".to_owned()),
                );
            }
            return;
        }
    };
    let obj = head.as_object().cloned().unwrap_or_default();
    let result = (|| -> Mapped {
        let created =
            epoch_seconds_at(&obj, "created_at")?.ok_or("a conversation without `created_at`")?;
        let updated = epoch_seconds_at(&obj, "updated_at")?;
        let mut rec = Rec::new(
            d,
            header_record.clone(),
            d.source(None),
            corr.clone(),
            updated.unwrap_or(created),
        );
        if let Some(src) = &conv.source {
            let (role, id) = intercom_role(src.author.as_ref());
            rec.push(
                Ev::new(created, message_kind(role, "comment"))
                    .by(role, id)
                    .content(src.body.as_deref().map(html_to_text))
                    .attr("source", obj.get("source").cloned()),
            );
        }
        let at = updated.unwrap_or(created);
        if let Some(ai) = &conv.ai_agent {
            rec.push(
                Ev::new(
                    at,
                    EventKind::ConfidenceSignal {
                        name: Some("ai_agent.resolution_state".to_owned()),
                        score: ai.rating.as_ref().and_then(|r| r.as_str().parse().ok()),
                        label: ai.resolution_state.clone(),
                        explanation: ai.rating_remark.clone(),
                    },
                )
                .by(ActorRole::Agent, None)
                .attr("ai_agent", obj.get("ai_agent").cloned())
                .observed_basis(),
            );
        }
        rec.push(
            Ev::new(
                at,
                EventKind::TicketEvent {
                    action: Some("state".to_owned()),
                    field: Some("state".to_owned()),
                    before: None,
                    after: conv.state.clone().map(Value::String),
                },
            )
            .content(conv.title.clone())
            .attributes(rest(
                &obj,
                &[
                    "type",
                    "id",
                    "source",
                    "ai_agent",
                    "title",
                    "created_at",
                    "updated_at",
                    "state",
                ],
            )),
        );
        Ok(rec.finish())
    })();
    out.record(d, &header_record, &head, result);
    for (i, p) in parts.iter().enumerate() {
        let r = format!("{base}/conversation_parts/conversation_parts/{i}");
        let result = intercom_part(d, &r, p, &corr);
        out.record(d, &r, p, result);
    }
}

fn intercom_part(d: &Doc<'_>, record: &str, v: &Value, corr: &Correlation) -> Mapped {
    let part: intercom::Part = typed(v, "Intercom conversation part")?;
    let obj = v.as_object().ok_or("a part is not an object")?;
    let t = epoch_seconds_at(obj, "created_at")?.ok_or("a part without `created_at`")?;
    let (role, id) = intercom_role(part.author.as_ref());
    let pt = part.part_type.as_deref().unwrap_or("unknown");
    let details = part.event_details.as_ref();
    let name_at = |a: &str, b: &str| {
        details
            .and_then(|d| d.get(a))
            .and_then(|x| x.get(b))
            .and_then(|x| text(Some(x)))
    };
    let kind = match pt {
        "comment" | "quick_reply" => message_kind(role, "comment"),
        "assignment" | "assign_and_reopen" | "default_assignment" => {
            EventKind::EscalationDecision {
                decision: Some(pt.to_owned()),
                from: part.author.as_ref().and_then(|a| a.name.clone()),
                to: part.assigned_to.as_ref().and_then(|a| {
                    text(a.get("id")).map(|id| match text(a.get("type")) {
                        Some(kind) => format!("{kind}:{id}"),
                        None => id,
                    })
                }),
                reason: None,
            }
        }
        "custom_action_started" | "custom_action_finished" => EventKind::ToolCall {
            phase: if pt == "custom_action_started" {
                ToolCallPhase::Requested
            } else {
                ToolCallPhase::Executed
            },
            name: name_at("action", "name"),
            arguments: None,
            result: details
                .and_then(|d| d.get("action"))
                .and_then(|a| a.get("result"))
                .cloned(),
            error: None,
        },
        _ if pt.contains("attribute_updated") => EventKind::TicketEvent {
            action: Some(pt.to_owned()),
            field: name_at("attribute", "name"),
            before: None,
            after: details
                .and_then(|d| d.get("value"))
                .and_then(|x| x.get("name"))
                .cloned(),
        },
        other => EventKind::TicketEvent {
            action: Some(other.to_owned()),
            field: None,
            before: None,
            after: None,
        },
    };
    let mut rec = Rec::new(
        d,
        record.to_owned(),
        d.source(None),
        corr.clone(),
        epoch_seconds_at(obj, "updated_at")?.unwrap_or(t),
    );
    rec.push(
        Ev::new(t, kind)
            .by(role, id)
            .content(part.body.as_deref().map(html_to_text))
            .attributes(rest(
                obj,
                &["type", "body", "created_at", "updated_at", "part_type"],
            ))
            .attr("part_type", Some(Value::String(pt.to_owned()))),
    );
    Ok(rec.finish())
}

// ---------------------------------------------------------------------------------------------
// Freshdesk

/// Read a Freshdesk body: a ticket (with `?include=conversations` its conversations too), a
/// list of tickets, a filter page (`{"results": […]}`), or a ticket's conversations (a list of
/// entries with `ticket_id` and `body`).
pub fn read_freshdesk(origin: &str, body: &[u8], opts: &HelpdeskOptions) -> (Vec<Item>, ReadStats) {
    let mut out = Out::default();
    let d = doc(origin, "freshdesk", "freshdesk-json");
    let Some(value) = body_json(&mut out, &d, body) else {
        return out.finish();
    };
    let is_conversation = |v: &Value| {
        v.get("ticket_id").is_some() && (v.get("body").is_some() || v.get("body_text").is_some())
    };
    match &value {
        Value::Object(o) if o.contains_key("results") => {
            let list = o
                .get("results")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, t) in list.iter().enumerate() {
                freshdesk_ticket(&mut out, &d, &format!("/results/{i}"), t, opts);
            }
        }
        Value::Object(_) if is_conversation(&value) => {
            let result = freshdesk_conversation(&d, "/", &value, None);
            out.record(&d, "/", &value, result);
        }
        Value::Object(o) if o.contains_key("id") => {
            freshdesk_ticket(&mut out, &d, "", &value, opts);
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                let r = format!("/{i}");
                if is_conversation(v) {
                    let result = freshdesk_conversation(&d, &r, v, None);
                    out.record(&d, &r, v, result);
                } else {
                    freshdesk_ticket(&mut out, &d, &r, v, opts);
                }
            }
        }
        _ => out.body_failed(
            &d,
            "not a Freshdesk ticket, ticket list or conversation list".to_owned(),
            body,
        ),
    }
    out.finish()
}

fn freshdesk_ticket(out: &mut Out, d: &Doc<'_>, record: &str, v: &Value, opts: &HelpdeskOptions) {
    let rec_name = if record.is_empty() { "/" } else { record };
    let mut head = v.clone();
    let convs = head
        .as_object_mut()
        .and_then(|o| o.remove("conversations"))
        .and_then(|c| match c {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .unwrap_or_default();
    let mapped = (|| -> Result<(Vec<EvidenceEvent>, Correlation), String> {
        let t: freshdesk::Ticket = typed(&head, "Freshdesk ticket")?;
        let obj = head.as_object().ok_or("a ticket is not an object")?;
        let created = required_time(obj, &["created_at", "updated_at"])?;
        let updated = time_at(obj, "updated_at")?;
        let mut corr = Correlation {
            ticket_id: Some(t.id.as_str().to_owned()),
            ..Correlation::default()
        };
        if let Some(f) = opts.conversation_field.as_deref()
            && let Some(c) = t.custom_field(f)
        {
            corr.conversation_id = Some(c.as_str().to_owned());
            corr.conversation_from = attr_key(&format!("custom_fields.{f}"));
        }
        if let Some(r) = scalar(&t.requester_id) {
            corr.customer_ref = Some(r);
            corr.customer_from = attr_key("requester_id");
        }
        let mut rec = Rec::new(
            d,
            rec_name.to_owned(),
            d.source(None),
            corr.clone(),
            updated.unwrap_or(created),
        );
        let desc = t
            .description_text
            .clone()
            .or_else(|| t.description.as_deref().map(html_to_text));
        let content = match (&t.subject, desc) {
            (Some(s), Some(desc)) => Some(format!("{s}\n\n{desc}")),
            (s, desc) => s.clone().or(desc),
        };
        rec.push(
            Ev::new(
                created,
                EventKind::TicketEvent {
                    action: Some("created".to_owned()),
                    field: None,
                    before: None,
                    after: None,
                },
            )
            .content(content)
            .attributes(rest(
                obj,
                &[
                    "id",
                    "subject",
                    "description",
                    "description_text",
                    "created_at",
                    "updated_at",
                ],
            ))
            .attr("status_name", t.status_name().map(Value::String))
            .attr("priority_name", t.priority_name().map(Value::String)),
        );
        if let Some(u) = updated.filter(|u| *u > created) {
            rec.push(Ev::new(
                u,
                EventKind::TicketEvent {
                    action: Some("state".to_owned()),
                    field: Some("status".to_owned()),
                    before: None,
                    after: t.status_name().map(Value::String),
                },
            ));
        }
        Ok((rec.finish(), corr))
    })();
    let corr = match mapped {
        Ok((events, corr)) => {
            out.record_mapped(events);
            Some(corr)
        }
        Err(reason) => {
            out.record(d, rec_name, &head, Err(reason));
            None
        }
    };
    for (i, c) in convs.iter().enumerate() {
        let r = format!("{record}/conversations/{i}");
        let result = freshdesk_conversation(d, &r, c, corr.as_ref());
        out.record(d, &r, c, result);
    }
}

fn freshdesk_conversation(
    d: &Doc<'_>,
    record: &str,
    v: &Value,
    ticket: Option<&Correlation>,
) -> Mapped {
    let c: freshdesk::Conversation = typed(v, "Freshdesk conversation")?;
    let obj = v.as_object().ok_or("a conversation is not an object")?;
    let t = required_time(obj, &["created_at", "updated_at"])?;
    let mut corr = ticket.cloned().unwrap_or_default();
    if corr.ticket_id.is_none() {
        corr.ticket_id = scalar(&c.ticket_id);
    }
    let user = scalar(&c.user_id);
    let (kind, role) = if c.incoming == Some(true) {
        if corr.customer_ref.is_none() {
            corr.customer_ref = user.clone();
            corr.customer_from = attr_key("user_id");
        }
        (
            EventKind::CustomerMessage {
                channel: Some("freshdesk".to_owned()),
            },
            ActorRole::Customer,
        )
    } else {
        let action = if c.private == Some(true) {
            "note"
        } else {
            "reply"
        };
        (
            EventKind::TicketEvent {
                action: Some(action.to_owned()),
                field: None,
                before: None,
                after: None,
            },
            ActorRole::Staff,
        )
    };
    let mut rec = Rec::new(
        d,
        record.to_owned(),
        d.source(None),
        corr,
        time_at(obj, "updated_at")?.unwrap_or(t),
    );
    rec.push(
        Ev::new(t, kind)
            .by(role, user)
            .content(
                c.body_text
                    .clone()
                    .or_else(|| c.body.as_deref().map(html_to_text)),
            )
            .attributes(rest(
                obj,
                &["body", "body_text", "created_at", "updated_at", "ticket_id"],
            )),
    );
    Ok(rec.finish())
}

// ---------------------------------------------------------------------------------------------
// Salesforce

/// Read Salesforce REST JSON: a SOQL query result (`{"totalSize", "done", "records"}`), an
/// sObject-tree export (`{"records": […]}` with `attributes.referenceId`), a list of records or
/// one record. Records are told apart by `attributes.type`: `Case`, `CaseHistory` and other
/// `…History` objects, `CaseComment`; anything else is kept as an `other` event.
pub fn read_salesforce(
    origin: &str,
    body: &[u8],
    opts: &HelpdeskOptions,
) -> (Vec<Item>, ReadStats) {
    let mut out = Out::default();
    let d = doc(origin, "salesforce", "salesforce-rest-json");
    let Some(value) = body_json(&mut out, &d, body) else {
        return out.finish();
    };
    let map = |d: &Doc<'_>, r: &str, v: &Value| salesforce_record(d, r, v, opts);
    match &value {
        Value::Object(o) if o.get("records").is_some_and(Value::is_array) => {
            if let Some(Value::Array(list)) = o.get("records") {
                read_list(&mut out, &d, "records", list, &map);
            }
        }
        Value::Array(list) => read_list(&mut out, &d, "", list, &map),
        Value::Object(o) if o.contains_key("attributes") || o.contains_key("Id") => {
            let result = map(&d, "/", &value);
            out.record(&d, "/", &value, result);
        }
        _ => out.body_failed(
            &d,
            "not Salesforce records: no `records` list and not a record".to_owned(),
            body,
        ),
    }
    out.finish()
}

fn salesforce_record(d: &Doc<'_>, record: &str, v: &Value, opts: &HelpdeskOptions) -> Mapped {
    let obj = v.as_object().ok_or("a record is not an object")?;
    let attrs = obj.get("attributes").and_then(Value::as_object);
    let ty = attrs
        .and_then(|a| str_at(a, "type"))
        .map(str::to_owned)
        .or_else(|| {
            // Without `attributes` (some exports drop them), tell the objects apart by fields.
            if obj.contains_key("CaseNumber") {
                Some("Case".to_owned())
            } else if obj.contains_key("CaseId") && obj.contains_key("Field") {
                Some("CaseHistory".to_owned())
            } else if obj.contains_key("CommentBody") {
                Some("CaseComment".to_owned())
            } else {
                None
            }
        })
        .ok_or("a record without `attributes.type` whose fields name no known object")?;
    // sObject-tree exports carry `referenceId` instead of `Id`.
    let mut v = v.clone();
    if !obj.contains_key("Id")
        && let (Some(r), Some(o)) = (
            attrs.and_then(|a| text(a.get("referenceId"))),
            v.as_object_mut(),
        )
    {
        o.insert("Id".to_owned(), Value::String(r));
    }
    let obj = v.as_object().ok_or("a record is not an object")?;
    let created = required_time(obj, &["CreatedDate", "LastModifiedDate", "SystemModstamp"])?;
    let source = d.source(None);
    match ty.as_str() {
        "Case" => {
            let c: salesforce::Case = typed(&v, "Salesforce Case")?;
            let mut corr = Correlation {
                case_id: Some(c.id.clone()),
                ..Correlation::default()
            };
            if let Some(f) = opts.conversation_field.as_deref()
                && let Some(val) = text(obj.get(f))
            {
                corr.conversation_id = Some(val);
                corr.conversation_from = attr_key(f);
            }
            if let Some((val, k)) = [
                ("ContactId", &c.contact_id),
                ("AccountId", &c.account_id),
                ("SuppliedEmail", &c.supplied_email),
            ]
            .into_iter()
            .find_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (v, k)))
            {
                corr.customer_ref = Some(val);
                corr.customer_from = attr_key(k);
            }
            let modified = time_at(obj, "LastModifiedDate")?;
            let mut rec = Rec::new(
                d,
                record.to_owned(),
                source,
                corr,
                modified.unwrap_or(created),
            );
            let content = match (&c.subject, &c.description) {
                (Some(s), Some(desc)) => Some(format!("{s}\n\n{desc}")),
                (s, desc) => s.clone().or_else(|| desc.clone()),
            };
            rec.push(
                Ev::new(
                    created,
                    EventKind::TicketEvent {
                        action: Some("created".to_owned()),
                        field: None,
                        before: None,
                        after: None,
                    },
                )
                .content(content)
                .attributes(rest(
                    obj,
                    &["Id", "Subject", "Description", "CreatedDate", "attributes"],
                )),
            );
            if let Some(m) = modified.filter(|m| *m > created) {
                rec.push(Ev::new(
                    m,
                    EventKind::TicketEvent {
                        action: Some("state".to_owned()),
                        field: Some("Status".to_owned()),
                        before: None,
                        after: c.status.clone().map(Value::String),
                    },
                ));
            }
            Ok(rec.finish())
        }
        "CaseComment" => {
            let c: salesforce::CaseComment = typed(&v, "Salesforce CaseComment")?;
            let corr = Correlation {
                case_id: c.parent_id.clone(),
                ..Correlation::default()
            };
            let mut rec = Rec::new(d, record.to_owned(), source, corr, created);
            rec.push(
                Ev::new(
                    created,
                    EventKind::TicketEvent {
                        action: Some("comment".to_owned()),
                        field: None,
                        before: None,
                        after: None,
                    },
                )
                .by(ActorRole::Staff, text(obj.get("CreatedById")))
                .content(c.comment_body.clone())
                .attributes(rest(
                    obj,
                    &["Id", "CommentBody", "CreatedDate", "attributes"],
                )),
            );
            Ok(rec.finish())
        }
        t if t.ends_with("History") => {
            // Field history: `CaseHistory` (`CaseId`), `AccountHistory` (`AccountId`),
            // `ContactHistory`… all share Field/OldValue/NewValue. A change to a CRM record is
            // an account change, whichever object it is.
            let entity = t
                .trim_end_matches("History")
                .trim_end_matches('2')
                .to_owned();
            let h: salesforce::CaseHistory = typed(&v, "Salesforce field history")?;
            let parent = text(obj.get(&format!("{entity}Id")));
            let mut corr = Correlation::default();
            if entity == "Case" {
                corr.case_id = parent.clone();
            } else if matches!(entity.as_str(), "Account" | "Contact") {
                corr.customer_ref = parent.clone();
                corr.customer_from = attr_key(&format!("{entity}Id"));
            }
            let mut rec = Rec::new(d, record.to_owned(), source, corr, created);
            rec.push(
                Ev::new(
                    created,
                    EventKind::AccountChange {
                        entity: Some(entity),
                        record_id: parent,
                        field: h.field.clone(),
                        before: h.old_value.clone().filter(|v| !v.is_null()),
                        after: h.new_value.clone().filter(|v| !v.is_null()),
                    },
                )
                .by(ActorRole::Staff, h.created_by_id.clone())
                .attributes(rest(
                    obj,
                    &[
                        "Field",
                        "OldValue",
                        "NewValue",
                        "CreatedDate",
                        "CreatedById",
                        "attributes",
                    ],
                )),
            );
            Ok(rec.finish())
        }
        other => {
            let mut rec = Rec::new(
                d,
                record.to_owned(),
                source,
                Correlation::default(),
                created,
            );
            rec.push(
                Ev::new(
                    created,
                    EventKind::Other {
                        name: other.to_owned(),
                        operation: Some("sobject".to_owned()),
                    },
                )
                .attributes(rest(obj, &["CreatedDate", "attributes"])),
            );
            Ok(rec.finish())
        }
    }
}
