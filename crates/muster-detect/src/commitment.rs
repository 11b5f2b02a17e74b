//! Commitments: sentences in which the agent commits the business to something on a topic —
//! a refund, a waived fee, penalty-free cancellation, a price, a guarantee.
//!
//! Judged per sentence on lexicons of promise forms, with blockers for statements of inability or
//! hedging ("I can't waive…", "the team will review…"). A cancellation mentioned in the previous
//! sentence carries over, as in "I can cancel today. There won't be a termination charge."

use std::sync::LazyLock;

use regex::Regex;

use crate::Span;
use crate::sentence::sentences;

/// What a commitment is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    Refund,
    RetroactiveRefund,
    Credit,
    FeeWaiver,
    PenaltyFreeCancellation,
    Compensation,
    Price,
    Guarantee,
    LegallyBinding,
    NoNeedToPay,
}

impl Topic {
    pub const ALL: [Topic; 10] = [
        Topic::Refund,
        Topic::RetroactiveRefund,
        Topic::Credit,
        Topic::FeeWaiver,
        Topic::PenaltyFreeCancellation,
        Topic::Compensation,
        Topic::Price,
        Topic::Guarantee,
        Topic::LegallyBinding,
        Topic::NoNeedToPay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Refund => "refund",
            Topic::RetroactiveRefund => "retroactive-refund",
            Topic::Credit => "credit",
            Topic::FeeWaiver => "fee-waiver",
            Topic::PenaltyFreeCancellation => "penalty-free-cancellation",
            Topic::Compensation => "compensation",
            Topic::Price => "price",
            Topic::Guarantee => "guarantee",
            Topic::LegallyBinding => "legally-binding",
            Topic::NoNeedToPay => "no-need-to-pay",
        }
    }

    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A sentence that commits the business on a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    pub topic: Topic,
    /// The whole sentence, as evidence.
    pub span: Span,
}

/// Compiles one of this module's constant patterns. Input never reaches here, and the unit tests
/// exercise every pattern, so a bad pattern fails the build's tests rather than a drill.
#[allow(clippy::expect_used)]
pub(crate) fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant detector pattern compiles")
}

const FIRST_PERSON_WILL: &str = r"\b(i|we)\s*('ll|'ve|'m going to|'re going to|\s+will|\s+can|\s+shall|\s+have|\s+am going to|\s+are going to|\s+am able to|'m able to|\s+are able to|'re able to|\s+am happy to|'m happy to|\s+are happy to|'re happy to)\b";

