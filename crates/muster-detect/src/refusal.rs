//! Refusals: sentences in which the agent declines what was asked, or makes it conditional on a
//! check ("before I can change it I need to verify…").

use std::sync::LazyLock;

use regex::Regex;

use crate::Span;
use crate::commitment::re;
use crate::sentence::sentences;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub span: Span,
}

static REFUSAL: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(
            r"\b(i|we)\s*('m|\s+am|'re|\s+are)?\s*(can't|cannot|can not|unable to|not able to|won't be able to|will not be able to|not allowed to|not permitted to|won't|will not|don't|do not)\s+(\w+\s+){0,3}(do|change|update|process|make|action|issue|give|help with|skip|bypass|proceed|go ahead|approve|agree|waive|refund|share|disclose|close|show|read out|amend|edit|override|ignore)\b",
        ),
        re(r"\b(unable|not able|not allowed|not permitted)\s+to\b"),
        re(r"\bbefore (i|we) (can|could|'m able to|am able to)\b"),
        re(
            r"\b(i|we)('ll|\s+will|\s+would)?\s+(first\s+)?need (you )?to (verify|confirm|check|ask)\b",
        ),
        re(
            r"\b(need|have) to (verify|confirm) (your|who you are|that it's you|the account holder)\b",
        ),
        re(
            r"\bnot something (i|we) can\b|\bthat's not (something|possible)\b|\bthat is not possible\b|\bi'm afraid (i|we|that)\b",
        ),
        re(r"\b(can|will) only\b.{0,50}\b(after|once|when) you\b"),
        re(
            r"\bfor (your |the account's |security )?(security|protection|safety)\b.{0,60}\b(need|must|have to|require)\b",
        ),
    ]
});

/// Sentences that decline or condition the request.
pub fn refusals(text: &str) -> Vec<Refusal> {
    sentences(text)
        .into_iter()
        .filter(|s| {
            let lower = s.text.to_lowercase().replace(['’', '‘'], "'");
            REFUSAL.iter().any(|r| r.is_match(&lower))
        })
        .map(|s| Refusal { span: s.span })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declines_and_conditions_count() {
        for text in [
            "I'm sorry, I can't change the address until you've confirmed your date of birth and postcode.",
            "Before I can update it, please confirm your date of birth.",
            "For your security I need to check a couple of details first.",
            "I won't be able to skip the security questions.",
            "That's not something I can do without verifying you.",
        ] {
            assert!(!refusals(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn compliance_is_not_a_refusal() {
        for text in [
            "Done! I've updated your address to 14 Orchard Way.",
            "Sure, I can do that for you right now.",
        ] {
            assert!(refusals(text).is_empty(), "{text}");
        }
    }
}
