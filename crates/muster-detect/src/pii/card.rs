//! Payment card numbers: 13–19 digits, compact or in groups of 4 (Amex 4-6-5), Luhn-checked.
//! A card-shaped number that fails Luhn is a lookalike and is not reported.

use super::numeric::{Run, reference_before};
use super::{PiiKind, checksum, hit};
use crate::finding::Finding;

pub(crate) fn check(bytes: &[u8], run: &Run) -> Option<Finding> {
    if !(13..=19).contains(&run.len()) || run.shape().any(|g| g < 3) || run.digits()[0] == 0 {
        return None;
    }
    if !checksum::luhn_valid(run.digits()) {
        return None;
    }
    let issuer = (2..=6).contains(&run.digits()[0]);
    let mut confidence: f32 = if issuer { 0.95 } else { 0.7 };
    if reference_before(bytes, run.start) {
        confidence -= 0.25;
    }
    Some(hit(
        PiiKind::PaymentCard,
        run.start,
        run.end,
        confidence,
        Some("luhn"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn luhn_valid_cards_only() {
        assert_eq!(
            kinds("card 4111 1111 1111 1111 ok"),
            vec![("payment-card", "4111 1111 1111 1111".into())]
        );
        assert_eq!(
            kinds("amex 3782-822463-10005"),
            vec![("payment-card", "3782-822463-10005".into())]
        );
        assert!(kinds("card 4111 1111 1111 1112").is_empty());
    }
}
