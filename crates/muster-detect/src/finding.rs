//! What every detector returns: a typed span with a confidence and the validator that confirmed it.

use crate::commitment::Topic;
use crate::escalation::CueKind;
use crate::injection::InjectionKind;
use crate::pii::PiiKind;

/// One detection: a byte range of the input, what it is, and how sure the detector is.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    /// Byte offset of the first byte; always on a character boundary.
    pub start: usize,
    /// Byte offset one past the last byte; always on a character boundary.
    pub end: usize,
    /// 0.0 to 1.0. A passing checksum or a confirming context word raises it; a contradicting
    /// context word lowers it.
    pub confidence: f32,
    /// The check that confirmed the finding beyond its shape, e.g. `luhn`, `mod-97`, `mod-11`,
    /// `context`, `gazetteer`.
    pub validator: Option<&'static str>,
}

impl Finding {
    pub fn text<'t>(&self, input: &'t str) -> &'t str {
        input.get(self.start..self.end).unwrap_or("")
    }
}

/// The family and type of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    Personal(PiiKind),
    Injection(InjectionKind),
    Commitment(Topic),
    Escalation(CueKind),
}

impl FindingKind {
    /// The stable name printed by `muster scan` and stored in evidence tags: personal-data types
    /// bare (`email`, `uk-nino`), the others prefixed by family (`injection.role-impersonation`,
    /// `commitment.fee-waiver`, `escalation.bereavement`).
    pub fn name(self) -> String {
        match self {
            FindingKind::Personal(kind) => kind.as_str().to_string(),
            FindingKind::Injection(kind) => format!("injection.{}", kind.as_str()),
            FindingKind::Commitment(topic) => format!("commitment.{}", topic.as_str()),
            FindingKind::Escalation(cue) => format!("escalation.{}", cue.as_str()),
        }
    }

    pub fn family(self) -> Family {
        match self {
            FindingKind::Personal(_) => Family::Personal,
            FindingKind::Injection(_) => Family::Injection,
            FindingKind::Commitment(_) => Family::Commitment,
            FindingKind::Escalation(_) => Family::Escalation,
        }
    }
}

/// The detector families, selectable on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Personal,
    Injection,
    Commitment,
    Escalation,
}

impl Family {
    pub const ALL: [Family; 4] = [
        Family::Personal,
        Family::Injection,
        Family::Commitment,
        Family::Escalation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Personal => "personal",
            Family::Injection => "injection",
            Family::Commitment => "commitment",
            Family::Escalation => "escalation",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == name)
    }
}
