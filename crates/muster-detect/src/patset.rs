//! Pattern sets for the per-sentence patterns of the trigger-word families.
//!
//! A set is built exactly as `regex::bytes::RegexSet` builds one (same engine, same options), but
//! searched with a lazy-DFA cache and a result set kept per thread: `RegexSet::matches` allocates
//! a fresh result set on every call and fetches its cache from a pool, which on one-line chat
//! messages cost about as much as the search itself.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use regex_automata::meta::{self, Cache, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};

/// At most this many patterns in one set, so that what matched fits in a `u128`.
const MAX_PATTERNS: usize = 128;

pub(crate) struct Set {
    regex: Regex,
    /// This set's slot in the per-thread caches (a cache belongs to one regex).
    slot: usize,
}

/// Hands out cache slots: one per set ever built (a handful of statics).
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static CACHES: RefCell<Vec<Option<(Cache, PatternSet)>>> = const { RefCell::new(Vec::new()) };
}

/// Which patterns of a set matched: bit `i` for pattern `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Matched(u128);

impl Matched {
    pub(crate) fn any(self) -> bool {
        self.0 != 0
    }

    /// The indexes of the patterns that matched, ascending (as `SetMatches` iterates).
    pub(crate) fn iter(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(i)
        })
    }
}

impl Set {
    /// Compiles constant patterns, with `RegexSetBuilder`'s settings for a byte-oriented set with
    /// Unicode off and both size limits at 64 MiB (see `regex_set`). Input never reaches here and
    /// the unit tests build every set, so a bad pattern fails the tests rather than a drill.
    #[allow(clippy::expect_used)]
    pub(crate) fn new<S: AsRef<str>>(patterns: &[S]) -> Set {
        assert!(
            patterns.len() <= MAX_PATTERNS,
            "at most {MAX_PATTERNS} patterns in a set"
        );
        let config = meta::Config::new()
            .nfa_size_limit(Some(64 << 20))
            .hybrid_cache_capacity(64 << 20)
            .match_kind(MatchKind::All)
            .utf8_empty(false)
            .which_captures(WhichCaptures::None);
        let regex = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build_many(patterns)
            .expect("constant detector patterns compile");
        Set {
            regex,
            slot: NEXT_SLOT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The patterns that match somewhere in `haystack` (as `RegexSet::matches`).
    pub(crate) fn matches(&self, haystack: &[u8]) -> Matched {
        let input = Input::new(haystack);
        let fast = CACHES.try_with(|caches| {
            let mut caches = caches.try_borrow_mut().ok()?;
            if caches.len() <= self.slot {
                caches.resize_with(self.slot + 1, || None);
            }
            let (cache, set) = caches.get_mut(self.slot)?.get_or_insert_with(|| {
                (
                    self.regex.create_cache(),
                    PatternSet::new(self.regex.pattern_len()),
                )
            });
            self.regex
                .which_overlapping_matches_with(cache, &input, set);
            // Most sentences match nothing; reading or clearing the set means a pass over a flag
            // per pattern.
            if set.is_empty() {
                return Some(Matched(0));
            }
            let matched = bits(set);
            set.clear();
            Some(matched)
        });
        match fast {
            Ok(Some(matched)) => matched,
            // No per-thread state (a thread being torn down): search with the regex's own pool.
            _ => {
                let mut set = PatternSet::new(self.regex.pattern_len());
                self.regex.which_overlapping_matches(&input, &mut set);
                bits(&set)
            }
        }
    }
}

fn bits(set: &PatternSet) -> Matched {
    // Stop after the last pattern that matched instead of reading every pattern's flag.
    Matched(set.iter().take(set.len()).fold(0u128, |acc, id| {
        acc | 1u128 << (id.as_usize() % MAX_PATTERNS)
    }))
}

#[cfg(test)]
mod tests {

    proptest::proptest! {
        /// The same patterns match as in a `RegexSet` built by `regex_set`.
        #[test]
        fn same_matches_as_regex_set(text in "(\\PC|[a-z '.?\n]){0,40}") {
            let patterns = [
                r"\b(i|we)\s+will\b", r"\bfee\w*", r"£\d+", r".", r"^$", r"\?\s*$", r"(?s)a.{0,3}b",
                r"(?i)^(x|y)\b",
            ];
            let set = crate::commitment::regex_set(patterns);
            let want = crate::commitment::reference_regex_set(patterns);
            let got: Vec<usize> = set.matches(text.as_bytes()).iter().collect();
            let want: Vec<usize> = want.matches(text.as_bytes()).iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
