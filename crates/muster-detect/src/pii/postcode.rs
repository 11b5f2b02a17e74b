//! UK postcodes: outward code (A9, A99, A9A, AA9, AA99, AA9A) and inward code (9AA), spaced or
//! compact, upper or lower case but not mixed.

use super::text::{Cues, at_word_end, before_has, word_end};
use super::{PiiKind, hit};
use crate::finding::Finding;

fn outward_ok(w: &[u8]) -> bool {
    let l = |c: u8| c.is_ascii_alphabetic();
    let d = |c: u8| c.is_ascii_digit();
    let first = |c: u8| l(c) && !matches!(c.to_ascii_uppercase(), b'Q' | b'V' | b'X');
    let second = |c: u8| l(c) && !matches!(c.to_ascii_uppercase(), b'I' | b'J' | b'Z');
    match *w {
        [a, b] => first(a) && d(b),
        [a, b, c] => first(a) && ((d(b) && (d(c) || l(c))) || (second(b) && d(c))),
        [a, b, c, e] => first(a) && second(b) && d(c) && (d(e) || l(e)),
        _ => false,
    }
}

fn inward_ok(w: &[u8]) -> bool {
    let ok = |c: u8| {
        c.is_ascii_alphabetic()
            && !matches!(
                c.to_ascii_uppercase(),
                b'C' | b'I' | b'K' | b'M' | b'O' | b'V'
            )
    };
    matches!(*w, [a, b, c] if a.is_ascii_digit() && ok(b) && ok(c))
}

fn one_case(w: &[u8]) -> Option<bool> {
    let mut upper = None;
    for &c in w.iter().filter(|c| c.is_ascii_alphabetic()) {
        match upper {
            None => upper = Some(c.is_ascii_uppercase()),
            Some(u) if u != c.is_ascii_uppercase() => return None,
            _ => {}
        }
    }
    upper
}

/// A postcode at `i` (a word start), if any.
pub(crate) fn at(bytes: &[u8], i: usize) -> Option<Finding> {
    let e = word_end(bytes, i);
    let w = &bytes[i..e];
    let end = if (5..=7).contains(&w.len()) {
        let (o, n) = w.split_at(w.len() - 3);
        (outward_ok(o) && inward_ok(n)).then_some(e)?
    } else if (2..=4).contains(&w.len()) && bytes.get(e) == Some(&b' ') {
        let e2 = word_end(bytes, e + 1);
        (outward_ok(w) && inward_ok(&bytes[e + 1..e2]) && at_word_end(bytes, e2)).then_some(e2)?
    } else {
        return None;
    };
    one_case(&bytes[i..end])?;
    let cued = before_has(
        bytes,
        i,
        48,
        &const {
            Cues::new(&[
                "postcode",
                "post code",
                "address",
                "deliver",
                "live",
                "road",
                "street",
                "lane",
            ])
        },
    );
    Some(hit(
        PiiKind::UkPostcode,
        i,
        end,
        if cued { 0.95 } else { 0.85 },
        Some("format"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn formats() {
        for pc in [
            "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "LS61AB", "sw1a 1aa",
        ] {
            let text = format!("postcode {pc}.");
            assert_eq!(kinds(&text), vec![("uk-postcode", pc.into())], "{pc}");
        }
        assert!(kinds("the M25 4th exit").is_empty());
        assert!(kinds("QA1 1AA").is_empty());
    }
}
