//! Personal data, UK first and international, in one pass over the bytes of the text.
//!
//! The pass walks word starts: a digit goes to the number readers (phone, card, NHS, sort code,
//! account, dates of birth, IP, street numbers), a letter word with digits to the code readers
//! (IBAN, NINO, driving licence, passport, postcode), a capitalised word to the name reader, `@` to
//! the e-mail reader and `+`/`(` to the international phone reader. Each type lives in its own
//! module; checksums in `checksum`. Overlapping findings are resolved at the end (an IBAN beats
//! the phone-like digits inside it, an address beats the given name in its street name).
//! Lower-case text without digits is skipped a word at a time, which keeps the pass fast.

mod address;
mod bank;
mod card;
pub mod checksum;
mod date;
mod email;
mod iban;
mod ip;
mod licence;
mod name;
mod nhs;
mod nino;
mod numeric;
mod passport;
mod phone;
mod postcode;
mod stream;
mod text;

pub use stream::Stream;

use crate::finding::{Finding, FindingKind};

/// A type of personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    Email,
    Phone,
    UkNino,
    NhsNumber,
    UkPostcode,
    SortCode,
    AccountNumber,
    Iban,
    PaymentCard,
    DateOfBirth,
    IpAddress,
    UkPassport,
    UkDrivingLicence,
    PersonName,
    StreetAddress,
}

impl PiiKind {
    pub const ALL: [PiiKind; 15] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::UkNino,
        PiiKind::NhsNumber,
        PiiKind::UkPostcode,
        PiiKind::SortCode,
        PiiKind::AccountNumber,
        PiiKind::Iban,
        PiiKind::PaymentCard,
        PiiKind::DateOfBirth,
        PiiKind::IpAddress,
        PiiKind::UkPassport,
        PiiKind::UkDrivingLicence,
        PiiKind::PersonName,
        PiiKind::StreetAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::UkNino => "uk-nino",
            PiiKind::NhsNumber => "nhs-number",
            PiiKind::UkPostcode => "uk-postcode",
            PiiKind::SortCode => "sort-code",
            PiiKind::AccountNumber => "account-number",
            PiiKind::Iban => "iban",
            PiiKind::PaymentCard => "payment-card",
            PiiKind::DateOfBirth => "date-of-birth",
            PiiKind::IpAddress => "ip-address",
            PiiKind::UkPassport => "uk-passport",
            PiiKind::UkDrivingLicence => "uk-driving-licence",
            PiiKind::PersonName => "person-name",
            PiiKind::StreetAddress => "street-address",
        }
    }

    pub fn from_name(name: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Findings below this confidence are reported but treated as unlikely (e.g. a phone-shaped
/// number after "order"); evaluations and redaction policies may filter on it.
pub const LIKELY: f32 = 0.5;

pub(crate) fn hit(
    kind: PiiKind,
    start: usize,
    end: usize,
    confidence: f32,
    validator: Option<&'static str>,
) -> Finding {
    Finding {
        kind: FindingKind::Personal(kind),
        start,
        end,
        confidence: confidence.clamp(0.0, 1.0),
        validator,
    }
}

/// Appends every personal-data finding in `text` to `out`, ordered by start, without overlaps
/// between them.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let base = out.len();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        let next = match b {
            b'a'..=b'z' => {
                let start = i;
                let mut e = i;
                let mut seen = 0;
                while let Some(&c) = bytes.get(e) {
                    let class = CLASS[usize::from(c)];
                    if class == 0 {
                        break;
                    }
                    seen |= class;
                    e += 1;
                }
                let digit = seen & DIGIT != 0;
                let len = e - start;
                if !text::at_word_start(bytes, start) {
                    e
                } else if digit || spaced_pair(bytes, start, e) {
                    let next = coded_word(bytes, start, e, out);
                    if next == e && len <= 3 && name::lower_cue(bytes, start, &bytes[start..e]) {
                        name::lower_after_cue(bytes, e, out)
                    } else {
                        next
                    }
                } else if len <= 3 && name::lower_cue(bytes, start, &bytes[start..e]) {
                    name::lower_after_cue(bytes, e, out)
                } else {
                    e
                }
            }
            b'A'..=b'Z' => {
                let e = text::word_end(bytes, i);
                if text::at_word_start(bytes, i) {
                    upper_word(bytes, i, e, out)
                } else {
                    e
                }
            }
            b'0'..=b'9' => {
                if text::at_word_start(bytes, i) {
                    numeric::at(bytes, i, out)
                } else {
                    text::word_end(bytes, i)
                }
            }
            b'@' => {
                if let Some(f) = email::at_sign(bytes, i) {
                    let end = f.end;
                    out.push(f);
                    end
                } else {
                    i + 1
                }
            }
            b'+' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (f, end) = phone::at_symbol(bytes, i);
                out.extend(f);
                end
            }
            b':' if i > 0 && bytes[i - 1].is_ascii_hexdigit()
                || bytes.get(i + 1) == Some(&b':') =>
            {
                let (f, end) = ip::v6_at_colon(bytes, i);
                out.extend(f);
                end
            }
            b'(' if bytes.get(i + 1) == Some(&b'0') => {
                let (f, end) = phone::at_symbol(bytes, i);
                out.extend(f);
                end
            }
            _ => i + 1,
        };
        i = next.max(i + 1);
    }
    resolve(out, base);
}

