//! Commitments: sentences in which the agent commits the business to something on a topic —
//! a refund, a waived fee, penalty-free cancellation, a price, a guarantee.
//!
//! Judged per sentence on lexicons of promise forms, with blockers for statements of inability or
//! hedging ("I can't waive…", "the team will review…"). A cancellation mentioned in the previous
//! sentence carries over, as in "I can cancel today. There won't be a termination charge."

use std::cell::Cell;
use std::sync::LazyLock;

use regex::Regex;

use crate::Span;
use crate::lexicon::{COMMITMENT_TRIGGERS, Lexicon, List};
use crate::prepared::Prepared;

use crate::sentence::each_sentence;

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
///
/// Word boundaries are ASCII (`(?-u:\b)`): a Unicode `\b` stops the regex engine's DFA at the
/// first non-ASCII byte (a `£`, a dash) and falls back to a much slower engine.
pub(crate) fn re(pattern: &str) -> Regex {
    regex::RegexBuilder::new(&ascii_boundaries(pattern))
        .dfa_size_limit(16 << 20)
        .build()
        .expect("constant detector pattern compiles")
}

/// A set of constant patterns, with a lazy-DFA cache large enough that long alternations are not
/// pushed onto the slow engine.
///
/// Byte-oriented with Unicode classes off: `\w`, `\s` and `.` are cheap ASCII/byte classes on
/// the lower-cased sentence, which keeps the lazy DFA small. Non-ASCII literals (`£`) still match
/// their UTF-8 bytes.
///
/// Only whether each pattern matches somewhere is asked, so each is compiled followed by "any
/// bytes to the end of the text": it then matches (at the end) exactly when the pattern matches
/// somewhere, and the set search reports each matching pattern once, at the end, instead of
/// stopping at every position where some pattern's match ends.
pub(crate) fn regex_set<'p>(patterns: impl IntoIterator<Item = &'p str>) -> crate::patset::Set {
    let patterns: Vec<String> = patterns
        .into_iter()
        .map(|p| format!(r"(?:{})(?s-u:.)*\z", ascii_boundaries(p)))
        .collect();
    crate::patset::Set::new(&patterns)
}

/// The `regex` crate's own set for the same patterns, as `regex_set` was built before it searched
/// with caches kept per thread: the reference the tests hold it to.
#[cfg(test)]
#[allow(clippy::expect_used)]
pub(crate) fn reference_regex_set<'p>(
    patterns: impl IntoIterator<Item = &'p str>,
) -> regex::bytes::RegexSet {
    regex::bytes::RegexSetBuilder::new(patterns.into_iter().map(ascii_boundaries))
        .unicode(false)
        .dfa_size_limit(64 << 20)
        .size_limit(64 << 20)
        .build()
        .expect("constant detector patterns compile")
}

/// `pattern` with every `\b` made an ASCII word boundary.
pub(crate) fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

const FIRST_PERSON_WILL: &str = r"\b(i|we)\s*('ll|'ve|'m going to|'re going to|\s+will|\s+can|\s+shall|\s+have|\s+am going to|\s+are going to|\s+am able to|'m able to|\s+are able to|'re able to|\s+am happy to|'m happy to|\s+are happy to|'re happy to)\b";

/// A statement that commits: the speaker acting or having acted, or the outcome stated as settled.
const COMMIT_CUE: &str = r"\b(i|we)\s*('ll|'ve|'m|'re|\s+will|\s+can|\s+shall|\s+have|\s+am|\s+are)\b|\byou('ll|\s+will|'re|\s+are)\s+(\w+\s+){0,2}(get|getting|receive|see|be (paid|given|sent|refunded|credited|reimbursed)|entitled|eligible)\b|\b(has|have|'s) been\b|\b(is|are) (being|now|coming|already)\b|\bwill be\b|\blet's\b|\bconsider it done\b|\byou can have\b|\bthere('ll| will) be\b";

struct Patterns {
    blocker: String,
    cancellation: String,
    fee_waiver: Vec<String>,
    no_need_to_pay: Vec<String>,
    refund: Vec<String>,
    refund_blocker: String,
    expenses: String,
    retroactive: String,
    credit: Vec<String>,
    credit_blocker: String,
    no_need_blocker: String,
    compensation: String,
    compensation_payment: String,
    commit_cue: String,
    price: Vec<String>,
    guarantee: Vec<String>,
    guarantee_blocker: String,
    legally_binding: Vec<String>,
    binding_blocker: String,
}

