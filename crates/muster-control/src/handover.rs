//! Human handover: drive a conversation that must escalate, then look in the real escalation
//! queue until the ticket lands, carrying the conversation id, the customer reference, the
//! conversation itself (transcript or summary), a priority and the required tags.

use std::collections::HashSet;
use std::time::Instant;

use muster_drill::Verdict;
use muster_evidence::EventDraft;
use muster_helpdesk::{HandoverQuery, HandoverTicket, queue_from_manifest};
use muster_model::agent::HandoverControl;
use muster_store::StoreError;
use serde_json::{Value, json};

use crate::ControlContext;
use crate::chat::{Chat, customer_vars, hands_over};
use crate::poll::{schedule, wait};
use crate::record::{Recorder, now_ns};
use crate::report::{ControlResult, seconds};

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect()
}

/// Whether the ticket's context carries what the customer said: most of the words of at least one
/// of their messages. A generic line such as "transferred from chat" carries none of them.
pub fn carries_conversation(context: Option<&str>, customer_said: &[String]) -> bool {
    let Some(context) = context else {
        return false;
    };
    let have: HashSet<String> = words(context).into_iter().collect();
    customer_said.iter().any(|said| {
        let want = words(said);
        !want.is_empty() && want.iter().filter(|w| have.contains(*w)).count() * 10 >= want.len() * 6
    })
}

/// What the ticket lacks, in words.
fn problems(
    h: &HandoverControl,
    expected_customer: Option<&str>,
    said: &[String],
    t: &HandoverTicket,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(expected) = expected_customer
        && t.customer_ref.as_deref() != Some(expected)
    {
        out.push(match &t.customer_ref {
            Some(got) => format!("the ticket names customer `{got}`, not `{expected}`"),
            None => "the ticket does not carry the customer reference".to_owned(),
        });
    }
    if !carries_conversation(t.context.as_deref(), said) {
        out.push(match t.context.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => format!(
                "the ticket does not carry the conversation (no transcript or summary of what the customer said; it reads \"{}\")",
                c.chars().take(80).collect::<String>()
            ),
            None => "the ticket carries no transcript or summary".to_owned(),
        });
    }
    match (&t.priority, h.priority.is_empty()) {
        (None, _) => out.push("the ticket has no priority".to_owned()),
        (Some(p), false) if !h.priority.iter().any(|w| w.eq_ignore_ascii_case(p)) => {
            out.push(format!(
                "the ticket's priority is `{p}`, expected one of {}",
                h.priority.join(", ")
            ));
        }
        _ => {}
    }
    let missing: Vec<&str> = h
        .tags
        .iter()
        .filter(|tag| !t.tags.iter().any(|have| have == *tag))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "the ticket lacks the tag(s) {}",
            missing.join(", ")
        ));
    }
    out
}

pub async fn run(
    ctx: &ControlContext<'_>,
    h: &HandoverControl,
) -> Result<ControlResult, StoreError> {
    let rec = Recorder::new(ctx.store.clone(), ctx.drill_id, "handover");
    let row = ControlResult::new(
        "handover",
        "Human handover lands in the queue",
        rec.stream(),
    )
    .claim(Some(&h.claimed_within));
    let row = measure(ctx, h, &rec, row).await?;
    crate::finish(&rec, &row).await?;
    Ok(row)
}

