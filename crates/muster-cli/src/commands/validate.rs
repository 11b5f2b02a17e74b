use std::path::Path;

use muster_model::Kind;
use muster_model::diag::Diagnostic;
use serde_json::json;

use crate::cli::ValidateArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{expand, manifest_from_text, read};
use crate::render::diagnostics::{diagnostics_json, render_file_diagnostics};

fn kind_of(path: &Path, text: &str) -> Option<Kind> {
    if path.extension().and_then(|e| e.to_str()) == Some("toml") {
        return Some(Kind::Config);
    }
    muster_model::detect_kind(text)
}

pub fn run(ctx: &Context, args: &ValidateArgs) -> Result<u8, CliError> {
    let manifest = match &args.agent {
        None => None,
        Some(path) => {
            let text = read(path)?;
            match manifest_from_text(&path.display().to_string(), &text) {
                Ok(m) => Some(m),
                Err(problems) => {
                    eprint!("{}", problems.render(ctx.color));
                    return Err(CliError::input(format!(
                        "the manifest {} has problems; fix it first",
                        path.display()
                    )));
                }
            }
        }
    };
    let files = expand(&args.paths, true)?;
    let mut all_json = Vec::new();
    let (mut errors, mut warnings, mut bad_files) = (0usize, 0usize, 0usize);
    for path in &files {
        let label = path.display().to_string();
        let text = read(path)?;
        let diagnostics: Vec<Diagnostic> = match kind_of(path, &text) {
            // Through the loader, so a glass-box prompt file that cannot be read is reported.
            Some(Kind::Agent) => match manifest_from_text(&label, &text) {
                Ok(_) => muster_model::load_agent(&text).diagnostics,
                Err(problems) => problems.diagnostics,
            },
            Some(Kind::Config) => muster_model::load_config(&text).diagnostics,
            Some(Kind::ControlMap) => muster_model::load_control_map(&text).diagnostics,
            Some(Kind::Scenario) => {
                let loaded = muster_model::load_scenario(&text);
                let mut d = loaded.diagnostics.clone();
                if let Some(s) = &loaded.value {
                    d.extend(crate::load::check_taxonomy(s, &loaded.spans));
                    if let Some(m) = &manifest {
                        d.extend(muster_model::check_scenario_against(s, &loaded.spans, m));
                    }
                }
                d
            }
            None => match muster_model::parse_yaml(&text) {
                Err(d) => d,
                Ok(root) => {
                    let found = root
                        .get("kind")
                        .and_then(|e| e.value.as_str().map(str::to_owned));
                    let span = root.get("kind").map(|e| e.value.span);
                    let message = match &found {
                        Some(k) => format!("`kind: {k}` is not a muster format"),
                        None => "missing `kind`: muster cannot tell what this file is".to_owned(),
                    };
                    vec![
                        Diagnostic::error("unknown-kind", message)
                            .with_pointer("/kind")
                            .at_opt(span)
                            .with_hint(
                                "add `kind: agent`, `kind: scenario` or `kind: control-map`",
                            ),
                    ]
                }
            },
        };
        let file_errors = diagnostics.iter().filter(|d| d.is_error()).count();
        errors += file_errors;
        warnings += diagnostics.len() - file_errors;
        if file_errors > 0 {
            bad_files += 1;
        }
        if args.json {
            all_json.extend(diagnostics_json(&label, &diagnostics));
        } else if !diagnostics.is_empty() {
            eprint!(
                "{}",
                render_file_diagnostics(&label, &text, &diagnostics, ctx.color, 100)
            );
        }
    }
    if args.json {
        let out = json!({"files": files.len(), "errors": errors, "warnings": warnings, "problems": all_json});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if errors == 0 {
        eprintln!(
            "{} file{} valid{}",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            if warnings > 0 {
                format!(
                    " ({warnings} warning{})",
                    if warnings == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        );
    } else {
        eprintln!(
            "{errors} error{} in {bad_files} of {} file{}",
            if errors == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(if errors > 0 { exit::INPUT } else { exit::OK })
}
