//! Dates of birth: a date (`14/03/1985`, `14-03-1985`, `1985-03-14`, `3 May 1990`, `3rd of May
//! 1990`, `May 3, 1990`) with a birth cue shortly before it. Other dates are not personal data.

use super::text::{Cues, after_has, at_word_end, before_has, digits_end, is_alnum};
use super::{PiiKind, hit};
use crate::finding::Finding;

const BIRTH_CUES: Cues = Cues::new(&[
    "born", "birth", "dob", "d.o.b", "birthday", "b'day", "d o b",
]);

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A birth cue shortly before the date, or right after it (`14/03/1985 is my date of birth`).
pub(crate) fn birth_context(bytes: &[u8], start: usize, end: usize) -> bool {
    before_has(bytes, start, 36, &BIRTH_CUES) || after_has(bytes, end, 24, &BIRTH_CUES)
}

pub(crate) fn finding(start: usize, end: usize) -> Finding {
    hit(PiiKind::DateOfBirth, start, end, 0.9, Some("context"))
}

pub(crate) struct NumericDate {
    pub end: usize,
    pub short_year: bool,
}

fn num(bytes: &[u8], at: usize) -> (u32, usize) {
    let e = digits_end(bytes, at);
    let v = bytes[at..e.min(at + 6)]
        .iter()
        .fold(0u32, |a, b| a * 10 + u32::from(b - b'0'));
    (v, e - at)
}

/// `d/m/y`, `d-m-y`, `d.m.y` (day first, 2- or 4-digit year) or `yyyy-mm-dd`, at `i`.
pub(crate) fn numeric(bytes: &[u8], i: usize) -> Option<NumericDate> {
    let (a, la) = num(bytes, i);
    let sep = *bytes.get(i + la)?;
    if !matches!(sep, b'/' | b'-' | b'.') || !bytes.get(i + la + 1)?.is_ascii_digit() {
        return None;
    }
    let j = i + la + 1;
    let (b, lb) = num(bytes, j);
    if bytes.get(j + lb) != Some(&sep) || !bytes.get(j + lb + 1)?.is_ascii_digit() {
        return None;
    }
    let k = j + lb + 1;
    let (c, lc) = num(bytes, k);
    let end = k + lc;
    if !at_word_end(bytes, end)
        || (bytes.get(end) == Some(&sep) && bytes.get(end + 1).is_some_and(u8::is_ascii_digit))
    {
        return None;
    }
    let ok = if la == 4 {
        lb <= 2 && lc <= 2 && (1..=12).contains(&b) && (1..=31).contains(&c)
    } else {
        la <= 2 && lb <= 2 && (lc == 2 || lc == 4) && (1..=31).contains(&a) && (1..=12).contains(&b)
    };
    ok.then_some(NumericDate {
        end,
        short_year: la != 4 && lc == 2,
    })
}

/// A month name (full or three-letter, any case) at `at`; returns its end.
fn month(bytes: &[u8], at: usize) -> Option<usize> {
    let mut e = at;
    while e < bytes.len() && bytes[e].is_ascii_alphabetic() {
        e += 1;
    }
    let w = &bytes[at..e];
    let hit = MONTHS.iter().any(|m| {
        w.eq_ignore_ascii_case(m.as_bytes())
            || (w.len() == 3 && m.as_bytes()[..3].eq_ignore_ascii_case(w))
            || (w.len() == 4 && w.eq_ignore_ascii_case(b"sept"))
    });
    if !hit {
        return None;
    }
    Some(if bytes.get(e) == Some(&b'.') {
        e + 1
    } else {
        e
    })
}

fn day(bytes: &[u8], at: usize) -> Option<usize> {
    let (d, l) = num(bytes, at);
    if l == 0 || l > 2 || !(1..=31).contains(&d) {
        return None;
    }
    let mut e = at + l;
    if let Some(s) = bytes.get(e..e + 2)
        && [b"st", b"nd", b"rd", b"th"]
            .iter()
            .any(|x| s.eq_ignore_ascii_case(*x))
    {
        e += 2;
    }
    at_word_end(bytes, e).then_some(e)
}

fn year(bytes: &[u8], at: usize) -> Option<usize> {
    let (y, l) = num(bytes, at);
    (l == 4 && (1900..=2099).contains(&y) && at_word_end(bytes, at + l)).then_some(at + l)
}

fn spaces(bytes: &[u8], mut at: usize) -> usize {
    let mut n = 0;
    while n < 2 && matches!(bytes.get(at), Some(b' ' | b',')) {
        at += 1;
        n += 1;
    }
    at
}

/// `3 May 1990`, `3rd of May 1990`, `03 May, 1990` at `i`.
pub(crate) fn named_day_first(bytes: &[u8], i: usize) -> Option<usize> {
    let e = day(bytes, i)?;
    if bytes.get(e) != Some(&b' ') {
        return None;
    }
    let mut m = e + 1;
    if bytes
        .get(m..m + 3)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"of "))
    {
        m += 3;
    }
    let me = month(bytes, m)?;
    let y = spaces(bytes, me);
    if y == me {
        return None;
    }
    year(bytes, y)
}

/// `May 3, 1990` / `May 3rd 1990` at `i` (a word start).
pub(crate) fn named_month_first(bytes: &[u8], i: usize) -> Option<usize> {
    let me = month(bytes, i)?;
    if bytes.get(me) != Some(&b' ')
        || bytes
            .get(me + 1)
            .is_some_and(|b| is_alnum(*b) && !b.is_ascii_digit())
    {
        return None;
    }
    let de = day(bytes, me + 1)?;
    let y = spaces(bytes, de);
    if y == de {
        return None;
    }
    year(bytes, y)
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn birth_dates_need_a_cue() {
        for (text, want) in [
            ("DOB: 14/03/1985", "14/03/1985"),
            ("date of birth 1985-03-14", "1985-03-14"),
            ("I was born on 3rd of May 1990.", "3rd of May 1990"),
            ("born May 3, 1990", "May 3, 1990"),
            ("d.o.b 14.03.85", "14.03.85"),
            ("14/03/1985 is my date of birth", "14/03/1985"),
        ] {
            assert_eq!(kinds(text), vec![("date-of-birth", want.into())], "{text}");
        }
        assert!(kinds("delivered on 12/09/2026").is_empty());
        assert!(kinds("arriving 3 May 2026").is_empty());
    }
}
