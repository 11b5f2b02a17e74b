//! Splitting replies into sentences: commitments and refusals are judged one sentence at a time so
//! that "I can't waive the fee" and "you won't need to pay" are not mixed up across sentences.

use crate::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sentence<'t> {
    pub text: &'t str,
    pub span: Span,
}

/// Sentences of `text`: split after `.`, `!`, `?` or `;` followed by white space, at line breaks
/// and at dashes used as clause breaks. Decimal points (`£1.50`) do not split.
pub fn sentences(text: &str) -> Vec<Sentence<'_>> {
    let mut out = Vec::new();
    each_sentence(text, |s| out.push(s));
    out
}

/// Calls `f` for each of the `sentences` of `text`, in order, without collecting them.
pub(crate) fn each_sentence<'t>(text: &'t str, mut f: impl FnMut(Sentence<'t>)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    // Every boundary character is ASCII or starts with 0xE2 (the dashes), and those bytes never
    // occur inside another character; the bytes between candidates are passed over by a table.
    let mut at = 0;
    while let Some(skip) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| CANDIDATE[usize::from(b)]))
    {
        let offset = at + skip;
        at = offset + 1;
        let b = bytes[offset];
        let end = match b {
            b'.' | b'!' | b'?' | b';' => {
                let next = text.get(offset + 1..).and_then(|t| t.chars().next());
                if next.is_none_or(char::is_whitespace) {
                    offset + 1
                } else {
                    continue;
                }
            }
            b'\n' => offset + 1,
            // '\u{2014}' and '\u{2013}'.
            0xE2 if matches!(bytes.get(offset + 1..offset + 3), Some([0x80, 0x94 | 0x93])) => {
                offset + 3
            }
            _ => continue,
        };
        push(text, start, end, &mut f);
        start = end;
    }
    push(text, start, text.len(), &mut f);
}

/// The bytes a sentence boundary can start with.
static CANDIDATE: [bool; 256] = {
    let mut table = [false; 256];
    table[b'.' as usize] = true;
    table[b'!' as usize] = true;
    table[b'?' as usize] = true;
    table[b';' as usize] = true;
    table[b'\n' as usize] = true;
    table[0xE2] = true;
    table
};

fn push<'t>(text: &'t str, start: usize, end: usize, f: &mut impl FnMut(Sentence<'t>)) {
    let Some(raw) = text.get(start..end) else {
        return;
    };
    let trimmed_start = start + (raw.len() - raw.trim_start().len());
    let trimmed_end = end - (raw.len() - raw.trim_end().len());
    if trimmed_end > trimmed_start
        && let Some(s) = text.get(trimmed_start..trimmed_end)
    {
        f(Sentence {
            text: s,
            span: Span {
                start: trimmed_start,
                end: trimmed_end,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_sentence_ends_not_decimals() {
        let s: Vec<&str> = sentences("It costs £1.50 a day. Is that OK? Yes — fine\nNext")
            .iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(
            s,
            vec![
                "It costs £1.50 a day.",
                "Is that OK?",
                "Yes —",
                "fine",
                "Next"
            ]
        );
    }

    /// `each_sentence` byte by byte, as it was before it skipped to candidate bytes.
    fn reference(text: &str) -> Vec<Span> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut start = 0;
        for (offset, &b) in bytes.iter().enumerate() {
            let end = match b {
                b'.' | b'!' | b'?' | b';' => {
                    let next = text.get(offset + 1..).and_then(|t| t.chars().next());
                    if next.is_none_or(char::is_whitespace) {
                        offset + 1
                    } else {
                        continue;
                    }
                }
                b'\n' => offset + 1,
                0xE2 if matches!(bytes.get(offset + 1..offset + 3), Some([0x80, 0x94 | 0x93])) => {
                    offset + 3
                }
                _ => continue,
            };
            push(text, start, end, &mut |s: Sentence<'_>| {
                out.push(s.span);
            });
            start = end;
        }
        push(text, start, text.len(), &mut |s: Sentence<'_>| {
            out.push(s.span);
        });
        out
    }

    proptest::proptest! {
        #[test]
        fn same_sentences_as_byte_by_byte(text in "(\\PC|[.!?;:\n \u{2014}\u{2013}\u{2012}\u{00A0}\u{3000}]){0,80}") {
            let got: Vec<Span> = sentences(&text).iter().map(|s| s.span).collect();
            proptest::prop_assert_eq!(got, reference(&text));
        }
    }
}
