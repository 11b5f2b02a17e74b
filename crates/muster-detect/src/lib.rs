//! Detectors that judge text: personal data, prompt-injection indicators, commitments the agent
//! makes on a topic, escalation cues, and refusals. `scan` runs the chosen families in one call.
//!
//! **Invariants:** no I/O; every span returned is a pair of byte offsets on character boundaries of
//! the input; detectors never panic on any UTF-8 input. Rule sets are data (lexicons and patterns)
//! kept beside the code that applies them.

mod commitment;
pub mod escalation;
mod finding;
mod identifier;
pub mod injection;
mod lexicon;
mod patset;
pub mod pii;
mod prepared;
mod refusal;
mod scan;
mod sentence;

pub use commitment::{Commitment, Topic, commitments};
pub use escalation::{CueKind, Urgency};
pub use finding::{Family, Finding, FindingKind};
pub use identifier::{Identifier, IdentifierKind, identifiers, normalise_identifier};
pub use injection::InjectionKind;
pub use pii::PiiKind;
pub use refusal::{Refusal, refusals};
pub use scan::{
    Families, personal_data_types, redact, redact_personal, redact_personal_json, scan,
};
pub use sentence::{Sentence, sentences};

/// A byte range in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn slice<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or("")
    }
}
