//! Street addresses: a house number (optionally with a letter, `14a`), then one to four name words
//! ending in a street-type word from the gazetteer (`Road`, `Lane`, `Close`…). A postcode shortly
//! after raises confidence.

use super::text::{at_word_end, digits_end, flags, lex};
use super::{PiiKind, hit, postcode};
use crate::finding::Finding;

const STOP: &[&[u8]] = &[
    b"a", b"an", b"and", b"or", b"of", b"to", b"in", b"on", b"at", b"for", b"by", b"with", b"from",
    b"is", b"are", b"was", b"my", b"your", b"our", b"their", b"it", b"this", b"that", b"but",
    b"so", b"i", b"we", b"you", b"items", b"days", b"weeks", b"hours", b"minutes", b"months",
    b"years", b"pounds", b"times", b"per", b"more", b"less", b"have", b"has", b"had", b"not",
    b"no",
];

pub(crate) fn is_suffix(word: &[u8]) -> bool {
    flags(word) & lex::STREET_SUFFIX != 0
}

/// The end of a street-name word at `s` (letters with inner `'` or `-`).
fn word(bytes: &[u8], s: usize) -> Option<usize> {
    if !bytes.get(s).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut e = s + 1;
    loop {
        while e < bytes.len() && bytes[e].is_ascii_alphabetic() {
            e += 1;
        }
        if matches!(bytes.get(e), Some(b'\'' | b'-'))
            && bytes.get(e + 1).is_some_and(u8::is_ascii_alphabetic)
        {
            e += 1;
            continue;
        }
        break;
    }
    at_word_end(bytes, e).then_some(e)
}

/// A street address whose house number starts at `i`.
pub(crate) fn street(bytes: &[u8], i: usize) -> Option<Finding> {
    let d = digits_end(bytes, i);
    if d == i || d - i > 4 {
        return None;
    }
    let mut at = d;
    if bytes
        .get(at)
        .is_some_and(|c| matches!(c.to_ascii_lowercase(), b'a'..=b'h'))
        && at_word_end(bytes, at + 1)
    {
        at += 1;
    }
    if !at_word_end(bytes, at) {
        return None;
    }
    if bytes.get(at) == Some(&b',') {
        at += 1;
    }
    if bytes.get(at) != Some(&b' ') {
        return None;
    }
    at += 1;
    let mut best = None;
    let mut capitalised = true;
    for n in 0..5 {
        let Some(e) = word(bytes, at) else { break };
        let w = &bytes[at..e];
        // Compared case-insensitively in place: lower-casing the word into a new buffer cost an
        // allocation per word after every house-number-like number.
        if STOP.iter().any(|s| s.eq_ignore_ascii_case(w))
            || (n > 0 && w.eq_ignore_ascii_case(b"the"))
        {
            break;
        }
        capitalised &= w[0].is_ascii_uppercase();
        if n > 0 && is_suffix(w) {
            best = Some((e, capitalised));
        }
        if bytes.get(e) != Some(&b' ') {
            break;
        }
        at = e + 1;
    }
    let (end, capitalised) = best?;
    let mut confidence: f32 = if capitalised { 0.85 } else { 0.7 };
    if postcode_follows(bytes, end) {
        confidence += 0.1;
    }
    Some(hit(
        PiiKind::StreetAddress,
        i,
        end,
        confidence,
        Some("gazetteer"),
    ))
}

fn postcode_follows(bytes: &[u8], end: usize) -> bool {
    let to = (end + 40).min(bytes.len());
    (end..to).any(|k| {
        k > 0
            && !bytes[k - 1].is_ascii_alphanumeric()
            && bytes[k].is_ascii_alphabetic()
            && postcode::at(bytes, k).is_some()
    })
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn streets() {
        assert_eq!(
            kinds("I live at 14 Acacia Avenue, Leeds"),
            vec![("street-address", "14 Acacia Avenue".into())]
        );
        assert_eq!(
            kinds("to 27b st john's road please"),
            vec![("street-address", "27b st john's road".into())]
        );
        assert!(kinds("it takes 3 working days on the way").is_empty());
    }
}
