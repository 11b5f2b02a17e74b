//! Byte-level helpers shared by the personal-data detectors: word extents, context windows and
//! case-folded gazetteer look-ups. Everything works on ASCII bytes of UTF-8 text, so any offset it
//! returns that sits next to an ASCII byte is on a character boundary.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

/// FNV-1a: gazetteer keys are short, so a simple hash beats SipHash here.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// What a word is in the gazetteers: any mix of the `lex` flags.
pub(crate) mod lex {
    pub const GIVEN: u8 = 1;
    pub const SURNAME: u8 = 2;
    pub const NOT_NAME: u8 = 4;
    pub const AMBIGUOUS: u8 = 8;
    pub const STREET_SUFFIX: u8 = 16;
}

/// The gazetteer files and the flag each gives its words. One entry a line, `#` starts a comment,
/// lower case (checked by a test).
pub(crate) const LEXICON_SOURCES: [(&str, u8); 5] = [
    (include_str!("../../data/given_names.txt"), lex::GIVEN),
    (include_str!("../../data/surnames.txt"), lex::SURNAME),
    (include_str!("../../data/not_names.txt"), lex::NOT_NAME),
    (
        include_str!("../../data/ambiguous_given_names.txt"),
        lex::AMBIGUOUS,
    ),
    (
        include_str!("../../data/street_suffixes.txt"),
        lex::STREET_SUFFIX,
    ),
];

/// Every gazetteer word with its flags, so a word is looked up once whatever is asked of it.
pub(crate) struct Lexicon(HashMap<&'static [u8], u8, BuildHasherDefault<Fnv>>);

impl Lexicon {
    pub(crate) fn new(sources: &[(&'static str, u8)]) -> Lexicon {
        let mut map: HashMap<&'static [u8], u8, BuildHasherDefault<Fnv>> = HashMap::default();
        for &(data, flag) in sources {
            for word in entries(data) {
                *map.entry(word.as_bytes()).or_default() |= flag;
            }
        }
        Lexicon(map)
    }

    /// The flags of `word`, case-insensitively, without allocating; 0 for an unknown word.
    pub(crate) fn flags(&self, word: &[u8]) -> u8 {
        let mut buf = [0u8; 32];
        if word.is_empty() || word.len() > buf.len() {
            return 0;
        }
        for (slot, b) in buf.iter_mut().zip(word) {
            *slot = b.to_ascii_lowercase();
        }
        self.0.get(&buf[..word.len()]).copied().unwrap_or(0)
    }
}

pub(crate) fn entries(data: &'static str) -> impl Iterator<Item = &'static str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

pub(crate) static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::new(&LEXICON_SOURCES));

/// The gazetteer flags of `word`.
pub(crate) fn flags(word: &[u8]) -> u8 {
    LEXICON.flags(word)
}

pub(crate) fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// The end of the run of ASCII letters and digits starting at `i`.
pub(crate) fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_alnum(bytes[i]) {
        i += 1;
    }
    i
}

/// The end of the run of ASCII digits starting at `i`.
pub(crate) fn digits_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Whether `i` starts a word: at the start, or after a byte that is not an ASCII letter or digit.
pub(crate) fn at_word_start(bytes: &[u8], i: usize) -> bool {
    i == 0 || !is_alnum(bytes[i - 1])
}

/// Whether the byte at `i` (if any) ends a word: not an ASCII letter or digit.
pub(crate) fn at_word_end(bytes: &[u8], i: usize) -> bool {
    i >= bytes.len() || !is_alnum(bytes[i])
}

/// A list of context words, indexed by first letter so that a word start in the text is compared
/// only with the entries that begin with its letter. Built at compile time (`const`). Multi-word
/// cues are written with single spaces.
#[derive(Debug)]
pub(crate) struct Cues {
    words: &'static [&'static str],
    /// Per lower-case ASCII letter: bit `k` set when `words[k]` starts with it. An entry that does
    /// not start with a lower-case letter never matches at a word start, so it is in no set.
    by_letter: [u64; 26],
}

impl Cues {
    pub(crate) const fn new(words: &'static [&'static str]) -> Cues {
        assert!(words.len() <= 64, "at most 64 cues in a list");
        let mut by_letter = [0u64; 26];
        let mut k = 0;
        while k < words.len() {
            let w = words[k].as_bytes();
            if !w.is_empty() && w[0].is_ascii_lowercase() {
                by_letter[(w[0] - b'a') as usize] |= 1 << k;
            }
            k += 1;
        }
        Cues { words, by_letter }
    }
}

