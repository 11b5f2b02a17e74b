//! Compiled scenario and manifest patterns, shared across a drill's conversations.
//!
//! Every conversation of a drill judges with the same few patterns (the manifest's identifier
//! patterns, each `must_say`/`must_not_say`, adaptive `matches`). Compiling them again for every
//! conversation cost a quarter of the engine's CPU time at N = 1,000 (a Unicode `\d{6}` is a large
//! automaton), so each pattern is compiled once per process. Only compiled patterns are kept —
//! never a reply or a verdict — so every conversation is still sent and judged afresh.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::{Regex, RegexBuilder};

/// Distinct patterns kept at most; past it the cache starts again (a long-lived process that
/// loads ever new scenarios must not grow without bound).
const MAX_PATTERNS: usize = 512;

type Key = (String, bool);

static COMPILED: LazyLock<Mutex<HashMap<Key, Regex>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// `pattern` compiled (case-insensitively if asked), from the cache when it was compiled before.
/// A `Regex` clone shares the compiled automaton; each thread searches with its own scratch space.
pub(crate) fn compiled(pattern: &str, case_insensitive: bool) -> Result<Regex, regex::Error> {
    let key = (pattern.to_owned(), case_insensitive);
    if let Ok(cache) = COMPILED.lock()
        && let Some(re) = cache.get(&key)
    {
        return Ok(re.clone());
    }
    // Compiled outside the lock: two conversations may both compile a new pattern once, which is
    // cheaper than making every other conversation wait behind a compilation.
    let re = RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .build()?;
    if let Ok(mut cache) = COMPILED.lock() {
        if cache.len() >= MAX_PATTERNS {
            cache.clear();
        }
        cache.insert(key, re.clone());
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::compiled;

    #[test]
    fn compiles_once_and_keeps_the_case_flag_apart() {
        let sensitive = compiled("Return Window", false).ok();
        let insensitive = compiled("Return Window", true).ok();
        assert!(
            sensitive
                .as_ref()
                .is_some_and(|r| !r.is_match("return window"))
        );
        assert!(
            insensitive
                .as_ref()
                .is_some_and(|r| r.is_match("return window"))
        );
        // A second look-up gives the same behaviour.
        assert!(compiled("Return Window", false).is_ok_and(|r| !r.is_match("return window")));
    }

    #[test]
    fn a_bad_pattern_is_an_error_every_time() {
        assert!(compiled("(unclosed", false).is_err());
        assert!(compiled("(unclosed", false).is_err());
    }
}
