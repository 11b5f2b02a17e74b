//! Pattern sets for the per-sentence patterns of the trigger-word families.
//!
//! Every pattern of a set is compiled followed by "any bytes to the end of the text"
//! (`commitment::regex_set`), so a pattern matches somewhere exactly when it matches at the end.
//! That makes the question "which patterns match" one walk of the set's lazy DFA over the
//! sentence, reading only the state it ends in: no match is reported, and nothing is recorded,
//! along the way. The general overlapping search (`meta::Regex::which_overlapping_matches`) kept
//! its position and progress in memory at every byte and stopped at every match; on chat
//! sentences that cost about three times the walk itself.
//!
//! The DFA is built as `regex::bytes::RegexSet` builds its own (same syntax options, all matches
//! kept), and searched with a cache kept per thread.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};

/// At most this many patterns in one set, so that what matched fits in a `u128`.
const MAX_PATTERNS: usize = 128;

/// Both size limits, as `regex_set` has always set them.
const LIMIT: usize = 64 << 20;

pub(crate) struct Set {
    dfa: DFA,
    /// The patterns, for the general search should the lazy DFA ever give up (see `fallback`).
    patterns: Vec<String>,
    fallback: OnceLock<Regex>,
    /// This set's slot in the per-thread caches (a cache belongs to one DFA).
    slot: usize,
}

/// Hands out cache slots: one per set ever built (a handful of statics).
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static CACHES: RefCell<Vec<Option<Cache>>> = const { RefCell::new(Vec::new()) };
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

fn syntax_config() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

impl Set {
    /// Compiles constant patterns, each of which must end in `(?s-u:.)*\z` (see the module notes),
    /// with `RegexSetBuilder`'s settings for a byte-oriented set with Unicode off and both size
    /// limits at 64 MiB. Input never reaches here and the unit tests build every set, so a bad
    /// pattern fails the tests rather than a drill.
    #[allow(clippy::expect_used)]
    pub(crate) fn new<S: AsRef<str>>(patterns: &[S]) -> Set {
        assert!(
            patterns.len() <= MAX_PATTERNS,
            "at most {MAX_PATTERNS} patterns in a set"
        );
        let patterns: Vec<String> = patterns.iter().map(|p| p.as_ref().to_owned()).collect();
        assert!(
            patterns.iter().all(|p| p.ends_with(r"(?s-u:.)*\z")),
            "every pattern runs to the end of the text"
        );
        // No minimum cache-clear count: the DFA never gives up, whatever the input (a pathological
        // text only makes it clear its cache more often).
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(LIMIT)
                    .minimum_cache_clear_count(None),
            )
            .syntax(syntax_config())
            .thompson(
                thompson::Config::new()
                    .nfa_size_limit(Some(LIMIT))
                    .utf8(false)
                    .which_captures(WhichCaptures::None),
            )
            .build_many(&patterns)
            .expect("constant detector patterns compile");
        Set {
            dfa,
            patterns,
            fallback: OnceLock::new(),
            slot: NEXT_SLOT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The patterns that match somewhere in `haystack` (as `RegexSet::matches`).
    pub(crate) fn matches(&self, haystack: &[u8]) -> Matched {
        let fast = CACHES.try_with(|caches| {
            let mut caches = caches.try_borrow_mut().ok()?;
            if caches.len() <= self.slot {
                caches.resize_with(self.slot + 1, || None);
            }
            let cache = caches
                .get_mut(self.slot)?
                .get_or_insert_with(|| self.dfa.create_cache());
            self.walk(cache, haystack)
        });
        match fast {
            Ok(Some(matched)) => matched,
            // No per-thread state (a thread being torn down), or the DFA gave up: the general
            // search.
            _ => self.fallback(haystack),
        }
    }

    /// The patterns matching at the end of `haystack`, read off the state the DFA ends in; `None`
    /// if the DFA gives up (it is configured never to).
    fn walk(&self, cache: &mut Cache, haystack: &[u8]) -> Option<Matched> {
        let dfa = &self.dfa;
        let mut sid = dfa.start_state_forward(cache, &Input::new(haystack)).ok()?;
        // Every pattern is unanchored and runs to the end, so no state is dead and no match ends
        // before the last byte: the walk never stops early.
        //
        // Most steps go from an untagged state along a transition already computed to another
        // untagged state: one table load. Those run in the inner loop, which only reads the cache
        // (so its table stays in registers); any other step (from or to a tagged state such as
        // start or match, or along a transition not yet computed) is the checked step, which
        // computes it. The states reached are the same as `next_state`'s.
        let mut at = 0;
        while let Some(&b) = haystack.get(at) {
            if !sid.is_tagged() {
                let shared: &Cache = cache;
                let mut next = dfa.next_state_untagged(shared, sid, b);
                while !next.is_tagged() {
                    sid = next;
                    at += 1;
                    let Some(&b) = haystack.get(at) else {
                        break;
                    };
                    next = dfa.next_state_untagged(shared, sid, b);
                }
                let Some(&b) = haystack.get(at) else {
                    break;
                };
                sid = dfa.next_state(cache, sid, b).ok()?;
            } else {
                sid = dfa.next_state(cache, sid, b).ok()?;
            }
            at += 1;
        }
        sid = dfa.next_eoi_state(cache, sid).ok()?;
        if !sid.is_match() {
            return Some(Matched(0));
        }
        let mut bits = 0u128;
        for i in 0..dfa.match_len(cache, sid) {
            let id = dfa.match_pattern(cache, sid, i).as_usize();
            bits |= 1u128 << (id % MAX_PATTERNS);
        }
        Some(Matched(bits))
    }

    fn fallback(&self, haystack: &[u8]) -> Matched {
        let Some(regex) = self.fallback_regex() else {
            return Matched(0);
        };
        let mut set = PatternSet::new(regex.pattern_len());
        regex.which_overlapping_matches(&Input::new(haystack), &mut set);
        Matched(set.iter().fold(0u128, |acc, id| {
            acc | 1u128 << (id.as_usize() % MAX_PATTERNS)
        }))
    }

    /// The same patterns as a general regex set, built on first need. They compiled once already
    /// (as the DFA), so this does not fail.
    fn fallback_regex(&self) -> Option<&Regex> {
        if let Some(regex) = self.fallback.get() {
            return Some(regex);
        }
        let config = meta::Config::new()
            .nfa_size_limit(Some(LIMIT))
            .hybrid_cache_capacity(LIMIT)
            .match_kind(MatchKind::All)
            .utf8_empty(false)
            .which_captures(WhichCaptures::None);
        let regex = meta::Builder::new()
            .configure(config)
            .syntax(syntax_config())
            .build_many(&self.patterns)
            .ok()?;
        Some(self.fallback.get_or_init(|| regex))
    }
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
            let general: Vec<usize> = set.fallback(text.as_bytes()).iter().collect();
            proptest::prop_assert_eq!(&got, &want);
            proptest::prop_assert_eq!(general, want);
        }
    }
}
