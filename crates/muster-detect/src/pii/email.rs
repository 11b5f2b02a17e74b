//! E-mail addresses, found from the `@` outwards.

use super::{PiiKind, hit};
use crate::finding::Finding;

fn local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// The address around the `@` at `at`, if there is one; returns the finding.
pub(crate) fn at_sign(bytes: &[u8], at: usize) -> Option<Finding> {
    let mut start = at;
    while start > 0 && local(bytes[start - 1]) {
        start -= 1;
    }
    while start < at && matches!(bytes[start], b'.' | b'-' | b'\'') {
        start += 1;
    }
    if start == at {
        return None;
    }
    let mut end = at + 1;
    let mut last_label = (end, end);
    let mut labels = 0;
    loop {
        let s = end;
        while end < bytes.len() && domain(bytes[end]) {
            end += 1;
        }
        if end == s {
            break;
        }
        labels += 1;
        last_label = (s, end);
        if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(|b| domain(*b)) {
            end += 1;
        } else {
            break;
        }
    }
    let tld = &bytes[last_label.0..last_label.1];
    if labels < 2 || tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    Some(hit(
        PiiKind::Email,
        start,
        last_label.1,
        0.95,
        Some("format"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn addresses() {
        assert_eq!(
            kinds("mail Jo.Bloggs+x@mail.example.co.uk."),
            vec![("email", "Jo.Bloggs+x@mail.example.co.uk".into())]
        );
        assert!(kinds("meet @ 5 or a@b").is_empty());
    }
}
