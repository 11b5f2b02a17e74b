//! Problems found in a file, each with where it is and what to do about it.
//!
//! Library code never prints: it returns [`Diagnostic`]s and the CLI renders them (with the source
//! line) or serialises them as JSON.

use std::fmt;

use crate::span::Span;
use crate::tree::pointer_to_key_path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `unknown-key`.
    pub code: &'static str,
    pub message: String,
    /// JSON pointer of the offending key or value ("" for the whole file).
    pub pointer: String,
    pub span: Option<Span>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            pointer: String::new(),
            span: None,
            hint: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn at_opt(mut self, span: Option<Span>) -> Self {
        if span.is_some() {
            self.span = span;
        }
        self
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = pointer.into();
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The offending key as people write it: `expect[0].must_not_say.pattern`.
    pub fn key_path(&self) -> String {
        pointer_to_key_path(&self.pointer)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(span) = self.span {
            write!(f, "{}: ", span.start)?;
        }
        let key = self.key_path();
        if key.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "`{key}`: {}", self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// The best suggestion among `candidates` for a misspelt `word`, if any is close enough to help.
pub fn nearest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lowered = word.to_ascii_lowercase().replace('-', "_");
    candidates
        .into_iter()
        .map(|c| {
            let normalised = c.to_ascii_lowercase().replace('-', "_");
            (strsim::jaro_winkler(&lowered, &normalised), c)
        })
        .filter(|(score, _)| *score >= 0.78)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_and_ignores_strangers() {
        let keys = ["must_not_say", "must_say", "must_escalate"];
        assert_eq!(nearest("must_not_sya", keys), Some("must_not_say"));
        assert_eq!(nearest("must-escalate", keys), Some("must_escalate"));
        assert_eq!(nearest("banana", keys), None);
    }
}
