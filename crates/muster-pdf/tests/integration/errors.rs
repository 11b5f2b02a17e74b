//! Errors come back as `PdfError`s that say where and what, never as panics.

use muster_pdf::{InputFile, PdfError, render};

fn compile_error(source: &str, files: &[InputFile<'_>]) -> String {
    match render(source, files) {
        Ok(_) => panic!("rendered without error:\n{source}"),
        Err(err @ PdfError::Compile(_)) => {
            let err = err.to_string();
            eprintln!("{err}");
            err
        }
        Err(err) => panic!("expected a compile error, got {err:?}"),
    }
}

#[test]
fn a_syntax_error_names_the_file_line_column_and_problem() {
    let err = compile_error("= Title\n\nSome text #let x = (1, 2\n", &[]);
    assert!(err.contains("main.typ:3:"), "{err}");
    assert!(err.contains("unclosed delimiter"), "{err}");
}

#[test]
fn a_missing_file_names_its_path() {
    let err = compile_error(
        "= Title\n#let data = json(\"data/pack.json\")\n",
        &[InputFile {
            path: "other.json",
            bytes: b"{}",
        }],
    );
    assert!(err.contains("main.typ:2:"), "{err}");
    assert!(err.contains("file not found"), "{err}");
    assert!(err.contains("data/pack.json"), "{err}");
}

#[test]
fn invalid_json_names_the_data_file() {
    let err = compile_error(
        "#let data = json(\"pack.json\")\n#data",
        &[InputFile {
            path: "pack.json",
            bytes: b"{\n  \"a\": 1,\n  oops\n}",
        }],
    );
    assert!(err.contains("pack.json"), "{err}");
    assert!(err.contains("JSON"), "{err}");
}

#[test]
fn a_package_import_is_refused_not_downloaded() {
    let err = compile_error("#import \"@preview/cetz:0.3.4\": canvas\n= Title\n", &[]);
    assert!(err.contains("@preview/cetz:0.3.4"), "{err}");
    assert!(err.contains("never downloaded"), "{err}");
    assert!(err.contains("main.typ:1:"), "{err}");
}

#[test]
fn today_is_not_available() {
    let err = compile_error("#datetime.today().display()", &[]);
    assert!(err.contains("main.typ:1:"), "{err}");
}

#[test]
fn a_runtime_error_in_an_included_file_points_into_that_file() {
    let err = compile_error(
        "#include \"parts/body.typ\"",
        &[InputFile {
            path: "parts/body.typ",
            bytes: b"ok\n#panic(\"broken body\")\n",
        }],
    );
    assert!(err.contains("parts/body.typ:2:"), "{err}");
    assert!(err.contains("broken body"), "{err}");
}
