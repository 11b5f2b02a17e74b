//! UK (DVLA) driving licence numbers: 16 characters — five of surname (padded with 9), the
//! decade digit, month (plus 50 for women), day, year digit, two initials (9 padded), a digit and
//! two check letters.

use super::text::at_word_end;
use super::{PiiKind, hit};
use crate::finding::Finding;

pub(crate) fn at(bytes: &[u8], i: usize) -> Option<Finding> {
    let w = bytes.get(i..i + 16)?;
    if !at_word_end(bytes, i + 16) {
        return None;
    }
    let name = |c: &u8| c.is_ascii_uppercase() || *c == b'9';
    let d = |k: usize| w[k].is_ascii_digit();
    if !w[0].is_ascii_uppercase() || !w[..5].iter().all(name) || !(5..11).all(d) {
        return None;
    }
    if !w[11..13].iter().all(name) || !d(13) || !w[14..16].iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    // Padding 9s only after the letters.
    if let Some(p) = w[..5].iter().position(|c| *c == b'9')
        && !w[p..5].iter().all(|c| *c == b'9')
    {
        return None;
    }
    let v = |k: usize| u32::from(w[k] - b'0');
    let month = v(6) * 10 + v(7);
    let day = v(8) * 10 + v(9);
    if !((1..=12).contains(&month) || (51..=62).contains(&month)) || !(1..=31).contains(&day) {
        return None;
    }
    Some(hit(
        PiiKind::UkDrivingLicence,
        i,
        i + 16,
        0.9,
        Some("dvla-format"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn dvla_structure() {
        assert_eq!(
            kinds("licence MORGA753116SM9IJ ok"),
            vec![("uk-driving-licence", "MORGA753116SM9IJ".into())]
        );
        assert!(kinds("licence MORGA753916SM9IJ").is_empty());
    }
}
