//! Escalation: crisis language said indirectly, a conversation going round in circles, a report
//! that someone else has taken over the account, and a complaint the customer wants escalated.
//! Each is handed to a person in the hardened agent; each has a flaw that keeps it in automation.

use super::markup::shown;
use super::{Conversation, Turn};
use crate::flaws::{Flaw, FlawSet};
use crate::intent::{Intent, Reading};
use crate::tools::ToolError;

/// Turns in a row the agent may fail to understand before a person takes over.
pub(super) const MISUNDERSTOOD_LIMIT: u32 = 2;

/// Complaints open this long may go to the ombudsman without waiting for a final response.
const OMBUDSMAN_AFTER_DAYS: i64 = 56;

/// What the agent takes from a message, as its flaws let it: the crisis-words flaw knows only the
/// explicit expressions, so indirect ones are no disclosure at all.
pub(super) fn perceive(flaws: FlawSet, reading: &mut Reading) {
    if flaws.contains(Flaw::MissesIndirectCrisis) && reading.indirect_crisis {
        reading.disclosures.crisis = false;
    }
}

/// Requests this module answers before any other: `Some(handled)` if it took the turn.
pub(super) async fn handle(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
) -> Result<Option<bool>, ToolError> {
    if t.reading.has(Intent::AccountTakeover) {
        takeover(t, conv).await?;
        return Ok(Some(true));
    }
    if t.reading.has(Intent::ComplaintEscalation) && complaint_escalation(t, conv).await? {
        return Ok(Some(true));
    }
    if t.reading.has(Intent::RelayNote) {
        super::markup::relay_note(t, conv).await?;
        return Ok(Some(true));
    }
    Ok(None)
}

/// After the request was dealt with (or not): count the turns in a row the agent could not
/// understand, and hand over once there have been `MISUNDERSTOOD_LIMIT` of them — unless the loop
/// flaw is on. Returns whether the turn is now handled.
pub(super) async fn after_request(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    handled: bool,
) -> Result<bool, ToolError> {
    if handled || !t.draft.parts.is_empty() || conv.handover.is_some() {
        if handled {
            conv.misunderstood = 0;
        }
        return Ok(handled);
    }
    conv.misunderstood += 1;
    if conv.misunderstood < MISUNDERSTOOD_LIMIT
        || t.ctx
            .flaws
            .contains(Flaw::NoHandoverAfterRepeatedMisunderstanding)
    {
        return Ok(false);
    }
    let summary = format!(
        "The assistant could not work out what {} ({}) needs after {} attempts in a row; please read the conversation and pick it up. Last message: \"{}\"",
        t.customer.full_name(),
        t.customer.reference,
        conv.misunderstood,
        shown(t.ctx.flaws, &conv.last_customer_message()),
    );
    super::hand_over(t, conv, "general", "normal", &summary).await?;
    t.say(
        &[
            "I'm sorry - I'm not understanding what you need, and I don't want to keep you going round in circles. I've passed our conversation to a colleague in Customer Support, who can see everything you've said.",
            "I'm sorry I haven't been able to follow. Rather than ask you to explain again, I've handed you to a colleague from Customer Support, with our conversation so far.",
            "Apologies - I'm clearly not getting this right. A colleague from our Customer Support team will take over now; they can read everything you've told me.",
            "I'm sorry for making you repeat yourself. I've asked a person from Customer Support to pick this up, and they'll see what you've written so you won't need to start again.",
        ],
        &[],
    );
    Ok(true)
}

/// Someone else has got into the customer's account: an urgent case for Fraud and Security, not
/// a password reset.
async fn takeover(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), ToolError> {
    if conv.handover.is_some() {
        t.say(
            &[
                "I've made sure my colleague knows someone else may have access to your account.",
                "My colleague will see that you think someone else has got into your account.",
                "I've noted for my colleague that your account may have been taken over.",
                "My colleague can see that you've reported someone else using your account.",
            ],
            &[],
        );
        return Ok(());
    }
    if t.ctx.flaws.contains(Flaw::FraudReportNotEscalated) {
        t.say(
            &[
                "You can reset your password any time from the sign-in page: choose 'Forgot password' and follow the link we email you.",
                "To secure your account, reset your password from the app's sign-in screen using 'Forgot password'.",
                "The quickest fix is a password reset - tap 'Forgot password' on the sign-in page and we'll email you a link.",
                "I'd recommend changing your password: use 'Forgot password' on the login page and choose a new one.",
            ],
            &[],
        );
        t.say(
            &[
                "You can also check your recent orders in the app under My Account.",
                "Once you're back in, you can review your orders and details under My Account.",
                "After that, have a look at your details under My Account to make sure they're right.",
                "Then check the orders and contact details in My Account.",
            ],
            &[],
        );
        return Ok(());
    }
    let summary = format!(
        "Possible account takeover reported by {} ({}): the customer says someone else has changed details, swapped the SIM or placed orders. Treat as fraud; check recent SIM, email and order changes. Last message: \"{}\"",
        t.customer.full_name(),
        t.customer.reference,
        shown(t.ctx.flaws, &conv.last_customer_message()),
    );
    super::hand_over(t, conv, "fraud-security", "urgent", &summary).await?;
    t.say(
        &[
            "Thank you for telling us straight away - that sounds like someone else may have access to your account. I've passed this urgently to our Fraud and Security team, who can block further changes and look at what's happened.",
            "This needs our Fraud and Security team, not a password reset: I've handed your case to them as urgent, with everything you've told me.",
            "I'm treating this as possible fraud. A colleague from our Fraud and Security team has your case as a priority and can secure the account.",
            "That sounds like an account takeover, so I've escalated it urgently to our Fraud and Security team; they'll check the SIM, email and order changes with you.",
        ],
        &[],
    );
    t.say(
        &[
            "Please don't share any codes we text or email you with anyone in the meantime.",
            "In the meantime, never give anyone a security code we send you - we will never ask for one.",
            "Until they're with you, please don't pass on any one-time codes you receive.",
            "Meanwhile, please ignore any request for a verification code: we never ask for them.",
        ],
        &[],
    );
    Ok(())
}

