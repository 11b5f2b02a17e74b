//! The evidence pack template, rendered from a sample pack written by muster-pack.

use std::path::Path;

use muster_pdf::{InputFile, PACK_TEMPLATE, PdfError, render};

use crate::{keep, pdf_text, render_dir, squash};

const FILES: [&str; 4] = [
    "pack.json",
    "plots/pass-rates.svg",
    "plots/timeline.svg",
    "plots/controls.svg",
];

/// The level-1 headings, in order (`muster_pack::SECTIONS`).
const SECTIONS: [&str; 14] = [
    "Executive summary",
    "Scenarios",
    "Affected journeys",
    "Severity",
    "Timeline",
    "Decision log",
    "Systems reviewed and evidence-chain audit",
    "Findings by failure mode",
    "Control checks",
    "Control gaps",
    "Remediation actions",
    "Owners and participants",
    "Method and reproducibility",
    "Integrity",
];

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(path)).unwrap()
}

/// Renders the template with the sample's plots and `pack` as `pack.json`.
fn render_pack(pack: &serde_json::Value) -> Result<Vec<u8>, PdfError> {
    let json = serde_json::to_vec(pack).unwrap();
    let plots: Vec<(&str, Vec<u8>)> = FILES[1..].iter().map(|p| (*p, read(p))).collect();
    let mut files = vec![InputFile {
        path: "pack.json",
        bytes: &json,
    }];
    files.extend(plots.iter().map(|(path, bytes)| InputFile { path, bytes }));
    render(PACK_TEMPLATE, &files)
}

fn sample() -> serde_json::Value {
    serde_json::from_slice(&read("pack.json")).unwrap()
}

/// Where each heading's numbered line starts in the text, in order.
fn heading_positions(text: &str) -> Vec<usize> {
    SECTIONS
        .iter()
        .enumerate()
        .map(|(i, heading)| {
            let numbered = format!("{} {heading}", i + 1);
            // The first hit is the table of contents; the last is the section itself.
            text.rfind(&numbered)
                .unwrap_or_else(|| panic!("heading {numbered:?} missing from:\n{text}"))
        })
        .collect()
}

#[test]
fn the_sample_pack_renders_every_section_in_order_with_its_verdict() {
    let pdf = render_dir(PACK_TEMPLATE, data_dir(), &FILES);
    assert!(pdf.starts_with(b"%PDF-"));
    keep("pack.pdf", &pdf);
    let Some(text) = pdf_text(&pdf) else { return };
    let text = squash(&text);
    let positions = heading_positions(&text);
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "sections out of order: {positions:?}"
    );

    let pack = sample();
    let verdict = pack["summary"]["verdict"].as_str().unwrap().to_uppercase();
    let summary = &text[positions[0]..positions[1]];
    assert!(
        summary.contains(&format!("Verdict: {verdict}")),
        "{summary}"
    );
    let headline = pack["summary"]["headline"].as_str().unwrap();
    assert!(summary.contains(headline), "{summary}");
    // The title block names the agent and the drill.
    let title = &text[..positions[0]];
    for field in ["agent", "drill_id"] {
        let value = pack["subject"][field].as_str().unwrap();
        assert!(
            title.contains(value),
            "{value:?} missing from the title block"
        );
    }
    // Long identifiers are printed whole (copyable), not cut.
    let fingerprint = pack["integrity"]["signer_fingerprint"].as_str().unwrap();
    assert!(text[positions[13]..].contains(fingerprint));
    assert!(!text.contains("Warning: raw content included"));
}

#[test]
fn empty_sections_say_none_recorded_and_raw_packs_carry_the_warning() {
    let mut pack = sample();
    for list in [
        "scenarios",
        "journeys",
        "decisions",
        "findings",
        "controls",
        "gaps",
        "remediation",
        "people",
    ] {
        pack[list] = serde_json::json!([]);
    }
    pack["summary"]["readiness"] = serde_json::json!([]);
    pack["summary"]["top_risks"] = serde_json::json!([]);
    pack["timeline"]["rows"] = serde_json::json!([]);
    pack["systems"]["systems"] = serde_json::json!([]);
    pack["subject"]["model"] = serde_json::Value::Null;
    pack["method"]["model"] = serde_json::Value::Null;
    pack["redaction"]["raw_included"] = serde_json::json!(true);
    pack["redaction"]["warning"] =
        serde_json::json!("This pack includes raw content: personal data is not masked.");

    let pdf = render_pack(&pack).unwrap_or_else(|err| panic!("{err}"));
    keep("pack-empty.pdf", &pdf);
    let Some(text) = pdf_text(&pdf) else { return };
    let text = squash(&text);
    let positions = heading_positions(&text);
    let title = &text[..positions[0]];
    assert!(title.contains("Warning: raw content included"), "{title}");
    assert!(title.contains("personal data is not masked"), "{title}");
    // Every emptied list-only section says so instead of standing empty.
    for section in [1, 2, 5, 7, 8, 9, 10, 11] {
        let end = positions.get(section + 1).copied().unwrap_or(text.len());
        let body = &text[positions[section]..end];
        assert!(
            body.contains("None recorded."),
            "section {:?} has no \"None recorded.\": {body}",
            SECTIONS[section]
        );
    }
}