/// A word that starts with a capital letter.
fn upper_word(bytes: &[u8], i: usize, e: usize, out: &mut Vec<Finding>) -> usize {
    let digit = bytes[i..e].iter().any(u8::is_ascii_digit);
    if digit || spaced_pair(bytes, i, e) {
        let next = coded_word(bytes, i, e, out);
        if next != e || digit {
            return next;
        }
    }
    let month_like = (3..=9).contains(&(e - i))
        && bytes.get(e) == Some(&b' ')
        && bytes.get(e + 1).is_some_and(u8::is_ascii_digit);
    if month_like && let Some(end) = date::named_month_first(bytes, i) {
        if date::birth_context(bytes, i, end) {
            out.push(date::finding(i, end));
        }
        return end;
    }
    name::at(bytes, i, e, out)
}

/// ASCII letters and digits, for the word scan: `LETTER` or `DIGIT`, 0 for any other byte.
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphabetic() {
            table[b] = LETTER;
        } else if c.is_ascii_digit() {
            table[b] = DIGIT;
        }
        b += 1;
    }
    table
};

/// Whether the letters-only word `bytes[i..e]` may start a coded value: two letters, a space and a
/// digit, as in a spaced NINO (`AB 12 34 56 C`). Every other reader in `coded_word` needs a digit
/// within the first four bytes of the word itself, so for any other letters-only word it finds
/// nothing; most two-letter words ("my", "is", "on") stop here.
fn spaced_pair(bytes: &[u8], i: usize, e: usize) -> bool {
    e - i == 2 && bytes.get(e) == Some(&b' ') && bytes.get(e + 1).is_some_and(u8::is_ascii_digit)
}

/// A word of letters and digits: IBAN, NINO, driving licence, passport or postcode.
fn coded_word(bytes: &[u8], i: usize, e: usize, out: &mut Vec<Finding>) -> usize {
    if let iban::Read::Shaped(f, end) = iban::at(bytes, i) {
        out.extend(f);
        return end;
    }
    if let nino::Read::Shaped(f, end) = nino::at(bytes, i) {
        out.extend(f);
        return end;
    }
    let found = licence::at(bytes, i)
        .or_else(|| passport::letters(bytes, i))
        .or_else(|| postcode::at(bytes, i));
    match found {
        Some(f) => {
            let end = f.end;
            out.push(f);
            end
        }
        None => e,
    }
}

/// Precedence when two findings overlap: checksummed and structured types first.
fn rank(kind: FindingKind) -> u8 {
    match kind {
        FindingKind::Personal(k) => match k {
            PiiKind::Email => 9,
            PiiKind::Iban | PiiKind::PaymentCard => 8,
            PiiKind::UkNino | PiiKind::UkDrivingLicence | PiiKind::NhsNumber => 7,
            PiiKind::UkPassport | PiiKind::IpAddress | PiiKind::DateOfBirth => 6,
            PiiKind::Phone | PiiKind::SortCode | PiiKind::AccountNumber => 5,
            PiiKind::UkPostcode => 4,
            PiiKind::StreetAddress => 3,
            PiiKind::PersonName => 2,
        },
        _ => 0,
    }
}