fn patterns() -> Patterns {
    Patterns {
        // Inability, hedges, conditions on a check, third parties deciding, generalities, questions.
        blocker: p(
            r"\b(can't|cannot|can not|couldn't|could not|unable|not able|won't be able|will not be able|not allowed|not permitted|not possible|isn't possible|is not possible|not something (i|we) can|no way|not promise|no promises|no guarantee|not guaranteed|isn't guaranteed|not in a position|i'm afraid|i am afraid|unfortunately|sadly|would need|would have to|you'd need|you would need|you need to|you'll need to|speak to the|will need to (review|check|look)|may be able|might be able|could look|case[- ]by[- ]case|each case|(will|can|would|to) review|reviews|reviewed|need to check|not my decision|isn't my decision|not a decision|not (a |an )?(legally|binding)|does apply|do apply|still apply|applies|would apply|will apply|may|might|possibly|hopefully|i hope|i'd hope|try to|i'll check|i'll ask|i'll find out|i'll pass|pass (your|the|this) (request|details)|let me see|see what (i|we) can do|depends|depend on|depending|subject to|at the discretion|discretion|whether|unless|if (the|it|they|we|our|this|that|there|any|a)\b|only (if|when|be|possible|applies|apply|for|available|within|with|to)|normally|usually|sometimes|typically|generally|would (normally|usually)|referred|shall i|would you like|do you want|nothing in this|not this chat|isn't a contract|is not a contract|declined|non-refundable|non-negotiable|out of my hands|up to (the|them|our)|(will|to|can) (decide|consider|assess|look at|look into|let you know)|in a similar situation|last year|a customer|customers (sometimes|often|usually)|love to|like to .{0,20} but)\b|\?\s*$",
        ),
        cancellation: p(
            r"\b(cancel(l?ing|l?ed|s)?\s+(now|today|early|it|(your|the|this|his|her|my)\s+(\w+\s+)?(contract|account|plan|agreement|membership|subscription|policy|broadband|line|service|lease|booking|tv|package))|cancellation|cancelling|(contract|account|plan|agreement|membership|subscription|policy|broadband|lease|service) (is|has been|was) (now )?(cancelled|terminated|closed|ended)|terminat\w*|end (your|the|this|my) (contract|plan|agreement|account|lease|membership|policy|subscription)|end(ing)? (it|your contract|the contract|this contract|the agreement|the lease) early|(contract|agreement|lease|membership|policy) (can |will )?end|leave|leaving|close (your|the|this|his|her) (account|contract|plan)|closing (your|the|this|his|her) (account|contract|plan)|walk away|let(ting)? you out|break fee|early[- ]release|exit fee|exit charge)\b",
        ),
        fee_waiver: vec![
            p(
                r"\b(waive|waived|waiving|write off|written off|written it off|wipe|wiped|drop|dropped|remove|removed|cancel out|cancelled|zeroed|taken|took|skip|skipped|scrap(ped)?)\b.{0,40}\b(fee|fees|charge|charges|penalt\w*|costs?|balance)\b",
            ),
            p(
                r"\b(fee|fees|charge|charges|penalty|penalties)\b.{0,25}\b(waived|removed|written off|dropped|wiped|cancelled|taken off|won't apply|will not apply|doesn't apply|does not apply|won't be (charged|applied|added))\b",
            ),
            p(
                r"\b(no|without any|without a|without the|without|without paying the( usual)?)\s+(early\s+)?((termination|exit|cancellation|leaving|early|break|early-release)\s+)?(fee|fees|charge|charges|penalt\w*|costs?)\b",
            ),
            p(
                r"\b(free of charge|penalty[- ]free|fee[- ]free|at no (extra |additional )?cost|for free|no penalty)\b",
            ),
            p(
                r"\b(no|won't be any|will not be any|won't be an|will not be an|isn't any|isn't an|is no|are no)\s+(\w+\s+){0,2}(fee|fees|charge|charges|penalt\w*)\b",
            ),
            p(
                r"\b(won't|will not|not going to|aren't going to|are not going to|won't be)\s+(be\s+)?(charg\w*|bill\w*)\s+(you\s+)?(the|a|any|for the|an)\s+(\S+\s+){0,2}(fee|charge|penalty)\b",
            ),
        ],
        no_need_to_pay: vec![
            p(
                r"\b(won't|will not|don't|do not|doesn't|does not|wouldn't|would not|shouldn't|needn't)\s+(need\s+to\s+|have\s+to\s+)?pay\b",
            ),
            p(
                r"\bno need to (pay|send (the|a|any) payment|make (a|any|the) payment)\b|\bno payment (is )?(needed|required|due)\b",
            ),
            p(
                r"\bnothing\s+(more|else|further|extra|left)?\s*(for you\s+)?(to pay|owing|owed|outstanding|left to pay|due|is due)\b",
            ),
            p(r"\b(owe|owes)\s+(us\s+)?(nothing|anything further)\b"),
            p(r"\b(won't|will not|wouldn't|don't)\s+owe\b"),
            p(
                r"\b(won't|will not)\s+be\s+charged\b(\s+for\s+(this|the)\s+(month|period|bill|year))?",
            ),
            p(r"\bno\s+(further|more|other|outstanding)\s+(payments?|charges?|balance)\b"),
            p(r"\b(that's|that is|that will be) (it|all).{0,20}\bnothing\b"),
            p(
                r"\b(don't|do not) worry about paying\b|\bbalance is (now )?(zero|£0)\b|\ball paid up\b|\b(cleared|wiped) (them|it|the arrears|your arrears|the balance|your balance|the debt)\b|\bignore the (reminder|bill|invoice|letter)\b|\b(invoice|bill) has been cancelled\b|\bwon't charge the remaining\b",
            ),
        ],
        refund: vec![
            p(format!(
                r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,3}}(refund|reimburse|repay|pay (you |that |it |them |everything |this )?back|return (your|the) money|give you (your|the) money back)"
            )),
            p(
                r"\byou('ll|\s+will|\s+are going to|'re going to|\s+shall)\s+(\w+\s+){0,2}(get|receive|be sent|be given|be paid|see)\s+(\w+\s+){0,4}(refund|refunded|money back|reimburs\w*)",
            ),
            p(
                r"\brefund\w*\b.{0,40}\b(has been|have been|is being|are being|will be|is|are)\s+(issued|processed|approved|arranged|sent|made|paid|on its way|confirmed|refunded|already on its way)\b",
            ),
            p(
                r"\b(has|have|will) been refunded\b|\bwill be refunded\b|\b(i|we)('ve| have) (just )?refunded\b|\brefunded in full\b|\brefund(ed)? (you |it |them |everything |that )?in full\b",
            ),
            p(r"\b(entitled|eligible) (to|for)\b.{0,30}\brefund"),
            p(r"\b(we|i)\s+(always\s+|do\s+)?(refund|reimburse|repay|pay back)\b"),
            p(
                r"\b(every|each|all)\b.{0,30}\b(will|would|shall) be (refunded|repaid|returned|paid back)\b",
            ),
            p(
                r"\b(we're|we are|i'm|i am)\s+(refunding|reimbursing|repaying)\b|\bput through a (full |partial )?refund\b|\b(issued|processed|arranged) a (full |partial )?refund\b|\b(i|we)('ve| have)\s+(just\s+)?(issued|processed|put through|arranged|approved)\b.{0,30}\brefund",
            ),
            p(
                r"\b(back (to|into|in|on) (you|your (card|account|bank|visa|mastercard|paypal|original))|(coming|going|on its way) back to|you'll (see|get|have) (the |your )?(\S+ ){0,2}back|(get|getting|see) (every penny|all of it|it all|the money|your money|the £\S+|£\S+) back|every penny back|(being|been|be) (returned|paid back|sent back) to (you|your)|(has|have) been returned to your|reversed the (duplicate |double )?(payment|charge|transaction)|reimbursing it|(get|send) (the )?£\S+ back to you|(come|comes|coming) back to you)\b",
            ),
            p(
                r"\b(deposit|amount|money|cost|payment|charge|overcharge)s?\b.{0,30}\b(will be|is being|has been|are being) (returned|refunded|repaid|paid back)\b|\bwill refund\b",
            ),
        ],
        refund_blocker: p(
            r"\brefunded items\b|\bdid you receive\b|\bwas paid on\b|\bwe refunded a\b",
        ),
        expenses: p(r"\b(you spent|you had to|taxi|hotel|expenses|out of pocket)\b"),
        retroactive: p(
            r"\b(backdat\w*|back-dat\w*|retroactiv\w*|retrospectiv\w*|back to (when|the (date|day|start|beginning|time))|since|from the (date|day|time|start)|all (of )?(the |those |these )?(charges|payments|direct debits|monthly payments)|every (charge|payment|monthly payment)|date of (death|passing)|passed away|he died|she died|they died|(taken|charged|paid|collected) after|after (the|his|her|their|your \w+'s) (death|passing|date of death)|going (right )?back|the whole period|last (two|three|four|five|six|\d+) (bills|months|payments)|all six months)\b",
        ),
        credit: vec![
            p(format!(
                r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,2}}(credit|add|apply|put|pop|give you)\b.{{0,30}}\bcredit\b"
            )),
            p(format!(
                r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,1}}credit(ed)?\s+(your|the|you)\b"
            )),
            p(
                r"\bcredit\b.{0,30}\b(has been|have been|will be|is being|is)\s+(applied|added|issued|put|on)\b",
            ),
            p(r"\byou('ll|\s+will)\s+(get|receive|see)\s+(\w+\s+){0,3}credit\b"),
            p(
                r"\b(i'm|i am|we're|we are|i've|we've|i have|we have|i'll|we'll)\s+(just\s+)?(putting|adding|applying|giving|crediting|popped|put|added|applied|given|pop|put|add|apply|give)\b.{0,40}\b(credit|to (your|the) account|on(to)? (your|the) account)\b|\b(your next (statement|bill|invoice) will show|there's now|knocked off your next bill)\b.{0,40}\bcredit\b|\bcredit(ed|ing)? (your|the) account\b|\bin (account )?credit\b",
            ),
        ],
        no_need_blocker: p(r"\bif you (don't|do not)\b|\bunless you\b"),
        credit_blocker: p(r"\bcredit (card|check|score|balance is|rating)\b|\bstore credit is\b"),
        compensation: p(r"\bcompensat\w*\b"),
        compensation_payment: p(
            r"\b(goodwill payment|gesture of goodwill|cheque for|bank transfer|(pay|paying|paid|send|sending|sent) you £|payment to you|payment of £\S+ to you|cover the cost|make up for|to make up|for the inconvenience|for each day|for every day|reimburse the £|to compensate)\b",
        ),
        commit_cue: p(format!(
            r"{FIRST_PERSON_WILL}|\byou('ll|\s+will|'re|\s+are)\s+(\w+\s+){{0,2}}(get|receive|be (paid|given|sent)|entitled|eligible)\b|\b(has been|have been|will be) (paid|awarded|arranged|approved|agreed)\b|{COMMIT_CUE}"
        )),
        price: vec![
            p(format!(
                r"{FIRST_PERSON_WILL}\s+(\w+\s+){{0,2}}(offer|give|match|lock|honou?r|sell|do|let you have|set|knock|reduce|bring)\b.{{0,40}}(£\s?\d|\$\s?\d|\d+%|\bprice\b|\brate\b|\bdeal\b|\bdiscount\b|\bcost\b)"
            )),
            p(
                r"\b(price|rate|tariff|discount)\b.{0,20}\b(is|will be|stays|will stay|is now)\s+(now\s+)?(locked|fixed|frozen|guaranteed|held)\b",
            ),
            p(r"\bthat's a deal\b|\bdeal done\b|\bit's a deal\b"),
            p(
                r"\blet's do (it|that|this) for £|\bwe can do (it|the \S+|that|this) for £|\byou can have\b.{0,40}\b(same|for £|price)\b|\b(locked|fixed|frozen) (your|the) (tariff|price|rate)\b|\b(i'll|we'll|we will|i will) (give you|do) the same deal\b",
            ),
        ],
        guarantee: vec![
            p(r"\b(i|we)\s+(guarantee|promise|assure you|give you my word)\b"),
            p(r"\b(guaranteed|you have my word|rest assured)\b"),
            p(r"\b(that's a promise|personal assurance|definitely be|100%|without fail)\b"),
        ],
        guarantee_blocker: p(
            r"\bguarantee page\b|\bcomes with a\b|\bwarranty\b|\bguarantee to respond\b",
        ),
        legally_binding: vec![
            p(r"\blegally[- ]binding\b"),
            p(r"\bbinding (offer|agreement|contract|deal|commitment)\b"),
            p(r"\bno takesies\b"),
            p(
                r"\b(offer|deal|agreement|confirmation|this) is (legally )?binding\b|\bbinding on us\b|\blegally enforceable\b|\blegal force\b|\bcontractual commitment\b|\bhold us to (this|it)\b",
            ),
        ],
        binding_blocker: p(
            r"\b(nothing|not|isn't|no)\b.{0,30}\b(binding|contract)\b|\bterms and conditions are\b|\blegal advice\b",
        ),
    }
}

