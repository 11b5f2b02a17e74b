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
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((offset, ch)) = chars.next() {
        let boundary = match ch {
            '.' | '!' | '?' | ';' => chars.peek().is_none_or(|&(_, c)| c.is_whitespace()),
            '\n' | '\u{2014}' | '\u{2013}' => true,
            _ => false,
        };
        if boundary {
            let end = offset + ch.len_utf8();
            push(text, start, end, &mut out);
            start = end;
        }
    }
    push(text, start, text.len(), &mut out);
    out
}

fn push<'t>(text: &'t str, start: usize, end: usize, out: &mut Vec<Sentence<'t>>) {
    let Some(raw) = text.get(start..end) else {
        return;
    };
    let trimmed_start = start + (raw.len() - raw.trim_start().len());
    let trimmed_end = end - (raw.len() - raw.trim_end().len());
    if trimmed_end > trimmed_start
        && let Some(s) = text.get(trimmed_start..trimmed_end)
    {
        out.push(Sentence {
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
}
