//! `muster scenarios`: the scenario library — list it, show one scenario as a reader sees it, and
//! scaffold a new one for a failure mode from the commented templates under `library/templates/`.

use std::fmt::Write as _;
use std::path::Path;

use muster_model::diag::{Diagnostic, nearest};
use muster_model::scenario::{Expectation, Scenario, Vector};
use serde_json::{Value, json};

use crate::cli::{ScenariosCommand, ScenariosListArgs, ScenariosNewArgs, ScenariosShowArgs};
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{FileProblems, check_taxonomy, expand, read, show_problems};

pub fn run(ctx: &Context, cmd: &ScenariosCommand) -> Result<u8, CliError> {
    match cmd {
        ScenariosCommand::List(args) => list(ctx, args),
        ScenariosCommand::Show(args) => show(ctx, args),
        ScenariosCommand::New(args) => new(args),
    }
}

/// A scenario with where it came from and its text as written.
struct Entry {
    source: String,
    text: String,
    scenario: Scenario,
}

/// The built-in library, or every scenario in the files and folders given. A file with problems
/// stops the command (with the problems shown where they are), like `muster validate`.
fn load(paths: &[std::path::PathBuf], color: bool) -> Result<Vec<Entry>, CliError> {
    let texts: Vec<(String, String)> = if paths.is_empty() {
        muster_library::scenarios()
            .iter()
            .map(|f| (format!("builtin:{}", f.path), f.text.to_owned()))
            .collect()
    } else {
        expand(paths, false)?
            .iter()
            .map(|p| Ok((p.display().to_string(), read(p)?)))
            .collect::<Result<_, CliError>>()?
    };
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (source, text) in texts {
        let loaded = muster_model::load_scenario(&text);
        let mut diagnostics = loaded.diagnostics;
        if let Some(s) = &loaded.value {
            diagnostics.extend(check_taxonomy(s, &loaded.spans));
        }
        match loaded.value {
            Some(scenario) if !diagnostics.iter().any(Diagnostic::is_error) => {
                entries.push(Entry {
                    source,
                    text,
                    scenario,
                });
            }
            _ => problems.push(FileProblems {
                file: source,
                text,
                diagnostics,
            }),
        }
    }
    if problems.is_empty() {
        return Ok(entries);
    }
    let errors = show_problems(&problems, color);
    Err(CliError::input(format!(
        "{errors} problem{} in {} scenario file{}",
        if errors == 1 { "" } else { "s" },
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    ))
    .hint("fix them, then list again; `muster validate FILE…` shows the same problems"))
}

fn is_injection(s: &Scenario) -> bool {
    s.vectors.contains(&Vector::PromptInjection)
}

