//! Identifiers that point at a person: email addresses and phone numbers (UK formats and E.164).
//! Phone numbers are found by format alone — drama-range numbers such as 07700 900123 included — so
//! a leaked test number is never missed. A view of the personal-data pass (`pii::find`).

use crate::Span;
use crate::finding::FindingKind;
use crate::pii::PiiKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentifierKind {
    Email,
    Phone,
}

impl IdentifierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identifier {
    pub kind: IdentifierKind,
    pub span: Span,
}

/// Emails and phone numbers in `text`, in order: the personal-data pass's findings of those two
/// types, reference-cued phone-shaped numbers included.
pub fn identifiers(text: &str) -> Vec<Identifier> {
    let mut found = Vec::new();
    crate::pii::find(text, &mut found);
    found
        .into_iter()
        .filter_map(|f| {
            let kind = match f.kind {
                FindingKind::Personal(PiiKind::Email) => IdentifierKind::Email,
                FindingKind::Personal(PiiKind::Phone) => IdentifierKind::Phone,
                _ => return None,
            };
            Some(Identifier {
                kind,
                span: Span {
                    start: f.start,
                    end: f.end,
                },
            })
        })
        .collect()
}

/// A form for comparing identifiers: lower case, without spaces, dashes or brackets, and UK
/// numbers in national form (`+44 7700 900123` and `07700900123` compare equal).
pub fn normalise_identifier(text: &str) -> String {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    match compact.strip_prefix("+44") {
        Some(rest) => format!("0{}", rest.trim_start_matches('0')),
        None => compact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_emails_and_uk_phones() {
        let text =
            "Reach Hannah on 07700 900123 or hannah.price@example.com; office +44 20 7946 0958.";
        let found: Vec<(&str, &str)> = identifiers(text)
            .iter()
            .map(|i| (i.kind.as_str(), i.span.slice(text)))
            .collect();
        assert_eq!(
            found,
            vec![
                ("phone", "07700 900123"),
                ("email", "hannah.price@example.com"),
                ("phone", "+44 20 7946 0958")
            ]
        );
    }

    #[test]
    fn order_numbers_and_amounts_are_not_phones() {
        assert!(identifiers("Order ORD-20417 for £749.00 on 12/09/2026").is_empty());
    }

    #[test]
    fn normalised_forms_compare() {
        assert_eq!(
            normalise_identifier("+44 7700 900123"),
            normalise_identifier("07700-900123")
        );
        assert_eq!(
            normalise_identifier("A.B@Example.com"),
            normalise_identifier("ab@example.com")
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_spans_are_char_boundaries(text in "\\PC{0,200}") {
            for found in identifiers(&text) {
                prop_assert!(text.is_char_boundary(found.span.start) && text.is_char_boundary(found.span.end));
            }
            for c in crate::commitments(&text) {
                prop_assert!(text.is_char_boundary(c.span.start) && text.is_char_boundary(c.span.end));
            }
            let _ = crate::refusals(&text);
        }
    }
}