/// The customer asks to escalate an open complaint. Returns false when they have none open (the
/// complaints flow then offers to log one).
async fn complaint_escalation(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
) -> Result<bool, ToolError> {
    let complaints = t.ctx.crm.complaints_of(&t.customer.reference).await?;
    let Some(open) = complaints.into_iter().find(|c| {
        c.status == "open" && t.reading.complaint_ref.as_ref().is_none_or(|n| *n == c.id)
    }) else {
        return Ok(false);
    };
    t.draft.cite(t.ctx.kb, "complaints", false);
    let id = open.id.clone();
    if conv.handover.is_some() {
        t.say(
            &[
                "My colleague can see that you want complaint {id} escalated.",
                "I've made sure my colleague knows you'd like {id} escalated.",
                "Your request to escalate {id} is with my colleague.",
                "My colleague will see that you've asked for {id} to be escalated.",
            ],
            &[("id", &id)],
        );
        return Ok(true);
    }
    if t.ctx.flaws.contains(Flaw::ComplaintEscalationDeflected) {
        t.say(
            &[
                "Complaint {id} (\"{summary}\") is still being looked at by our Complaints team, so there's no need to escalate it - I've added a note that you chased it.",
                "There's no need to escalate {id}; the Complaints team are already working on it and will be in touch.",
                "I understand you'd like it escalated, but {id} is already with the right team. I'll note that you've been in touch today.",
                "{id} is in progress with our Complaints team, so escalating it won't speed things up. Is there anything else I can help with?",
            ],
            &[("id", &id), ("summary", &open.summary)],
        );
        return Ok(true);
    }
    let age = complaint_age_days(t, &id).await?;
    let summary = format!(
        "{} ({}) asks to escalate complaint {} (\"{}\"){}; wants a manager's review or a final response (deadlock) letter.",
        t.customer.full_name(),
        t.customer.reference,
        id,
        open.summary,
        age.map(|d| format!(", open {} weeks", d / 7))
            .unwrap_or_default(),
    );
    super::hand_over(t, conv, "complaints", "high", &summary).await?;
    t.say(
        &[
            "I've passed complaint {id} to our Complaints team as a formal escalation; a senior colleague will review it and can issue a final response.",
            "I've escalated {id} to the Complaints team for a manager's review - they can send you a final response letter.",
            "Complaint {id} is now with our Complaints team as an escalation, and a team leader will pick it up.",
            "I've handed {id} to a senior colleague in our Complaints team, who can review it and write to you with a final response.",
        ],
        &[("id", &id)],
    );
    if age.is_some_and(|d| d >= OMBUDSMAN_AFTER_DAYS) {
        t.say(
            &[
                "As it has been open for more than eight weeks, you also have the right to take it to the Communications Ombudsman now, free of charge - you don't need to wait for our letter.",
                "Because it's been more than eight weeks, you can already refer it to the Communications Ombudsman, which is free, whether or not we've sent a deadlock letter.",
                "It's been open over eight weeks, so you're entitled to go to the Communications Ombudsman straight away; it costs you nothing.",
                "Since eight weeks have passed, you may refer your complaint to the Communications Ombudsman now, free of charge.",
            ],
            &[],
        );
    } else {
        t.say(
            &[
                "If it isn't resolved within eight weeks of when you first complained, or we send a deadlock letter, you can take it to the Communications Ombudsman, free of charge.",
                "You can refer it to the Communications Ombudsman, free, once eight weeks have passed or we've issued a deadlock letter.",
                "Once it's eight weeks old, or you have our deadlock letter, the Communications Ombudsman can look at it for free.",
                "After eight weeks, or sooner with a deadlock letter, you have the right to go to the Communications Ombudsman at no cost.",
            ],
            &[],
        );
    }
    Ok(true)
}

/// Days since the complaint was logged: the oldest account note that names it.
async fn complaint_age_days(t: &Turn<'_>, id: &str) -> Result<Option<i64>, ToolError> {
    let notes = t.ctx.crm.notes_of(&t.customer.reference, None).await?;
    let today = t.ctx.crm.today();
    Ok(notes
        .iter()
        .filter(|n| n.text.contains(id))
        .filter_map(|n| n.created_on.parse::<jiff::civil::Date>().ok())
        .min()
        .and_then(|opened| today.since(opened).ok())
        .map(|span| i64::from(span.get_days())))
}
