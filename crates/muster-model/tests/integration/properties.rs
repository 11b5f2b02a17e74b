//! Properties of the parsers: whatever the input, loading returns (never panics), and every
//! location it reports lies inside the text.

use proptest::prelude::*;

fn check_spans(text: &str, diags: &[muster_model::diag::Diagnostic]) -> Result<(), TestCaseError> {
    for d in diags {
        if let Some(span) = d.span {
            prop_assert!(span.start.offset <= text.len(), "{d}");
            prop_assert!(text.is_char_boundary(span.start.offset), "{d}");
            prop_assert!(span.start.line >= 1 && span.start.column >= 1, "{d}");
        }
    }
    Ok(())
}

const SCENARIO: &str = include_str!("../../../../library/scenarios/return-note-injection.yaml");
const AGENT: &str = include_str!("../../../../library/reference/agent.yaml");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check_spans(&text, &muster_model::load_scenario(&text).diagnostics)?;
        check_spans(&text, &muster_model::load_agent(&text).diagnostics)?;
        check_spans(&text, &muster_model::load_config(&text).diagnostics)?;
    }

    #[test]
    fn yaml_shaped_text_never_panics(text in "([a-z_]{1,8}: ?(\\[|\\{|\"|'|-|&a |\\*a|[0-9]{1,3}|[a-z ]{0,10})?\n {0,4}){0,30}") {
        check_spans(&text, &muster_model::load_scenario(&text).diagnostics)?;
    }

    #[test]
    fn cutting_a_real_file_anywhere_never_panics(cut in 0usize..4000, agent in any::<bool>()) {
        let source = if agent { AGENT } else { SCENARIO };
        let mut end = cut.min(source.len());
        while !source.is_char_boundary(end) {
            end -= 1;
        }
        let text = &source[..end];
        let diags = if agent { muster_model::load_agent(text).diagnostics } else { muster_model::load_scenario(text).diagnostics };
        check_spans(text, &diags)?;
    }

    #[test]
    fn replacing_a_byte_never_panics(at in 0usize..3000, byte in proptest::sample::select(vec![b':', b'-', b' ', b'\n', b'"', b'[', b'{', b'#', b'x', b'&', b'*'])) {
        let mut bytes = SCENARIO.as_bytes().to_vec();
        let at = at.min(bytes.len().saturating_sub(1));
        bytes[at] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            check_spans(&text, &muster_model::load_scenario(&text).diagnostics)?;
        }
    }
}
