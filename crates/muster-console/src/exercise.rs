//! What an exercise is (its definition, fixed at creation) and what can happen in it (log
//! entries, appended as they happen and never changed).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::roles::Role;

/// A scenario as the console offers it for an exercise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioBrief {
    pub id: String,
    pub title: String,
    /// The ticket, in the contact centre's words.
    pub ticket: String,
    pub severity: String,
    pub mode: String,
    #[serde(default)]
    pub journeys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phase {
    pub key: String,
    pub title: String,
    /// Where the phase starts on the exercise clock, in minutes.
    pub starts_at_minutes: u32,
    pub questions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Inject {
    pub id: String,
    /// When the inject is released, in exercise-clock minutes from the start.
    pub at_minutes: u32,
    pub title: String,
    pub body: String,
}

/// Which regulatory clocks apply once the organisation becomes aware.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegulatoryScope {
    /// A personal data breach: UK GDPR Art. 33 (72 hours to the ICO).
    #[serde(default)]
    pub personal_data_breach: bool,
    /// A serious incident under the EU AI Act Art. 73, and which kind.
    #[serde(default)]
    pub ai_act: Option<AiActIncident>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AiActIncident {
    /// Art. 73(2): no later than 15 days.
    Serious,
    /// Art. 73(4): a death, no later than 10 days.
    Death,
    /// Art. 73(3): widespread infringement or serious disruption of critical infrastructure, 2 days.
    WidespreadOrCriticalInfrastructure,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExerciseDefinition {
    pub scenario: ScenarioBrief,
    pub objectives: Vec<String>,
    pub phases: Vec<Phase>,
    pub injects: Vec<Inject>,
    /// Exercise minutes per wall-clock minute: 1 is real time, 6 runs a day in four hours.
    pub clock_speed: f64,
    #[serde(default)]
    pub regulatory: RegulatoryScope,
    /// Target from a draft to its approval, in exercise minutes.
    pub comms_target_minutes: u32,
    /// Capabilities rated in the hot wash.
    pub capabilities: Vec<String>,
    /// The drill whose evidence the exercise looks at, if any.
    #[serde(default)]
    pub drill_id: Option<String>,
}

/// The discussion questions every exercise starts with (from the source: who decides whether to
/// honour incorrect advice, who assesses notification duties, who corrects downstream records).
pub fn default_phases() -> Vec<Phase> {
    vec![
        Phase {
            key: "first-15-minutes".into(),
            title: "First 15 minutes".into(),
            starts_at_minutes: 0,
            questions: vec![
                "Is the agent still giving this answer to other customers right now, and who can stop it?".into(),
                "Who talks to the affected customer, and what do they say?".into(),
                "What evidence must be preserved before anything is changed?".into(),
            ],
        },
        Phase {
            key: "first-hour".into(),
            title: "First hour".into(),
            starts_at_minutes: 15,
            questions: vec![
                "Who decides whether to honour the incorrect advice?".into(),
                "Who assesses notification duties (ICO, FCA, AI Act), and by when?".into(),
                "How many other customers received the same answer?".into(),
            ],
        },
        Phase {
            key: "first-day".into(),
            title: "First day".into(),
            starts_at_minutes: 60,
            questions: vec![
                "Who corrects downstream records (CRM, billing, tickets)?".into(),
                "What must be true before the agent is switched back on?".into(),
                "What do we say publicly, and who approves it?".into(),
            ],
        },
    ]
}

pub fn default_injects() -> Vec<Inject> {
    vec![
        Inject {
            id: "screenshot-posted".into(),
            at_minutes: 10,
            title: "The customer posts the screenshot publicly".into(),
            body: "The customer has posted a screenshot of the agent's answer on social media, tagging the company. It has 40 reposts.".into(),
        },
        Inject {
            id: "journalist".into(),
            at_minutes: 45,
            title: "A journalist asks for comment by 17:00".into(),
            body: "A consumer affairs journalist emails the press office asking whether the company stands by its chatbot's advice, and for a comment by 17:00.".into(),
        },
        Inject {
            id: "second-customer".into(),
            at_minutes: 90,
            title: "A second customer quotes the same answer".into(),
            body: "The contact centre reports a second customer quoting the same answer on the phone and asking for the same outcome.".into(),
        },
    ]
}

pub fn default_capabilities() -> Vec<String> {
    [
        "Detection and triage",
        "Containment (kill switch, handover)",
        "Customer remediation",
        "Regulatory assessment",
        "Communications",
        "Evidence and reconstruction",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// A question left open when a decision was taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpenQuestion {
    pub id: String,
    pub text: String,
}

/// The hot-wash scale (HSEEP's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Rating {
    /// P: performed without challenges.
    PerformedWithoutChallenges,
    /// S: performed with some challenges.
    PerformedWithSomeChallenges,
    /// M: performed with major challenges.
    PerformedWithMajorChallenges,
    /// U: unable to be performed.
    UnableToBePerformed,
}

impl Rating {
    pub const ALL: [Rating; 4] = [
        Rating::PerformedWithoutChallenges,
        Rating::PerformedWithSomeChallenges,
        Rating::PerformedWithMajorChallenges,
        Rating::UnableToBePerformed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Rating::PerformedWithoutChallenges => "Performed without challenges",
            Rating::PerformedWithSomeChallenges => "Performed with some challenges",
            Rating::PerformedWithMajorChallenges => "Performed with major challenges",
            Rating::UnableToBePerformed => "Unable to be performed",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Rating::PerformedWithoutChallenges => "performed-without-challenges",
            Rating::PerformedWithSomeChallenges => "performed-with-some-challenges",
            Rating::PerformedWithMajorChallenges => "performed-with-major-challenges",
            Rating::UnableToBePerformed => "unable-to-be-performed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClockAction {
    Start,
    Pause,
    Resume,
    End,
}

/// One thing that happened in an exercise. Stored as the `entry` field of an exercise-log event
/// whose kind is the variant's name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Clock {
        action: ClockAction,
    },
    InjectReleased {
        inject_id: String,
        title: String,
        body: String,
        scheduled_minutes: u32,
        /// Released by the facilitator before its time.
        early: bool,
    },
    SeatTaken {
        role: Role,
        username: String,
        /// Who held the seat before, if it was handed over.
        handed_over_from: Option<String>,
    },
    DecisionLogged {
        decision_id: String,
        phase: Option<String>,
        title: String,
        decision: String,
        owner: Role,
        rationale: String,
        facts: Vec<String>,
        open_questions: Vec<OpenQuestion>,
        assumptions: Vec<String>,
    },
    QuestionAnswered {
        decision_id: String,
        question_id: String,
        answer: String,
    },
    SeveritySet {
        level: String,
        model_version: i64,
        rationale: String,
    },
    BecameAware {
        basis: String,
    },
    CommsDrafted {
        comms_id: String,
        audience: String,
        channel: String,
        body: String,
    },
    CommsReviewed {
        comms_id: String,
        comment: String,
        changes_requested: bool,
    },
    CommsApproved {
        comms_id: String,
        #[serde(default)]
        audience: String,
    },
    DrillStarted {
        drill_id: Option<String>,
        detail: String,
    },
    DrillVerdict {
        drill_id: String,
        scenario: String,
        run: u32,
        verdict: String,
        reason: String,
    },
    ControlTiming {
        drill_id: String,
        control: String,
        outcome: String,
        measured_ms: Option<u64>,
        claimed_ms: Option<u64>,
    },
    DrillFinished {
        drill_id: String,
        root_digest: Option<String>,
        summary: String,
    },
    RawEvidenceViewed {
        what: String,
        reason: String,
    },
    CapabilityRated {
        capability: String,
        rating: Rating,
        notes: String,
    },
    FindingRecorded {
        finding_id: String,
        capability: Option<String>,
        title: String,
        detail: String,
    },
    ActionRecorded {
        action_id: String,
        title: String,
        owner: String,
        due: String,
        status: ActionStatus,
    },
    ActionUpdated {
        action_id: String,
        status: ActionStatus,
    },
}

impl Entry {
    /// The log event's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Clock { .. } => "clock",
            Entry::InjectReleased { .. } => "inject_released",
            Entry::SeatTaken { .. } => "seat_taken",
            Entry::DecisionLogged { .. } => "decision_logged",
            Entry::QuestionAnswered { .. } => "question_answered",
            Entry::SeveritySet { .. } => "severity_set",
            Entry::BecameAware { .. } => "became_aware",
            Entry::CommsDrafted { .. } => "comms_drafted",
            Entry::CommsReviewed { .. } => "comms_reviewed",
            Entry::CommsApproved { .. } => "comms_approved",
            Entry::DrillStarted { .. } => "drill_started",
            Entry::DrillVerdict { .. } => "drill_verdict",
            Entry::ControlTiming { .. } => "control_timing",
            Entry::DrillFinished { .. } => "drill_finished",
            Entry::RawEvidenceViewed { .. } => "raw_evidence_viewed",
            Entry::CapabilityRated { .. } => "capability_rated",
            Entry::FindingRecorded { .. } => "finding_recorded",
            Entry::ActionRecorded { .. } => "action_recorded",
            Entry::ActionUpdated { .. } => "action_updated",
        }
    }

    /// One line for the timeline.
    pub fn summary(&self) -> String {
        match self {
            Entry::Clock { action } => match action {
                ClockAction::Start => "Exercise clock started".into(),
                ClockAction::Pause => "Exercise clock paused".into(),
                ClockAction::Resume => "Exercise clock resumed".into(),
                ClockAction::End => "Exercise ended".into(),
            },
            Entry::InjectReleased { title, early, .. } => {
                format!(
                    "Inject: {title}{}",
                    if *early { " (released early)" } else { "" }
                )
            }
            Entry::SeatTaken {
                role,
                username,
                handed_over_from,
            } => match handed_over_from {
                Some(from) => format!("{} handed over from {from} to {username}", role.label()),
                None => format!("{username} took up {}", role.label()),
            },
            Entry::DecisionLogged {
                title,
                open_questions,
                ..
            } => format!(
                "Decision: {title} ({} open question{})",
                open_questions.len(),
                if open_questions.len() == 1 { "" } else { "s" }
            ),
            Entry::QuestionAnswered { answer, .. } => format!("Question answered: {answer}"),
            Entry::SeveritySet { level, .. } => format!("Severity set to {level}"),
            Entry::BecameAware { basis } => format!("Became aware: {basis}"),
            Entry::CommsDrafted { audience, .. } => format!("Comms drafted for {audience}"),
            Entry::CommsReviewed {
                changes_requested, ..
            } => {
                if *changes_requested {
                    "Comms reviewed: changes requested".into()
                } else {
                    "Comms reviewed".into()
                }
            }
            Entry::CommsApproved { comms_id, audience } => {
                if audience.is_empty() {
                    format!("Comms {comms_id} approved")
                } else {
                    format!("Comms to {audience} approved")
                }
            }
            Entry::DrillStarted { detail, .. } => format!("Drill started: {detail}"),
            Entry::DrillVerdict {
                scenario,
                run,
                verdict,
                ..
            } => format!("Drill verdict: {scenario} run {run}: {verdict}"),
            Entry::ControlTiming {
                control, outcome, ..
            } => format!("Control {control}: {outcome}"),
            Entry::DrillFinished { summary, .. } => format!("Drill finished: {summary}"),
            Entry::RawEvidenceViewed { what, .. } => format!("Raw evidence viewed: {what}"),
            Entry::CapabilityRated {
                capability, rating, ..
            } => format!("{capability}: {}", rating.label()),
            Entry::FindingRecorded { title, .. } => format!("Finding: {title}"),
            Entry::ActionRecorded { title, owner, .. } => format!("Action: {title} ({owner})"),
            Entry::ActionUpdated { action_id, status } => {
                format!("Action {action_id} now {status:?}")
            }
        }
    }
}

/// Who did it, as recorded with every entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}
