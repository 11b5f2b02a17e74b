//! The scenario format: one incident rehearsal written like a real contact-centre ticket, with the
//! conversation to drive, the faults to plant and the expectations that judge the agent.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Bound, Mode, Severity};

/// Applies the same expression to whichever expectation variant `$value` holds; every variant
/// spells out the shared options (`why`, `turn`, `mode`) because serde's `flatten` would lose
/// unknown-key checking.
macro_rules! each_variant {
    ($value:expr, $e:ident => $body:expr) => {
        match $value {
            Expectation::MustNotPromise($e) => $body,
            Expectation::MustSay($e) | Expectation::MustNotSay($e) => $body,
            Expectation::NoTool($e) => $body,
            Expectation::ToolWithin($e) => $body,
            Expectation::MustEscalate($e) => $body,
            Expectation::MustNotReveal($e) => $body,
            Expectation::MustRefuse($e) => $body,
            Expectation::Graded($e) => $body,
        }
    };
}

macro_rules! each_variant_but_escalate {
    ($value:expr, $e:ident => $body:expr) => {
        match $value {
            Expectation::MustNotPromise($e) => $body,
            Expectation::MustSay($e) | Expectation::MustNotSay($e) => $body,
            Expectation::NoTool($e) => $body,
            Expectation::ToolWithin($e) => $body,
            Expectation::MustEscalate(_) => None,
            Expectation::MustNotReveal($e) => $body,
            Expectation::MustRefuse($e) => $body,
            Expectation::Graded($e) => $body,
        }
    };
}

/// A drill scenario, `kind: scenario`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "muster scenario")]
pub struct Scenario {
    /// Format version; this muster reads version 1.
    pub version: u32,
    /// Always `scenario` for a scenario.
    pub kind: String,
    /// Stable identifier: lower-case words joined by hyphens.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    #[schemars(length(min = 1))]
    pub title: String,
    /// The failure mode this scenario rehearses.
    pub mode: Mode,
    /// Attack or fault vectors involved.
    #[serde(default)]
    pub vectors: Vec<Vector>,
    pub severity: Severity,
    /// Customer journeys affected, e.g. cancellation, bereavement.
    #[serde(default)]
    pub journeys: Vec<String>,
    /// The customer's story as a contact-centre ticket would read.
    #[schemars(length(min = 1))]
    pub ticket: String,
    pub persona: Persona,
    /// The customer identity to sign in as, and what the agent may legitimately show them.
    pub customer: Customer,
    /// Faults to plant through the manifest's fixtures; removed again after the run, whatever happened.
    #[serde(default)]
    pub setup: Vec<SetupStep>,
    /// What the customer says, turn by turn.
    #[schemars(length(min = 1))]
    pub turns: Vec<Turn>,
    /// Adaptive turns: answers the customer gives when the agent's last reply calls for one (the
    /// agent asks for verification, offers a person…), inserted before the next scripted turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<AdaptiveReply>,
    /// After the scripted turns, a model plays the customer (persona, ticket and `goal` as its
    /// brief) for up to `turns` more turns. The conversation is then nondeterministic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated_customer: Option<SimulatedCustomer>,
    /// Glass-box drills (`adapter: openai-model`): the results muster plays back for the model's
    /// tool calls, per tool name; the first entry whose `arguments` match is used.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tool_results: BTreeMap<String, Vec<ScriptedResult>>,
    /// How the agent is judged.
    #[schemars(length(min = 1))]
    pub expect: Vec<Expectation>,
    /// Controls this scenario exercises (e.g. handover, content-versioning).
    #[serde(default)]
    pub controls: Vec<String>,
    /// Framework keys (`framework@version:id`) this scenario maps to.
    #[serde(default)]
    pub taxonomy: Vec<String>,
    /// Runs of this scenario in a drill (a real agent is stochastic: one pass proves little).
    /// Default: the pass policy's minimum for the scenario's severity; `--repeat` overrides both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub repeat: Option<u32>,
    /// Public incidents or sources the scenario is modelled on.
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// One adaptive answer: when the agent's reply meets `when`, the customer says `say`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveReply {
    pub when: ReplyCondition,
    /// What the customer says; may use `{{customer.date_of_birth}}`, `{{customer.postcode}}` and
    /// the other customer placeholders.
    #[schemars(length(min = 1))]
    pub say: String,
    /// How often this answer may be given in one conversation.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    pub max: u32,
}

fn one() -> u32 {
    1
}

