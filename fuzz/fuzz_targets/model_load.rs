//! The format loaders over arbitrary text: never panic, and every diagnostic's span lies inside the
//! text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1) as u32 + 1;
    let check = |diagnostics: &[muster_model::diag::Diagnostic]| {
        for d in diagnostics {
            if let Some(span) = &d.span {
                assert!(
                    span.start.offset <= text.len() && span.end.offset <= text.len(),
                    "{d:?}"
                );
                assert!(span.start.line <= lines, "{d:?}");
            }
        }
    };
    check(&muster_model::load_agent(text).diagnostics);
    check(&muster_model::load_scenario(text).diagnostics);
    check(&muster_model::load_control_map(text).diagnostics);
    check(&muster_model::load_config(text).diagnostics);
});
