//! File problems as people read them: `file:line:column`, the offending key, the source line with
//! the spot marked, and a hint.

use std::fmt;

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan,
    NamedSource, SourceCode, SourceSpan,
};
use muster_model::diag::{Diagnostic, Severity};
use serde_json::{Value, json};

struct Located<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
}

impl fmt::Debug for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.diag.key_path();
        if key.is_empty() {
            f.write_str(&self.diag.message)
        } else {
            write!(f, "{} (at `{key}`)", self.diag.message)
        }
    }
}

impl std::error::Error for Located<'_> {}

impl MietteDiagnostic for Located<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.diag.span.map(|_| &self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.diag.span?;
        let len = span.byte_len().max(1).min(
            self.source
                .inner()
                .len()
                .saturating_sub(span.start.offset)
                .max(1),
        );
        let label = LabeledSpan::new_primary_with_span(
            Some("here".to_owned()),
            SourceSpan::new(span.start.offset.into(), len),
        );
        Some(Box::new(std::iter::once(label)))
    }
}

/// Render every problem of one file: a `file:line:column` line (for editors and grep), then the
/// source excerpt and hint.
pub fn render_file_diagnostics(
    file: &str,
    text: &str,
    diagnostics: &[Diagnostic],
    color: bool,
    width: usize,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    for diag in diagnostics {
        let location = diag.span.map_or_else(
            || file.to_owned(),
            |s| format!("{file}:{}:{}", s.start.line, s.start.column),
        );
        let level = match diag.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "{location}: {level}[{}]: {}\n",
            diag.code, diag.message
        ));
        let located = Located {
            diag,
            source: NamedSource::new(file, text.to_owned()),
        };
        let mut rendered = String::new();
        if handler.render_report(&mut rendered, &located).is_ok() {
            out.push_str(&rendered);
        }
        out.push('\n');
    }
    out
}

/// Problems as JSON objects, one per problem.
pub fn diagnostics_json(file: &str, diagnostics: &[Diagnostic]) -> Vec<Value> {
    diagnostics
        .iter()
        .map(|d| {
            json!({
                "file": file,
                "line": d.span.map(|s| s.start.line),
                "column": d.span.map(|s| s.start.column),
                "severity": d.severity,
                "code": d.code,
                "key": d.key_path(),
                "message": d.message,
                "hint": d.hint,
            })
        })
        .collect()
}
