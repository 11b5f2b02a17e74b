//! `muster controls`: the control map, listed and explained.

use muster_controls::{Catalogue, Located};
use serde_json::json;

use crate::cli::ControlsArgs;
use crate::context::Context;
use crate::error::{CliError, exit};

/// The built-in control map, parsed once per process however many files ask for it.
pub fn catalogue() -> Result<&'static Catalogue, CliError> {
    static BUILTIN: std::sync::OnceLock<Result<Catalogue, String>> = std::sync::OnceLock::new();
    BUILTIN
        .get_or_init(|| Catalogue::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| CliError::internal(format!("built-in control map: {e}")))
}

pub fn run(_ctx: &Context, args: &ControlsArgs) -> Result<u8, CliError> {
    let catalogue = catalogue()?;
    match args.query.as_deref() {
        None => list_frameworks(catalogue, args.json),
        Some(key) if key.contains(':') => explain(catalogue, key, args.json),
        Some(framework) => list_entries(catalogue, framework, args.json),
    }
}

fn list_frameworks(c: &Catalogue, json_out: bool) -> Result<u8, CliError> {
    let frameworks = c.frameworks();
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&frameworks).unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    println!("{:<22} {:>7}  title", "framework@edition", "entries");
    for f in &frameworks {
        println!("{:<22} {:>7}  {}", f.prefix, f.entries, f.title);
    }
    println!(
        "\nKeys are `framework@edition:id`. `muster controls owasp-llm@2025` lists one edition; `muster controls KEY` explains a key."
    );
    Ok(exit::OK)
}

fn list_entries(c: &Catalogue, framework: &str, json_out: bool) -> Result<u8, CliError> {
    let entries = c.entries_of(framework);
    if entries.is_empty() {
        let prefixes: Vec<String> = c.frameworks().into_iter().map(|f| f.prefix).collect();
        return Err(
            CliError::input(format!("no framework `{framework}` in the control map"))
                .hint(format!("known: {}", prefixes.join(", "))),
        );
    }
    if json_out {
        let items: Vec<_> = entries.iter().map(entry_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    for l in &entries {
        println!(
            "{:<44} {}{}",
            l.key,
            l.entry.name,
            if l.entry.verify { " (to verify)" } else { "" }
        );
    }
    Ok(exit::OK)
}

fn entry_json(l: &Located<'_>) -> serde_json::Value {
    json!({
        "key": l.key,
        "framework": l.map.title,
        "name": l.entry.name,
        "summary": l.entry.summary,
        "source": l.map.source,
        "verify": l.entry.verify,
        "clock": l.entry.clock,
        "clock_from": l.entry.clock_from,
        "applies_if": l.entry.applies_if,
        "maps_to": l.entry.maps_to,
    })
}

fn explain(c: &Catalogue, key: &str, json_out: bool) -> Result<u8, CliError> {
    let Some(l) = c.get(key) else {
        let keys = c.keys();
        let mut err = CliError::input(format!("unknown control key `{key}`"));
        if let Some(best) = muster_model::diag::nearest(key, keys.iter().copied()) {
            err = err.hint(format!("did you mean `{best}`?"));
        }
        return Err(err.hint("`muster controls` lists the frameworks"));
    };
    let concepts: Vec<&str> = c.concepts_mapping_to(key).iter().map(|l| l.key).collect();
    let scenarios: Vec<String> = muster_library::scenarios()
        .into_iter()
        .filter_map(|f| {
            let s = muster_model::load_scenario(f.text).value?;
            let cites = s.taxonomy.iter().any(|k| k == key)
                || s.taxonomy.iter().any(|k| {
                    c.get(k)
                        .is_some_and(|x| x.entry.maps_to.iter().any(|m| m == key))
                });
            cites.then_some(s.id)
        })
        .collect();
    if json_out {
        let mut value = entry_json(&l);
        value["mapped_from"] = json!(concepts);
        value["builtin_scenarios"] = json!(scenarios);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    println!("{}  {}", l.key, l.entry.name);
    println!(
        "{}{}",
        l.map.title,
        l.map
            .source
            .as_deref()
            .map(|s| format!(" — {s}"))
            .unwrap_or_default()
    );
    println!("\n{}", l.entry.summary.trim());
    if let Some(clock) = &l.entry.clock {
        println!(
            "\nClock: {clock}{}",
            l.entry
                .clock_from
                .as_deref()
                .map(|f| format!(" from {f}"))
                .unwrap_or_default()
        );
    }
    if let Some(applies) = &l.entry.applies_if {
        println!("Applies if: {applies}");
    }
    if l.entry.verify {
        println!("Note: identifier or wording still to be verified against the primary text.");
    }
    if !l.entry.maps_to.is_empty() {
        println!("\nMaps to:");
        for k in &l.entry.maps_to {
            let name = c.get(k).map(|x| x.entry.name.as_str()).unwrap_or("");
            println!("  {k:<44} {name}");
        }
    }
    if !concepts.is_empty() {
        println!("\nmuster concepts that map here:");
        for k in &concepts {
            println!("  {k}");
        }
    }
    if !scenarios.is_empty() {
        println!(
            "\nBuilt-in scenarios that exercise it: {}",
            scenarios.join(", ")
        );
    }
    Ok(exit::OK)
}