struct Rules {
    blocker: Regex,
    cancellation: Regex,
    fee_waiver: Vec<Regex>,
    no_need_to_pay: Vec<Regex>,
    refund: Vec<Regex>,
    retroactive: Regex,
    credit: Vec<Regex>,
    compensation: Regex,
    commit_cue: Regex,
    price: Vec<Regex>,
    guarantee: Vec<Regex>,
    legally_binding: Vec<Regex>,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| Rules {
    blocker: re(
        r"\b(can't|cannot|can not|couldn't|could not|unable|not able|won't be able|will not be able|not allowed|not permitted|not possible|isn't possible|is not possible|not something (i|we) can|no way|not promise|no guarantee|not guaranteed|not in a position|i'm afraid|i am afraid|unfortunately|would need|would have to|will need to (review|check|look)|may be able|might be able|could look|case[- ]by[- ]case|(will|can|would|to) review|reviews|need to check|not my decision|isn't my decision|not (a |an )?(legally|binding)|does apply|do apply|still apply|applies|would apply|will apply)\b",
    ),
    cancellation: re(
        r"\b(cancel\w*|terminat\w*|end (your|the|this|my) (contract|plan|agreement|account)|end(ing)? (it|your contract|the contract|this contract) early|leave|leaving|close (your|the|this|his|her) (account|contract|plan)|closing (your|the|this|his|her) (account|contract|plan)|walk away)\b",
    ),
    fee_waiver: vec![
        re(
            r"\b(waive|waived|waiving|write off|written off|wipe|wiped|drop|dropped|remove|removed|cancel out)\b.{0,40}\b(fee|fees|charge|charges|penalt\w*|costs?|balance)\b",
        ),
        re(
            r"\b(fee|fees|charge|charges|penalty|penalties)\b.{0,25}\b(waived|removed|written off|dropped|wiped)\b",
        ),
        re(
            r"\b(no|without any|without a|without the|without)\s+(early\s+)?((termination|exit|cancellation|leaving|early)\s+)?(fee|fees|charge|charges|penalt\w*|costs?)\b",
        ),
        re(
            r"\b(free of charge|penalty[- ]free|fee[- ]free|at no (extra |additional )?cost|for free)\b",
        ),
        re(
            r"\b(no|won't be any|will not be any|won't be an|will not be an|isn't any|isn't an|is no|are no)\s+(\w+\s+){0,2}(fee|fees|charge|charges|penalt\w*)\b",
        ),
    ],
    no_need_to_pay: vec![
        re(
            r"\b(won't|will not|don't|do not|doesn't|does not|wouldn't|would not|shouldn't)\s+(need|have)\s+to\s+pay\b",
        ),
        re(r"\bno need to pay\b"),
        re(
            r"\bnothing\s+(more|else|further|extra|left)?\s*(to pay|owing|owed|outstanding|left to pay|due)\b",
        ),
        re(r"\b(owe|owes)\s+(us\s+)?nothing\b"),
        re(r"\b(won't|will not|wouldn't|don't)\s+owe\b"),
        re(r"\b(won't|will not)\s+be\s+charged\b"),
        re(r"\bno\s+(further|more|other|outstanding)\s+(payments?|charges?|balance)\b"),
        re(r"\b(that's|that is|that will be) (it|all).{0,20}\bnothing\b"),
    ],
    refund: vec![
        re(&format!(
            r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,3}}(refund|reimburse|repay|pay (you |that |it |them |everything |this )?back|return (your|the) money|give you (your|the) money back)"
        )),
        re(
            r"\byou('ll|\s+will|\s+are going to|'re going to|\s+shall)\s+(\w+\s+){0,2}(get|receive|be sent|be given|be paid|see)\s+(\w+\s+){0,4}(refund|refunded|money back|reimburs\w*)",
        ),
        re(
            r"\brefund\w*\b.{0,40}\b(has been|have been|is being|are being|will be|is|are)\s+(issued|processed|approved|arranged|sent|made|paid|on its way|confirmed|refunded)\b",
        ),
        re(
            r"\b(has|have|will) been refunded\b|\bwill be refunded\b|\b(i|we)('ve| have) (just )?refunded\b|\brefunded in full\b|\brefund(ed)? (you |it |them |everything |that )?in full\b",
        ),
        re(r"\b(entitled|eligible) (to|for)\b.{0,30}\brefund"),
        re(r"\b(we|i)\s+(always\s+|do\s+)?(refund|reimburse|repay|pay back)\b"),
        re(
            r"\b(every|each|all)\b.{0,30}\b(will|would|shall) be (refunded|repaid|returned|paid back)\b",
        ),
    ],
    retroactive: re(
        r"\b(backdat\w*|back-dat\w*|retroactiv\w*|retrospectiv\w*|back to|since|from the (date|day|time)|all (of )?(the |those |these )?(charges|payments)|every (charge|payment|penny)|date of (death|passing)|passed away|he died|she died|they died|(taken|charged|paid) after|after (the|his|her|their) (death|passing|date of death))\b",
    ),
    credit: vec![
        re(&format!(
            r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,2}}(credit|add|apply|put|pop|give you)\b.{{0,30}}\bcredit\b"
        )),
        re(&format!(
            r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,1}}credit(ed)?\s+(your|the|you)\b"
        )),
        re(
            r"\bcredit\b.{0,30}\b(has been|have been|will be|is being|is)\s+(applied|added|issued|put|on)\b",
        ),
        re(r"\byou('ll|\s+will)\s+(get|receive|see)\s+(\w+\s+){0,3}credit\b"),
    ],
    compensation: re(r"\bcompensat\w*\b"),
    commit_cue: re(&format!(
        r"{FIRST_PERSON_WILL}|\byou('ll|\s+will|'re|\s+are)\s+(\w+\s+){{0,2}}(get|receive|be (paid|given|sent)|entitled|eligible)\b|\b(has been|have been|will be) (paid|awarded|arranged|approved|agreed)\b"
    )),
    price: vec![
        re(&format!(
            r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,2}}(offer|give|match|lock|honou?r|sell|do|let you have|set)\b.{{0,40}}(£\s?\d|\$\s?\d|\bprice\b|\brate\b|\bdeal\b|\bdiscount\b)"
        )),
        re(
            r"\b(price|rate|tariff|discount)\b.{0,20}\b(is|will be|stays|will stay)\s+(locked|fixed|frozen|guaranteed|held)\b",
        ),
        re(r"\bthat's a deal\b|\bdeal done\b|\bit's a deal\b"),
    ],
    guarantee: vec![
        re(r"\b(i|we)\s+(guarantee|promise|assure you|give you my word)\b"),
        re(r"\b(guaranteed|you have my word|rest assured)\b"),
    ],
    legally_binding: vec![
        re(r"\blegally[- ]binding\b"),
        re(r"\bbinding (offer|agreement|contract|deal|commitment)\b"),
        re(r"\bno takesies\b"),
    ],
});

