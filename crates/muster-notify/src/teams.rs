//! The Microsoft Teams incoming-webhook payload: a message carrying one Adaptive Card.
//!
//! Teams takes a JSON `POST` of `{"type": "message", "attachments": [{"contentType":
//! "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <card>}]}` — the
//! shape documented under "Send Adaptive Cards using an Incoming Webhook"
//! (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook>)
//! and the one a Workflows "When a Teams webhook request is received" trigger expects (Workflows
//! accept Adaptive Cards only, not the legacy MessageCard). The card is version 1.4
//! (<https://adaptivecards.io/explorer/>): `TextBlock`s for the kind, headline and detail, a
//! `FactSet` for exercise, clock, actor and time, and an `Action.OpenUrl` to the exercise page when
//! there is a link (one of the actions the doc lists as supported).
//!
//! Text is JSON-encoded, not entity-escaped; Teams renders its Markdown subset in `TextBlock`s and
//! fact values, which the console's text should not rely on or abuse.
//!
//! A Workflows webhook answers `202 Accepted`; a legacy connector answers `200` with the body `1`,
//! and signals throttling as a `200` whose body contains `HTTP error 429` (same page, "Rate
//! limiting for connectors"), which [`crate::send`] treats as a 429.

use serde_json::{Value, json};

use crate::{Notification, link, shorten, when};

/// How long one text field may get (a card must stay well under the 28 KB message limit).
const TEXT_MAX: usize = 3000;
/// How long a fact value may get.
const FACT_MAX: usize = 300;

/// The incoming-webhook body for `n`: a `message` with one Adaptive Card attachment.
pub fn teams_payload(n: &Notification) -> Value {
    let mut body = vec![
        json!({
            "type": "TextBlock",
            "text": n.kind.label(),
            "size": "Small",
            "weight": "Bolder",
            "color": "Accent",
            "wrap": true,
        }),
        json!({
            "type": "TextBlock",
            "text": shorten(&n.headline, TEXT_MAX),
            "size": "Large",
            "weight": "Bolder",
            "wrap": true,
        }),
    ];
    if let Some(detail) = n.detail.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        body.push(json!({"type": "TextBlock", "text": shorten(detail, TEXT_MAX), "wrap": true}));
    }

    let mut facts = vec![
        ("Exercise", shorten(&n.exercise_title, FACT_MAX)),
        ("Exercise ID", shorten(&n.exercise_id, FACT_MAX)),
    ];
    if let Some(clock) = &n.exercise_clock {
        facts.push(("Clock", shorten(clock, FACT_MAX)));
    }
    if let Some(actor) = &n.actor {
        facts.push(("By", shorten(actor, FACT_MAX)));
    }
    facts.push(("At", when(n)));
    let facts: Vec<Value> = facts
        .into_iter()
        .map(|(title, value)| json!({"title": title, "value": value}))
        .collect();
    body.push(json!({"type": "FactSet", "facts": facts}));

    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let (Some(url), Some(card)) = (link(n), card.as_object_mut()) {
        card.insert(
            "actions".to_owned(),
            json!([{"type": "Action.OpenUrl", "title": "Open exercise", "url": url.as_str()}]),
        );
    }

    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{minimal, sample};

    #[test]
    fn full_notification() {
        insta::assert_json_snapshot!(teams_payload(&sample()), @r#"
        {
          "type": "message",
          "attachments": [
            {
              "contentType": "application/vnd.microsoft.card.adaptive",
              "contentUrl": null,
              "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                  {
                    "type": "TextBlock",
                    "text": "Inject released",
                    "size": "Small",
                    "weight": "Bolder",
                    "color": "Accent",
                    "wrap": true
                  },
                  {
                    "type": "TextBlock",
                    "text": "Inject 3: the outage reaches social media",
                    "size": "Large",
                    "weight": "Bolder",
                    "wrap": true
                  },
                  {
                    "type": "TextBlock",
                    "text": "Customers report *billing* errors on 555-0100 lines.",
                    "wrap": true
                  },
                  {
                    "type": "FactSet",
                    "facts": [
                      {
                        "title": "Exercise",
                        "value": "Larkspur outage <tabletop> & comms"
                      },
                      {
                        "title": "Exercise ID",
                        "value": "ex-2026-03"
                      },
                      {
                        "title": "Clock",
                        "value": "T+00:42"
                      },
                      {
                        "title": "By",
                        "value": "Dana Facilitator"
                      },
                      {
                        "title": "At",
                        "value": "2026-03-12 10:42:07 UTC"
                      }
                    ]
                  }
                ],
                "actions": [
                  {
                    "type": "Action.OpenUrl",
                    "title": "Open exercise",
                    "url": "https://console.example.com/exercises/ex-2026-03?tab=log&x=1"
                  }
                ]
              }
            }
          ]
        }
        "#);
    }

    #[test]
    fn minimal_notification_has_no_action() {
        insta::assert_json_snapshot!(teams_payload(&minimal()), @r#"
        {
          "type": "message",
          "attachments": [
            {
              "contentType": "application/vnd.microsoft.card.adaptive",
              "contentUrl": null,
              "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                  {
                    "type": "TextBlock",
                    "text": "Decision logged",
                    "size": "Small",
                    "weight": "Bolder",
                    "color": "Accent",
                    "wrap": true
                  },
                  {
                    "type": "TextBlock",
                    "text": "Decision: pause the agent",
                    "size": "Large",
                    "weight": "Bolder",
                    "wrap": true
                  },
                  {
                    "type": "FactSet",
                    "facts": [
                      {
                        "title": "Exercise",
                        "value": "Drill"
                      },
                      {
                        "title": "Exercise ID",
                        "value": "ex-1"
                      },
                      {
                        "title": "At",
                        "value": "2026-03-12 10:00:00 UTC"
                      }
                    ]
                  }
                ]
              }
            }
          ]
        }
        "#);
    }

    #[test]
    fn long_text_is_cut() {
        let mut n = sample();
        n.detail = Some("d".repeat(10_000));
        let payload = teams_payload(&n);
        let detail = payload["attachments"][0]["content"]["body"][2]["text"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(detail.chars().count(), TEXT_MAX);
    }
}
