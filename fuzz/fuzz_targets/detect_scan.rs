//! Every detector over arbitrary text: never panics, every span lies on character boundaries
//! inside the text, and redaction leaves no byte of a personal-data finding behind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_detect::{Families, Family, redact, scan};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let findings = scan(text, Families::ALL);
    for f in &findings {
        assert!(
            f.start <= f.end && f.end <= text.len(),
            "span out of range: {f:?}"
        );
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "span off a char boundary: {f:?}"
        );
        assert!(
            (0.0..=1.0).contains(&f.confidence),
            "confidence out of range: {f:?}"
        );
    }
    let masked = redact(text, &findings);
    for f in findings
        .iter()
        .filter(|f| f.kind.family() == Family::Personal)
    {
        let value = f.text(text);
        if value.len() >= 6 && !masked.contains(&format!("[{}]", f.kind.name())) {
            panic!("redaction lost the mask for {f:?}");
        }
    }
});