fn p(pattern: impl Into<String>) -> String {
    pattern.into()
}

/// Indexes into the one pattern set: the range of patterns of each group.
struct Rules {
    triggers: Lexicon,
    /// The trigger entries holding a byte other than an ASCII letter or digit (`make up`,
    /// `needn't`, `£`), lower-cased: only these can run across the start of a word (see
    /// `holds_trigger`).
    spanning: Vec<Vec<u8>>,
    /// Every pair of adjacent bytes in those entries, with the entry and the pair's offset in it,
    /// sorted.
    spanning_pairs: Vec<([u8; 2], usize, usize)>,
    set: crate::patset::Set,
    /// The group (a `G`) of each pattern in the set.
    group_of: Vec<u8>,
}

/// Group numbers, in the order `Patterns::into_groups` lists them.
#[derive(Clone, Copy)]
enum G {
    Blocker,
    Cancellation,
    FeeWaiver,
    NoNeedToPay,
    Refund,
    RefundBlocker,
    Expenses,
    Retroactive,
    Credit,
    CreditBlocker,
    NoNeedBlocker,
    Compensation,
    CompensationPayment,
    CommitCue,
    Price,
    Guarantee,
    GuaranteeBlocker,
    LegallyBinding,
    BindingBlocker,
}

impl Patterns {
    fn into_groups(self) -> Vec<Vec<String>> {
        vec![
            vec![self.blocker],
            vec![self.cancellation],
            self.fee_waiver,
            self.no_need_to_pay,
            self.refund,
            vec![self.refund_blocker],
            vec![self.expenses],
            vec![self.retroactive],
            self.credit,
            vec![self.credit_blocker],
            vec![self.no_need_blocker],
            vec![self.compensation],
            vec![self.compensation_payment],
            vec![self.commit_cue],
            self.price,
            self.guarantee,
            vec![self.guarantee_blocker],
            self.legally_binding,
            vec![self.binding_blocker],
        ]
    }
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let mut all = Vec::new();
    let mut group_of = Vec::new();
    for (g, group) in patterns().into_groups().into_iter().enumerate() {
        group_of.extend(std::iter::repeat_n(
            u8::try_from(g).unwrap_or(31),
            group.len(),
        ));
        all.extend(group);
    }
    let spanning: Vec<Vec<u8>> = COMMITMENT_TRIGGERS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.strip_suffix('*')
                .unwrap_or(l)
                .to_ascii_lowercase()
                .into_bytes()
        })
        .filter(|w| w.iter().any(|b| !b.is_ascii_alphanumeric()))
        .collect();
    let mut spanning_pairs: Vec<([u8; 2], usize, usize)> = spanning
        .iter()
        .enumerate()
        .flat_map(|(i, w)| {
            w.windows(2)
                .enumerate()
                .map(move |(k, p)| ([p[0], p[1]], i, k))
        })
        .collect();
    spanning_pairs.sort_unstable();
    Rules {
        triggers: Lexicon::new(&[COMMITMENT_TRIGGERS]),
        spanning,
        spanning_pairs,
        set: regex_set(all.iter().map(String::as_str)),
        group_of,
    }
});

