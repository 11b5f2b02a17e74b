//! IBANs: country code, two check digits and a BBAN of the country's length, compact or in groups
//! of four, mod-97-checked. An IBAN-shaped string that fails the check is consumed and not
//! reported, so its digit groups are not read as a card or phone.

use super::text::at_word_end;
use super::{PiiKind, checksum, hit};
use crate::finding::Finding;

const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"GB", 22),
    (b"IE", 22),
    (b"DE", 22),
    (b"FR", 27),
    (b"ES", 24),
    (b"IT", 27),
    (b"NL", 18),
    (b"BE", 16),
    (b"PT", 25),
    (b"CH", 21),
    (b"AT", 20),
    (b"PL", 28),
    (b"SE", 24),
    (b"DK", 18),
    (b"NO", 15),
    (b"FI", 18),
    (b"LU", 20),
    (b"GR", 27),
    (b"CZ", 24),
    (b"HU", 28),
    (b"RO", 24),
    (b"BG", 22),
    (b"HR", 21),
    (b"SI", 19),
    (b"SK", 24),
    (b"LT", 20),
    (b"LV", 21),
    (b"EE", 20),
    (b"MT", 31),
    (b"CY", 28),
    (b"IS", 26),
    (b"GI", 23),
    (b"LI", 21),
    (b"MC", 27),
    (b"SM", 27),
    (b"AD", 24),
    (b"TR", 26),
    (b"AE", 23),
    (b"SA", 24),
    (b"IL", 23),
];

/// Outcome of reading an IBAN shape at a word start.
pub(crate) enum Read {
    NotIban,
    /// Shaped like an IBAN; the finding when the check digits hold, and where it ends.
    Shaped(Option<Finding>, usize),
}

pub(crate) fn at(bytes: &[u8], i: usize) -> Read {
    let Some(head) = bytes.get(i..i + 4) else {
        return Read::NotIban;
    };
    let country = [head[0].to_ascii_uppercase(), head[1].to_ascii_uppercase()];
    if !head[..2].iter().all(u8::is_ascii_alphabetic) || !head[2..].iter().all(u8::is_ascii_digit) {
        return Read::NotIban;
    }
    let Some(&(_, want)) = LENGTHS.iter().find(|(c, _)| **c == country) else {
        return Read::NotIban;
    };
    let mut buf = [0u8; 34];
    let mut n = 0;
    let mut at = i;
    let mut end = i;
    while n < want {
        let s = at;
        while at < bytes.len() && bytes[at].is_ascii_alphanumeric() && n < want {
            buf[n] = bytes[at].to_ascii_uppercase();
            n += 1;
            at += 1;
        }
        if at == s {
            break;
        }
        end = at;
        let grouped = at - s == 4;
        if n < want && grouped && bytes.get(at) == Some(&b' ') {
            at += 1;
        } else {
            break;
        }
    }
    if n != want || !at_word_end(bytes, end) {
        return Read::NotIban;
    }
    let finding =
        checksum::iban_valid(&buf[..n]).then(|| hit(PiiKind::Iban, i, end, 1.0, Some("mod-97")));
    Read::Shaped(finding, end)
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn grouped_and_compact() {
        assert_eq!(
            kinds("IBAN GB82 WEST 1234 5698 7654 32."),
            vec![("iban", "GB82 WEST 1234 5698 7654 32".into())]
        );
        assert_eq!(
            kinds("iban GB82WEST12345698765432"),
            vec![("iban", "GB82WEST12345698765432".into())]
        );
        assert!(kinds("IBAN GB83 WEST 1234 5698 7654 32").is_empty());
    }
}
