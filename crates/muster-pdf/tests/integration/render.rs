//! Documents that read JSON and SVG files render to PDF with the expected text, reproducibly.

use muster_pdf::{InputFile, render};

use crate::{keep, pdf_text, squash};

const DOC: &str = r#"
#set page(paper: "a4")
#set text(size: 11pt)
#let data = json("data.json")

= Drill report for #data.agent

== Scenarios

#table(
  columns: 2,
  table.header([*Scenario*], [*Pass rate*]),
  ..data.scenarios.map(s => (s.name, str(s.pass_rate))).flatten()
)

== Timeline

#image("plots/timeline.svg", width: 100%)
"#;

const DATA: &str = r#"{
  "agent": "refund-assistant",
  "scenarios": [
    { "name": "refund-after-outage", "pass_rate": 0.75 },
    { "name": "cancel-subscription", "pass_rate": 1 }
  ]
}"#;

const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" viewBox="0 0 200 40">
  <rect x="0" y="10" width="150" height="20" fill="#4a7"/>
</svg>"##;

fn files() -> [InputFile<'static>; 2] {
    [
        InputFile {
            path: "data.json",
            bytes: DATA.as_bytes(),
        },
        InputFile {
            path: "plots/timeline.svg",
            bytes: SVG.as_bytes(),
        },
    ]
}

#[test]
fn a_document_reading_json_and_svg_renders_its_headings_and_data() {
    let pdf = render(DOC, &files()).unwrap_or_else(|err| panic!("{err}"));
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    keep("data-and-svg.pdf", &pdf);
    let Some(text) = pdf_text(&pdf) else { return };
    let text = squash(&text);
    for expected in [
        "Drill report for refund-assistant",
        "Scenarios",
        "Timeline",
        "refund-after-outage",
        "0.75",
        "cancel-subscription",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn the_same_input_gives_byte_identical_pdfs() {
    let first = render(DOC, &files()).unwrap_or_else(|err| panic!("{err}"));
    let second = render(DOC, &files()).unwrap_or_else(|err| panic!("{err}"));
    assert!(first == second, "two renders of the same input differ");
    // No timestamp leaks in: PDF dates are written `(D:YYYY...`.
    let pdf = String::from_utf8_lossy(&first);
    assert!(
        !pdf.contains("CreationDate"),
        "the PDF carries a creation date"
    );
    assert!(!pdf.contains("(D:"), "the PDF carries a date");
}

#[test]
fn different_data_gives_a_different_pdf() {
    let first = render(DOC, &files()).unwrap_or_else(|err| panic!("{err}"));
    let other = DATA.replace("0.75", "0.5");
    let mut changed = files();
    changed[0].bytes = other.as_bytes();
    let second = render(DOC, &changed).unwrap_or_else(|err| panic!("{err}"));
    assert!(first != second);
}

#[test]
fn paths_are_normalised_and_files_resolve_relative_to_the_reader() {
    // `./plots/a.svg` given; read as `a.svg` from an included file in `plots/`.
    let part = r#"#image("a.svg", width: 2cm)"#;
    let files = [
        InputFile {
            path: "./plots/a.svg",
            bytes: SVG.as_bytes(),
        },
        InputFile {
            path: "plots/part.typ",
            bytes: part.as_bytes(),
        },
    ];
    let pdf =
        render(r#"Before #include "plots/part.typ""#, &files).unwrap_or_else(|err| panic!("{err}"));
    assert!(pdf.starts_with(b"%PDF-"));
}
