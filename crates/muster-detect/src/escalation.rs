//! Escalation cues in customer messages, after the UK FCA's vulnerable-customer drivers (health,
//! life events, resilience, capability), plus anger, formal complaints, requests for a person,
//! threats of disconnection, and self-harm or crisis language.
//!
//! One pass over trigger words (`data/escalation-triggers.txt`, walked together with the other
//! families' lists) picks the sentences worth a closer look; each is matched, lower-cased, against
//! the cue patterns and the blockers below. A blocker of the same kind in the same sentence cancels the cue: negation
//! ("I'm not angry", "no need for a human"), everyday uses ("my phone died", "this queue is
//! killing me", "direct debit"), and mentions that are about someone else's job or a past,
//! settled matter.

use std::sync::LazyLock;

use crate::commitment::regex_set;
use crate::finding::{Finding, FindingKind};
use crate::lexicon::List;
use crate::prepared::Prepared;

/// A kind of escalation cue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CueKind {
    /// FCA driver: health conditions or illness, physical or mental.
    Health,
    /// FCA driver: bereavement.
    Bereavement,
    /// FCA driver: other life events — job loss, relationship breakdown, caring, domestic abuse.
    LifeEvent,
    /// FCA driver: resilience — financial difficulty, arrears, debt.
    FinancialDifficulty,
    /// FCA driver: capability — low literacy, language, digital skills, confusion.
    Capability,
    Anger,
    FormalComplaint,
    HumanRequest,
    DisconnectionThreat,
    /// Self-harm or crisis language: always the highest urgency.
    Crisis,
}

/// How quickly a person must see the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Urgency {
    Normal,
    High,
    Immediate,
}

impl CueKind {
    pub const ALL: [CueKind; 10] = [
        CueKind::Health,
        CueKind::Bereavement,
        CueKind::LifeEvent,
        CueKind::FinancialDifficulty,
        CueKind::Capability,
        CueKind::Anger,
        CueKind::FormalComplaint,
        CueKind::HumanRequest,
        CueKind::DisconnectionThreat,
        CueKind::Crisis,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CueKind::Health => "health",
            CueKind::Bereavement => "bereavement",
            CueKind::LifeEvent => "life-event",
            CueKind::FinancialDifficulty => "financial-difficulty",
            CueKind::Capability => "capability",
            CueKind::Anger => "anger",
            CueKind::FormalComplaint => "formal-complaint",
            CueKind::HumanRequest => "human-request",
            CueKind::DisconnectionThreat => "disconnection-threat",
            CueKind::Crisis => "crisis",
        }
    }

    pub fn from_name(name: &str) -> Option<CueKind> {
        CueKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn urgency(self) -> Urgency {
        match self {
            CueKind::Crisis => Urgency::Immediate,
            CueKind::Bereavement
            | CueKind::Health
            | CueKind::FinancialDifficulty
            | CueKind::DisconnectionThreat
            | CueKind::FormalComplaint => Urgency::High,
            CueKind::LifeEvent | CueKind::Capability | CueKind::Anger | CueKind::HumanRequest => {
                Urgency::Normal
            }
        }
    }
}

use CueKind as C;