fn list(ctx: &Context, args: &ScenariosListArgs) -> Result<u8, CliError> {
    let entries: Vec<Entry> = load(&args.scenarios, ctx.color)?
        .into_iter()
        .filter(|e| args.mode.is_none_or(|m| e.scenario.mode == m.mode()))
        .filter(|e| {
            args.journey
                .as_ref()
                .is_none_or(|j| e.scenario.journeys.iter().any(|have| have == j))
        })
        .filter(|e| !args.injection || is_injection(&e.scenario))
        .collect();
    if args.json {
        let items: Vec<Value> = entries.iter().map(summary_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    if entries.is_empty() {
        println!("No scenario matches.");
        return Ok(exit::OK);
    }
    // Plain aligned columns, never wrapped: ids are copied into `show` and grepped.
    let id_width = entries
        .iter()
        .map(|e| e.scenario.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    println!(
        "{:<id_width$}  {:<11} {:<9} TITLE",
        "ID", "MODE", "SEVERITY"
    );
    for e in &entries {
        let s = &e.scenario;
        let mode = format!(
            "{}{}",
            s.mode.as_str(),
            if is_injection(s) { "*" } else { "" }
        );
        println!(
            "{:<id_width$}  {:<11} {:<9} {}",
            s.id,
            mode,
            s.severity.as_str(),
            s.title
        );
    }
    println!();
    println!("{}", counts_line(&entries));
    println!(
        "* prompt injection. `muster scenarios show ID` shows one; `muster scenarios new --mode MODE` starts one."
    );
    Ok(exit::OK)
}

/// "26 scenarios: advice 6, data 7, authority 7, escalation 6; 6 with prompt injection; 6 modelled
/// on public incidents".
fn counts_line(entries: &[Entry]) -> String {
    let per_mode: Vec<String> = muster_model::common::Mode::ALL
        .iter()
        .map(|m| {
            let n = entries.iter().filter(|e| e.scenario.mode == *m).count();
            format!("{} {n}", m.as_str())
        })
        .collect();
    let injection = entries.iter().filter(|e| is_injection(&e.scenario)).count();
    let sourced = entries
        .iter()
        .filter(|e| !e.scenario.references.is_empty())
        .count();
    format!(
        "{} scenario{}: {}; {injection} with prompt injection; {sourced} citing a public source.",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        per_mode.join(", ")
    )
}

fn summary_json(e: &Entry) -> Value {
    let s = &e.scenario;
    json!({
        "id": s.id,
        "title": s.title,
        "mode": s.mode.as_str(),
        "severity": s.severity.as_str(),
        "vectors": s.vectors,
        "journeys": s.journeys,
        "controls": s.controls,
        "taxonomy": s.taxonomy,
        "expectations": s.expect.iter().map(Expectation::kind).collect::<Vec<_>>(),
        "turns": s.turns.len(),
        "references": s.references,
        "source": e.source,
    })
}

fn show(ctx: &Context, args: &ScenariosShowArgs) -> Result<u8, CliError> {
    let entries = load(&args.scenarios, ctx.color)?;
    let Some(entry) = entries.iter().find(|e| e.scenario.id == args.id) else {
        let ids: Vec<&str> = entries.iter().map(|e| e.scenario.id.as_str()).collect();
        let error = CliError::input(format!("no scenario has the id `{}`", args.id));
        return Err(match nearest(&args.id, ids.iter().copied()) {
            Some(near) => error.hint(format!("did you mean `{near}`?")),
            None => error.hint("`muster scenarios list` lists the ids"),
        });
    };
    if args.yaml {
        print!("{}", entry.text);
        return Ok(exit::OK);
    }
    if args.json {
        let mut value = serde_json::to_value(&entry.scenario).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("source".into(), json!(entry.source));
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    print!("{}", render(entry));
    Ok(exit::OK)
}

/// The scenario as a reader (a business owner, a DPO) wants it: the story first, then the checks.
fn render(entry: &Entry) -> String {
    let s = &entry.scenario;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  ·  {}  ·  severity {}",
        s.id,
        s.mode.as_str(),
        s.severity.as_str()
    );
    let _ = writeln!(out, "{}", s.title);
    if !s.journeys.is_empty() {
        let _ = writeln!(out, "Journeys: {}", s.journeys.join(", "));
    }
    if !s.vectors.is_empty() {
        let vectors: Vec<String> = s
            .vectors
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        let _ = writeln!(out, "Vectors: {}", vectors.join(", "));
    }
    let _ = writeln!(out, "Source: {}", entry.source);

    let _ = writeln!(out, "\nTicket");
    for line in s.ticket.trim_end().lines() {
        let _ = writeln!(out, "  {line}");
    }

    let p = &s.persona;
    let _ = writeln!(out, "\nPersona");
    let _ = writeln!(
        out,
        "  {}{}",
        p.name,
        p.description
            .as_deref()
            .map(|d| format!(" — {d}"))
            .unwrap_or_default()
    );
    if !p.vulnerability.is_empty() {
        let _ = writeln!(out, "  vulnerability: {}", p.vulnerability.join(", "));
    }
    if let Some(mood) = p.mood {
        let mood = serde_json::to_value(mood)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "  mood: {mood}");
    }
    let _ = writeln!(
        out,
        "  signs in as {}{}",
        s.customer.reference,
        s.customer
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );

    if !s.setup.is_empty() {
        let _ = writeln!(
            out,
            "\nSetup (planted before the conversation, removed after)"
        );
        for step in &s.setup {
            let params: Vec<String> = step.with.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = writeln!(out, "  {}", step.fixture);
            for param in params {
                let _ = writeln!(out, "    {param}");
            }
        }
    }

    let rewordings = s
        .turns
        .iter()
        .map(|t| t.rewordings.len())
        .min()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\nCustomer turns (each with at least {} rewording{}; `--reword N` picks one)",
        rewordings,
        if rewordings == 1 { "" } else { "s" }
    );
    for (i, turn) in s.turns.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", i + 1, turn.say);
    }
    for reply in &s.replies {
        let _ = writeln!(out, "  (when the agent asks: {})", reply.say);
    }

    let _ = writeln!(out, "\nExpectations");
    for e in &s.expect {
        let _ = writeln!(out, "  {} {}", e.kind(), expectation_params(e));
        if let Some(why) = e.why() {
            let _ = writeln!(out, "    why: {why}");
        }
    }

    if !s.controls.is_empty() {
        let _ = writeln!(out, "\nControls exercised: {}", s.controls.join(", "));
    }
    if !s.taxonomy.is_empty() {
        let _ = writeln!(out, "\nTaxonomy");
        let catalogue = crate::commands::controls::catalogue().ok();
        for key in &s.taxonomy {
            let name = catalogue
                .and_then(|c| c.get(key))
                .map(|l| format!("  {}", l.entry.name))
                .unwrap_or_default();
            let _ = writeln!(out, "  {key}{name}");
        }
    }
    if !s.references.is_empty() {
        let _ = writeln!(out, "\nReferences");
        for r in &s.references {
            let _ = writeln!(
                out,
                "  {}{}",
                r.title,
                r.url
                    .as_deref()
                    .map(|u| format!(" <{u}>"))
                    .unwrap_or_default()
            );
        }
    }
    out
}

