//! Runs of digit groups (`07700 900123`, `4111-1111-1111-1111`, `20-00-00`) and the dispatch of a
//! number found at a word start to the detectors that read numbers.

use super::text::{REFERENCE_CUES, at_word_end, before_has, digits_end, is_alnum, word_end};
use super::{address, bank, card, date, ip, nhs, passport, phone};
use crate::finding::Finding;

const MAX_DIGITS: usize = 32;
const MAX_GROUPS: usize = 8;

/// Digit groups joined by one kind of single separator.
#[derive(Clone, Copy)]
pub(crate) struct Run {
    pub start: usize,
    pub end: usize,
    vals: [u8; MAX_DIGITS],
    len: usize,
    /// Length and end offset of each group.
    groups: [(u8, usize); MAX_GROUPS],
    ngroups: usize,
    /// The separator between groups, or 0 for a single group.
    pub sep: u8,
}

impl Run {
    /// Parses from the digit at `start`, joining groups with `' '` or `'-'` (one kind per run).
    pub(crate) fn parse(bytes: &[u8], start: usize) -> Run {
        let mut run = Run {
            start,
            end: start,
            vals: [0; MAX_DIGITS],
            len: 0,
            groups: [(0, 0); MAX_GROUPS],
            ngroups: 0,
            sep: 0,
        };
        let mut at = start;
        loop {
            let end = digits_end(bytes, at);
            let glen = end - at;
            if run.len + glen > MAX_DIGITS || run.ngroups == MAX_GROUPS {
                if run.ngroups == 0 {
                    run.end = end;
                    run.len = MAX_DIGITS + 1;
                }
                break;
            }
            for (slot, b) in run.vals[run.len..].iter_mut().zip(&bytes[at..end]) {
                *slot = b - b'0';
            }
            run.len += glen;
            run.groups[run.ngroups] = (glen as u8, end);
            run.ngroups += 1;
            run.end = end;
            let Some(&s) = bytes.get(end) else { break };
            let continues = (s == b' ' || s == b'-')
                && (run.sep == 0 || run.sep == s)
                && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
            if !continues {
                break;
            }
            run.sep = s;
            at = end + 1;
        }
        run
    }

    pub(crate) fn digits(&self) -> &[u8] {
        &self.vals[..self.len.min(MAX_DIGITS)]
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn shape(&self) -> impl Iterator<Item = u8> + '_ {
        self.groups[..self.ngroups].iter().map(|g| g.0)
    }

    pub(crate) fn shape_is(&self, shape: &[u8]) -> bool {
        self.ngroups == shape.len() && self.shape().zip(shape).all(|(a, &b)| a == b)
    }

    pub(crate) fn ngroups(&self) -> usize {
        self.ngroups
    }

    /// The run cut to its first `k` groups.
    fn prefix(&self, k: usize) -> Run {
        let mut r = *self;
        r.ngroups = k;
        r.len = self.groups[..k].iter().map(|g| usize::from(g.0)).sum();
        r.end = self.groups[k - 1].1;
        if k == 1 {
            r.sep = 0;
        }
        r
    }
}

/// Whether a number at `i` is glued to a code or an amount (`ORD-20417`, `#123`, `£749`, `1.5`).
fn glued(bytes: &[u8], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let p = bytes[i - 1];
    if matches!(p, b'-' | b'_' | b'#' | b'/' | b'.' | b'$') && i >= 2 && is_alnum(bytes[i - 2]) {
        return true;
    }
    matches!(p, b'#' | b'$' | b'\xa3' | b'\xac' | b'=')
}