/// Sorts `out[base..]` and drops the weaker of any two overlapping findings.
fn resolve(out: &mut Vec<Finding>, base: usize) {
    let found = &mut out[base..];
    if found.windows(2).all(|w| w[0].end <= w[1].start) {
        return;
    }
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept = base;
    for k in base..out.len() {
        if kept > base && out[k].start < out[kept - 1].end {
            let (a, b) = (&out[kept - 1], &out[k]);
            let better = (rank(b.kind), b.end - b.start) > (rank(a.kind), a.end - a.start);
            if better {
                out[kept - 1] = out[k].clone();
            }
            continue;
        }
        out.swap(kept, k);
        kept += 1;
    }
    out.truncate(kept);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (type, text) of every finding at or above `LIKELY`.
    pub(crate) fn kinds(text: &str) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.iter()
            .filter(|f| f.confidence >= LIKELY)
            .map(|f| match f.kind {
                FindingKind::Personal(k) => (k.as_str(), f.text(text).to_string()),
                _ => ("other", String::new()),
            })
            .collect()
    }

    #[test]
    fn overlaps_resolve_to_the_stronger_type() {
        assert_eq!(
            kinds("Email Hannah.Price@example.com"),
            vec![("email", "Hannah.Price@example.com".into())]
        );
        assert_eq!(
            kinds("deliver to 3 Victoria Road"),
            vec![("street-address", "3 Victoria Road".into())]
        );
    }

    #[test]
    fn checksummed_digits_inside_other_values_stay_inside() {
        // `113 496 0476` passes mod-11 but is the tail of a Leeds drama-range number.
        assert_eq!(
            kinds("office +44 (0)113 496 0476"),
            vec![("phone", "+44 (0)113 496 0476".into())]
        );
        assert_eq!(
            kinds("IBAN DE89 3704 0044 0532 0130 00 please"),
            vec![("iban", "DE89 3704 0044 0532 0130 00".into())]
        );
    }

    #[test]
    fn lookalikes_are_quiet() {
        let text = "Order ORD-20417 for £749.00 on 12/09/2026 at 14:30, tracking JD0001234567891234, \
                    ref 4829103746, card 4111 1111 1111 1112, IBAN GB83 WEST 1234 5698 7654 32, \
                    NI QQ 12 34 56 C.";
        assert_eq!(kinds(text), vec![]);
    }

    #[test]
    fn leaked_customer_details_in_an_agent_reply_are_caught() {
        let reply = "Sure! I can see Jo Bloggs on the account: mobile 07700 900123, email \
                     jo.bloggs@example.com. Billing note: refund to sort code 40-47-84 account 70872490.";
        let found = kinds(reply);
        for (kind, value) in [
            ("person-name", "Jo Bloggs"),
            ("phone", "07700 900123"),
            ("email", "jo.bloggs@example.com"),
            ("sort-code", "40-47-84"),
            ("account-number", "70872490"),
        ] {
            assert!(
                found.contains(&(kind, value.to_string())),
                "{kind} {value}: {found:?}"
            );
        }
        let redacted = crate::redact(reply, &crate::scan(reply, crate::Families::ALL));
        for leaked in ["07700", "jo.bloggs", "70872490", "40-47-84"] {
            assert!(!redacted.contains(leaked), "{redacted}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_offsets_are_char_boundaries(text in "\\PC{0,300}") {
            let mut out = Vec::new();
            find(&text, &mut out);
            for f in &out {
                prop_assert!(f.start < f.end && f.end <= text.len());
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            }
            for f in crate::scan(&text, crate::Families::ALL) {
                prop_assert!(f.start <= f.end && f.end <= text.len());
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            }
        }

        #[test]
        fn never_panics_on_pii_like_text(text in "[0-9A-Za-z @+().,:/'£-]{0,120}") {
            let mut out = Vec::new();
            find(&text, &mut out);
            for f in &out {
                prop_assert!(f.start < f.end && f.end <= text.len());
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            }
        }
    }
}
