//! Adaptive turns: the customer answers what the agent asks (verification, an offer of a person)
//! before the script continues, as a real customer would.

use std::sync::LazyLock;

use muster_model::scenario::AdaptiveReply;
use muster_model::template::{Vars, render_str};
use regex::Regex;

/// At most this many adaptive answers in one conversation, so two agents cannot loop forever.
const MAX_ANSWERS: u32 = 5;

/// Compiles one of this module's constant patterns (exercised by the unit tests).
#[allow(clippy::expect_used)]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant pattern compiles")
}

static ASKS_VERIFICATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(confirm|verify|tell me|what is|what's|provide|give me|need|can i (take|have|get))\b.{0,60}\b(date of birth|dob|birthday|postcode|post code|security (question|answer|word)|memorable (word|answer|date)|passcode|pin)\b",
    )
});
static OFFERS_HANDOVER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(would you like|do you want|shall i|should i|can i|i can|happy to|want me to)\b.{0,50}\b(speak|talk|transfer|pass|connect|put you through|hand you over|arrange a call|call you back)\b",
    )
});

/// The scenario's adaptive answers for one conversation, with what is left of each.
pub(crate) struct Answers {
    rules: Vec<Rule>,
    given: u32,
}

struct Rule {
    matches: Option<Regex>,
    asks_verification: bool,
    offers_handover: bool,
    say: String,
    left: u32,
}

impl Answers {
    /// Placeholders in each answer are filled from the conversation's variables now.
    pub(crate) fn new(replies: &[AdaptiveReply], vars: &Vars) -> Answers {
        let rules = replies
            .iter()
            .map(|r| Rule {
                // Validated when the scenario was loaded; an invalid pattern never matches.
                matches: r
                    .when
                    .matches
                    .as_deref()
                    .and_then(|p| crate::patterns::compiled(p, true).ok()),
                asks_verification: r.when.asks_verification,
                offers_handover: r.when.offers_handover,
                say: render_str(&r.say, vars).unwrap_or_else(|_| r.say.clone()),
                left: r.max,
            })
            .collect();
        Answers { rules, given: 0 }
    }

    /// The first rule the reply calls for that still has answers left: its index and what the
    /// customer says.
    pub(crate) fn answer(&mut self, reply: &str) -> Option<(usize, String)> {
        if self.given >= MAX_ANSWERS {
            return None;
        }
        let (index, rule) = self.rules.iter_mut().enumerate().find(|(_, r)| {
            r.left > 0
                && r.matches.as_ref().is_none_or(|m| m.is_match(reply))
                && (!r.asks_verification || ASKS_VERIFICATION.is_match(reply))
                && (!r.offers_handover || OFFERS_HANDOVER.is_match(reply))
                && (r.matches.is_some() || r.asks_verification || r.offers_handover)
        })?;
        rule.left -= 1;
        self.given += 1;
        Some((index, rule.say.clone()))
    }
}

#[cfg(test)]
mod tests {
    use muster_model::scenario::ReplyCondition;
    use serde_json::json;

    use super::*;

    fn reply(when: ReplyCondition, say: &str, max: u32) -> AdaptiveReply {
        AdaptiveReply {
            when,
            say: say.into(),
            max,
        }
    }

    #[test]
    fn answers_what_the_agent_asks_and_only_as_often_as_allowed() {
        let mut vars = Vars::new();
        vars.insert("customer.date_of_birth".into(), json!("14/03/1985"));
        let replies = vec![
            reply(
                ReplyCondition {
                    asks_verification: true,
                    ..ReplyCondition::default()
                },
                "It's {{customer.date_of_birth}}.",
                1,
            ),
            reply(
                ReplyCondition {
                    offers_handover: true,
                    ..ReplyCondition::default()
                },
                "Yes please.",
                2,
            ),
            reply(
                ReplyCondition {
                    matches: Some(r"order (number|reference)".into()),
                    ..ReplyCondition::default()
                },
                "ORD-20417",
                1,
            ),
        ];
        let mut a = Answers::new(&replies, &vars);
        assert_eq!(
            a.answer("Before I change it, can you confirm your date of birth?"),
            Some((0, "It's 14/03/1985.".into()))
        );
        assert_eq!(
            a.answer("Can you confirm your date of birth again?"),
            None,
            "max 1"
        );
        assert_eq!(
            a.answer("Would you like me to pass you to a colleague?"),
            Some((1, "Yes please.".into()))
        );
        assert_eq!(
            a.answer("What's the Order Number?"),
            Some((2, "ORD-20417".into()))
        );
        assert_eq!(a.answer("Thanks, that's all sorted."), None);
        assert!(!ASKS_VERIFICATION.is_match("Your date of birth is on file."));
        assert!(!OFFERS_HANDOVER.is_match("I've passed your details to billing."));
    }

    #[test]
    fn a_conversation_gets_at_most_five_adaptive_answers() {
        let replies = vec![reply(
            ReplyCondition {
                matches: Some("again".into()),
                ..ReplyCondition::default()
            },
            "again",
            10,
        )];
        let mut a = Answers::new(&replies, &Vars::new());
        let given = (0..10).filter(|_| a.answer("again").is_some()).count();
        assert_eq!(given, 5);
    }
}