/// Typst checks a branch only when it runs: fill every optional field the sample leaves empty,
/// and empty the ones it fills, so every branch of the template is taken at least once.
#[test]
fn the_other_side_of_every_optional_field_renders() {
    use serde_json::{Value, json};
    let mut pack = sample();
    pack["subject"]["exercise"] =
        json!({ "id": "ex-7", "title": "Q4 tabletop", "objectives": ["Practise the kill switch"] });
    pack["subject"]["finished_at"] = Value::Null;
    pack["subject"]["description"] = Value::Null;
    pack["subject"]["model"]["version"] = Value::Null;
    pack["summary"]["verdict"] = json!("inconclusive");
    pack["summary"]["before_launch"] = json!([]);
    pack["severity"]["definition"] = json!([]);
    pack["severity"]["changes"] = json!([
        { "level": "high", "rationale": "customers affected", "at": "2026-11-27T14:20:00Z", "by": null },
        { "level": "critical", "rationale": "data disclosed", "at": "not a time", "by": "incident lead" }
    ]);
    pack["timeline"]["truncated"] = json!(true);
    let audit = &mut pack["systems"]["audit"];
    audit["intact"] = json!(false);
    audit["problems"] = json!(["stream conv/x/1: event 4 does not chain to event 3"]);
    audit["root_digest"] = Value::Null;
    audit["lock_root_digest"] = json!("00ff");
    audit["exercise_log"] =
        json!({ "entries": 12, "head": null, "intact": false, "problems": ["entry 5 altered"] });
    pack["systems"]["systems"][0]["first"] = Value::Null;
    for sc in pack["scenarios"].as_array_mut().unwrap() {
        for field in ["ticket", "persona", "pass_rate", "interval", "reason"] {
            sc[field] = Value::Null;
        }
        for field in [
            "vectors",
            "journeys",
            "expectations",
            "taxonomy",
            "controls",
        ] {
            sc[field] = json!([]);
        }
        sc["text_status"] = json!("changed");
    }
    for d in pack["decisions"].as_array_mut().unwrap() {
        d["by"] = json!("incident lead");
        d["rationale"] = json!("");
        d["known"] = json!([]);
        d["not_known"] = json!(["whether the switch works"]);
    }
    pack["findings"][0]["findings"] = json!([]);
    for f in pack["findings"][1]["findings"].as_array_mut().unwrap() {
        for field in ["why", "excerpt", "evidence"] {
            f[field] = Value::Null;
        }
        f["frameworks"] = json!([]);
    }
    for c in pack["controls"].as_array_mut().unwrap() {
        c["claimed"] = Value::Null;
        c["measured_ms"] = json!(65.4);
        c["evidence"] = Value::Null;
    }
    pack["gaps"][0]["frameworks"] = json!([]);
    pack["gaps"][1]["frameworks"] = json!([{ "key": "muster@1:x", "name": null }]);
    for a in pack["remediation"].as_array_mut().unwrap() {
        a["top"] = json!(false);
    }
    let method = &mut pack["method"];
    for field in [
        "finished_at",
        "wall_ms",
        "concurrency",
        "rewordings",
        "model",
    ] {
        method[field] = Value::Null;
    }
    method["scenarios"] = json!([]);
    method["policy"] = json!([]);
    pack["integrity"]["root_digest"] = Value::Null;

    let pdf = render_pack(&pack).unwrap_or_else(|err| panic!("{err}"));
    keep("pack-other-side.pdf", &pdf);
    let Some(text) = pdf_text(&pdf) else { return };
    let text = squash(&text);
    heading_positions(&text);
    for expected in [
        "Verdict: INCONCLUSIVE",
        "Q4 tabletop",
        "Severity calls in the exercise",
        "NOT intact",
        "records a different root",
        "entry 5 altered",
        "Nothing: every scenario and control passed.",
        "No failure of this kind.",
        "text is changed since the drill",
        "65 ms",
        "never sealed",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn a_pack_of_another_format_is_refused_by_name() {
    let mut pack = sample();
    pack["format"] = serde_json::json!("muster-pack/2");
    let err = render_pack(&pack).err().map(|err| err.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|err| err.contains("muster-pack/2")),
        "{err:?}"
    );
}

#[test]
fn the_pack_renders_reproducibly() {
    let pack = sample();
    let first = render_pack(&pack).unwrap_or_else(|err| panic!("{err}"));
    let second = render_pack(&pack).unwrap_or_else(|err| panic!("{err}"));
    assert!(first == second);
}
