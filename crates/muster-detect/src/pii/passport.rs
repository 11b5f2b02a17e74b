//! UK passport numbers: nine digits beside a passport cue, or two letters and seven digits.

use super::numeric::Run;
use super::text::{Cues, at_word_end, before_has};
use super::{PiiKind, hit};
use crate::finding::Finding;

const CUES: Cues = Cues::new(&["passport"]);

pub(crate) fn digits(bytes: &[u8], run: &Run) -> Option<Finding> {
    if run.len() != 9 || !run.shape_is(&[9]) || !before_has(bytes, run.start, 40, &CUES) {
        return None;
    }
    Some(hit(
        PiiKind::UkPassport,
        run.start,
        run.end,
        0.9,
        Some("context"),
    ))
}

/// `AB1234567` at `i`.
pub(crate) fn letters(bytes: &[u8], i: usize) -> Option<Finding> {
    let w = bytes.get(i..i + 9)?;
    let shaped = w[..2].iter().all(u8::is_ascii_uppercase) && w[2..].iter().all(u8::is_ascii_digit);
    if !shaped || !at_word_end(bytes, i + 9) {
        return None;
    }
    let cued = before_has(bytes, i, 40, &CUES);
    let confidence = if cued { 0.95 } else { 0.6 };
    Some(hit(
        PiiKind::UkPassport,
        i,
        i + 9,
        confidence,
        cued.then_some("context"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn passport_forms() {
        assert_eq!(
            kinds("passport 123456789"),
            vec![("uk-passport", "123456789".into())]
        );
        assert_eq!(
            kinds("passport no AB1234567."),
            vec![("uk-passport", "AB1234567".into())]
        );
        assert!(kinds("I paid 123456789").is_empty());
    }
}