async fn measure(
    ctx: &ControlContext<'_>,
    h: &HandoverControl,
    rec: &Recorder,
    row: ControlResult,
) -> Result<ControlResult, StoreError> {
    let Some(queue_config) = ctx
        .manifest
        .escalation
        .as_ref()
        .and_then(|e| e.queue.as_ref())
    else {
        return Ok(row.verdict(
            Verdict::Inconclusive,
            "the manifest declares no escalation queue (`escalation.queue`), so there is nowhere to look for the ticket",
        ));
    };
    let env = |name: &str| std::env::var(name).ok();
    let queue = match queue_from_manifest(queue_config, ctx.target.base_url(), &env) {
        Ok(q) => q,
        Err(e) => {
            return Ok(row.verdict(
                Verdict::Inconclusive,
                format!("cannot read the escalation queue: {e}"),
            ));
        }
    };
    let (every, give_up) = schedule(&h.polling, Some(&h.claimed_within));
    rec.one(
        EventDraft::new("control.started", now_ns())
            .field("control", "handover")
            .field("queue", queue.describe())
            .field("claimed_within", h.claimed_within.to_string())
            .field("poll_every_ms", every.as_millis() as u64)
            .field("give_up_after_ms", give_up.as_millis() as u64),
    )
    .await?;

    let since = jiff::Timestamp::now();
    let started = Instant::now();
    let customer = h.customer.as_deref();
    let mut chat = Chat::open(
        ctx.target,
        rec,
        customer_vars(customer, ctx.drill_id),
        "handover",
    )
    .await?;
    let mut handed_over = false;
    let mut last_text = None;
    for text in &h.say {
        match chat.say(ctx.target, rec, text).await? {
            Err(e) => {
                return Ok(row.verdict(
                    Verdict::Inconclusive,
                    format!("no reply from the agent: {e}"),
                ));
            }
            Ok(reply) => {
                handed_over = hands_over(ctx.manifest, &reply);
                last_text = Some(reply.text);
                if handed_over {
                    break;
                }
            }
        }
    }
    if !handed_over {
        return Ok(row.verdict(
            Verdict::Fail,
            format!(
                "the agent did not hand the customer over; it said: \"{}\"",
                last_text
                    .unwrap_or_default()
                    .chars()
                    .take(140)
                    .collect::<String>()
            ),
        ));
    }
    let Some(conversation_id) = chat.id().map(str::to_owned) else {
        return Ok(row.verdict(
            Verdict::Inconclusive,
            "the conversation has no id to look for",
        ));
    };
    let query = HandoverQuery {
        conversation_id: conversation_id.clone(),
        customer_ref: h.customer.clone(),
        since,
    };
    let mut last_error = None;
    let mut lookups = 0u32;
    let found = loop {
        let lookup = queue.find_handover(&query).await;
        lookups += 1;
        let (outcome, ticket) = match &lookup.outcome {
            Ok(Some(t)) => (json!({"found": t.to_json()}), Some(t.clone())),
            Ok(None) => (json!("not yet"), None),
            Err(e) => (json!({"error": e.to_string()}), None),
        };
        rec.one(
            EventDraft::new("queue.lookup", now_ns())
                .field("conversation_id", conversation_id.clone())
                .field("outcome", outcome)
                .field(
                    "exchanges",
                    Value::Array(
                        lookup
                            .exchanges
                            .iter()
                            .map(muster_target::Exchange::to_json)
                            .collect(),
                    ),
                ),
        )
        .await?;
        if let Err(e) = lookup.outcome {
            last_error = Some(e);
        }
        if let Some(t) = ticket {
            break Some((t, started.elapsed().as_secs_f64() * 1000.0));
        }
        if started.elapsed() >= give_up {
            break None;
        }
        if !wait(every, &ctx.cancel).await {
            return Ok(row.verdict(
                Verdict::Inconclusive,
                "interrupted while looking in the queue",
            ));
        }
    };
    let Some((ticket, ms)) = found else {
        return Ok(match last_error {
            Some(e) => row.verdict(
                Verdict::Inconclusive,
                format!("the queue could not be read ({lookups} look-ups), so the handover is unproven: {e}"),
            ),
            None => row.verdict(
                Verdict::Fail,
                format!(
                    "no ticket for conversation {conversation_id} reached {} within {}",
                    queue.describe(),
                    seconds(give_up.as_secs_f64() * 1000.0)
                ),
            ),
        });
    };
    let missing = problems(h, customer, &h.say, &ticket);
    if missing.is_empty() {
        Ok(row.against_claim(
            ms,
            &format!(
                "ticket {} landed with the conversation id, customer, context, priority {} and tags",
                ticket.id,
                ticket.priority.as_deref().unwrap_or("?")
            ),
        ))
    } else {
        Ok(row.measured(Some(ms)).verdict(
            Verdict::Fail,
            format!(
                "ticket {} landed in {} but {}",
                ticket.id,
                seconds(ms),
                missing.join("; ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generic_transfer_line_does_not_carry_the_conversation() {
        let said = vec![
            "I've been charged twice for my bill this month, please put me through to a person."
                .to_owned(),
        ];
        assert!(!carries_conversation(
            Some("Conversation transferred from web chat."),
            &said
        ));
        assert!(!carries_conversation(None, &said));
        assert!(carries_conversation(
            Some(
                "Summary: asked for a person. Transcript: Customer: I've been charged twice for my bill this month, please put me through to a person."
            ),
            &said
        ));
        assert!(carries_conversation(
            Some(
                "Customer says they were charged twice on this month's bill and wants a person to look at it"
            ),
            &said
        ));
    }
}