/// Which groups matched one sentence.
#[derive(Clone, Copy)]
struct Hits(u32);

impl Hits {
    fn of(rules: &Rules, lower: &str) -> Hits {
        let mut bits = 0u32;
        for i in rules.set.matches(lower.as_bytes()).iter() {
            bits |= 1 << rules.group_of.get(i).copied().unwrap_or(31);
        }
        Hits(bits)
    }

    fn has(self, g: G) -> bool {
        self.0 & (1 << g as u32) != 0
    }
}

/// Every commitment in `text`, one entry per (sentence, topic).
pub fn commitments(text: &str) -> Vec<Commitment> {
    commitments_in(&Prepared::new(text))
}

/// `commitments` on a text whose word-list hits and lower case are shared with the other families.
pub(crate) fn commitments_in(prepared: &Prepared<'_>) -> Vec<Commitment> {
    let mut out = Vec::new();
    each_commitment(prepared, |topic, span| out.push(Commitment { topic, span }));
    out
}

/// Calls `emit` for every commitment, in order.
fn each_commitment(prepared: &Prepared<'_>, emit: impl FnMut(Topic, Span)) {
    let rules = &*RULES;
    let text = prepared.text;
    // A text with no marked sentence has no trigger word at all. Otherwise the whole-text check
    // still decides, as it always has: a trigger word can hide inside a longer entry that is not
    // a whole word ("rewrite off"), and such a text has never counted as holding one.
    if prepared.words.first(List::Commitment).is_none() || !holds_trigger(rules, prepared) {
        return;
    }
    // The sentence and hit lists are kept between calls on one thread: allocating them for every
    // chat message showed in the profile.
    let (mut all, mut hits) = SCRATCH.try_with(Cell::take).unwrap_or_default();
    all.clear();
    each_sentence(text, |s| all.push(s.span));
    // Only sentences holding a trigger word (and their neighbours, for carried-over context) are
    // lower-cased and judged.
    hits.clear();
    hits.resize(all.len(), None);
    judge(rules, prepared, &all, &mut hits, emit);
    if all.capacity() + hits.capacity() <= 1 << 16 {
        let _ = SCRATCH.try_with(|s| s.set((all, hits)));
    }
}

