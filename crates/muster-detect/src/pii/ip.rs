//! IPv4 addresses (four octets of at most 255).

use super::text::{at_word_end, before_has, digits_end};
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
    if before_has(bytes, start, 24, &["version", "v.", "firmware", "release"]) {
        return None;
    }
    let cued = before_has(bytes, start, 24, &["ip", "address", "server", "host"]);
    Some(hit(
        PiiKind::IpAddress,
        start,
        end,
        if cued { 0.95 } else { 0.85 },
        Some("octets"),
    ))
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
    }
}
