//! One entry point over every detector family, and masking of what they find.

use crate::finding::{Family, Finding};
use crate::prepared::Prepared;

/// Which families to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Families {
    pub personal: bool,
    pub injection: bool,
    pub commitment: bool,
    pub escalation: bool,
}

impl Families {
    pub const ALL: Families = Families {
        personal: true,
        injection: true,
        commitment: true,
        escalation: true,
    };

    pub const NONE: Families = Families {
        personal: false,
        injection: false,
        commitment: false,
        escalation: false,
    };

    pub fn only(family: Family) -> Families {
        Families::NONE.with(family)
    }

    pub fn with(mut self, family: Family) -> Families {
        match family {
            Family::Personal => self.personal = true,
            Family::Injection => self.injection = true,
            Family::Commitment => self.commitment = true,
            Family::Escalation => self.escalation = true,
        }
        self
    }
}

/// Every finding of the chosen families in `text`, ordered by start offset (longest first on ties).
pub fn scan(text: &str, families: Families) -> Vec<Finding> {
    let mut out = Vec::new();
    if families.personal {
        crate::pii::find(text, &mut out);
    }
    if families.injection || families.commitment || families.escalation {
        // One word-list pass and one lower-casing of the text, shared by the three families.
        let prepared = Prepared::new(text);
        if families.injection {
            crate::injection::find_in(&prepared, &mut out);
        }
        if families.commitment {
            crate::commitment::find_in(&prepared, &mut out);
        }
        if families.escalation {
            crate::escalation::find_in(&prepared, &mut out);
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    out
}

/// `text` with its personal data masked (`[email]`, `[phone]`…): the scan and the redaction
/// in one call, for text about to be shown or sent.
pub fn redact_personal(text: &str) -> String {
    let findings = scan(text, Families::only(Family::Personal));
    if findings.is_empty() {
        text.to_owned()
    } else {
        redact(text, &findings)
    }
}

/// Every string in a JSON value with its personal data masked, in place: content, attributes,
/// messages and tool arguments alike, since personal data is not only in the text fields.
pub fn redact_personal_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let masked = redact_personal(s);
            if masked != *s {
                *s = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_personal_json),
        Value::Object(map) => map.values_mut().for_each(redact_personal_json),
        _ => {}
    }
}

/// `text` with every personal-data finding replaced by `[type]`, e.g. `[email]`. Overlapping
/// findings are merged so no fragment of either survives.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut spans: Vec<(usize, usize, String)> = findings
        .iter()
        .filter(|f| f.kind.family() == Family::Personal)
        .filter(|f| text.is_char_boundary(f.start) && text.is_char_boundary(f.end))
        .map(|f| (f.start, f.end, f.kind.name()))
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut pending: Option<(usize, usize, String)> = None;
    for span in spans {
        match &mut pending {
            Some(open) if span.0 < open.1 => open.1 = open.1.max(span.1),
            _ => {
                if let Some((start, end, name)) = pending.take() {
                    out.push_str(text.get(at..start).unwrap_or(""));
                    out.push_str(&format!("[{name}]"));
                    at = end;
                }
                pending = Some(span);
            }
        }
    }
    if let Some((start, end, name)) = pending {
        out.push_str(text.get(at..start).unwrap_or(""));
        out.push_str(&format!("[{name}]"));
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// The personal-data types present in `text`, sorted and without repeats: the tag evidence events
/// carry so a store can be searched and redacted by type.
pub fn personal_data_types(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    crate::pii::find(text, &mut found);
    let mut types: Vec<&'static str> = found
        .iter()
        .filter_map(|f| match f.kind {
            crate::finding::FindingKind::Personal(kind) => Some(kind.as_str()),
            _ => None,
        })
        .collect();
    types.sort_unstable();
    types.dedup();
    types
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_personal_masks_personal_data_and_leaves_the_rest() {
        assert_eq!(
            redact_personal("Email jo.bloggs@example.com about the refund"),
            "Email [email] about the refund"
        );
        assert_eq!(
            redact_personal("no personal data here"),
            "no personal data here"
        );
    }
}