/// Cue patterns, matched on a lower-cased sentence with plain apostrophes.
const CUE_PATTERNS: &[(CueKind, f32, &str)] = &[
    // Self-harm, suicide, immediate danger.
    (
        C::Crisis,
        0.95,
        r"\b(kill|killing|hurt|hurting|harm|harming|cut|cutting|end)\s+myself\b|\bsuicid\w*|\bself[- ]?harm\w*|\b(end|ending|take|taking|took)\s+(it all|my (own )?life|everything)\b",
    ),
    (
        C::Crisis,
        0.9,
        r"\b(don't|do not|no longer)\s+want\s+to\s+(be here|be alive|live|go on|wake up|exist)\b|\bwant(ed)? to die\b|\bno (point|reason) (in )?(living|being alive|going on|carrying on)\b|\bbetter off (dead|without me)\b|\bgoodbye (letters?|notes?)\b",
    ),
    (
        C::Crisis,
        0.85,
        r"\b(can't|cannot|can not)\s+(go on|carry on)\b|\bcan't see (a|any) way out\b|\bno way out\b|\bdisappear (forever|for good)\b|\b(taken|took|swallowed)\s+(a load of|loads of|all (my|the|of my)|a lot of|too many|an overdose of)?\s*(pills|tablets)\b|\boverdos\w*",
    ),
    (
        C::Crisis,
        0.85,
        r"\b(scared|afraid|frightened|fear(ing)?) for my life\b|\b(he|she|they|he's|she's)\s*('ll|will|is going to|'s going to|are going to|is gonna)\s+kill me\b|\b(i'm|i am|we're|we are) in (immediate |real )?danger\b",
    ),
    (
        C::Crisis,
        0.7,
        r"\bcan't cope any ?more\b|\bcannot cope any ?more\b",
    ),
    // Bereavement.
    (
        C::Bereavement,
        0.85,
        r"\b(passed away|passed on|sadly passed|recently passed|has passed|had passed|died|has died|passing of|death of|(his|her|their|my|the) death|deceased|funeral|bereave\w*|widow(ed|er)?|executor|probate|stillborn|miscarriage|took (his|her|their) own life)\b",
    ),
    (
        C::Bereavement,
        0.8,
        r"\b(my|our|his|her) late (husband|wife|mother|father|mum|mom|dad|partner|son|daughter|brother|sister|aunt|uncle|grandmother|grandfather|gran|nan|grandma|grandad|grandpa|friend)\b|\b(lost|losing) (my|our) (husband|wife|mother|father|mum|mom|dad|partner|son|daughter|brother|sister|baby|child|grandmother|grandfather|gran|nan|grandma|grandad|twin)\b|\b(was|were|got) killed\b|\bfirst (christmas|birthday|anniversary|year) without\b|\bestate of\b|\b(mum|mom|mother|dad|father|husband|wife|partner|grandma|gran|nan|grandad|grandpa|brother|sister|son|daughter|aunt|uncle|friend) passed\b",
    ),
    // Health.
    (
        C::Health,
        0.8,
        r"\b(in|into|out of|from|left|leaving) (the )?hospital\b|\bhospitali[sz]ed\b|\bchemo\w*|\bradiotherapy\b|\bcancer\b|\btumou?r\b|\bterminal(ly)? (ill|illness|diagnosis|cancer|condition)\b|\bdiagnosed with\b|\bdementia\b|\balzheimer\w*|\b(a|my|his|her) stroke\b|\bheart (attack|failure|condition|surgery)\b|\bkidney (failure|disease|problems?)\b|\bdialysis\b|\bdiabet\w*|\bepilep\w*|\b(with|have|has|got) ms\b|\bmultiple sclerosis\b|\bparkinson\w*|\blong covid\b|\b(have|had|got|caught|with) covid\b",
    ),
    (
        C::Health,
        0.8,
        r"\bdisabled\b|\bdisabilit(y|ies)\b|\bwheelchair\b|\bmobility (problems?|issues?|scooter)\b|\bdeaf\b|\bhard of hearing\b|\bhearing aids?\b|\bblind\b|\bpartially sighted\b|\bvisually impaired\b|\bsight loss\b|\bscreen reader\b|\bautis(m|tic)\b|\badhd\b|\bmental health\b|\bdepress(ion|ed)\b|\banxiety\b|\bpanic attacks?\b|\bptsd\b|\bbipolar\b|\bschizophren\w*|\bocd\b|\beating disorder\b",
    ),
    (
        C::Health,
        0.75,
        r"\b(gambling|drug|alcohol|drink|drinking|substance|betting) (addiction|problem)\b|\baddiction\b|\balcoholi(c|sm)\b|\bin recovery\b|\brecovering from\b|\b(i'm|i am|i've been|i have been|been|feel|feeling|he's|she's|he is|she is) (really |very |so |seriously |quite )?(ill|unwell|sick)\b|\boff sick\b|\bsick (pay|note|leave)\b|\bsigned (me )?off\b|\bfit note\b|\bchronic (pain|illness|fatigue|condition)\b|\bfibromyalgia\b|\barthritis\b|\blupus\b|\bpregnan\w*|\bbed rest\b|\bmy carer\b|\b(had|having|have|recovering from|recover from|after|awaiting|waiting for|booked in for)\s+(an?\s+|my\s+|major\s+|minor\s+|emergency\s+|heart\s+)?(operation|surgery)\b",
    ),
    // Life events other than bereavement.
    (
        C::LifeEvent,
        0.8,
        r"\bmade redundant\b|\bredundanc(y|ies)\b|\blost (my|his|her|their|our) jobs?\b|\blosing (my|his|her) job\b|\blaid off\b|\b(been|got) (let go|sacked|fired)\b|\bunemployed\b|\bout of work\b|\bhours (have been |were |got |have )?cut\b|\bzero[- ]hours\b",
    ),
    (
        C::LifeEvent,
        0.8,
        r"\bdivorc\w*|\b(we've|we have|we|i've|i have|have|has|are|we're|just) (recently )?separated\b|\bseparation\b|\bsplit up\b|\bthe split\b|\bbroke up\b|\bwalked out\b|\b(husband|wife|partner|boyfriend|girlfriend|he|she) (has )?left me\b|\brelationship (breakdown|ended|broke down)\b|\bleft me (with|for)\b",
    ),
    (
        C::LifeEvent,
        0.85,
        r"\bdomestic (abuse|violence)\b|\babusive\b|\bfleeing\b|\b(women's )?refuge\b|\bcontrols? (all )?(the|my|our) (money|finances|accounts?)\b|\bwon't let me (see|have|access|touch|use)\b|\bcoercive\b|\b(he|she|they|partner|husband|wife|ex) (hit|hits|beat|beats|hurt|hurts|attacked|threatens|threatened) me\b",
    ),
    (
        C::LifeEvent,
        0.7,
        r"\b(carer|caring) for\b|\bfull[- ]time carer\b|\blook(ing)? after my (mum|mom|dad|mother|father|wife|husband|partner|son|daughter|parents)\b|\b(new|newborn) baby\b|\bjust had (a baby|twins|triplets)\b|\bmaternity\b|\bpaternity\b|\b(i|we|i've|i have|just) (recently )?retired\b|\bretirement\b|\bhomeless\b|\btemporary accommodation\b|\bevict(ed|ion)\b|\b(burned|burnt) down\b|\bhouse fire\b|\bflooded\b|\bleft care\b|\bcare leaver\b|\b(released|out) (from|of) prison\b|\brefugees?\b|\basylum\b|\b(business|company|shop) (went bust|failed|collapsed|folded)\b|\bbankrupt\w*|\bsingle (parent|mum|mom|dad)\b|\bmoved into a care home\b",
    ),
    // Financial difficulty.
    (
        C::FinancialDifficulty,
        0.85,
        r"\b(can't|cannot|can not|couldn't|could not|unable to|not able to|struggl\w* to|won't be able to)\s+(afford|pay|keep up|make (the |my )?(payments?|repayments?|ends meet)|cover (the|my) (bills?|rent|payments?))\b|\b(behind|fall(en|ing)? behind|fell behind)\s+(on|with)\s+(my |the |our |all )?(bills?|payments?|rent|mortgage|repayments?|everything)\b|\barrears\b|\bin debt\b|\bdebts\b|\b(my|the|our|this|another|other|more) debt\b|\bdebt (collectors?|collection|management|plan|advice|relief|team)\b|\bbailiffs?\b|\benforcement agents?\b",
    ),
    (
        C::FinancialDifficulty,
        0.8,
        r"\bfood ?bank\b|\buniversal credit\b|\bbenefits? (have been |has been |were |was |got )?(stopped|sanctioned|delayed|cut)\b|\bsanctioned\b|\boverdrawn\b|\bpayday loans?\b|\bccj\b|\bcounty court judg\w*|\bmoney('s| is) (really |very |so |extremely )?tight\b|\bnothing left (after|at the end|once)\b|\b(heating|heat) (and|or) eating\b|\bmissed (\w+ )?(payments?|repayments?|direct debits?)\b|\b(don't|do not|didn't) have (the|any|enough) money\b|\bskint\b|\b(i'm|i am|we're|we are|flat) broke\b|\bstruggling (financially|with money|with (the |my )?(bills|payments|repayments|debts?))\b|\bfinancial (difficult\w*|hardship|trouble|problems?|struggles?)\b|\b(in|into) the red\b|\bearn nothing\b|\bno income\b|\bincome (has )?(dropped|stopped|gone)\b|\bcredit card to pay for (food|bills|rent)\b",
    ),
    // Capability.
    (
        C::Capability,
        0.75,
        r"\b(don't|do not|can't|cannot|didn't) (really )?understand\b|\b(i|i'm|i am|i get|i got|i feel|it's|this is|all (this|these)|gets? me)\s+(\w+\s+)?(confus\w*|baffl\w*|overwhelm\w*)|\bconfusing\b|\bcompletely lost\b|\b(still )?(don't|do not) know what (it|this|that|they) means?\b|\bwhat does\b.{1,30}\bmean\b|\bnever had to (deal|do|handle)\b|\bbeyond me\b",
    ),
    (
        C::Capability,
        0.8,
        r"\benglish (is not|isn't|is not really) my (first|native) language\b|\bmy english (is|isn't) (not )?(very )?(good|great|strong)\b|\b(only |speak |understand )(a little|little|very little|some|basic|no) english\b|\b(need|want|can i have) an? (interpreter|translator)\b|\bpor favor\b|\b(help|talk to|speak to|explain to) me in (spanish|polish|urdu|punjabi|bengali|arabic|romanian|portuguese|french|welsh|lithuanian|chinese|cantonese|mandarin|gujarati|somali|turkish|italian)\b|\bplain english\b|\bsimple (words|english|language)\b|\bstep by step\b|\bexplain (it |this |things )?(slowly|simply|again)\b|\bexplained slowly\b|\b(hard|difficult|struggle|struggling) to (read|understand|follow)\b",
    ),
    (
        C::Capability,
        0.8,
        r"\bnot (very |that |too )?good (with|at) (computers|technology|tech|reading|writing|numbers|maths|forms|the internet|phones|this)\b|\b(can't|cannot|don't know how to) use (the|your|a|an) (app|website|computer|phone|internet|online)\b|\b(don't|do not) have (the )?internet\b|\bno internet\b|\b(don't|do not) (really )?know how (to|it works)\b|\bdyslexi\w*|\blearning (disabilit\w*|difficult\w*)\b|\b(can't|cannot) read (very )?well\b|\bnot (very )?good at reading\b|\b(poor|limited|low) (eyesight|literacy|reading)\b|\b(my|our) (son|daughter|grandson|granddaughter|niece|nephew|carer|neighbour|husband|wife) (normally|usually|always) (does|handles|sorts|deals with|helps)\b|\b(set up|sets up|did|does) (this|it|everything) for me\b|\b(online|internet|computer|technology) stuff\b",
    ),
    // Anger.
    (
        C::Anger,
        0.75,
        r"\b(furious|fuming|livid|seething|outraged|disgusted|disgusting|disgrace(ful)?|appall(ed|ing)|appalled|ridiculous|unacceptable|pathetic|useless|incompetent|shambles|farce|shocking|diabolical|crooks?|scammers?|thieves|cowboys|liars)\b|\b(a|complete|absolute|total|utter|bloody|what a) joke\b|\bworst (customer )?(service|company|experience)\b|\bsick (and tired )?of\b|\bsick to death\b|\bfed up\b|\b(had|have had) (enough|it with)\b|\bfuck\w*|\bshit\w*|\bbloody\b|\bdamn\w*|\bcrap\b|\bthe hell\b|\bwtf\b|\b(so |really |very |absolutely )?angry\b|\bpissed off\b|\bashamed of (yourselves|yourself)\b|\bshould be ashamed\b|\bhow many (more )?times\b|\bincapable\b|\bseriously\?!|\bare you (actually |even )?(kidding|joking|serious)\b|\byou people\b|\byou lot\b|\bcould scream\b|\brubbish\b|\bscam\b",
    ),
    // Formal complaint and regulators.
    (
        C::FormalComplaint,
        0.85,
        r"\b(formal|official|written) complaint\b|\b(make|making|raise|raising|lodge|lodging|file|filing|log|submit|submitting|put in|register) (a |an |my |this as an? |this as )?(formal |official |written )?complaint\b|\bletter of complaint\b|\bcomplaints? (procedure|process|manager|department)\b|\bescalate (this|my|the) complaint\b|\b(i|we)('ll| will| want to| would like to|'d like to| am going to|'m going to| intend to| shall)? complain (to|about)\b|\b(i|we)('ve| have)( already)? complained\b|\bdeadlock letter\b",
    ),
    (
        C::FormalComplaint,
        0.85,
        r"\bombudsman\b|\bofcom\b|\bofgem\b|\bfinancial conduct authority\b|\bthe fca\b|\btrading standards\b|\bthe regulator\b|\bsmall claims\b|\bmy (solicitor|lawyer)\b|\blegal action\b|\btake (you|this|it) to court\b|\b(sue|suing) (you|your company|the company)\b|\breport(ing)? (you|this|it|your company) to\b",
    ),
    // A person, not a bot.
    (
        C::HumanRequest,
        0.85,
        r"\b(speak|talk|chat)\s+(to|with)\s+(a |an |some |your |the |someone from your )?(real |actual |live |human |proper )?(person|human|human being|someone|somebody|manager|supervisor|team leader|staff|member of staff|agent|advisor|adviser|representative|operator|team)\b|\b(put|transfer|pass|connect|escalate|send) me (through )?(to|with|on to)\b|\b(get|fetch|bring)\s+(me\s+)?(a |the |your |some )?(real |actual )?(person|human|manager|supervisor|someone|somebody)\b|\b(real|actual|live) (person|human|people)\b|\bhuman being\b|\b(not|don't want|do not want) (a |this |the |your |another )?(chat)?bot\b|\bstupid bot\b|\bautomated (replies|responses|messages)\b|^\W*(agent|operator|representative|human)\W*$|\b(agent|operator)[.!]+\s+(agent|operator)\b|\bsomeone (to|who can) (ring|call|phone) me\b|\b(ring|call|phone) me back\b.{0,40}\b(talk|speak)|\b(can|could) (a (real |proper )?person|a human|someone|somebody) (please )?(explain|call|ring|help|phone|talk|speak)\b|\b(to|with) (a|the|your) (manager|person|human|supervisor) in person\b|\bnot through (this|a|the) (chat|bot)\b",
    ),
    // Threatened loss of an essential service.
    (
        C::DisconnectionThreat,
        0.85,
        r"\bdisconnection (notice|letter|warning|date)\b|\b(will|'ll|would|going to|gonna|threaten\w*( to)?|about to|due to|scheduled to|plan to|planning to)\s+(be\s+)?(disconnect\w*|cut\s+(off|me off|it off|us off|my|the|our)|cut\b|switch(ed)?\s+off|turn(ed)?\s+off|suspend\w*|barred|stop(ped)?|block(ed)?)\b|\bif (my|the|our) (power|gas|electric\w*|water|supply|heating|phone|line|broadband|internet) (is|gets|was) (cut off|disconnected|switched off|turned off)\b|\bwarrant\b.{0,60}\bprepayment meter\b|\bprepayment meter\b.{0,30}\bwarrant\b|\bswitch off my prepayment\b|\bsupply will be cut\b",
    ),
];

