//! Typst documents to PDF bytes, in-process: [`render`] compiles a Typst source that reads the
//! [`InputFile`]s it is given (`json("pack.json")`, `image("plots/timeline.svg")`) and returns
//! the PDF.
//!
//! **Why Typst.** It is a full typesetting engine written in pure Rust, used here as a library:
//! no LaTeX, browser or other system package to install, and nothing to spawn. Its PDF output is
//! deterministic, which a signed evidence pack needs: the same source and files give
//! byte-identical PDFs on every run and every machine (no creation date, no random document id;
//! typst-pdf derives the id from the document's title and author).
//!
//! **Why embedded fonts.** The fonts are the ones bundled in the `typst-assets` crate (Libertinus
//! Serif for text, New Computer Modern for maths, DejaVu Sans Mono for code), compiled into the
//! binary. System fonts are never scanned, so a report looks, and hashes, the same on a
//! developer's laptop and in CI.
//!
//! **Closed world.** A document sees only the files it is given: no file system, no network.
//! `#import "@preview/..."` packages are refused rather than downloaded, and `datetime.today()`
//! is an error (pass dates in as data). Errors come back as a [`PdfError`] naming the file,
//! line and column, with Typst's message and hints.
//!
//! Templates muster ships: [`PACK_TEMPLATE`], the evidence pack's report.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, PackageError, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{DiagSpan, FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// The evidence pack's report (`templates/pack.typ`). It reads `pack.json` (format
/// `muster-pack/1`) and the plots `plots/pass-rates.svg`, `plots/timeline.svg` and
/// `plots/controls.svg`; all four must be given as input files.
pub const PACK_TEMPLATE: &str = include_str!("../templates/pack.typ");

/// The name the document itself has in error messages and for relative paths: the document root.
const MAIN_PATH: &str = "main.typ";

/// A file the document can read (`json("pack.json")`, `image("plots/timeline.svg")`), by its path
/// relative to the document root.
#[derive(Debug, Clone, Copy)]
pub struct InputFile<'a> {
    /// Relative path, `/`-separated (`plots/timeline.svg`).
    pub path: &'a str,
    /// The file's content.
    pub bytes: &'a [u8],
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// An input file's path is not a relative path inside the document root, or is given twice.
    #[error("input file {path:?}: {reason}")]
    InvalidInput {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Typst reported errors while compiling or laying out the document: one per line,
    /// `file:line:column: message`, each followed by its hints.
    #[error("the document did not compile:\n{0}")]
    Compile(String),
    /// Typst reported errors while writing the PDF.
    #[error("the PDF could not be written:\n{0}")]
    Export(String),
}