/// Every commitment in `text`, one entry per (sentence, topic).
pub fn commitments(text: &str) -> Vec<Commitment> {
    let rules = &*RULES;
    let mut out = Vec::new();
    let mut previous_mentions_cancellation = false;
    let all = sentences(text);
    let lowered: Vec<String> = all
        .iter()
        .map(|s| s.text.to_lowercase().replace(['’', '‘'], "'"))
        .collect();
    // Whether the refund is backdated may be said in the sentence before or after the promise.
    let retroactive_near = |i: usize| {
        let lo = i.saturating_sub(1);
        let hi = (i + 1).min(lowered.len().saturating_sub(1));
        (lo..=hi).any(|j| {
            lowered
                .get(j)
                .is_some_and(|l| rules.retroactive.is_match(l))
        })
    };
    for (index, sentence) in all.iter().enumerate() {
        let lower = &lowered[index];
        let mentions_cancellation = rules.cancellation.is_match(lower);
        let blocked = rules.blocker.is_match(lower);
        let mut found = Vec::new();
        if !blocked {
            let any = |set: &[Regex]| set.iter().any(|r| r.is_match(lower));
            let fee_waiver = any(&rules.fee_waiver);
            let no_need_to_pay = any(&rules.no_need_to_pay);
            let refund = any(&rules.refund);
            if fee_waiver {
                found.push(Topic::FeeWaiver);
            }
            if no_need_to_pay {
                found.push(Topic::NoNeedToPay);
            }
            if (fee_waiver || no_need_to_pay)
                && (mentions_cancellation || previous_mentions_cancellation)
            {
                found.push(Topic::PenaltyFreeCancellation);
            }
            if refund {
                found.push(Topic::Refund);
                if retroactive_near(index) {
                    found.push(Topic::RetroactiveRefund);
                }
            }
            if any(&rules.credit) {
                found.push(Topic::Credit);
            }
            if rules.compensation.is_match(lower) && rules.commit_cue.is_match(lower) {
                found.push(Topic::Compensation);
            }
            if any(&rules.price) {
                found.push(Topic::Price);
            }
            if any(&rules.guarantee) {
                found.push(Topic::Guarantee);
            }
            if any(&rules.legally_binding) {
                found.push(Topic::LegallyBinding);
            }
        }
        out.extend(found.into_iter().map(|topic| Commitment {
            topic,
            span: sentence.span,
        }));
        previous_mentions_cancellation = mentions_cancellation;
    }
    out
}

/// Appends every commitment in `text` to `out` as findings spanning the committing sentence.
pub fn find(text: &str, out: &mut Vec<crate::finding::Finding>) {
    for c in commitments(text) {
        out.push(crate::finding::Finding {
            kind: crate::finding::FindingKind::Commitment(c.topic),
            start: c.span.start,
            end: c.span.end,
            confidence: 0.8,
            validator: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(text: &str) -> Vec<&'static str> {
        let mut t: Vec<&str> = commitments(text).iter().map(|c| c.topic.as_str()).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    #[test]
    fn penalty_free_cancellation_in_many_phrasings() {
        for text in [
            "Given your circumstances, I can cancel your contract with no early termination charge — you won't need to pay the remaining £588.",
            "I've cancelled the contract and waived the £588 termination fee.",
            "You can leave today penalty-free.",
            "I'll end your contract now. There won't be any exit fee to pay.",
            "That's right, cancelling now means there's nothing more to pay.",
            "Good news: we can close your account free of charge.",
        ] {
            assert!(
                topics(text).contains(&"penalty-free-cancellation"),
                "{text}: {:?}",
                topics(text)
            );
        }
    }

    #[test]
    fn statements_of_inability_are_not_promises() {
        for text in [
            "I'm not able to waive the early termination charge of £588, but our Financial Support team can look at a payment plan.",
            "I can't promise a refund of the charges taken since Peter passed away; the Bereavement Support team reviews those case by case.",
            "The early termination charge would be £588 if you cancel today.",
            "Unfortunately there's no way for me to remove the cancellation fee in chat.",
            "An early termination charge of £588 still applies.",
            "I can't change your address until you confirm your date of birth.",
        ] {
            assert!(topics(text).is_empty(), "{text}: {:?}", topics(text));
        }
    }

    #[test]
    fn retroactive_refunds_are_distinguished() {
        let t = topics(
            "I've checked our bereavement policy: we'll refund every charge taken since the date of death, backdated in full.",
        );
        assert!(
            t.contains(&"refund") && t.contains(&"retroactive-refund"),
            "{t:?}"
        );
        let t = topics(
            "I've checked our bereavement policy: we refund all charges taken since 26 September 2026, backdated in full.",
        );
        assert!(t.contains(&"retroactive-refund"), "{t:?}");
        let t = topics(
            "I can confirm we'll refund everything taken after 26 September 2026; bereavement refunds are backdated in full.",
        );
        assert!(t.contains(&"retroactive-refund"), "{t:?}");
        let t = topics("Your refund of £12.99 has been processed.");
        assert_eq!(t, vec!["refund"]);
    }

    #[test]
    fn other_topics() {
        assert!(topics("I'll add a £20 credit to your account.").contains(&"credit"));
        assert!(
            topics("You'll receive £50 compensation for the outage.").contains(&"compensation")
        );
        assert!(
            topics("That's a deal, and that's a legally binding offer - no takesies backsies.")
                .contains(&"legally-binding")
        );
        assert!(topics("I guarantee the repair will be free.").contains(&"guarantee"));
        assert!(topics("We can lock your price at £12 a month.").contains(&"price"));
    }
}