/// Whether one of `words` occurs (case-insensitively, starting a word) in the `window` bytes before
/// `start`.
pub(crate) fn before_has(bytes: &[u8], start: usize, window: usize, words: &Cues) -> bool {
    let from = start.saturating_sub(window);
    contains_any_word(&bytes[from..start], words)
}

/// Whether one of `words` occurs in the `window` bytes after `end`.
pub(crate) fn after_has(bytes: &[u8], end: usize, window: usize, words: &Cues) -> bool {
    let to = (end + window).min(bytes.len());
    contains_any_word(&bytes[end..to], words)
}

/// Whether one of `words` occurs in `hay` as whole words (case-insensitive). Visits each word start
/// once and compares only the cues that begin with its letter.
fn contains_any_word(hay: &[u8], words: &Cues) -> bool {
    let mut at = 0;
    while let Some(&c) = hay.get(at) {
        if !c.is_ascii_alphabetic() {
            at += 1;
            continue;
        }
        // A word start (the previous byte, if any, is not a letter): compare the cues that begin
        // with its letter, then pass over the rest of the word, where no cue can start.
        let mut candidates = words
            .by_letter
            .get(usize::from(c.to_ascii_lowercase() - b'a'))
            .copied()
            .unwrap_or(0);
        while candidates != 0 {
            let k = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let Some(w) = words.words.get(k) else { break };
            let w = w.as_bytes();
            if hay.len() - at >= w.len()
                && hay[at..at + w.len()].eq_ignore_ascii_case(w)
                && hay
                    .get(at + w.len())
                    .is_none_or(|b| !b.is_ascii_alphabetic())
            {
                return true;
            }
        }
        at += 1;
        while hay.get(at).is_some_and(u8::is_ascii_alphabetic) {
            at += 1;
        }
    }
    false
}

/// Cues before a number that say it is a reference, not personal data.
pub(crate) const REFERENCE_CUES: Cues = Cues::new(&[
    "order",
    "ref",
    "reference",
    "tracking",
    "invoice",
    "voucher",
    "booking",
    "ticket",
    "case",
    "parcel",
    "consignment",
    "receipt",
    "transaction",
    "confirmation",
    "claim",
    "policy",
    "serial",
    "item",
    "sku",
    "no.",
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_words_start_words() {
        let t = b"your order number is ";
        assert!(before_has(t, t.len(), 30, &Cues::new(&["order"])));
        assert!(!before_has(b"border ", 7, 30, &Cues::new(&["order"])));
        assert!(!before_has(b"orders ", 7, 30, &Cues::new(&["order"])));
        assert!(after_has(b"123 is my NHS", 3, 20, &Cues::new(&["nhs"])));
    }

    #[test]
    fn lexicon_is_case_insensitive_and_merges_flags() {
        let l = Lexicon::new(&[
            ("hannah\n# comment\nprice\n", lex::GIVEN),
            ("price\n", lex::SURNAME),
        ]);
        assert_eq!(l.flags(b"Hannah"), lex::GIVEN);
        assert_eq!(l.flags(b"PRICE"), lex::GIVEN | lex::SURNAME);
        assert_eq!(l.flags(b"Han"), 0);
    }

    #[test]
    fn gazetteer_data_is_lower_case() {
        for (data, _) in LEXICON_SOURCES {
            for w in entries(data) {
                assert!(!w.bytes().any(|b| b.is_ascii_uppercase()), "{w}");
            }
        }
    }

    /// `contains_any_word` position by position, as it was before it passed over word interiors.
    fn reference(hay: &[u8], words: &[&str]) -> bool {
        (0..hay.len()).any(|at| {
            hay[at].is_ascii_alphabetic()
                && !(at > 0 && hay[at - 1].is_ascii_alphabetic())
                && words.iter().any(|w| {
                    let w = w.as_bytes();
                    hay.len() - at >= w.len()
                        && hay[at..at + w.len()].eq_ignore_ascii_case(w)
                        && hay
                            .get(at + w.len())
                            .is_none_or(|b| !b.is_ascii_alphabetic())
                })
        })
    }

    proptest::proptest! {
        #[test]
        fn context_words_as_position_by_position(
            hay in "(order|ref|no\\.|Order|ORDERS|border|[a-z]{1,3}|[ .,0-9£é-]){0,12}",
        ) {
            for words in [&REFERENCE_CUES, &Cues::new(&["no.", "ref"]), &Cues::new(&["order"])] {
                proptest::prop_assert_eq!(
                    contains_any_word(hay.as_bytes(), words),
                    reference(hay.as_bytes(), words.words),
                    "{:?}", hay
                );
            }
        }
    }
}
