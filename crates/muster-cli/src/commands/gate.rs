//! `muster gate` and `muster accept`: the CI gate over muster.lock, and recorded risk acceptances.

use muster_assess::{GateOptions, GateReport, RiskAcceptance, gate, scenario_set_digest};
use muster_model::common::Severity;

use crate::cli::{AcceptArgs, BlockOn, GateArgs};
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{expand, manifest_from_text, read, report_problems};
use crate::lockfile::{read_lock, today, write_lock};

pub fn run(ctx: &Context, args: &GateArgs) -> Result<u8, CliError> {
    let manifest = load_manifest(ctx, &args.agent)?;
    let lock_path = ctx.lock_path(args.lock.as_deref());
    let lock = read_lock(&lock_path)?;
    let scenario_set = if args.scenarios.is_empty() {
        None
    } else {
        Some(current_scenario_set(&args.scenarios)?)
    };
    let options = GateOptions {
        today: today(args.today),
        block_on: match args.block_on {
            BlockOn::Critical => Severity::Critical,
            BlockOn::High => Severity::High,
            BlockOn::Medium => Severity::Medium,
            BlockOn::Low => Severity::Low,
        },
        scenario_set,
    };
    let report = gate(&manifest, &lock, &options);
    if args.json {
        let mut value =
            serde_json::to_value(&report).map_err(|e| CliError::internal(e.to_string()))?;
        if let Some(reasons) = value
            .get_mut("reasons")
            .and_then(serde_json::Value::as_array_mut)
        {
            for (item, reason) in reasons.iter_mut().zip(&report.reasons) {
                item["message"] = serde_json::Value::String(reason.message());
            }
        }
        value["lock"] = serde_json::Value::String(lock_path.display().to_string());
        value["today"] = serde_json::Value::String(options.today.to_string());
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        print!("{}", render(&report, &lock_path.display().to_string()));
    }
    Ok(if report.pass { exit::OK } else { exit::FAILED })
}

pub fn render(report: &GateReport, lock: &str) -> String {
    let mut out = String::new();
    if report.pass {
        out.push_str(&format!("gate: PASS — {} may ship\n", report.agent));
    } else {
        out.push_str(&format!(
            "gate: BLOCKED — {} ({} reason{})\n",
            report.agent,
            report.reasons.len(),
            if report.reasons.len() == 1 { "" } else { "s" }
        ));
        for r in &report.reasons {
            out.push_str(&format!("  [{}] {}\n", r.code(), r.message()));
        }
    }
    for (finding, until) in &report.accepted {
        out.push_str(&format!("  accepted risk: `{finding}` until {until}\n"));
    }
    out.push_str(&format!(
        "  tier {}, drilled {}",
        report.tier, report.cadence
    ));
    if let Some(due) = report.next_due {
        out.push_str(&format!("; next drill due by {due}"));
    }
    out.push_str(&format!("\n  lock: {lock}\n"));
    if !report.pass {
        out.push_str("  to clear: re-drill with `muster drill` (it updates the lock), or record a risk acceptance with `muster accept`\n");
    }
    out
}

fn load_manifest(
    ctx: &Context,
    path: &std::path::Path,
) -> Result<muster_model::agent::AgentManifest, CliError> {
    let label = path.display().to_string();
    let text = read(path)?;
    manifest_from_text(&label, &text)
        .map_err(|p| report_problems(std::slice::from_ref(&p), ctx.color))
}

/// The scenario-set digest of the files at `paths`, computed the way `muster drill` records it.
fn current_scenario_set(paths: &[std::path::PathBuf]) -> Result<String, CliError> {
    let mut items = Vec::new();
    for path in expand(paths, false)? {
        let text = read(&path)?;
        let loaded = muster_model::load_scenario(&text);
        let Some(s) = loaded.value else {
            return Err(
                CliError::input(format!("{} is not a valid scenario", path.display()))
                    .hint(format!("`muster validate {}` shows why", path.display())),
            );
        };
        items.push((s.id, muster_drill::digest_text(&text)));
    }
    let refs: Vec<(&str, &str)> = items
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    Ok(scenario_set_digest(&refs))
}

pub fn accept(ctx: &Context, args: &AcceptArgs) -> Result<u8, CliError> {
    let manifest = load_manifest(ctx, &args.agent)?;
    let on = today(args.today);
    if args.expires < on {
        return Err(CliError::input(format!(
            "--expires {} is in the past",
            args.expires
        )));
    }
    let limit = on.saturating_add(jiff::Span::new().years(1));
    if args.expires > limit {
        return Err(CliError::input(format!(
            "--expires {} is more than a year ahead",
            args.expires
        ))
        .hint(format!(
            "accept for at most a year (until {limit}) and review it then"
        )));
    }
    if args.owner.trim().is_empty() || args.reason.trim().is_empty() {
        return Err(CliError::input(
            "--owner and --reason must say who accepts the risk and why",
        ));
    }
    let lock_path = ctx.lock_path(args.lock.as_deref());
    let mut lock = read_lock(&lock_path)?;
    let acceptance = RiskAcceptance {
        finding: args.finding.clone(),
        owner: args.owner.trim().to_owned(),
        reason: args.reason.trim().to_owned(),
        accepted_on: on.to_string(),
        expires: args.expires.to_string(),
    };
    lock.accept(&manifest.name, acceptance.clone())
        .map_err(|e| {
            let open: Vec<String> = lock
                .agents
                .get(&manifest.name)
                .map(|a| {
                    a.findings
                        .iter()
                        .filter(|f| f.status == muster_assess::FindingStatus::Open)
                        .map(|f| f.id.clone())
                        .collect()
                })
                .unwrap_or_default();
            let err = CliError::input(e.to_string());
            if open.is_empty() {
                err.hint("there are no open findings to accept")
            } else {
                err.hint(format!("open findings: {}", open.join(", ")))
            }
        })?;
    write_lock(&lock_path, &lock)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&acceptance).unwrap_or_default()
        );
    } else {
        println!(
            "recorded in {}: {} accepts `{}` until {}",
            lock_path.display(),
            acceptance.owner,
            acceptance.finding,
            acceptance.expires
        );
    }
    Ok(exit::OK)
}