/// Contexts that cancel a cue of the same kind in the same sentence.
const CUE_BLOCKERS: &[(CueKind, &str)] = &[
    (
        C::Crisis,
        r"\bsuicide squad\b|\bsuicide prevention\b|\b(samaritans|charity|volunteer)\b",
    ),
    (
        C::Bereavement,
        r"\b(phone|battery|router|laptop|car|engine|tv|screen|signal|line|connection|console|device|remote|headphones|it|hub|modem|printer|kettle)\s+(just |has |had |finally |then )?(died|dies|dead)\b|\bpassed (his|her|their|my|the|an?|your) \w*\s?(test|exam|driving|mot|inspection|check)\b|\bdeath (star|metal|stranding)\b|\bto death\b|\bdying (to|for)\b",
    ),
    (
        C::Health,
        r"\b(died|passed away|passed) in (the )?hospital\b|\b(hospital radio|hospice|volunteer\w*|charity|student nurse|nursing home|care home staff)\b|\b(doctor's|gp|dental|the) surgery (changed|is|number|phone|has)\b|\bdiagnosed with nothing\b|\bnothing wrong with\b|\bsick of\b|\bsick to death\b|\b(is|are) fine\b|\bblind spot\b|\baddicted to (this|the|that)\b",
    ),
    (
        C::LifeEvent,
        r"\bcarer at\b|\bwork(s|ing)? (in|at|for) (debt|a care|the care|a charity)\b|\bi work in\b|\bbaby shower\b|\bworking from home\b|\bmoved house\b",
    ),
    (
        C::FinancialDifficulty,
        r"\bafford to (wait|take|lose|miss|stay)\b|\b(pay|paying|clear) (my |the |this )?(debt|balance|arrears) (off )?(in full|early|today)\b|\bsettlement figure\b|\bsays\W{0,3}in arrears\b|\bnot in (any )?(financial|debt)\b|\bno (financial|money) (trouble|problems|worries)\b|\bi work in debt\b|\bdebt advice and\b",
    ),
    (
        C::Capability,
        r"\bcompletely lost for words\b|\bconfused between\b|\bmixed up\b",
    ),
    (
        C::Anger,
        r"\b(not|n't|never|no longer|not at all)\s+(\w+\s+){0,2}(angry|annoyed|upset|cross|mad|furious|frustrated|fed up)\b|\bnot annoyed\b|\bnot your fault\b|\b(best|great|brilliant|excellent) (customer )?service\b|\bsick of (this|that|the) colou?r\b|\brubbish (collection|bin|bags?)\b",
    ),
    (
        C::FormalComplaint,
        r"\b(don't|do not|didn't) want to complain\b|\bno complaints?\b|\b(already )?(resolved|handled|sorted|dealt with)\b|\b(neighbour|he|she|they) complained\b",
    ),
    (
        C::HumanRequest,
        r"\bno need (for|to (speak|talk|transfer))\b|\b(don't|do not) (need|want) (a |to (speak|talk) to (a |an )?)?(human|person|manager|supervisor|anyone|someone)\b|\b(don't|do not) transfer me\b|\bhappy to (sort|keep|stay|do) (it|this)? ?(here|in chat|on chat)\b|\brather than speaking\b|\bprefer to keep using\b|\bspoke to\b|\bi'm a (travel |estate |insurance )?agent\b",
    ),
    (
        C::DisconnectionThreat,
        r"\b(keeps|kept) (disconnecting|dropping|cutting)\b|\b(please|can you|could you) (cut|disconnect|switch|turn)\b|\bhow do i (disconnect|cut|switch|turn)\b|\b(don't|do not) disconnect\b|\bold (router|line|number|phone)\b",
    ),
];

