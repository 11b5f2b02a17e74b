//! Check-digit algorithms: Luhn (payment cards), ISO 7064 mod-97 (IBAN) and the NHS mod-11.

/// Luhn: every second digit from the right doubled, the digit sum a multiple of 10.
pub fn luhn_valid(digits: &[u8]) -> bool {
    digits.len() >= 2 && luhn_sum(digits, false).is_multiple_of(10)
}

/// The digit that, appended to `payload`, makes it pass Luhn.
pub fn luhn_check_digit(payload: &[u8]) -> u8 {
    ((10 - luhn_sum(payload, true) % 10) % 10) as u8
}

fn luhn_sum(digits: &[u8], double_last: bool) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if (i % 2 == 1) != double_last {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum()
}

/// The remainder mod 97 of an IBAN-style string (letters A=10..Z=35), after moving the first four
/// characters to the end. `None` for a character that is neither a digit nor an ASCII letter.
pub fn mod97(chars: &[u8]) -> Option<u32> {
    if chars.len() < 5 {
        return None;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            _ => return None,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

/// Whether a compact IBAN (country, check digits, BBAN) passes mod-97.
pub fn iban_valid(compact: &[u8]) -> bool {
    mod97(compact) == Some(1)
}

/// The two check digits for `country` and `bban`, written into an IBAN in place of `00`.
pub fn iban_check_digits(country: &[u8; 2], bban: &[u8]) -> Option<[u8; 2]> {
    let mut buf = Vec::with_capacity(bban.len() + 4);
    buf.extend_from_slice(country);
    buf.extend_from_slice(b"00");
    buf.extend_from_slice(bban);
    let rem = mod97(&buf)?;
    let check = 98 - rem;
    Some([(check / 10) as u8 + b'0', (check % 10) as u8 + b'0'])
}

/// The NHS number check digit for the first nine digits (values 0–9), or `None` when the
/// weighted sum gives 10 (no valid number has that stem).
pub fn nhs_check_digit(stem: &[u8]) -> Option<u8> {
    if stem.len() != 9 {
        return None;
    }
    let sum: u32 = stem
        .iter()
        .zip((2..=10u32).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

/// Whether ten digit values form a valid NHS number.
pub fn nhs_valid(digits: &[u8]) -> bool {
    digits.len() == 10 && nhs_check_digit(&digits[..9]) == Some(digits[9])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vals(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn known_values() {
        assert!(luhn_valid(&vals("4111111111111111")));
        assert!(!luhn_valid(&vals("4111111111111112")));
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(!iban_valid(b"GB83WEST12345698765432"));
        assert!(nhs_valid(&vals("9434765919")));
        assert!(!nhs_valid(&vals("9434765918")));
    }

    proptest! {
        #[test]
        fn luhn_round_trip(payload in proptest::collection::vec(0u8..10, 1..19)) {
            let mut full = payload.clone();
            full.push(luhn_check_digit(&payload));
            prop_assert!(luhn_valid(&full));
            let last = full.len() - 1;
            full[last] = (full[last] + 1) % 10;
            prop_assert!(!luhn_valid(&full));
        }

        #[test]
        fn mod97_round_trip(bban in "[A-Z]{4}[0-9]{14}") {
            let check = iban_check_digits(b"GB", bban.as_bytes()).unwrap_or([b'0', b'0']);
            let iban = format!("GB{}{}{}", check[0] as char, check[1] as char, bban);
            prop_assert!(iban_valid(iban.as_bytes()));
            let wrong = if check[1] == b'9' { b'0' } else { check[1] + 1 };
            let bad = format!("GB{}{}{}", check[0] as char, wrong as char, bban);
            prop_assert!(!iban_valid(bad.as_bytes()));
        }

        #[test]
        fn mod11_round_trip(stem in proptest::collection::vec(0u8..10, 9)) {
            if let Some(check) = nhs_check_digit(&stem) {
                let mut full = stem.clone();
                full.push(check);
                prop_assert!(nhs_valid(&full));
                full[9] = (check + 1) % 10;
                prop_assert!(!nhs_valid(&full));
            }
        }
    }
}
