//! UK National Insurance numbers: two prefix letters (D F I Q U V never; O never second; BG GB KN
//! NK NT TN ZZ never), six digits, suffix A–D; compact or spaced (`AB 12 34 56 C`), either case.
//! There is no checksum: the prefix rules are the validator.

use super::text::{Cues, at_word_end, before_has};
use super::{PiiKind, hit};
use crate::finding::Finding;

pub(crate) fn prefix_allowed(a: u8, b: u8) -> bool {
    let a = a.to_ascii_uppercase();
    let b = b.to_ascii_uppercase();
    let bad = |c: u8| matches!(c, b'D' | b'F' | b'I' | b'Q' | b'U' | b'V');
    let pair = [a, b];
    !bad(a)
        && !bad(b)
        && b != b'O'
        && !matches!(&pair, b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ")
}

pub(crate) enum Read {
    NotNino,
    /// NINO-shaped; the finding when the prefix is allowed, and where it ends.
    Shaped(Option<Finding>, usize),
}

pub(crate) fn at(bytes: &[u8], i: usize) -> Read {
    let letter = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_alphabetic);
    let digit = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_digit);
    if !(letter(i) && letter(i + 1)) {
        return Read::NotNino;
    }
    let upper = bytes[i].is_ascii_uppercase();
    let mut at = i + 2;
    let spaced = bytes.get(at) == Some(&b' ');
    for _ in 0..3 {
        if spaced {
            if bytes.get(at) != Some(&b' ') {
                return Read::NotNino;
            }
            at += 1;
        }
        if !(digit(at) && digit(at + 1)) {
            return Read::NotNino;
        }
        at += 2;
    }
    if bytes.get(at) == Some(&b' ') && letter(at + 1) {
        at += 1;
    }
    let Some(&suffix) = bytes.get(at) else {
        return Read::NotNino;
    };
    if !matches!(suffix.to_ascii_uppercase(), b'A'..=b'D')
        || suffix.is_ascii_uppercase() != upper
        || !at_word_end(bytes, at + 1)
    {
        return Read::NotNino;
    }
    let end = at + 1;
    if !prefix_allowed(bytes[i], bytes[i + 1]) {
        return Read::Shaped(None, end);
    }
    let cued = before_has(
        bytes,
        i,
        40,
        &const {
            Cues::new(&[
                "national insurance",
                "ni number",
                "nino",
                "ni no",
                "insurance",
            ])
        },
    );
    let f = hit(
        PiiKind::UkNino,
        i,
        end,
        if cued { 1.0 } else { 0.9 },
        Some("nino-prefix"),
    );
    Read::Shaped(Some(f), end)
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn prefixes_and_forms() {
        assert_eq!(
            kinds("NI AB123456C."),
            vec![("uk-nino", "AB123456C".into())]
        );
        assert_eq!(
            kinds("NI: ab 12 34 56 c"),
            vec![("uk-nino", "ab 12 34 56 c".into())]
        );
        assert!(kinds("NI BG123456C").is_empty());
        assert!(kinds("NI QQ123456C").is_empty());
        assert!(kinds("NI AO123456C").is_empty());
    }
}