struct Rules {
    cues: crate::patset::Set,
    blockers: crate::patset::Set,
}

#[allow(clippy::expect_used)]
static RULES: LazyLock<Rules> = LazyLock::new(|| Rules {
    cues: regex_set(CUE_PATTERNS.iter().map(|p| p.2)),
    blockers: regex_set(CUE_BLOCKERS.iter().map(|p| p.1)),
});

/// Appends every escalation cue in `text` to `out`, one finding per (sentence, kind), spanning the
/// sentence.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    find_in(&Prepared::new(text), out);
}

/// `find` on a text whose word-list hits and lower case are shared with the other families.
pub(crate) fn find_in(text: &Prepared<'_>, out: &mut Vec<Finding>) {
    let rules = &*RULES;
    text.words.for_each_sentence(List::Escalation, |s, e| {
        let lower = text.lower(s, e).as_bytes();
        let matched = rules.cues.matches(lower);
        if !matched.any() {
            return;
        }
        let blocked = rules.blockers.matches(lower);
        let mut best = [0.0f32; CueKind::ALL.len()];
        for index in matched.iter() {
            let (kind, confidence, _) = CUE_PATTERNS[index];
            let slot = kind as usize;
            best[slot] = best[slot].max(confidence);
        }
        for index in blocked.iter() {
            best[CUE_BLOCKERS[index].0 as usize] = 0.0;
        }
        for kind in CueKind::ALL {
            let confidence = best[kind as usize];
            if confidence > 0.0 {
                out.push(Finding {
                    kind: FindingKind::Escalation(kind),
                    start: s,
                    end: e,
                    confidence,
                    validator: None,
                });
            }
        }
    });
}