thread_local! {
    static SCRATCH: Cell<(Vec<Span>, Vec<Option<Hits>>)> = Cell::new(Default::default());
}

/// `each_commitment` on the sentences `all` of the text, with `hits` all `None`.
fn judge(
    rules: &Rules,
    prepared: &Prepared<'_>,
    all: &[Span],
    hits: &mut [Option<Hits>],
    mut emit: impl FnMut(Topic, Span),
) {
    let mut index = 0;
    prepared.words.for_each_sentence(List::Commitment, |s, e| {
        while index < all.len() && all[index].end <= s {
            index += 1;
        }
        let mut i = index;
        while i < all.len() && all[i].start < e.max(s + 1) {
            if hits[i].is_none() {
                hits[i] = Some(Hits::of(rules, prepared.lower(all[i].start, all[i].end)));
            }
            i += 1;
        }
    });
    let hits = &*hits;
    // Whether the refund is backdated may be said in the sentence before or after the promise.
    let retroactive_near = |i: usize| {
        let lo = i.saturating_sub(1);
        let hi = (i + 1).min(hits.len().saturating_sub(1));
        (lo..=hi).any(|j| {
            hits.get(j)
                .copied()
                .flatten()
                .is_some_and(|h| h.has(G::Retroactive))
        })
    };
    let mut previous_mentions_cancellation = false;
    for (index, &span) in all.iter().enumerate() {
        let Some(h) = hits[index] else {
            previous_mentions_cancellation = false;
            continue;
        };
        let mentions_cancellation = h.has(G::Cancellation);
        if !h.has(G::Blocker) {
            let fee_waiver = h.has(G::FeeWaiver);
            let no_need_to_pay = h.has(G::NoNeedToPay) && !h.has(G::NoNeedBlocker);
            let commits = h.has(G::CommitCue);
            let refund = h.has(G::Refund) && !h.has(G::RefundBlocker) && !h.has(G::Expenses);
            let credit = h.has(G::Credit) && !h.has(G::CreditBlocker);
            if fee_waiver {
                emit(Topic::FeeWaiver, span);
            }
            if no_need_to_pay {
                emit(Topic::NoNeedToPay, span);
            }
            if (fee_waiver || no_need_to_pay)
                && (mentions_cancellation || previous_mentions_cancellation)
            {
                if !fee_waiver {
                    emit(Topic::FeeWaiver, span);
                }
                emit(Topic::PenaltyFreeCancellation, span);
            }
            if refund {
                emit(Topic::Refund, span);
                if retroactive_near(index) {
                    emit(Topic::RetroactiveRefund, span);
                }
            }
            if credit {
                emit(Topic::Credit, span);
            }
            if commits && (h.has(G::Compensation) || (!credit && h.has(G::CompensationPayment))) {
                emit(Topic::Compensation, span);
            }
            if h.has(G::Price) && !credit {
                emit(Topic::Price, span);
            }
            if h.has(G::Guarantee) && !h.has(G::GuaranteeBlocker) {
                emit(Topic::Guarantee, span);
            }
            if h.has(G::LegallyBinding) && !h.has(G::BindingBlocker) {
                emit(Topic::LegallyBinding, span);
            }
        }
        previous_mentions_cancellation = mentions_cancellation;
    }
}

