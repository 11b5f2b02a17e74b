//! Reading files into a drill plan, reporting every problem with its location.

use std::path::{Path, PathBuf};

use muster_drill::{DrillPlan, PlannedScenario, digest_text};
use muster_model::agent::AgentManifest;
use muster_model::diag::Diagnostic;

use crate::error::CliError;
use crate::render::diagnostics::render_file_diagnostics;

/// A file's problems, kept with its text so they can be shown with the source.
pub struct FileProblems {
    pub file: String,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileProblems {
    pub fn render(&self, color: bool) -> String {
        render_file_diagnostics(&self.file, &self.text, &self.diagnostics, color, 100)
    }
}

pub fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))
}

/// Expand folders (recursively) into their `.yaml`/`.yml` files, sorted; files are kept as given.
pub fn expand(paths: &[PathBuf], with_toml: bool) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect(path, with_toml, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(CliError::input(format!(
                    "{} holds no .yaml files",
                    path.display()
                )));
            }
            out.extend(found);
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(CliError::input(format!(
                "{} does not exist",
                path.display()
            )));
        }
    }
    Ok(out)
}

fn collect(dir: &Path, with_toml: bool, out: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::input(format!("cannot read folder {}: {e}", dir.display())))?;
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            collect(&path, with_toml, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) || (with_toml && path.file_name().is_some_and(|n| n == "muster.toml"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Load and validate an agent manifest from text.
/// A glass-box `system_prompt_file` is read here, relative to the manifest, into `system_prompt`
/// (the model crate does no I/O).
pub fn manifest_from_text(label: &str, text: &str) -> Result<AgentManifest, FileProblems> {
    let loaded = muster_model::load_agent(text);
    let mut diagnostics = loaded.diagnostics;
    let manifest = match loaded.value {
        Some(mut m) if !diagnostics.iter().any(Diagnostic::is_error) => {
            if let Some(o) = m.target.openai_model.as_mut()
                && let Some(file) = &o.system_prompt_file
            {
                let path = Path::new(label)
                    .parent()
                    .unwrap_or_else(|| Path::new("."))
                    .join(file);
                match std::fs::read_to_string(&path) {
                    Ok(prompt) => o.system_prompt = Some(prompt),
                    Err(e) => {
                        let pointer = "/target/openai_model/system_prompt_file";
                        diagnostics.push(
                            Diagnostic::error(
                                "unreadable-file",
                                format!("cannot read the system prompt {}: {e}", path.display()),
                            )
                            .with_pointer(pointer)
                            .at_opt(loaded.spans.value_span(pointer)),
                        );
                    }
                }
            }
            Some(m)
        }
        _ => None,
    };
    match manifest {
        Some(m) if !diagnostics.iter().any(Diagnostic::is_error) => Ok(m),
        _ => Err(FileProblems {
            file: label.to_owned(),
            text: text.to_owned(),
            diagnostics,
        }),
    }
}

/// Build a plan from texts, collecting every file's problems (scenarios are also checked against
/// the manifest).
pub fn plan_from_texts(
    manifest: (&str, &str),
    scenarios: &[(String, String)],
) -> Result<DrillPlan, Vec<FileProblems>> {
    let (manifest_label, manifest_text) = manifest;
    let mut problems = Vec::new();
    let manifest_value = match manifest_from_text(manifest_label, manifest_text) {
        Ok(m) => Some(m),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let mut planned = Vec::new();
    let mut ids: Vec<(String, String)> = Vec::new();
    for (label, text) in scenarios {
        let loaded = muster_model::load_scenario(text);
        let mut diagnostics = loaded.diagnostics.clone();
        if let Some(s) = &loaded.value {
            diagnostics.extend(check_taxonomy(s, &loaded.spans));
        }
        if let (Some(s), Some(m)) = (&loaded.value, &manifest_value) {
            diagnostics.extend(muster_model::check_scenario_against(s, &loaded.spans, m));
            if let Some((_, first)) = ids.iter().find(|(id, _)| *id == s.id) {
                diagnostics.push(
                    Diagnostic::error(
                        "duplicate-scenario-id",
                        format!("scenario id `{}` is also used by {first}", s.id),
                    )
                    .with_pointer("/id")
                    .at_opt(loaded.spans.value_span("/id")),
                );
            }
            ids.push((s.id.clone(), label.clone()));
        }
        if diagnostics.iter().any(Diagnostic::is_error) || loaded.value.is_none() {
            problems.push(FileProblems {
                file: label.clone(),
                text: text.clone(),
                diagnostics,
            });
            continue;
        }
        if let Some(s) = loaded.value {
            planned.push(PlannedScenario {
                scenario: s,
                source: label.clone(),
                digest: digest_text(text),
                replay_of: None,
            });
        }
    }
    match manifest_value {
        Some(manifest) if problems.is_empty() => Ok(DrillPlan {
            manifest,
            manifest_source: manifest_label.to_owned(),
            manifest_digest: digest_text(manifest_text),
            scenarios: planned,
        }),
        _ => Err(problems),
    }
}

/// Every taxonomy key of a scenario must name a control-map entry, and every control it exercises
/// must be one of muster's control checks or governance controls.
pub fn check_taxonomy(
    scenario: &muster_model::scenario::Scenario,
    spans: &muster_model::tree::SpanIndex,
) -> Vec<Diagnostic> {
    let catalogue = match crate::commands::controls::catalogue() {
        Ok(c) => c,
        // The built-in map's validity is a test of muster-controls; say so rather than judge keys
        // against nothing.
        Err(e) => {
            return vec![Diagnostic::error(
                "control-map-unavailable",
                format!("cannot check taxonomy keys: {e}"),
            )];
        }
    };
    let known = catalogue.keys();
    let mut out = muster_model::check_keys_known(spans, "/taxonomy", &scenario.taxonomy, &known);
    let controls: Vec<&str> = known
        .iter()
        .filter_map(|k| {
            k.strip_prefix("muster@1:governance/")
                .or_else(|| k.strip_prefix("muster@1:control/"))
        })
        .collect();
    for (i, control) in scenario.controls.iter().enumerate() {
        if !controls.contains(&control.as_str()) {
            let pointer = format!("/controls/{i}");
            let hint = match muster_model::diag::nearest(control, controls.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("known controls: {}", controls.join(", ")),
            };
            out.push(
                Diagnostic::error("unknown-control", format!("unknown control `{control}`"))
                    .with_pointer(&pointer)
                    .at_opt(spans.value_span(&pointer))
                    .with_hint(hint),
            );
        }
    }
    out
}

/// Show every file's problems on stderr, with their source; the number of errors among them.
pub fn show_problems(problems: &[FileProblems], color: bool) -> usize {
    let mut errors = 0;
    for p in problems {
        eprint!("{}", p.render(color));
        errors += p.diagnostics.iter().filter(|d| d.is_error()).count();
    }
    errors
}

pub fn report_problems(problems: &[FileProblems], color: bool) -> CliError {
    let errors = show_problems(problems, color);
    CliError::input(format!(
        "{errors} problem{} in {} file{}; nothing was sent",
        if errors == 1 { "" } else { "s" },
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    ))
    .hint("`muster validate FILE…` shows the same problems without running anything")
}
