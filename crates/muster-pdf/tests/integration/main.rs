//! muster-pdf end to end: documents that read data and images, determinism, and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod errors;
mod pack;
mod render;

use std::path::Path;
use std::process::Command;

use muster_pdf::{InputFile, render};

/// The text `pdftotext` extracts from `pdf`, or `None` (after saying so) when `pdftotext` is not
/// installed and this is not CI. In CI (`CI=true`) a missing `pdftotext` fails the test.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.pdf");
    std::fs::write(&input, pdf).unwrap();
    let output = match Command::new("pdftotext")
        .arg("-layout")
        .arg(&input)
        .arg("-")
        .output()
    {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "pdftotext is missing (Debian: apt-get install poppler-utils)"
            );
            eprintln!("skipping text checks: pdftotext is not installed (poppler-utils)");
            return None;
        }
        Err(err) => panic!("running pdftotext: {err}"),
    };
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

/// Writes `pdf` to `$MUSTER_PDF_OUT/name` when that variable is set, to look at what a test
/// rendered (`MUSTER_PDF_OUT=/tmp/pdfs cargo test -p muster-pdf`, then `pdftoppm -png`).
pub fn keep(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("MUSTER_PDF_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(name), pdf).unwrap();
    }
}

/// Text with runs of whitespace collapsed to one space, for matching phrases that may wrap.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders `source` with files read from `dir`, by their relative paths.
pub fn render_dir(source: &str, dir: &Path, paths: &[&str]) -> Vec<u8> {
    let contents: Vec<Vec<u8>> = paths
        .iter()
        .map(|path| std::fs::read(dir.join(path)).unwrap())
        .collect();
    let files: Vec<InputFile<'_>> = paths
        .iter()
        .zip(&contents)
        .map(|(path, bytes)| InputFile { path, bytes })
        .collect();
    render(source, &files).unwrap_or_else(|err| panic!("{err}"))
}
