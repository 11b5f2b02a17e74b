//! Phone numbers, found by format: UK national (`07700 900123`, `(0161) 496 0123`, `020-7946-0958`)
//! and international (`+44 (0)20 7946 0958`, `+353 1 234 5678`). Unallocated and drama ranges
//! count: the shape finds the number; a plausible UK range only raises confidence. A reference cue
//! (order, ref, tracking) before the number lowers confidence below the reporting threshold
//! without dropping the finding.

use super::numeric::{Run, reference_before};
use super::text::{Cues, at_word_end, before_has, digits_end, is_alnum};
use super::{PiiKind, hit};
use crate::finding::Finding;

const CUES: Cues = Cues::new(&[
    "phone", "mobile", "call", "tel", "ring", "text", "contact", "number", "landline", "whatsapp",
]);

fn confidence(bytes: &[u8], start: usize, plausible: bool) -> f32 {
    if reference_before(bytes, start) {
        return 0.35;
    }
    let mut c: f32 = if plausible { 0.9 } else { 0.7 };
    if before_has(bytes, start, 32, &CUES) {
        c += 0.1;
    }
    c.min(1.0)
}

/// A national-format UK number: 10 or 11 digits starting with a single 0.
pub(crate) fn national(bytes: &[u8], run: &Run) -> Option<Finding> {
    let d = run.digits();
    if d.len() >= 2 && d[0] == 0 && d[1] == 0 {
        return international_prefix(bytes, run);
    }
    if !(10..=11).contains(&d.len()) || d[0] != 0 || d[1] == 0 {
        return None;
    }
    if run.shape().any(|g| g < 2) {
        return None;
    }
    let plausible =
        (d.len() == 11 && matches!(d[1], 1 | 2 | 3 | 7 | 8)) || (d.len() == 10 && d[1] == 1);
    Some(hit(
        PiiKind::Phone,
        run.start,
        run.end,
        confidence(bytes, run.start, plausible),
        plausible.then_some("uk-format"),
    ))
}

/// `0044 7700 900123`: the international call prefix written out instead of `+`.
fn international_prefix(bytes: &[u8], run: &Run) -> Option<Finding> {
    let d = run.digits();
    if !(11..=17).contains(&d.len()) || d[2] == 0 || run.shape().next().is_some_and(|g| g < 4) {
        return None;
    }
    Some(hit(
        PiiKind::Phone,
        run.start,
        run.end,
        confidence(bytes, run.start, d[2] == 4 && d[3] == 4),
        Some("e164"),
    ))
}

/// A number starting with `+` (at `i`) or `(0` — groups of digits joined by single spaces or
/// dashes, with an optional `(0)` trunk prefix. Returns the finding, if any, and where scanning
/// resumes.
pub(crate) fn at_symbol(bytes: &[u8], i: usize) -> (Option<Finding>, usize) {
    let intl = bytes[i] == b'+';
    if i > 0 && is_alnum(bytes[i - 1]) {
        return (None, i + 1);
    }
    let mut at = i + 1;
    let mut digits = 0usize;
    let mut first = [0u8; 3];
    let mut end = i + 1;
    let mut closed_paren = intl;
    let mut groups = 0;
    // `(0161) 496 0123` keeps its bracket; `(07700 900123)` is a number in brackets.
    let mut area_code_bracket = false;
    loop {
        if bytes.get(at) == Some(&b'(')
            && intl
            && bytes.get(at + 1) == Some(&b'0')
            && bytes.get(at + 2) == Some(&b')')
        {
            at += 3;
            if bytes.get(at) == Some(&b' ') {
                at += 1;
            }
            continue;
        }
        if !bytes.get(at).is_some_and(u8::is_ascii_digit) {
            break;
        }
        let e = digits_end(bytes, at);
        for (k, b) in bytes[at..e].iter().enumerate() {
            if digits + k < 3 {
                first[digits + k] = b - b'0';
            }
        }
        digits += e - at;
        end = e;
        at = e;
        groups += 1;
        if !closed_paren && bytes.get(at) == Some(&b')') {
            closed_paren = true;
            area_code_bracket = groups == 1;
            at += 1;
        }
        match bytes.get(at) {
            Some(b' ' | b'-')
                if bytes
                    .get(at + 1)
                    .is_some_and(|b| b.is_ascii_digit() || *b == b'(') =>
            {
                at += 1;
            }
            _ => break,
        }
    }
    if !closed_paren || !at_word_end(bytes, end) {
        return (None, end.max(i + 1));
    }
    let ok = if intl {
        (8..=15).contains(&digits) && first[0] != 0
    } else {
        (10..=11).contains(&digits) && first[0] == 0 && first[1] != 0
    };
    if !ok {
        return (None, end.max(i + 1));
    }
    let plausible = if intl {
        !(first[0] == 4 && first[1] == 4) || (11..=12).contains(&digits)
    } else {
        true
    };
    let start = if intl || area_code_bracket { i } else { i + 1 };
    let f = hit(
        PiiKind::Phone,
        start,
        end,
        confidence(bytes, start, plausible),
        Some(if intl { "e164" } else { "uk-format" }),
    );
    (Some(f), end)
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn uk_and_international_formats() {
        for (text, want) in [
            ("call 07700 900123.", "07700 900123"),
            ("on 07700900123", "07700900123"),
            ("ring (0161) 496 0123 today", "(0161) 496 0123"),
            ("office +44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
            ("tel +44 7700 900123", "+44 7700 900123"),
            ("Dublin +353 1 234 5678", "+353 1 234 5678"),
            ("020-7946-0958", "020-7946-0958"),
            ("call 0044 7700 900123", "0044 7700 900123"),
            ("or (07700 900123)!", "07700 900123"),
        ] {
            assert_eq!(kinds(text), vec![("phone", want.into())], "{text}");
        }
    }

    #[test]
    fn references_are_low_confidence() {
        let mut out = Vec::new();
        crate::pii::find("order number 0123456789", &mut out);
        assert!(out.iter().all(|f| f.confidence < 0.5));
    }
}