/// Compiles `source` as a Typst document that may read `files`, and returns the PDF.
///
/// The output depends only on `source`, `files` and the crate versions: rendering the same input
/// twice gives the same bytes.
///
/// # Errors
///
/// [`PdfError::InvalidInput`] for a file path that is absolute, escapes the root or is repeated;
/// [`PdfError::Compile`] for anything Typst rejects (syntax errors, a file the document reads but
/// was not given, a package import); [`PdfError::Export`] if the PDF writer fails.
pub fn render(source: &str, files: &[InputFile<'_>]) -> Result<Vec<u8>, PdfError> {
    let world = DocumentWorld::new(source, files)?;
    let compiled = typst::compile::<PagedDocument>(&world).output;
    let pdf = compiled
        .map_err(|errors| PdfError::Compile(world.describe(&errors)))
        .and_then(|document| {
            typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
                .map_err(|errors| PdfError::Export(world.describe(&errors)))
        });
    // Typst memoises across compilations in global caches; drop what older renders left behind so
    // a long-running process doesn't grow, while keeping recent entries for repeated templates.
    typst::comemo::evict(10);
    pdf
}

/// Drops everything Typst has memoised from earlier renders, so the next render starts cold (as
/// the one render of a `muster pack` process does). For benchmarks: repeated renders of the same
/// pack otherwise reuse most of the previous layout.
pub fn forget_memoised() {
    typst::comemo::evict(0);
}

/// What every document shares: the standard library and the embedded fonts. Built once.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Shared {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// One document and its files, as Typst's [`World`].
struct DocumentWorld {
    shared: &'static Shared,
    main: Source,
    files: HashMap<FileId, Bytes>,
}

impl DocumentWorld {
    fn new(source: &str, inputs: &[InputFile<'_>]) -> Result<Self, PdfError> {
        let main = Source::new(project_file(MAIN_PATH)?, source.to_owned());
        let mut files = HashMap::with_capacity(inputs.len());
        for input in inputs {
            let id = project_file(input.path)?;
            if id == main.id() {
                return Err(invalid(input.path, "is the document itself"));
            }
            if files.insert(id, Bytes::new(input.bytes.to_vec())).is_some() {
                return Err(invalid(input.path, "is given more than once"));
            }
        }
        Ok(Self {
            shared: &SHARED,
            main,
            files,
        })
    }

    /// The errors among `diagnostics`, one line each, with their hints indented below.
    fn describe(&self, diagnostics: &[SourceDiagnostic]) -> String {
        let mut out = String::new();
        for diagnostic in diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
        {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = write!(
                out,
                "{}: {}",
                self.locate(diagnostic.span),
                diagnostic.message
            );
            for hint in &diagnostic.hints {
                let _ = write!(out, "\n  hint: {}", hint.v);
            }
            for point in &diagnostic.trace {
                let _ = write!(out, "\n  {} ({})", point.v, self.locate(point.span.into()));
            }
        }
        if out.is_empty() {
            out.push_str("typst reported failure without an error message");
        }
        out
    }

    /// `path:line:column` (1-based) of a span, as far as it is known.
    fn locate(&self, span: DiagSpan) -> String {
        let Some(id) = span.id() else {
            return MAIN_PATH.to_owned();
        };
        let path = display_path(id);
        let text = if id == self.main.id() {
            Some(self.main.text().as_bytes())
        } else {
            self.files.get(&id).map(Bytes::as_slice)
        };
        match (text, self.range(span)) {
            (Some(text), Some(range)) => {
                let (line, column) = line_column(text, range.start);
                format!("{path}:{line}:{column}")
            }
            _ => path,
        }
    }

    fn lookup(&self, id: FileId) -> FileResult<&Bytes> {
        if let VirtualRoot::Package(spec) = id.root() {
            return Err(FileError::Package(PackageError::Other(Some(
                format!(
                    "{spec} is not available: packages are never downloaded; \
                     inline the code the document needs"
                )
                .into(),
            ))));
        }
        self.files
            .get(&id)
            .ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }
}

impl World for DocumentWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        let text = std::str::from_utf8(self.lookup(id)?.as_slice())?;
        Ok(Source::new(id, text.to_owned()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_owned()));
        }
        self.lookup(id).cloned()
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    /// No clock: the output must not depend on when it was rendered. Documents get their dates
    /// as data.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn project_file(path: &str) -> Result<FileId, PdfError> {
    if path.starts_with('/') || path.is_empty() {
        return Err(invalid(
            path,
            "must be a non-empty path relative to the document root",
        ));
    }
    let vpath = VirtualPath::new(path).map_err(|err| invalid(path, &err.to_string()))?;
    if vpath.is_root() {
        return Err(invalid(path, "names the document root, not a file"));
    }
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

fn invalid(path: &str, reason: &str) -> PdfError {
    PdfError::InvalidInput {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

fn display_path(id: FileId) -> String {
    let path = id.vpath().get_without_slash();
    match id.root() {
        VirtualRoot::Project => path.to_owned(),
        VirtualRoot::Package(spec) => format!("{spec}/{path}"),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_in_characters() {
        assert_eq!(line_column(b"abc", 0), (1, 1));
        assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nxé!".as_bytes(), 6), (2, 3));
        assert_eq!(line_column(b"ab", 99), (1, 3));
    }

    #[test]
    fn input_paths_must_stay_inside_the_root() {
        for bad in ["", "/etc/passwd", "../secret.json", "a/../../b"] {
            let files = [InputFile {
                path: bad,
                bytes: b"{}",
            }];
            assert!(
                matches!(render("x", &files), Err(PdfError::InvalidInput { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn duplicate_input_paths_are_refused() {
        let files = [
            InputFile {
                path: "a.json",
                bytes: b"{}",
            },
            InputFile {
                path: "./a.json",
                bytes: b"[]",
            },
        ];
        let err = render("x", &files).err().map(|err| err.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|err| err.contains("more than once")),
            "{err:?}"
        );
    }
}