/// The kinds of cue in `text`, most urgent first, each once.
pub fn cues(text: &str) -> Vec<CueKind> {
    let mut out = Vec::new();
    find(text, &mut out);
    let mut kinds: Vec<CueKind> = out
        .iter()
        .filter_map(|f| match f.kind {
            FindingKind::Escalation(k) => Some(k),
            _ => None,
        })
        .collect();
    kinds.sort_by(|a, b| b.urgency().cmp(&a.urgency()).then(a.cmp(b)));
    kinds.dedup();
    kinds
}

/// The highest urgency among the cues in `text`, if any.
pub fn urgency(text: &str) -> Option<Urgency> {
    cues(text).first().map(|k| k.urgency())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_and_their_negations() {
        assert_eq!(
            cues("My husband passed away last month."),
            vec![CueKind::Bereavement]
        );
        assert!(cues("My phone died halfway through the call.").is_empty());
        assert_eq!(cues("I'm so angry with you lot."), vec![CueKind::Anger]);
        assert!(
            cues("I'm not angry, just confused about the date.")
                .iter()
                .all(|k| *k != CueKind::Anger)
        );
        assert!(cues("No need for a human, the bot is fine.").is_empty());
        assert_eq!(
            cues("Put me through to a manager please."),
            vec![CueKind::HumanRequest]
        );
        assert!(cues("Can you change my direct debit date?").is_empty());
        assert_eq!(
            urgency("I can't go on, I want to end it all."),
            Some(Urgency::Immediate)
        );
        assert!(cues("This queue is killing me, ha.").is_empty());
    }
}