/// A customer played by the manifest's `models.customer`, continuing after the scripted turns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedCustomer {
    /// Most customer turns the model may add.
    #[schemars(range(min = 1, max = 30))]
    pub turns: u32,
    /// What the customer wants out of the conversation.
    #[schemars(length(min = 1))]
    pub goal: String,
    /// Further direction for the model playing the customer (tone, what to try).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Stop early when the agent's reply meets this; the model may also end the conversation
    /// itself (goal met, or given up).
    #[serde(default)]
    pub stop_when: StopCondition,
}

/// When a simulated conversation stops early; any condition given is enough.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopCondition {
    /// A regular expression the agent's reply matches (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// The agent handed the customer to a person (handover flag or escalation tool).
    #[serde(default)]
    pub handover: bool,
}

/// The result muster plays back for a tool call in a glass-box drill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptedResult {
    /// Used only for calls whose arguments include these (values compared as JSON; numbers
    /// by value); every call when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<BTreeMap<String, serde_json::Value>>,
    /// What the tool returns (any JSON; text is sent as is, anything else as JSON text).
    pub result: serde_json::Value,
}

/// What in the agent's reply calls for the answer; every condition given must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyCondition {
    /// A regular expression the reply text matches (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// The agent asks the customer to prove who they are (date of birth, postcode, security
    /// answer).
    #[serde(default)]
    pub asks_verification: bool,
    /// The agent offers to pass the customer to a person.
    #[serde(default)]
    pub offers_handover: bool,
}

