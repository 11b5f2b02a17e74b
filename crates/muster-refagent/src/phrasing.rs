//! Seeded variation of the agent's words, so no expectation can pass by matching one canned
//! sentence. The same seed, customer, turn and message always give the same words.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A source of choices for one reply.
pub struct Phrasing {
    rng: ChaCha8Rng,
}

/// FNV-1a: a stable hash (unlike `DefaultHasher`, it never changes between Rust releases).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl Phrasing {
    pub fn new(seed: u64, customer: &str, turn: u32, message: &str) -> Self {
        let key = fnv1a(&[
            &seed.to_be_bytes(),
            customer.as_bytes(),
            &turn.to_be_bytes(),
            message.as_bytes(),
        ]);
        Self {
            rng: ChaCha8Rng::seed_from_u64(key),
        }
    }

    /// One of the options.
    pub fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        if options.is_empty() {
            return "";
        }
        options[self.rng.random_range(0..options.len())]
    }

    /// One of the options with `{name}` slots filled.
    pub fn fill(&mut self, options: &[&str], slots: &[(&str, &str)]) -> String {
        let mut text = self.pick(options).to_owned();
        for (name, value) in slots {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

/// Money as people write it: £588 or £12.50.
pub fn money(amount: f64) -> String {
    if amount.fract().abs() < 0.005 {
        format!("£{amount:.0}")
    } else {
        format!("£{amount:.2}")
    }
}

/// An ISO date as people read it: 14 September 2026.
pub fn date_words(iso: &str) -> String {
    match iso.parse::<jiff::civil::Date>() {
        Ok(d) => d.strftime("%-d %B %Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_inputs_pick_the_same_words() {
        let options = ["a", "b", "c", "d", "e", "f"];
        let one: Vec<&str> = (0..5)
            .map(|t| Phrasing::new(7, "LM-1", t, "hi").pick(&options))
            .collect();
        let two: Vec<&str> = (0..5)
            .map(|t| Phrasing::new(7, "LM-1", t, "hi").pick(&options))
            .collect();
        assert_eq!(one, two);
        let other: Vec<&str> = (0..5)
            .map(|t| Phrasing::new(8, "LM-1", t, "hi").pick(&options))
            .collect();
        assert_ne!(one, other);
        assert_eq!(money(588.0), "£588");
        assert_eq!(money(12.5), "£12.50");
        assert_eq!(date_words("2026-09-14"), "14 September 2026");
    }
}
