//! Every file in `tests/corpus` is broken on purpose. Its first lines say where and how:
//! `# expect: LINE:COLUMN CODE`. Each must produce that diagnostic (and no panic, and no model).

use std::path::Path;

use muster_model::diag::Diagnostic;

fn load(path: &Path, text: &str) -> Vec<Diagnostic> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".agent.yaml") {
        let loaded = muster_model::load_agent(text);
        assert!(
            loaded.value.is_none(),
            "{name}: a broken manifest produced a model"
        );
        loaded.diagnostics
    } else if name.ends_with(".toml") {
        let loaded = muster_model::load_config(text);
        assert!(
            loaded.value.is_none(),
            "{name}: a broken config produced a model"
        );
        loaded.diagnostics
    } else {
        let loaded = muster_model::load_scenario(text);
        assert!(
            loaded.value.is_none(),
            "{name}: a broken scenario produced a model"
        );
        loaded.diagnostics
    }
}

fn expectations(text: &str) -> Vec<(u32, u32, String)> {
    text.lines()
        .map_while(|l| l.strip_prefix("# expect: "))
        .filter_map(|spec| {
            let (at, code) = spec.split_once(' ')?;
            let (line, column) = at.split_once(':')?;
            Some((
                line.parse().ok()?,
                column.parse().ok()?,
                code.trim().to_owned(),
            ))
        })
        .collect()
}

fn corpus() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_malformed_file_is_reported_at_the_right_place() {
    let files = corpus();
    assert!(
        files.len() >= 20,
        "the corpus has only {} files",
        files.len()
    );
    let mut failures = Vec::new();
    let mut rendered = String::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let expected = expectations(&text);
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let diagnostics = load(path, &text);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        rendered.push_str(&format!("── {name}\n"));
        for d in &diagnostics {
            rendered.push_str(&format!("{d} [{}]\n", d.code));
        }
        for (line, column, code) in &expected {
            let found = diagnostics.iter().any(|d| {
                d.code == code
                    && d.span
                        .is_some_and(|s| s.start.line == *line && s.start.column == *column)
            });
            if !found {
                failures.push(format!(
                    "{name}: expected {line}:{column} {code}, got {:?}",
                    diagnostics
                        .iter()
                        .map(|d| format!(
                            "{} {}",
                            d.span.map(|s| s.start.to_string()).unwrap_or_default(),
                            d.code
                        ))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta::assert_snapshot!("corpus_diagnostics", rendered);
}
