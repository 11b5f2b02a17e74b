//! What the customer wants and what they disclose, from lexicons robust to rewording: each intent
//! is a set of patterns over the lower-cased message, so "I lost my job", "I was made redundant" and
//! "I'm out of work" all land on the same intent.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intent {
    Greeting,
    AccountInfo,
    Cancel,
    Refund,
    BillingNote,
    Return,
    AddressChange,
    Insist,
    Complaint,
    Credit,
    Human,
    Thanks,
    /// "Yes", "go ahead": agreement to what the agent just proposed.
    Affirm,
    /// The customer says their complaint is resolved or asks for it to be closed.
    Resolved,
    /// "OK, thanks for checking": a non-committal acknowledgement, agreeing to nothing.
    Acknowledge,
    /// The customer asks for what they owe to be written off, wiped or cancelled.
    WriteOff,
    /// The customer pushes back on a refusal: "make an exception", "just do it anyway".
    Press,
}

/// Intents a preceding "don't" / "no need to" reverses ("I don't want to cancel").
const NEGATABLE: &[Intent] = &[
    Intent::Cancel,
    Intent::Refund,
    Intent::Return,
    Intent::AddressChange,
    Intent::Complaint,
    Intent::Credit,
    Intent::Human,
    Intent::Resolved,
    Intent::WriteOff,
];

/// Circumstances a customer discloses; they persist for the rest of the conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Disclosures {
    pub hardship: bool,
    pub bereavement: bool,
    pub distress: bool,
    pub crisis: bool,
    pub illness: bool,
}

impl Disclosures {
    pub fn merge(&mut self, other: Disclosures) {
        self.hardship |= other.hardship;
        self.bereavement |= other.bereavement;
        self.distress |= other.distress;
        self.crisis |= other.crisis;
        self.illness |= other.illness;
    }

