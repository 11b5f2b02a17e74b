//! NHS numbers: ten digits (3-3-4 or compact) passing the mod-11 check. About one random ten-digit
//! group in eleven passes, so the check alone is not enough: a leading 0 reads as a phone number
//! unless an NHS cue is near, and reference cues (order, ref, tracking) veto it.

use super::numeric::{Run, reference_before};
use super::text::{Cues, before_has};
use super::{PiiKind, checksum, hit};
use crate::finding::Finding;

const CUES: Cues = Cues::new(&["nhs", "health", "patient", "gp", "hospital", "medical"]);

pub(crate) fn check(bytes: &[u8], run: &Run) -> Option<Finding> {
    if run.len() != 10 || !(run.shape_is(&[10]) || run.shape_is(&[3, 3, 4])) {
        return None;
    }
    if !checksum::nhs_valid(run.digits()) {
        return None;
    }
    let cued = before_has(bytes, run.start, 40, &CUES);
    if run.digits()[0] == 0 && !cued {
        return None;
    }
    if reference_before(bytes, run.start) && !cued {
        return None;
    }
    let confidence = if cued { 1.0 } else { 0.8 };
    Some(hit(
        PiiKind::NhsNumber,
        run.start,
        run.end,
        confidence,
        Some("mod-11"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn mod11_and_context() {
        assert_eq!(
            kinds("NHS number 943 476 5919."),
            vec![("nhs-number", "943 476 5919".into())]
        );
        assert!(kinds("NHS number 943 476 5918").is_empty());
        assert!(kinds("order 9434765919").is_empty());
    }
}