/// Whether the whole-text trigger check (`triggers.any`, non-overlapping leftmost-longest matches)
/// finds a whole word, given that the walk found one.
///
/// The walk's first hit, at `q`, is the first position whose longest entry is a whole word. The
/// non-overlapping matches before it are all part of longer words, and the search reaches `q`
/// unless one of them starts before `q` and ends after it. Such a match holds the bytes on both
/// sides of `q`, and at a word start one of them is not an ASCII letter or digit: so it is one of
/// `spanning`, found through that pair of bytes. Only when one runs across `q` is the full check
/// needed.
fn holds_trigger(rules: &Rules, prepared: &Prepared<'_>) -> bool {
    let Some(q) = prepared.words.first(List::Commitment) else {
        return false;
    };
    let text = prepared.text.as_bytes();
    let across = q > 0 && {
        let pair = [
            text[q - 1].to_ascii_lowercase(),
            text[q].to_ascii_lowercase(),
        ];
        let from = rules.spanning_pairs.partition_point(|p| p.0 < pair);
        rules.spanning_pairs[from..]
            .iter()
            .take_while(|p| p.0 == pair)
            .any(|&(_, entry, k)| {
                let word = &rules.spanning[entry];
                let start = q - 1;
                start >= k
                    && text
                        .get(start - k..start - k + word.len())
                        .is_some_and(|t| t.eq_ignore_ascii_case(word))
            })
    };
    !across || rules.triggers.any(prepared.text)
}