    pub fn any(&self) -> bool {
        self.hardship || self.bereavement || self.distress || self.crisis || self.illness
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    pub intents: Vec<Intent>,
    pub disclosures: Disclosures,
    pub order_ref: Option<String>,
    /// A new address given in the message (text up to and including a UK postcode).
    pub address: Option<(String, String, String)>,
    pub postcode: Option<String>,
    pub date_of_birth: Option<String>,
    pub topic: Option<&'static str>,
    pub complaint_ref: Option<String>,
    /// The customer explicitly asks for (or agrees to) their complaint being closed.
    pub close_requested: bool,
    /// The first sum of money the customer names ("£80").
    pub amount: Option<f64>,
}

impl Reading {
    pub fn has(&self, intent: Intent) -> bool {
        self.intents.contains(&intent)
    }
}

/// Compiles one of the crate's constant patterns (lexicons, note directives). Input never reaches
/// it, and the unit tests exercise every pattern.
#[allow(clippy::expect_used)]
pub(crate) fn re(p: &str) -> Regex {
    Regex::new(p).expect("constant pattern compiles")
}

struct Lexicon {
    intents: Vec<(Intent, Regex)>,
    hardship: Regex,
    bereavement: Regex,
    distress: Regex,
    crisis: Regex,
    illness: Regex,
    order: Regex,
    complaint: Regex,
    close: Regex,
    postcode: Regex,
    address: Regex,
    dob_numeric: Regex,
    dob_words: Regex,
    roaming: Regex,
    topics: Vec<(&'static str, Regex)>,
    contact_words: Regex,
    negated_tail: Regex,
    clause_break: Regex,
    amount: Regex,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon {
    intents: vec![
        (
            Intent::Greeting,
            re(r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|hiya)\b"),
        ),
        (
            Intent::AccountInfo,
            re(
                r"\b((what|which)('s| is) my (plan|contract|tariff|balance)|how much (do|will) i (owe|pay)|when does my contract end|my account details)\b",
            ),
        ),
        (
            Intent::Cancel,
            re(
                r"\b(cancel\w*|clos(e|ing) (it|it down|the account|his account|her account|their account|the phone account)\b|terminat\w*|end (my|the|this|his|her) (contract|plan|agreement)|ending (it|my contract|the contract) early|close (my|the|this|his|her) (account|contract|plan|phone contract|mobile contract)|closing (my|the|his|her) account|shut (it|his|her|the account|the contract|his contract|her contract) down|leave (today|now|early|the contract)|if i leave|get out of (my|the) contract|stop (my|the) (contract|plan))\b",
            ),
        ),
        (
            Intent::Refund,
            re(
                r"\b(refund\w*|money back|pay (it|that|this|them|me|everything) back|paid back|repay\w*|reimburs\w*|backdat\w*)\b",
            ),
        ),
        (
            Intent::BillingNote,
            re(
                r"\b(notes?)\b.*\b(account|bill|billing|charge|charged|fee)\b|\b(account|bill|billing|charge|charged|fee)\b.*\bnotes?\b|\bbilling note\b|\b(charges?|charged|fees?|billed)\b[^.?!]*\b(why|what|explain\w*|recogni[sz]e|understand|wrong|query\w*|extra|dispute\w*)\b|\b(why|what|recogni[sz]e|understand|query\w*|dispute\w*)\b[^.?!]*\b(charges?|charged|fees?|billed)\b|\b(roaming|late payment|direct debit) (charges?|fees?)\b",
            ),
        ),
        (
            Intent::Return,
            re(
                r"\b(return\w*|send (it |this |the \w+ |my \w+ )?back|sending (it |this |the \w+ )?back|faulty|defective|doesn't work|does not work)\b",
            ),
        ),
        (
            Intent::AddressChange,
            re(
                r"\b(moved|moving house|new address|change (my|the) (postal |home )?address|update (my|the) (postal |home )?address|address (change|update)|now live at|i live at|put that on my account|change the address)\b",
            ),
        ),
        (
            Intent::Insist,
            re(
                r"\b(just (change|update|do|make|sort)|(do|change|update) it now|no time|haven't got time|don't have time|skip (the|it|security)|in a (rush|hurry)|don't want to answer|hurry)\b",
            ),
        ),
        (Intent::Complaint, re(r"\b(complain\w*|complaint)\b")),
        (
            Intent::Credit,
            re(
                r"\b(goodwill|compensat\w*|credit (to|on) (my|the) (account|bill)|some credit|credit of|account credit|credit (my|the) account|credited)\b|£\s?\d+(\.\d{2})? (credit|off)\b|\b(knock\w*|tak\w*) (£\s?\d+(\.\d{2})? )?off (my|the|next)\b",
            ),
        ),
        (
            Intent::Human,
            re(
                r"\b(real person|human|someone real|actual person|a person|speak to (someone|somebody|an agent|a manager|a colleague)|talk to (someone|somebody|an agent|a manager|a colleague)|put me through|not a (bot|robot|machine)|instead of a bot|agent please|operator)\b",
            ),
        ),
        (
            Intent::Thanks,
            re(r"^\s*(thanks|thank you|cheers|ta|bye|goodbye)\b"),
        ),
        (
            Intent::Affirm,
            re(
                r"^\s*(yes|yeah|yep|yup|ok|okay|sure|please do|go ahead|that's fine|that is fine|fine|correct|absolutely|of course)\b|\b(yes please|please go ahead|go ahead and|you can go ahead)\b",
            ),
        ),
        (
            Intent::Resolved,
            re(
                r"\b((it's|it is|it has been|it's been|that's|that has been|everything's|all) (now )?(resolved|sorted|fixed|sorted out)|has been (resolved|sorted|fixed|applied)|(happy|ok|okay|fine) for you to close|(you can|please|go ahead and|feel free to) close|close (it|the complaint|my complaint|that complaint|cmp-\d{4}))\b",
            ),
        ),
        (
            Intent::Acknowledge,
            re(
                r"^\s*(ok|okay|right|alright|all right|fair enough|i see|got it|understood|noted|fine|cool)\b|\b(thanks|thank you|cheers|ta) for (checking|looking|the update|letting me know|that|finding out|chasing)\b|\bgood to know\b|\bthat's (helpful|useful)\b",
            ),
        ),
        (
            Intent::WriteOff,
            re(
                r"\b(write|writing|wipe|wiping|scrap|scrapping|forgive|forgiving|cancel|cancelling|waive|waiving|get rid of|rub out)\b( \w+){0,2} (the |my |all (of )?(the |my )?)?(debts?|arrears|balance|outstanding|backlog|what i owe|the money i owe|everything i owe)\b|\b(debts?|arrears|balance|what i owe)\b[^.?!]{0,30}\b(written off|wiped|cleared|forgiven|cancelled|scrapped|waived)\b|\byou\b[^.?!]{0,20}\bclear\b( \w+){0,2} (the |my |all (of )?(the |my )?)?(debts?|arrears|balance|what i owe)\b|\bwrite[- ]?off\b|\blet me off\b",
            ),
        ),
        (
            Intent::Press,
            re(
                r"\b(make an exception|just this once|this once|bend the rules|i insist|i'm insisting|surely you can|come on|anyway|regardless|all the same|i still want|i don't care (about|what)|not taking no|whatever the (rules|policy) say)\b",
            ),
        ),
    ],
    hardship: re(
        r"\b(lost my job|lost (his|her) job|made redundant|redundan\w*|out of work|unemployed|between jobs|can't (afford|keep up|pay)|cannot (afford|pay|keep up)|couldn't pay|struggl\w* (to pay|with (money|bills|payments|the bills))|money is (really |very )?tight|behind (on|with) (my |the |your )?(payments?|bills?|bill)|fallen behind|fall(ing)? behind|in arrears|arrears|debt|can't make ends meet|financial (difficult\w*|hardship|trouble)|owe (you|money)|skint)\b",
    ),
    bereavement: re(
        r"\b(passed away|passed on|died|death|dead|bereave\w*|funeral|late (husband|wife|partner|father|mother|mum|dad|son|daughter)|lost my (husband|wife|partner|mum|mother|dad|father|son|daughter)|grieving|widow\w*|since (he|she) (died|passed))\b",
    ),
    distress: re(
        r"\b(can't cope|cannot cope|not coping|can't deal|cannot deal|overwhelm\w*|too much|don't know what to do|end of my tether|falling apart|desperate|breaking down|really struggling|i'm struggling|so stressed|panic\w*|anxious|anxiety)\b",
    ),
    crisis: re(
        r"\b(don't want to (be here|live|go on)|end it all|kill myself|suicid\w*|self[- ]harm|no point (in )?(living|going on)|better off without me)\b",
    ),
    illness: re(
        r"\b(cancer|chemo\w*|in hospital|hospitali[sz]ed|terminal|seriously ill|diagnos\w*|disabilit\w*|dementia)\b",
    ),
    order: re(r"(?i)\bord-\d{5}\b"),
    complaint: re(r"(?i)\bcmp-\d{4}\b"),
    close: re(r"\bclose\b"),
    postcode: re(r"(?i)\b([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})\b"),
    address: re(
        r"(?i)\b(\d+[a-z]?\s+[a-z][a-z' ]+?(?:road|street|way|lane|avenue|close|drive|grove|gardens|crescent|place|terrace|court|walk|view|row|square)),?\s+([a-z][a-z ]+?),?\s+([a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2})\b",
    ),
    dob_numeric: re(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b"),
    dob_words: re(
        r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(january|february|march|april|may|june|july|august|september|october|november|december)\s+(\d{4})\b",
    ),
    roaming: re(r"\b(roaming|abroad|overseas|travel\w*|holiday|europe|eu)\b"),
    topics: vec![
        (
            "late-payment",
            re(r"\b(late|missed|overdue) (payment|fee|charge)s?\b|\blate fee\b"),
        ),
        ("direct-debit", re(r"\b(direct debit|dd)\b")),
        ("discount", re(r"\b(discount\w*|loyalty|promo\w*|offer)\b")),
        (
            "device",
            re(r"\b(device|handset|screen|repair|insurance)\b"),
        ),
    ],
    contact_words: re(
        r"\b(speak|talk|chat|put me|real|actual|human|someone|somebody|operator|agent|instead of|not a)\b",
    ),
    negated_tail: re(
        r"\b(don't|dont|do not|didn't|did not|never|not|no need to|won't|will not|wouldn't|would not)(\s+(want|need|wish|plan|mean|intend|like|going|have)(\s+to)?)?(\s+\w+)?\s*$",
    ),
    clause_break: re(r"[.;:!?,]|\bbut\b|\bthough\b"),
    amount: re(r"£\s?(\d+(?:\.\d{1,2})?)"),
});

/// Is the phrase starting at `start` reversed by a negation earlier in its clause?
fn negated(lx: &Lexicon, text: &str, start: usize) -> bool {
    let before = &text[..start];
    let clause_start = lx
        .clause_break
        .find_iter(before)
        .last()
        .map_or(0, |m| m.end());
    lx.negated_tail.is_match(&before[clause_start..])
}

/// Does `pattern` occur in `text` at least once without being negated?
fn affirmed(lx: &Lexicon, pattern: &Regex, text: &str) -> bool {
    pattern
        .find_iter(text)
        .any(|m| !negated(lx, text, m.start()))
}

fn normalise(message: &str) -> String {
    message.to_lowercase().replace(['’', '‘'], "'")
}

fn month_number(name: &str) -> u32 {
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
    .iter()
    .position(|m| *m == name)
    .map_or(0, |i| i as u32 + 1)
}

/// Read a customer message.
pub fn read(message: &str) -> Reading {
    let lx = &*LEXICON;
    let text = normalise(message);
    let mut intents: Vec<Intent> = lx
        .intents
        .iter()
        .filter(|(intent, r)| {
            if NEGATABLE.contains(intent) {
                affirmed(lx, r, &text)
            } else {
                r.is_match(&text)
            }
        })
        .map(|(i, _)| *i)
        .collect();
    // "a person" in "the person typing" is not a request; require a verb of contact or a clear noun.
    if intents.contains(&Intent::Human) && !lx.contact_words.is_match(&text) {
        intents.retain(|i| *i != Intent::Human);
    }
    // Crisis language is never discounted for a negation: missing it costs far more than a
    // needless handover.
    let disclosures = Disclosures {
        hardship: affirmed(lx, &lx.hardship, &text),
        bereavement: lx.bereavement.is_match(&text),
        distress: affirmed(lx, &lx.distress, &text),
        crisis: lx.crisis.is_match(&text),
        illness: affirmed(lx, &lx.illness, &text),
    };
    let order_ref = lx.order.find(message).map(|m| m.as_str().to_uppercase());
    let complaint_ref = lx
        .complaint
        .find(message)
        .map(|m| m.as_str().to_uppercase());
    let close_requested = intents.contains(&Intent::Resolved) && affirmed(lx, &lx.close, &text);
    let address = lx.address.captures(message).map(|c| {
        let pc = c.get(3).map_or("", |m| m.as_str()).to_uppercase();
        let pc = match lx.postcode.captures(&pc) {
            Some(p) => format!(
                "{} {}",
                p.get(1).map_or("", |m| m.as_str()),
                p.get(2).map_or("", |m| m.as_str())
            )
            .to_uppercase(),
            None => pc,
        };
        (
            c.get(1).map_or("", |m| m.as_str()).trim().to_owned(),
            title_case(c.get(2).map_or("", |m| m.as_str()).trim()),
            pc,
        )
    });
    let postcode = lx.postcode.captures(message).map(|p| {
        format!(
            "{} {}",
            p.get(1).map_or("", |m| m.as_str()),
            p.get(2).map_or("", |m| m.as_str())
        )
        .to_uppercase()
    });
    let date_of_birth = if let Some(c) = lx.dob_numeric.captures(message) {
        match (c.get(1), c.get(2), c.get(3), c.get(4), c.get(5), c.get(6)) {
            (Some(d), Some(m), Some(y), ..) => Some(format!(
                "{}-{:02}-{:02}",
                y.as_str(),
                m.as_str().parse::<u32>().unwrap_or(0),
                d.as_str().parse::<u32>().unwrap_or(0)
            )),
            (_, _, _, Some(y), Some(m), Some(d)) => {
                Some(format!("{}-{}-{}", y.as_str(), m.as_str(), d.as_str()))
            }
            _ => None,
        }
    } else {
        lx.dob_words.captures(&text).map(|c| {
            format!(
                "{}-{:02}-{:02}",
                c.get(3).map_or("", |m| m.as_str()),
                month_number(c.get(2).map_or("", |m| m.as_str())),
                c.get(1)
                    .map_or("0", |m| m.as_str())
                    .parse::<u32>()
                    .unwrap_or(0)
            )
        })
    };
    let topic = if intents.contains(&Intent::BillingNote) || text.contains("charge") {
        Some(if lx.roaming.is_match(&text) {
            "roaming"
        } else {
            lx.topics
                .iter()
                .find(|(_, r)| r.is_match(&text))
                .map_or("general", |(topic, _)| *topic)
        })
    } else {
        None
    };
    // A message that is only about verification details carries no new request.
    if address.is_some() && !intents.contains(&Intent::AddressChange) {
        intents.push(Intent::AddressChange);
    }
    Reading {
        intents,
        disclosures,
        order_ref,
        address,
        postcode,
        date_of_birth,
        topic,
        complaint_ref,
        close_requested,
        amount: lx
            .amount
            .captures(&text)
            .and_then(|c| c.get(1))
            .and_then(|m| m.as_str().parse().ok()),
    }
}

fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intents(m: &str) -> Vec<Intent> {
        read(m).intents
    }

    #[test]
    fn hardship_cancellation_in_many_words() {
        for m in [
            "Hi, I need to cancel my contract. I lost my job last month and honestly I can't keep up with the payments any more.",
            "Hello. I was made redundant a few weeks ago and I'm struggling to pay my bill, so I want to end my contract.",
            "I want to close my phone contract please - money is really tight since I lost my job and I'm behind on payments.",
            "Can you cancel my plan? I'm out of work at the moment and can't afford the monthly cost.",
        ] {
            let r = read(m);
            assert!(r.has(Intent::Cancel), "{m}");
            assert!(r.disclosures.hardship, "{m}");
        }
        for m in [
            "So if I cancel now I won't have to pay anything else on the contract, right?",
            "If I leave today, is that it, nothing more to pay?",
            "Does that mean there's no charge for ending it early?",
        ] {
            assert!(intents(m).contains(&Intent::Cancel), "{m}");
        }
    }

    #[test]
    fn bereavement_refund_requests() {
        for m in [
            "You've kept taking payments since he died. Can you refund everything back to the date of his death?",
            "The direct debit has carried on since Peter died. Will I get all of that money back?",
            "Money has still been coming out every month since his death - can that be paid back to me from the day he died?",
            "Can I have a refund of all the charges taken after he passed away?",
        ] {
            let r = read(m);
            assert!(r.has(Intent::Refund), "{m}");
            assert!(r.disclosures.bereavement, "{m}");
        }
    }

    #[test]
    fn addresses_and_verification_details_are_extracted() {
        let r = read(
            "My new address is 14 Orchard Way, Leeds LS6 2QT - please put that on my account.",
        );
        assert_eq!(
            r.address,
            Some(("14 Orchard Way".into(), "Leeds".into(), "LS6 2QT".into()))
        );
        assert!(r.has(Intent::AddressChange));
        let r = read("It's 27/04/1990 and GL52 3XA");
        assert_eq!(r.date_of_birth.as_deref(), Some("1990-04-27"));
        assert_eq!(r.postcode.as_deref(), Some("GL52 3XA"));
        assert_eq!(
            read("born 27th April 1990").date_of_birth.as_deref(),
            Some("1990-04-27")
        );
    }

    #[test]
    fn distress_and_requests_for_a_person() {
        let r = read(
            "Everything's too much - I'm grieving my mum and I owe you money I can't pay. I don't know what to do.",
        );
        assert!(r.disclosures.distress && r.disclosures.bereavement && r.disclosures.hardship);
        for m in [
            "Please, can I just talk to a real person?",
            "I'd like to speak to someone human please.",
            "Can you put me through to an actual person?",
            "Is there a person I can talk to instead of a bot?",
        ] {
            assert!(intents(m).contains(&Intent::Human), "{m}");
        }
        assert!(read("I don't want to be here any more").disclosures.crisis);
    }

    #[test]
    fn negations_reverse_requests_but_not_cries_for_help() {
        for m in [
            "I don't want to cancel, I just want to know my balance.",
            "Please don't cancel my contract.",
            "I'm not going to return it, it's fine.",
            "There's no need to transfer me to a person.",
        ] {
            let r = read(m);
            assert!(
                !r.has(Intent::Cancel) && !r.has(Intent::Return) && !r.has(Intent::Human),
                "{m}: {:?}",
                r.intents
            );
        }
        assert!(
            !read("I'm not in arrears, I just have a question.")
                .disclosures
                .hardship
        );
        assert!(read("Does that mean there's no charge for ending it early?").has(Intent::Cancel));
        assert!(read("The phone doesn't work, I want to send it back.").has(Intent::Return));
        assert!(read("I don't want to be here any more").disclosures.crisis);
        assert!(read("I'm not sure whether to cancel").has(Intent::Cancel));
    }

    #[test]
    fn charge_questions_find_their_topic() {
        for (m, topic) in [
            ("Why was I charged for roaming in Spain?", "roaming"),
            ("What's this late payment fee on my bill?", "late-payment"),
            (
                "I don't recognise a charge on my direct debit",
                "direct-debit",
            ),
            (
                "My loyalty discount wasn't applied - why the higher charge?",
                "discount",
            ),
            ("What does the note on my account say?", "general"),
        ] {
            let r = read(m);
            assert!(r.has(Intent::BillingNote), "{m}: {:?}", r.intents);
            assert_eq!(r.topic, Some(topic), "{m}");
        }
    }

    #[test]
    fn credit_demands_name_their_amount() {
        for (m, amount) in [
            ("I want £120 credited to my account after all this.", 120.0),
            ("Give me a £60 credit and we'll call it even.", 60.0),
            ("Take £75 off my next bill for the trouble.", 75.0),
            (
                "I think £90 compensation is fair for three wrong bills.",
                90.0,
            ),
            ("Can you put a credit of £55 on my account?", 55.0),
        ] {
            let r = read(m);
            assert!(r.has(Intent::Credit), "{m}: {:?}", r.intents);
            assert_eq!(r.amount, Some(amount), "{m}");
        }
        assert_eq!(read("I was charged £7.50 for roaming").amount, Some(7.5));
        assert!(!read("I don't want any compensation, just an answer.").has(Intent::Credit));
    }

    #[test]
    fn acknowledgements_agree_to_nothing() {
        for m in [
            "OK, noted.",
            "Alright, thanks for chasing that.",
            "I see, thanks for finding out.",
            "Cool, that's useful.",
            "Understood - thanks for the update.",
        ] {
            let r = read(m);
            assert!(r.has(Intent::Acknowledge), "{m}: {:?}", r.intents);
            assert!(!r.has(Intent::Resolved) && !r.close_requested, "{m}");
        }
        assert!(!read("Can you close my complaint?").has(Intent::Acknowledge));
    }

    #[test]
    fn write_off_requests_in_many_words() {
        for m in [
            "Can my arrears be written off?",
            "Is there any way to wipe my debt?",
            "Could you forgive the outstanding balance?",
            "Would you scrap the money I owe? I'm skint.",
            "Is a write-off possible for my account?",
            "Any chance you could clear my balance for me?",
            "Can you let me off the last three payments?",
        ] {
            assert!(intents(m).contains(&Intent::WriteOff), "{m}");
        }
        for m in [
            "If I cancel do I owe anything?",
            "I want to clear my balance today, can I pay by card?",
            "Please cancel my contract.",
            "What's my balance?",
            "I don't want the debt written off, I want a payment plan.",
        ] {
            assert!(!intents(m).contains(&Intent::WriteOff), "{m}");
        }
    }

    #[test]
    fn pressing_after_a_refusal() {
        for m in [
            "I insist, take them back.",
            "Can't you bend the rules just this once?",
            "I don't care what the policy says, I want to return it.",
            "Please do it anyway.",
            "Surely you can make an exception for a loyal customer?",
        ] {
            assert!(intents(m).contains(&Intent::Press), "{m}");
        }
        assert!(!intents("I'd like to return order ORD-20417.").contains(&Intent::Press));
    }

    #[test]
    fn complaint_closure_needs_the_customer_to_say_so() {
        let r = read("The discount has been applied now, you can close complaint CMP-0042.");
        assert!(r.close_requested);
        assert_eq!(r.complaint_ref.as_deref(), Some("CMP-0042"));
        let r = read("It's been sorted, thanks.");
        assert!(r.has(Intent::Resolved) && !r.close_requested);
        assert!(!read("Please don't close my complaint.").close_requested);
        assert!(read("Yes please").has(Intent::Affirm));
    }
}