/// Handles the number starting at `i` (a word start); returns where scanning resumes.
pub(crate) fn at(bytes: &[u8], i: usize, out: &mut Vec<Finding>) -> usize {
    if glued(bytes, i) {
        return skip_code(bytes, i);
    }
    let d1 = digits_end(bytes, i);
    let next = bytes.get(d1).copied().unwrap_or(0);
    let after_is_digit = bytes.get(d1 + 1).is_some_and(u8::is_ascii_digit);
    if matches!(next, b'/' | b'.' | b'-') && after_is_digit {
        if let Some(d) = date::numeric(bytes, i) {
            if date::birth_context(bytes, i, d.end) {
                out.push(date::finding(i, d.end));
                return d.end;
            }
            if !(d.short_year && next == b'-') {
                return d.end;
            }
        }
        if next == b'.' {
            if let Some(end) = ip::v4(bytes, i) {
                if let Some(f) = ip::finding(bytes, i, end) {
                    out.push(f);
                }
                return end;
            }
            return skip_code(bytes, i);
        }
        if next == b'/' {
            return skip_code(bytes, i);
        }
    }
    if next == b':' {
        return d1;
    }
    if d1 - i <= 2
        && let Some(end) = date::named_day_first(bytes, i)
    {
        if date::birth_context(bytes, i, end) {
            out.push(date::finding(i, end));
        }
        return end;
    }
    if d1 - i <= 4
        && bytes[i] != b'0'
        && let Some(f) = address::street(bytes, i)
    {
        let end = f.end;
        out.push(f);
        return end;
    }
    let run = Run::parse(bytes, i);
    if run.len() > MAX_DIGITS {
        return run.end;
    }
    if !at_word_end(bytes, run.end) {
        return word_end(bytes, run.end);
    }
    let card_shaped = (13..=19).contains(&run.len()) && run.shape().all(|g| g >= 3);
    if card_shaped {
        if let Some(f) = classify(bytes, &run, out) {
            out.push(f);
        }
        return run.end;
    }
    for k in (1..=run.ngroups()).rev() {
        let r = if k == run.ngroups() {
            run
        } else {
            run.prefix(k)
        };
        if let Some(f) = classify(bytes, &r, out) {
            let end = f.end;
            out.push(f);
            return end;
        }
    }
    run.groups[0].1
}

fn classify(bytes: &[u8], run: &Run, out: &[Finding]) -> Option<Finding> {
    card::check(bytes, run)
        .or_else(|| nhs::check(bytes, run))
        .or_else(|| phone::national(bytes, run))
        .or_else(|| bank::sort_code(bytes, run))
        .or_else(|| bank::account(bytes, run, out))
        .or_else(|| passport::digits(bytes, run))
}

/// Skips a code made of letters, digits and joiners (`2041-7`, `12/09`, `1.5`).
fn skip_code(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (is_alnum(bytes[i]) || matches!(bytes[i], b'.' | b'/' | b'-' | b'_')) {
        if matches!(bytes[i], b'.' | b'/' | b'-' | b'_')
            && !bytes.get(i + 1).is_some_and(|b| is_alnum(*b))
        {
            break;
        }
        i += 1;
    }
    i
}

/// Whether a reference cue (order, ref, tracking…) sits shortly before `start`.
/// The window stops at a clause break (`/ ; | @ ! ?` or a newline), so `orders@shop.example /
/// 07700 900123` keeps its phone.
pub(crate) fn reference_before(bytes: &[u8], start: usize) -> bool {
    let from = start.saturating_sub(28);
    let from = bytes[from..start]
        .iter()
        .rposition(|b| matches!(b, b'/' | b';' | b'|' | b'@' | b'!' | b'?' | b'\n'))
        .map_or(from, |k| from + k + 1);
    before_has(bytes, start, start - from, &REFERENCE_CUES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_one_kind_of_separator() {
        let t = b"07700 900123 and";
        let r = Run::parse(t, 0);
        assert!(r.shape_is(&[5, 6]) && r.end == 12);
        let t = b"12345678 20-00-00";
        let r = Run::parse(t, 0);
        assert!(r.shape_is(&[8, 2]));
    }

    #[test]
    fn reference_window_stops_at_clause_breaks() {
        let t = b"orders@shop.example / 0";
        assert!(!reference_before(t, t.len() - 1));
        let t = b"order no 0";
        assert!(reference_before(t, t.len() - 1));
    }

    #[test]
    fn glued_numbers_are_codes() {
        assert!(glued(b"ORD-2041", 4));
        assert!(glued("£749".as_bytes(), 2));
        assert!(!glued(b"call 0770", 5));
    }
}
