//! IP addresses: IPv4 (four octets of at most 255) and IPv6 (hex groups with colons, full or
//! `::`-compressed; times like `10:30:45` and MAC addresses do not qualify).

use super::text::{Cues, at_word_end, before_has, digits_end};
use super::{PiiKind, hit};
use crate::finding::Finding;

/// The end of a dotted quad starting at `i`.
pub(crate) fn v4(bytes: &[u8], i: usize) -> Option<usize> {
    let mut at = i;
    for k in 0..4 {
        let e = digits_end(bytes, at);
        if e == at || e - at > 3 {
            return None;
        }
        let v: u32 = bytes[at..e]
            .iter()
            .fold(0, |a, b| a * 10 + u32::from(b - b'0'));
        if v > 255 {
            return None;
        }
        at = e;
        if k < 3 {
            if bytes.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
    }
    let trailing_dot_digit =
        bytes.get(at) == Some(&b'.') && bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
    (at_word_end(bytes, at) && !trailing_dot_digit).then_some(at)
}

pub(crate) fn finding(bytes: &[u8], start: usize, end: usize) -> Option<Finding> {
    if before_has(
        bytes,
        start,
        24,
        &const { Cues::new(&["version", "v.", "firmware", "release"]) },
    ) {
        return None;
    }
    let cued = before_has(
        bytes,
        start,
        24,
        &const { Cues::new(&["ip", "address", "server", "host"]) },
    );
    Some(hit(
        PiiKind::IpAddress,
        start,
        end,
        if cued { 0.95 } else { 0.85 },
        Some("octets"),
    ))
}

fn hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// An IPv6 address around the `:` at `colon`: the finding (if any) and where scanning resumes.
pub(crate) fn v6_at_colon(bytes: &[u8], colon: usize) -> (Option<Finding>, usize) {
    let mut start = colon;
    while start > 0 && (hex(bytes[start - 1]) || bytes[start - 1] == b':') {
        start -= 1;
    }
    let mut end = colon;
    while end < bytes.len() && (hex(bytes[end]) || bytes[end] == b':') {
        end += 1;
    }
    let resume = end.max(colon + 1);
    if (start > 0 && bytes[start - 1].is_ascii_alphanumeric())
        || bytes.get(end).is_some_and(u8::is_ascii_alphanumeric)
        || end - start > 39
    {
        return (None, resume);
    }
    // A trailing single colon is punctuation (`address fe80::1:`), not part of the address.
    if bytes[end - 1] == b':' && (end - start < 2 || bytes[end - 2] != b':') {
        end -= 1;
    }
    let token = &bytes[start..end];
    let compressed = token.windows(2).filter(|w| w == b"::").count();
    if compressed > 1 || token.windows(3).any(|w| w == b":::") {
        return (None, resume);
    }
    let groups: Vec<&[u8]> = token
        .split(|b| *b == b':')
        .filter(|g| !g.is_empty())
        .collect();
    let ok_groups = groups.iter().all(|g| g.len() <= 4);
    let colons = token.iter().filter(|b| **b == b':').count();
    let shaped = if compressed == 1 {
        colons >= 2 && groups.len() <= 7 && !groups.is_empty()
    } else {
        groups.len() == 8 && colons == 7
    };
    // A compressed form made only of decimal digits is a time or a score (`10::30`), not an address.
    let has_hex_letter = token.iter().any(u8::is_ascii_alphabetic);
    if !ok_groups || !shaped || (compressed == 1 && !has_hex_letter && groups.len() < 3) {
        return (None, resume);
    }
    let f = hit(PiiKind::IpAddress, start, end, 0.85, Some("ipv6"));
    (Some(f), resume)
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn dotted_quads() {
        assert_eq!(
            kinds("from 192.168.0.12."),
            vec![("ip-address", "192.168.0.12".into())]
        );
        assert!(kinds("from 300.1.1.1").is_empty());
        assert!(kinds("version 1.2.3.4").is_empty());
        assert_eq!(
            kinds("from 2001:db8::8a2e:370:7334."),
            vec![("ip-address", "2001:db8::8a2e:370:7334".into())]
        );
        assert_eq!(kinds("ip fe80::1"), vec![("ip-address", "fe80::1".into())]);
        assert_eq!(
            kinds("2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
            vec![(
                "ip-address",
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334".into()
            )]
        );
        assert!(kinds("at 10:30:45 and mac 00:1A:2B:3C:4D:5E").is_empty());
    }
}