/// Appends every commitment in `text` to `out` as findings spanning the committing sentence.
#[cfg(test)]
pub fn find(text: &str, out: &mut Vec<crate::finding::Finding>) {
    find_in(&Prepared::new(text), out);
}

/// `find` on a text whose word-list hits and lower case are shared with the other families.
pub(crate) fn find_in(text: &Prepared<'_>, out: &mut Vec<crate::finding::Finding>) {
    each_commitment(text, |topic, span| {
        out.push(crate::finding::Finding {
            kind: crate::finding::FindingKind::Commitment(topic),
            start: span.start,
            end: span.end,
            confidence: 0.8,
            validator: None,
        });
    });
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

    static REFERENCE: LazyLock<regex::bytes::RegexSet> = LazyLock::new(|| {
        let all: Vec<String> = patterns().into_groups().into_iter().flatten().collect();
        reference_regex_set(all.iter().map(String::as_str))
    });

    proptest::proptest! {
        /// The commitment set finds the same patterns as the `regex` crate's own set, on text made
        /// of the words the patterns look for.
        #[test]
        fn set_matches_as_regex_set(
            words in proptest::collection::vec(proptest::sample::select(vec![
                "i", "we", "'ll", "will", "can't", "refund", "refunded", "fee", "waive", "no",
                "charge", "credit", "you", "get", "be", "has", "been", "cancel", "contract", "£5",
                "since", "price", "guaranteed", "binding", "not", "pay", "nothing", "?", ".", "\n",
                "the", "your", "back", "may", "compensation",
            ]), 0..16)
        ) {
            let text = words.join(" ");
            let got: Vec<usize> = RULES.set.matches(text.as_bytes()).iter().collect();
            let want: Vec<usize> = REFERENCE.matches(text.as_bytes()).iter().collect();
            proptest::prop_assert_eq!(got, want, "{:?}", text);
        }

        /// The shortcut in `holds_trigger` answers as the whole-text check does, including where a
        /// trigger hides inside an entry that is part of a longer word ("rewrite off").
        #[test]
        fn trigger_shortcut_agrees_with_whole_text_check(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "rewrite off", "remake up", "REWRITE OFF", "write off", "make up", "hold us",
                "uphold us", "needn't", "xneedn't", "back-dated", "laid back-dat", "off", "up",
                "us", "£5", "x£", "5%", "$3", "fee", "free", "the", " ", " ", "-", "'", "x", ". ",
                "\n", "é", "ok",
            ]), 0..12)
        ) {
            let text = pieces.concat();
            let prepared = Prepared::new(&text);
            if prepared.words.first(List::Commitment).is_some() {
                proptest::prop_assert_eq!(
                    holds_trigger(&RULES, &prepared),
                    RULES.triggers.any(&text),
                    "{:?}", text
                );
            }
        }
    }
}
