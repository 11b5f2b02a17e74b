//! `muster assess`: the drill an agent owes, from its manifest.

use muster_assess::{AdmClass, Assessment, Cadence, ControlStatus, assess};
use muster_model::tree::SpanIndex;

use crate::cli::AssessArgs;
use crate::context::Context;
use crate::error::{CliError, exit};
use crate::load::{manifest_from_text, read};
use crate::lockfile::read_lock;

pub fn run(ctx: &Context, args: &AssessArgs) -> Result<u8, CliError> {
    let label = args.agent.display().to_string();
    let text = read(&args.agent)?;
    let manifest = manifest_from_text(&label, &text)
        .map_err(|p| crate::load::report_problems(std::slice::from_ref(&p), ctx.color))?;
    let spans = muster_model::load_agent(&text).spans;
    let assessment = assess(&manifest);
    let lock_path = ctx.lock_path(args.lock.as_deref());
    let lock = read_lock(&lock_path)?;
    let last = lock.agents.get(&manifest.name).and_then(|e| {
        let at: jiff::Timestamp = e.drilled_at.parse().ok()?;
        let date = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        Some((date, assessment.cadence.next_due(date), e.drill_id.clone()))
    });
    let at = |pointer: &str| locate(&label, &spans, pointer);
    if args.json {
        let mut value =
            serde_json::to_value(&assessment).map_err(|e| CliError::internal(e.to_string()))?;
        annotate(&mut value, "reasons", &at);
        annotate(&mut value, "controls", &at);
        let catalogue = crate::commands::controls::catalogue()?;
        if let Some(controls) = value
            .get_mut("controls")
            .and_then(serde_json::Value::as_array_mut)
        {
            for (item, check) in controls.iter_mut().zip(&assessment.controls) {
                item["keys"] = serde_json::json!(catalogue.expand(&check.control.key()));
            }
        }
        annotate(&mut value, "adm", &at);
        if let Some((date, due, drill)) = &last {
            value["last_drill"] = serde_json::json!({"date": date.to_string(), "drill_id": drill, "next_due": due.to_string()});
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        print!(
            "{}",
            render(&assessment, &at, last.as_ref().map(|(d, n, _)| (*d, *n)))
        );
    }
    Ok(if assessment.gaps().next().is_some() {
        exit::FAILED
    } else {
        exit::OK
    })
}

/// `file:line:column` of a manifest field, or a note that the file does not have it.
fn locate(label: &str, spans: &SpanIndex, pointer: &str) -> String {
    match spans.get(pointer).and(spans.key_or_value_span(pointer)) {
        Some(span) => format!("{label}:{}:{}", span.start.line, span.start.column),
        None => format!("{label} (not declared)"),
    }
}

fn annotate(value: &mut serde_json::Value, list: &str, at: &impl Fn(&str) -> String) {
    if let Some(items) = value
        .get_mut(list)
        .and_then(serde_json::Value::as_array_mut)
    {
        for item in items {
            if let Some(field) = item.get("field").and_then(serde_json::Value::as_str) {
                let location = at(field);
                item["at"] = serde_json::Value::String(location);
            }
        }
    }
}

pub fn render(
    a: &Assessment,
    at: &impl Fn(&str) -> String,
    last: Option<(jiff::civil::Date, jiff::civil::Date)>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}: tier {} ({})\n\nWhy\n",
        a.agent,
        a.tier.number(),
        a.tier_label
    ));
    for r in &a.reasons {
        out.push_str(&format!(
            "  tier {}  {}\n          at {}\n",
            r.tier.number(),
            r.text,
            at(&r.field)
        ));
    }
    out.push_str(&format!(
        "\nDrill required before launch: {}\n  {}\n",
        a.required_drill.name, a.required_drill.description
    ));
    for part in &a.required_drill.parts {
        out.push_str(&format!("  - {part}\n"));
    }
    let required = a.controls.iter().filter(|c| c.required).count();
    let gaps = a.gaps().count();
    out.push_str(&format!(
        "\nControls ({required} required for tier {}, {gaps} missing or incomplete)\n",
        a.tier.number()
    ));
    for c in &a.controls {
        let mark = match (c.status, c.required) {
            (ControlStatus::Declared, _) => "ok  ",
            (ControlStatus::NotApplicable, _) => "n/a ",
            (_, true) => "GAP ",
            (_, false) => "--  ",
        };
        out.push_str(&format!(
            "  {mark} {:<48} {}{}\n       {}\n",
            c.title,
            c.status.as_str(),
            if c.required {
                ""
            } else {
                " (not required for this tier)"
            },
            c.detail
        ));
        if c.status != ControlStatus::Declared {
            out.push_str(&format!("       at {}\n", at(&c.field)));
        }
    }
    out.push_str("\nAutomated decisions (UK GDPR Arts 22A–22D)\n");
    if a.adm.is_empty() {
        out.push_str("  The agent makes or influences no declared decisions.\n");
    }
    for d in &a.adm {
        out.push_str(&format!(
            "  {}: {}\n    {}\n",
            d.id,
            d.class.as_str(),
            d.why
        ));
        if !d.missing_safeguards.is_empty() {
            let names: Vec<&str> = d.missing_safeguards.iter().map(|s| s.as_str()).collect();
            out.push_str(&format!(
                "    Art. 22C safeguards not declared: {} (add `safeguards:` at {})\n",
                names.join(", "),
                at(&d.field)
            ));
        }
        if d.prohibited {
            out.push_str("    PROHIBITED: special-category data with no Art. 22B basis (explicit consent or required by law)\n");
        }
        if d.class == AdmClass::Undetermined {
            for q in d.questions.iter().filter(|q| q.answer.is_none()) {
                out.push_str(&format!("    open question: {}\n", q.question));
            }
        }
    }
    out.push_str(&cadence_text(&a.cadence, last));
    out
}

fn cadence_text(c: &Cadence, last: Option<(jiff::civil::Date, jiff::civil::Date)>) -> String {
    let mut out = format!("\nCadence: {} (every {} months)", c.label, c.months);
    match last {
        Some((date, due)) => out.push_str(&format!("; last drilled {date}, next due {due}\n")),
        None => out.push_str("; no drill recorded in muster.lock yet\n"),
    }
    out.push_str("Drill again sooner when:\n");
    for t in &c.triggers {
        out.push_str(&format!("  - {t}\n"));
    }
    out
}
