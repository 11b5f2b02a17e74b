//! Word lists as data, matched in one pass: the cheap prefilter in front of the per-sentence
//! patterns of the injection, escalation and commitment detectors.
//!
//! A list is plain text, one entry a line; `#` starts a comment line. `word` matches a whole word
//! (ASCII case-insensitive), `word*` any word that starts with it. Entries may hold spaces.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// A compiled word list.
pub(crate) struct Lexicon {
    matcher: AhoCorasick,
    prefix: Vec<bool>,
    /// Entries with no ASCII letter or digit (`£`, `%`) match anywhere.
    symbol: Vec<bool>,
}

/// One whole-word hit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
}

impl Lexicon {
    /// One list from several texts.
    #[allow(clippy::expect_used)]
    pub(crate) fn new(lists: &[&str]) -> Lexicon {
        let mut words = Vec::new();
        let mut prefix = Vec::new();
        let mut symbol = Vec::new();
        for list in lists {
            for line in list.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (word, is_prefix) = match line.strip_suffix('*') {
                    Some(w) => (w, true),
                    None => (line, false),
                };
                words.push(word.to_owned());
                prefix.push(is_prefix);
                symbol.push(!word.bytes().any(|b| b.is_ascii_alphanumeric()));
            }
        }
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .expect("constant word list compiles");
        Lexicon {
            matcher,
            prefix,
            symbol,
        }
    }

    /// Calls `f` for every whole-word hit in `text`, in order.
    pub(crate) fn for_each(&self, text: &str, mut f: impl FnMut(Hit)) {
        self.until(text, |h| {
            f(h);
            true
        });
    }

    /// Calls `f(start, end)` once for every sentence (as `sentence_around` draws them) holding at
    /// least one whole-word hit. After the first hit in a sentence the search jumps to its end, so
    /// dense text costs one match per sentence rather than one per word.
    pub(crate) fn for_each_sentence(&self, text: &str, mut f: impl FnMut(usize, usize)) {
        let mut pos = 0;
        while pos < text.len() {
            let input = aho_corasick::Input::new(text).span(pos..text.len());
            let Some(m) = self.matcher.find(input) else {
                return;
            };
            if self.is_word(text, m.pattern().as_usize(), m.start(), m.end()) {
                let (s, e) = sentence_around(text, m.start());
                f(s, e);
                // Past the sentence and any white space after it.
                pos = e.max(m.end()).max(pos + 1);
            } else {
                pos = m.start() + 1;
            }
            while pos < text.len() && !text.is_char_boundary(pos) {
                pos += 1;
            }
        }
    }

    fn is_word(&self, text: &str, id: usize, start: usize, end: usize) -> bool {
        if self.symbol[id] {
            return true;
        }
        let bytes = text.as_bytes();
        if start > 0 && is_word_byte(bytes[start - 1]) && is_word_byte(bytes[start]) {
            return false;
        }
        self.prefix[id]
            || end >= bytes.len()
            || !is_word_byte(bytes[end])
            || !is_word_byte(bytes[end - 1])
    }

    /// Whether `text` holds a whole-word hit.
    pub(crate) fn any(&self, text: &str) -> bool {
        let mut found = false;
        self.until(text, |_| {
            found = true;
            false
        });
        found
    }

    /// Calls `f` for every whole-word hit in `text`, in order, until it returns `false`.
    pub(crate) fn until(&self, text: &str, mut f: impl FnMut(Hit) -> bool) {
        let bytes = text.as_bytes();
        for m in self.matcher.find_iter(text) {
            let id = m.pattern().as_usize();
            let (start, mut end) = (m.start(), m.end());
            if self.symbol[id] {
                if !f(Hit { start, end }) {
                    return;
                }
                continue;
            }
            if start > 0 && is_word_byte(bytes[start - 1]) && is_word_byte(bytes[start]) {
                continue;
            }
            if self.prefix[id] {
                while end < bytes.len() && is_word_byte(bytes[end]) {
                    end += 1;
                }
            } else if end < bytes.len()
                && is_word_byte(bytes[end])
                && end > 0
                && is_word_byte(bytes[end - 1])
            {
                continue;
            }
            if !f(Hit { start, end }) {
                return;
            }
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The sentence around byte `at`: from just after the previous boundary to just after the next
/// (`.`, `!`, `?`, `;` or `:` followed by white space, or a line break). Offsets are on character
/// boundaries because every boundary byte is ASCII.
pub(crate) fn sentence_around(text: &str, at: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let mut start = at;
    while start > 0 {
        let b = bytes[start - 1];
        if b == b'\n' {
            break;
        }
        if matches!(b, b'.' | b'!' | b'?' | b';' | b':')
            && start < bytes.len()
            && bytes[start].is_ascii_whitespace()
        {
            break;
        }
        start -= 1;
    }
    let mut end = at;
    while end < bytes.len() {
        let b = bytes[end];
        if b == b'\n' {
            break;
        }
        end += 1;
        if matches!(b, b'.' | b'!' | b'?' | b';' | b':')
            && (end == bytes.len() || bytes[end].is_ascii_whitespace())
        {
            break;
        }
    }
    // Trim white space (ASCII, so boundaries stay on characters).
    while start < end && bytes[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}

/// `text` lower-cased into `buf` with typographic apostrophes and quotes made plain, reusing the
/// buffer's allocation.
pub(crate) fn lower_into(text: &str, buf: &mut String) {
    buf.clear();
    for c in text.chars() {
        match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' => buf.push('\''),
            '\u{201C}' | '\u{201D}' => buf.push('"'),
            c if c.is_ascii() => buf.push(c.to_ascii_lowercase()),
            c => buf.extend(c.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_and_prefixes() {
        let lex = Lexicon::new(&["ignore\ninstruction*\n# comment\nai"]);
        let mut hits = Vec::new();
        lex.for_each(
            "Ignore the INSTRUCTIONS, said the aide; AI wins. ignored",
            |h| hits.push(h),
        );
        assert_eq!(hits.len(), 3, "{hits:?}");
        assert_eq!(hits[1].end - hits[1].start, "INSTRUCTIONS".len());
    }

    #[test]
    fn sentence_bounds() {
        let t = "First one. Second £1.50 here! Third\nFourth";
        let (s, e) = sentence_around(t, t.find("Second").unwrap_or(0) + 2);
        assert_eq!(&t[s..e], "Second £1.50 here!");
        let (s, e) = sentence_around(t, t.len() - 1);
        assert_eq!(&t[s..e], "Fourth");
    }
}
