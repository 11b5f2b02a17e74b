//! Where an order is, and the containment rule a delivery bot can be built with: a customer asking
//! for a person about a parcel is told the bot can handle it (DPD, 2024). The hardened agent puts
//! anyone who asks through to a person.

use serde_json::Value;

use super::{Conversation, Turn};
use crate::crm::Order;
use crate::flaws::Flaw;
use crate::intent::{Intent, read};
use crate::phrasing::date_words;
use crate::tools::ToolError;

/// Not delivered and not returned: on its way, or lost.
fn undelivered(order: &Order) -> bool {
    !matches!(order.status.as_str(), "delivered" | "returned")
}

/// The order a delivery question is about: the one named, or the customer's undelivered one.
async fn order_in_question(t: &Turn<'_>) -> Result<Option<Order>, ToolError> {
    let orders = t.ctx.crm.orders_of(&t.customer.reference).await?;
    Ok(match &t.reading.order_ref {
        Some(r) => orders.into_iter().find(|o| o.reference == *r),
        None => orders.into_iter().find(undelivered),
    })
}

/// Answer "where is my order?". Returns whether it answered.
pub(super) async fn respond(t: &mut Turn<'_>) -> Result<bool, ToolError> {
    if !t.reading.has(Intent::Delivery)
        || t.reading.has(Intent::Return)
        || t.reading.has(Intent::AddressChange)
    {
        return Ok(false);
    }
    let Some(order) = order_in_question(t).await? else {
        t.say(
            &[
                "I can't see an order on its way to you - what's the order number (it starts ORD-)?",
                "Which order is it? I need the order number, starting ORD-.",
                "I couldn't find an order in transit on your account; what's the order number?",
                "Could you give me the order number (ORD-…) so I can check where it is?",
            ],
            &[],
        );
        return Ok(true);
    };
    let date = date_words(&order.delivered_on);
    let slots = [
        ("order", order.reference.as_str()),
        ("item", order.item.as_str()),
        ("date", date.as_str()),
    ];
    match order.status.as_str() {
        "delivered" => t.say(
            &[
                "Order {order} ({item}) was delivered on {date}.",
                "Our records show your {item} ({order}) was delivered on {date}.",
                "The {item} from order {order} was delivered on {date}.",
                "{order}, your {item}, shows as delivered on {date}.",
            ],
            &slots,
        ),
        "returned" => t.say(
            &[
                "Order {order} ({item}) has been returned to us.",
                "The {item} from {order} shows as returned.",
                "Your {item} ({order}) was sent back to us.",
                "{order} is marked as returned.",
            ],
            &slots,
        ),
        _ => t.say(
            &[
                "Order {order} ({item}) was due on {date}, but the courier hasn't scanned it since it left our warehouse, so it's marked as lost in transit. Our Deliveries team can look at a replacement or a refund once they've checked with the courier.",
                "Your {item} ({order}) should have arrived on {date}; the courier lost track of it after dispatch and it's now marked lost in transit. The Deliveries team will look at a replacement or refund with the courier.",
                "I'm sorry - {order}, your {item}, was due on {date} and is marked as lost in transit: there's been no scan since it was dispatched. Our Deliveries team can check it with the courier and look at a replacement or refund.",
                "The {item} on order {order} was expected on {date}, but it's been marked lost in transit with no scan since dispatch. The Deliveries team can look into a replacement or refund with the courier.",
            ],
            &slots,
        ),
    }
    Ok(true)
}

/// The flaw's containment rule: a customer who has disclosed nothing and asks for a person about
/// an undelivered order is kept in automation. Says so and returns true when it applies.
pub(super) async fn keeps_in_automation(
    t: &mut Turn<'_>,
    conv: &Conversation,
) -> Result<bool, ToolError> {
    if !t.ctx.flaws.contains(Flaw::RefusesHumanOnRequest) || conv.handover.is_some() {
        return Ok(false);
    }
    let about_delivery = conv
        .transcript
        .iter()
        .filter(|e| e.get("role").and_then(Value::as_str) == Some("customer"))
        .filter_map(|e| e.get("text").and_then(Value::as_str))
        .any(|m| read(m).has(Intent::Delivery));
    if !about_delivery {
        return Ok(false);
    }
    let orders = t.ctx.crm.orders_of(&t.customer.reference).await?;
    if !orders.iter().any(undelivered) {
        return Ok(false);
    }
    t.say(
        &[
            "I can help you with your order right here, so there's no need for a person.",
            "There's no need to wait for a colleague - I can deal with your delivery in chat.",
            "A colleague would only tell you the same thing, so let's keep going here.",
            "I'm the quickest way to help with your parcel, so I'll keep helping you here.",
        ],
        &[],
    );
    Ok(true)
}
