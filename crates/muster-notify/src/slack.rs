//! The Slack incoming-webhook payload.
//!
//! An incoming webhook takes a JSON `POST` with a `text` field and, for a laid-out message, a
//! `blocks` array; `text` is then the fallback shown in notifications
//! (<https://api.slack.com/messaging/webhooks>). The blocks used here
//! (<https://api.slack.com/reference/block-kit/blocks>):
//!
//! * `header`: a `plain_text` object of at most 150 characters — the kind and the headline;
//! * `section`: one `mrkdwn` text object of at most 3000 characters — the exercise title (a link
//!   to the exercise page when there is one) and the detail;
//! * `context`: up to 10 `mrkdwn` elements — exercise clock, actor, exercise id, time.
//!
//! Slack uses `&`, `<` and `>` as control characters, so every piece of user text is escaped to
//! `&amp;`, `&lt;` and `&gt;` and nothing else is entity-encoded
//! (<https://api.slack.com/reference/surfaces/formatting#escaping>). A mention such as
//! `<!channel>` in the console's text therefore arrives as text, never as a ping. mrkdwn styling
//! characters (`*`, `_`, `~`, `` ` ``) are left alone.
//!
//! Slack answers `200` with the body `ok`; a refusal is `400 invalid_payload`, `403
//! action_prohibited`, `404 channel_not_found` / `no_service`, `410 channel_is_archived`, with the
//! reason as a plain-text body
//! (<https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks>).

use serde_json::{Value, json};

use crate::{Notification, link, when};

/// The header block's text limit.
const HEADER_MAX: usize = 150;
/// The section block's text limit.
const SECTION_MAX: usize = 3000;
/// How much of the exercise title the section shows.
const TITLE_MAX: usize = 200;
/// How long the fallback `text` and each context element may get.
const SHORT_MAX: usize = 300;

/// The incoming-webhook body for `n`: `{"text": <fallback>, "blocks": [header, section,
/// context]}`. All user text is escaped for Slack and cut to the block limits.
pub fn slack_payload(n: &Notification) -> Value {
    let label = n.kind.label();
    let header = fit(&format!("{label}: {}", n.headline), HEADER_MAX);
    let fallback = fit(
        &format!("{label}: {} ({})", n.headline, n.exercise_title),
        SHORT_MAX,
    );

    let title = fit(&n.exercise_title, TITLE_MAX);
    let mut section = match link(n) {
        Some(url) => format!("*<{}|{title}>*", escape(url.as_str())),
        None => format!("*{title}*"),
    };
    if let Some(detail) = n.detail.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        section.push('\n');
        let room = SECTION_MAX.saturating_sub(section.chars().count());
        section.push_str(&fit(detail, room));
    }

    let mut context = Vec::new();
    if let Some(clock) = &n.exercise_clock {
        context.push(format!("*Clock:* {}", fit(clock, SHORT_MAX - 10)));
    }
    if let Some(actor) = &n.actor {
        context.push(format!("*By:* {}", fit(actor, SHORT_MAX - 10)));
    }
    context.push(format!(
        "*Exercise:* {}",
        fit(&n.exercise_id, SHORT_MAX - 20)
    ));
    context.push(when(n));
    let context: Vec<Value> = context
        .into_iter()
        .map(|text| json!({"type": "mrkdwn", "text": text}))
        .collect();

    json!({
        "text": fallback,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": header}},
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": context},
        ],
    })
}

/// `text` with Slack's three control characters replaced by their entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped and, if the escaped form is longer than `max` characters, cut (between
/// characters, never inside an entity) to fit with a trailing `…`.
fn fit(text: &str, max: usize) -> String {
    let escaped = escape(text);
    if escaped.chars().count() <= max {
        return escaped;
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let piece = escape(c.encode_utf8(&mut buf));
        let len = piece.chars().count();
        if used + len + 1 > max {
            break;
        }
        out.push_str(&piece);
        used += len;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{minimal, sample};

    #[test]
    fn full_notification() {
        insta::assert_json_snapshot!(slack_payload(&sample()), @r#"
        {
          "text": "Inject released: Inject 3: the outage reaches social media (Larkspur outage &lt;tabletop&gt; &amp; comms)",
          "blocks": [
            {
              "type": "header",
              "text": {
                "type": "plain_text",
                "text": "Inject released: Inject 3: the outage reaches social media"
              }
            },
            {
              "type": "section",
              "text": {
                "type": "mrkdwn",
                "text": "*<https://console.example.com/exercises/ex-2026-03?tab=log&amp;x=1|Larkspur outage &lt;tabletop&gt; &amp; comms>*\nCustomers report *billing* errors on 555-0100 lines."
              }
            },
            {
              "type": "context",
              "elements": [
                {
                  "type": "mrkdwn",
                  "text": "*Clock:* T+00:42"
                },
                {
                  "type": "mrkdwn",
                  "text": "*By:* Dana Facilitator"
                },
                {
                  "type": "mrkdwn",
                  "text": "*Exercise:* ex-2026-03"
                },
                {
                  "type": "mrkdwn",
                  "text": "2026-03-12 10:42:07 UTC"
                }
              ]
            }
          ]
        }
        "#);
    }

    #[test]
    fn minimal_notification_has_no_link_for_a_non_http_url() {
        insta::assert_json_snapshot!(slack_payload(&minimal()), @r#"
        {
          "text": "Decision logged: Decision: pause the agent (Drill)",
          "blocks": [
            {
              "type": "header",
              "text": {
                "type": "plain_text",
                "text": "Decision logged: Decision: pause the agent"
              }
            },
            {
              "type": "section",
              "text": {
                "type": "mrkdwn",
                "text": "*Drill*"
              }
            },
            {
              "type": "context",
              "elements": [
                {
                  "type": "mrkdwn",
                  "text": "*Exercise:* ex-1"
                },
                {
                  "type": "mrkdwn",
                  "text": "2026-03-12 10:00:00 UTC"
                }
              ]
            }
          ]
        }
        "#);
    }

    #[test]
    fn user_text_cannot_mention_or_link() {
        let mut n = sample();
        n.headline = "<!channel> see <https://evil.example|here>".to_owned();
        n.actor = Some("<@U123>".to_owned());
        let payload = slack_payload(&n).to_string();
        assert!(!payload.contains("<!channel>"), "{payload}");
        assert!(!payload.contains("<@U123>"), "{payload}");
        assert!(payload.contains("&lt;!channel&gt;"), "{payload}");
    }

    #[test]
    fn long_text_is_cut_to_the_block_limits() {
        let mut n = sample();
        n.headline = "&".repeat(400);
        n.detail = Some("d".repeat(5000));
        let payload = slack_payload(&n);
        let header = payload["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(header.chars().count() <= HEADER_MAX, "{}", header.len());
        assert!(header.ends_with("&amp;…"), "{header}");
        let section = payload["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(section.chars().count(), SECTION_MAX);
        assert!(section.ends_with('…'));
    }

    #[test]
    fn escape_only_touches_the_three_control_characters() {
        assert_eq!(
            escape("a & b < c > d \"e\" *f*"),
            "a &amp; b &lt; c &gt; d \"e\" *f*"
        );
        assert_eq!(fit("a&b", 5), "a…");
        assert_eq!(fit("a&b", 6), "a…");
        assert_eq!(fit("a&bc", 7), "a&amp;…");
        assert_eq!(fit("a&b", 7), "a&amp;b");
    }
}
