//! UK sort codes (`20-00-00`, or `200000` / `20 00 00` beside a sort-code cue) and 8-digit account
//! numbers (beside an account cue or a sort code).

use super::numeric::{Run, reference_before};
use super::text::{Cues, after_has, at_word_end, before_has, digits_end};
use super::{PiiKind, hit};
use crate::finding::{Finding, FindingKind};

const SORT_CUES: Cues = Cues::new(&["sort code", "sort-code", "sortcode", "sort", "s/c"]);
/// Words before a dashed `dd-mm-yy` that make it a date rather than a sort code.
const DATE_CUES: Cues = Cues::new(&[
    "on",
    "by",
    "until",
    "till",
    "dated",
    "from",
    "since",
    "due",
    "delivered",
    "expires",
    "date",
]);
const ACCOUNT_CUES: Cues = Cues::new(&["account", "acc", "acct", "a/c", "bank"]);

pub(crate) fn sort_code(bytes: &[u8], run: &Run) -> Option<Finding> {
    if run.len() != 6 {
        return None;
    }
    let cued = before_has(bytes, run.start, 32, &SORT_CUES) || account_follows(bytes, run.end);
    let dashed = run.shape_is(&[2, 2, 2]) && run.sep == b'-';
    let shaped = run.shape_is(&[2, 2, 2]) || run.shape_is(&[6]);
    if !shaped || !(cued || dashed) {
        return None;
    }
    if !cued && (reference_before(bytes, run.start) || before_has(bytes, run.start, 16, &DATE_CUES))
    {
        return None;
    }
    // Without a cue, `dd-mm-yy` with a day, a month and a recent year reads as a date.
    let d = run.digits();
    let pair = |k: usize| d[k] * 10 + d[k + 1];
    if !cued
        && (1..=31).contains(&pair(0))
        && (1..=12).contains(&pair(2))
        && (15..=35).contains(&pair(4))
    {
        return None;
    }
    let confidence = if cued { 0.95 } else { 0.7 };
    Some(hit(
        PiiKind::SortCode,
        run.start,
        run.end,
        confidence,
        cued.then_some("context"),
    ))
}

/// Whether an 8-digit number follows after a short joiner (`20-00-00 / 12345678`,
/// `200000, 12345678`): a sort code and account pair written without cues.
fn account_follows(bytes: &[u8], end: usize) -> bool {
    let mut at = end;
    while at < bytes.len() && at - end < 4 && matches!(bytes[at], b' ' | b'/' | b',' | b'|' | b';')
    {
        at += 1;
    }
    at > end && digits_end(bytes, at) - at == 8 && at_word_end(bytes, at + 8)
}

pub(crate) fn account(bytes: &[u8], run: &Run, found: &[Finding]) -> Option<Finding> {
    if run.len() != 8 || !(run.shape_is(&[8]) || run.shape_is(&[4, 4])) {
        return None;
    }
    let cued = before_has(bytes, run.start, 32, &ACCOUNT_CUES);
    let near_sort = found.iter().rev().take(3).any(|f| {
        f.kind == FindingKind::Personal(PiiKind::SortCode)
            && f.end <= run.start
            && run.start - f.end < 40
    }) || after_has(bytes, run.end, 24, &SORT_CUES);
    if !(cued || near_sort) {
        return None;
    }
    if reference_before(bytes, run.start) && !before_has(bytes, run.start, 16, &ACCOUNT_CUES) {
        return None;
    }
    Some(hit(
        PiiKind::AccountNumber,
        run.start,
        run.end,
        0.9,
        Some("context"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn sort_code_and_account() {
        assert_eq!(
            kinds("sort code 20-00-00, account 12345678"),
            vec![
                ("sort-code", "20-00-00".into()),
                ("account-number", "12345678".into())
            ]
        );
        assert_eq!(
            kinds("sort code 200000"),
            vec![("sort-code", "200000".into())]
        );
        assert!(kinds("order 12345678").is_empty());
        assert!(kinds("delivered on 12-09-26").is_empty());
        assert!(kinds("see you 12-09-26").is_empty());
        assert_eq!(
            kinds("use 40-47-84"),
            vec![("sort-code", "40-47-84".into())]
        );
        assert!(kinds("I have 12345678 reasons").is_empty());
    }
}