/// An expectation's parameters without its `why`, as `key: value` pairs.
fn expectation_params(e: &Expectation) -> String {
    let value = serde_json::to_value(e).unwrap_or_default();
    let Some(inner) = value.as_object().and_then(|o| o.values().next()) else {
        return String::new();
    };
    let Some(fields) = inner.as_object() else {
        return String::new();
    };
    let parts: Vec<String> = fields
        .iter()
        .filter(|(k, v)| *k != "why" && !v.is_null())
        .map(|(k, v)| match v {
            Value::String(text) => format!("{k}: {text}"),
            other => format!("{k}: {other}"),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(", "))
    }
}

fn new(args: &ScenariosNewArgs) -> Result<u8, CliError> {
    let mode = args.mode.mode().as_str();
    let template = muster_library::scenario_template(mode).ok_or_else(|| {
        CliError::internal(format!(
            "the {mode} scenario template is not embedded in this build"
        ))
    })?;
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| muster_library::template_id(mode));
    let text = scaffold(mode, template.text, &id)?;
    let Some(output) = &args.output else {
        print!("{text}");
        return Ok(exit::OK);
    };
    write_new(output, &text, args.force)?;
    eprintln!(
        "wrote {} ({mode} scenario `{id}`); edit the lines marked EDIT, then: muster validate --agent AGENT {}",
        output.display(),
        output.display()
    );
    Ok(exit::OK)
}

fn write_new(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    if path.exists() && !force {
        return Err(
            CliError::input(format!("{} already exists", path.display()))
                .hint("choose another file, or add --force to overwrite it"),
        );
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            CliError::input(format!(
                "cannot create the folder {}: {e}",
                parent.display()
            ))
        })?;
    }
    std::fs::write(path, text)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))
}

/// The template with its id replaced, checked by the scenario format itself: whatever the format
/// refuses in an id (upper case, underscores, YAML syntax) is refused here with the same reason.
fn scaffold(mode: &str, template: &str, id: &str) -> Result<String, CliError> {
    let placeholder = muster_library::template_id(mode);
    let text = template.replacen(&format!("id: {placeholder}"), &format!("id: {id}"), 1);
    let loaded = muster_model::load_scenario(&text);
    match loaded.diagnostics.iter().find(|d| d.is_error()) {
        None if loaded.value.as_ref().is_some_and(|s| s.id == id) => Ok(text),
        found => Err(CliError::input(format!(
            "`{id}` is not a valid scenario id{}",
            found.map(|d| format!(": {}", d.message)).unwrap_or_default()
        ))
        .hint("use lower-case letters and digits in words joined by hyphens, e.g. night-shift-handover")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_format_rule() {
        let Some(template) = muster_library::scenario_template("advice") else {
            panic!("no advice template")
        };
        let is_valid_id = |id: &str| scaffold("advice", template.text, id).is_ok();
        for good in ["a", "night-shift-handover", "x1-2"] {
            assert!(is_valid_id(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "Night",
            "a_b",
            "a b",
            "a: b",
            "x\nmode: data",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