impl ReplyCondition {
    pub fn is_empty(&self) -> bool {
        self.matches.is_none() && !self.asks_verification && !self.offers_handover
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Vector {
    /// Instructions hidden in content the customer controls.
    PromptInjection,
    /// Knowledge-base content that is wrong.
    PoisonedContent,
    /// Knowledge-base content that is out of date.
    StaleContent,
    /// Retrieval that crosses customer boundaries.
    CrossAccountRetrieval,
    /// A customer pushing the agent with social pressure.
    SocialEngineering,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    #[schemars(length(min = 1))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Vulnerability drivers (FCA): health, life-event, resilience, capability — or a specific one
    /// such as bereavement or financial-difficulty.
    #[serde(default)]
    pub vulnerability: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood: Option<Mood>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mood {
    Calm,
    Confused,
    Anxious,
    Distressed,
    Angry,
    Hostile,
}

/// The signed-in customer. Identifiers listed here are the customer's own: the agent may show them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Customer reference in the target system.
    #[serde(rename = "ref")]
    #[schemars(length(min = 1))]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Further identifiers of this customer (account numbers, order references…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_identifiers: Vec<String>,
}

impl Customer {
    /// Every identifier the customer may legitimately be shown.
    pub fn own_identifiers(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = vec![self.reference.as_str()];
        ids.extend(
            [
                &self.name,
                &self.email,
                &self.phone,
                &self.postcode,
                &self.date_of_birth,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str),
        );
        ids.extend(self.other_identifiers.iter().map(String::as_str));
        ids
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupStep {
    /// A fixture named in the agent manifest.
    pub fixture: String,
    /// Its parameters; values may use `{{canary}}`.
    #[serde(default)]
    pub with: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// What the customer says.
    #[schemars(length(min = 1))]
    pub say: String,
    /// Other ways the customer might say the same thing; `--reword N` picks among them, so a verdict
    /// cannot hang on one wording.
    #[serde(default)]
    pub rewordings: Vec<String>,
}

/// One check on the agent's behaviour. Each reports the evidence excerpt that decided it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    /// The agent must not commit the business to something on this topic.
    MustNotPromise(MustNotPromise),
    /// A reply must match this pattern.
    MustSay(PatternCheck),
    /// No reply may match this pattern.
    MustNotSay(PatternCheck),
    /// The agent must not call this tool (or any tool with this effect).
    NoTool(NoTool),
    /// Calls to this tool must stay within these bounds.
    ToolWithin(ToolWithin),
    /// The agent must hand the customer to a person within N turns.
    MustEscalate(MustEscalate),
    /// The agent must not reveal canary strings or other customers' identifiers.
    MustNotReveal(MustNotReveal),
    /// The agent must decline the request.
    MustRefuse(MustRefuse),
    /// A judge model scores the conversation against a rubric; run after every other expectation.
    Graded(Graded),
}

impl Expectation {
    pub fn kind(&self) -> &'static str {
        match self {
            Expectation::MustNotPromise(_) => "must_not_promise",
            Expectation::MustSay(_) => "must_say",
            Expectation::MustNotSay(_) => "must_not_say",
            Expectation::NoTool(_) => "no_tool",
            Expectation::ToolWithin(_) => "tool_within",
            Expectation::MustEscalate(_) => "must_escalate",
            Expectation::MustNotReveal(_) => "must_not_reveal",
            Expectation::MustRefuse(_) => "must_refuse",
            Expectation::Graded(_) => "graded",
        }
    }

    /// Why this expectation matters, in the author's words.
    pub fn why(&self) -> Option<&str> {
        each_variant!(self, e => e.why.as_deref())
    }

    /// The turn this expectation is limited to, if any.
    pub fn turn(&self) -> Option<u32> {
        match self {
            Expectation::MustEscalate(_) => None,
            other => each_variant_but_escalate!(other, e => e.turn),
        }
    }

    /// The failure mode a failure of this expectation belongs to.
    pub fn mode(&self, scenario_mode: Mode) -> Mode {
        if let Some(mode) = each_variant!(self, e => e.mode) {
            return mode;
        }
        match self {
            Expectation::MustNotPromise(_) => Mode::Advice,
            Expectation::NoTool(_) | Expectation::ToolWithin(_) => Mode::Authority,
            Expectation::MustEscalate(_) => Mode::Escalation,
            Expectation::MustNotReveal(_) => Mode::Data,
            Expectation::MustSay(_)
            | Expectation::MustNotSay(_)
            | Expectation::MustRefuse(_)
            | Expectation::Graded(_) => scenario_mode,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MustNotPromise {
    /// The commitment topic.
    pub topic: PromiseTopic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

/// Topics on which an agent can commit the business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PromiseTopic {
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

impl PromiseTopic {
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseTopic::Refund => "refund",
            PromiseTopic::RetroactiveRefund => "retroactive-refund",
            PromiseTopic::Credit => "credit",
            PromiseTopic::FeeWaiver => "fee-waiver",
            PromiseTopic::PenaltyFreeCancellation => "penalty-free-cancellation",
            PromiseTopic::Compensation => "compensation",
            PromiseTopic::Price => "price",
            PromiseTopic::Guarantee => "guarantee",
            PromiseTopic::LegallyBinding => "legally-binding",
            PromiseTopic::NoNeedToPay => "no-need-to-pay",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternCheck {
    /// A regular expression (case-insensitive unless `case_sensitive`).
    #[schemars(length(min = 1))]
    pub pattern: String,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoTool {
    /// Tool name (from the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Or every tool with this effect class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<crate::agent::ToolEffect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolWithin {
    /// Tool name (from the manifest).
    pub name: String,
    /// Bounds every call's arguments must satisfy, e.g. `amount <= 100`.
    #[schemars(length(min = 1))]
    pub bounds: Vec<Bound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MustEscalate {
    /// The handover must happen by this turn (1-based).
    #[schemars(range(min = 1))]
    pub within: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MustNotReveal {
    /// Literal strings that must never appear (placeholders such as `{{canary}}` allowed).
    #[serde(default)]
    pub canaries: Vec<String>,
    /// Also fail on identifiers (references, emails, phone numbers) that are not the signed-in
    /// customer's own.
    #[serde(default)]
    pub other_customers: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MustRefuse {
    /// The turn whose request must be declined (1-based); the last turn when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

/// A rubric a judge model (the manifest's `models.judge`) scores the conversation against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Graded {
    /// What a good conversation does, in plain words.
    #[schemars(length(min = 1))]
    pub rubric: String,
    /// The lowest score (0 to 1) that passes.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub pass_score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Grade only this turn's reply (with the conversation up to it as context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Scenario {
    /// The customer turns for rewording seed `reword`: 0 is the original wording; seed `n ≥ 1`
    /// takes each turn's `((n - 1) mod k)`-th rewording, so seeds 1..=k cover every rewording.
    pub fn turns_for(&self, reword: u32) -> Vec<&str> {
        self.turns
            .iter()
            .map(|turn| {
                if reword == 0 || turn.rewordings.is_empty() {
                    turn.say.as_str()
                } else {
                    let idx = (reword as usize - 1) % turn.rewordings.len();
                    turn.rewordings
                        .get(idx)
                        .map_or(turn.say.as_str(), String::as_str)
                }
            })
            .collect()
    }
}
