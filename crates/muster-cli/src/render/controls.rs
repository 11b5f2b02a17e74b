//! The control-readiness table: control, claimed, measured, verdict, evidence.

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use muster_control::{ControlReport, ControlResult, seconds};
use muster_drill::Verdict;

fn verdict_cell(v: Verdict, color: bool) -> Cell {
    let cell = Cell::new(v.as_str().to_uppercase());
    if !color {
        return cell;
    }
    cell.fg(match v {
        Verdict::Pass => Color::Green,
        Verdict::Fail => Color::Red,
        Verdict::Inconclusive => Color::Yellow,
    })
}

/// The readiness table for these rows.
pub fn readiness_table(rows: &[ControlResult], color: bool, width: u16) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(vec![
        "CONTROL", "CLAIMED", "MEASURED", "VERDICT", "WHY", "EVIDENCE",
    ]);
    for r in rows {
        let mut why = r.reason.clone();
        for e in &r.rollback_errors {
            why.push_str(&format!(" ROLLBACK FAILED: {e}"));
        }
        table.add_row(vec![
            Cell::new(&r.title),
            Cell::new(r.claimed.as_deref().unwrap_or("—")),
            Cell::new(r.measured_ms.map_or_else(|| "—".to_owned(), seconds)),
            verdict_cell(r.verdict, color),
            Cell::new(why),
            Cell::new(&r.evidence),
        ]);
    }
    table.to_string()
}

/// Everything the control drills found, for the terminal.
pub fn control_report(report: &ControlReport, color: bool, width: u16) -> String {
    let mut out = String::from("Control readiness\n");
    out.push_str(&readiness_table(&report.controls, color, width));
    out.push('\n');
    if !report.shutdown.is_empty() {
        out.push_str("\nShutdown criteria, over this drill's findings\n");
        for s in &report.shutdown {
            out.push_str(&format!(
                "  {} {}: {}\n",
                if s.fired { "FIRED  " } else { "quiet  " },
                s.id,
                s.explanation
            ));
        }
    }
    if let Some(n) = &report.notice {
        out.push_str(&format!(
            "\nCustomer correction notice (sha256 {}…), for approval by {}:\n",
            &n.digest[..12.min(n.digest.len())],
            if n.approvers.is_empty() {
                "comms-lead".to_owned()
            } else {
                n.approvers.join(", ")
            }
        ));
        for line in n.text.lines() {
            out.push_str(&format!("  │ {line}\n"));
        }
    }
    out
}
