//! The charts, as SVG drawn from the pack alone: pass rates with their intervals, the timeline,
//! and control times against their claims. The same SVG is inlined in the HTML, written under
//! `plots/` and placed in the PDF.

use maud::{Markup, PreEscaped, html};

use crate::model::{ControlCheck, Pack, ScenarioSection};
use crate::stats::wilson;

pub const PASS_RATES: &str = "plots/pass-rates.svg";
pub const TIMELINE: &str = "plots/timeline.svg";
pub const CONTROLS: &str = "plots/controls.svg";

const WIDTH: f64 = 760.0;
const LABEL: f64 = 270.0;
const ROW: f64 = 22.0;
const FAIL: &str = "#b42318";
const PASS: &str = "#1a7f37";
const UNKNOWN: &str = "#9a6700";
const INK: &str = "#1f2328";
const GRID: &str = "#d0d7de";

/// Every chart: (path in the pack, SVG text).
pub fn all(pack: &Pack) -> Vec<(&'static str, String)> {
    vec![
        (PASS_RATES, pass_rates(pack)),
        (TIMELINE, timeline(pack)),
        (CONTROLS, controls(&pack.controls)),
    ]
}

fn colour(verdict: &str) -> &'static str {
    match verdict {
        "pass" => PASS,
        "fail" => FAIL,
        _ => UNKNOWN,
    }
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

fn svg(height: f64, title: &str, body: Markup) -> String {
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(f(WIDTH)) height=(f(height))
            viewBox={ "0 0 " (f(WIDTH)) " " (f(height)) } role="img"
            font-family="Helvetica, Arial, sans-serif" font-size="12" {
            title { (title) }
            (body)
        }
    }
    .into_string()
}

struct RateRow<'a> {
    label: String,
    bold: bool,
    passed: u64,
    judged: u64,
    verdict: &'a str,
}

fn pass_rates(pack: &Pack) -> String {
    let mut rows: Vec<RateRow<'_>> = Vec::new();
    for mode in &pack.findings {
        let of_mode: Vec<&ScenarioSection> = pack
            .scenarios
            .iter()
            .filter(|s| s.mode == mode.mode)
            .collect();
        if of_mode.is_empty() {
            continue;
        }
        let passed = of_mode.iter().map(|s| s.passed).sum();
        let judged = of_mode.iter().map(|s| s.passed + s.failed).sum();
        let worst = if of_mode.iter().any(|s| s.verdict == "fail") {
            "fail"
        } else if of_mode.iter().any(|s| s.verdict != "pass") {
            "inconclusive"
        } else {
            "pass"
        };
        rows.push(RateRow {
            label: format!("{} (failure mode)", mode.mode),
            bold: true,
            passed,
            judged,
            verdict: worst,
        });
        for s in of_mode {
            rows.push(RateRow {
                label: format!("  {}", s.id),
                bold: false,
                passed: s.passed,
                judged: s.passed + s.failed,
                verdict: &s.verdict,
            });
        }
    }
    let top = 30.0;
    let height = top + ROW * rows.len().max(1) as f64 + 30.0;
    let plot = WIDTH - LABEL - 60.0;
    let x = |rate: f64| LABEL + rate * plot;
    let body = html! {
        text x="0" y="16" font-weight="bold" fill=(INK) { "Pass rate per failure mode and scenario, with 95 % Wilson interval" }
        @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            line x1=(f(x(tick))) x2=(f(x(tick))) y1=(f(top - 4.0)) y2=(f(height - 26.0)) stroke=(GRID) {}
            text x=(f(x(tick))) y=(f(height - 10.0)) text-anchor="middle" fill=(INK) { (format!("{:.0} %", tick * 100.0)) }
        }
        @if rows.is_empty() {
            text x=(f(LABEL)) y=(f(top + 14.0)) fill=(INK) { "No scenario was run." }
        }
        @for (i, row) in rows.iter().enumerate() {
            @let y = top + ROW * i as f64 + ROW / 2.0;
            text x="4" y=(f(y + 4.0)) fill=(INK) font-weight=(if row.bold { "bold" } else { "normal" }) { (row.label) }
            @if row.judged == 0 {
                text x=(f(LABEL + 4.0)) y=(f(y + 4.0)) fill=(UNKNOWN) { "no run judged" }
            } @else {
                @let rate = row.passed as f64 / row.judged as f64;
                @let [lo, hi] = wilson(row.passed, row.judged);
                rect x=(f(LABEL)) y=(f(y - 6.0)) width=(f(rate * plot)) height="12" fill=(colour(row.verdict)) opacity="0.75" {}
                line x1=(f(x(lo))) x2=(f(x(hi))) y1=(f(y)) y2=(f(y)) stroke=(INK) stroke-width="1.5" {}
                line x1=(f(x(lo))) x2=(f(x(lo))) y1=(f(y - 5.0)) y2=(f(y + 5.0)) stroke=(INK) {}
                line x1=(f(x(hi))) x2=(f(x(hi))) y1=(f(y - 5.0)) y2=(f(y + 5.0)) stroke=(INK) {}
                text x=(f(WIDTH - 4.0)) y=(f(y + 4.0)) text-anchor="end" fill=(INK) { (row.passed) "/" (row.judged) }
            }
        }
    };
    svg(height, "Pass rates", body)
}

fn timeline(pack: &Pack) -> String {
    let lanes = &pack.timeline.lanes;
    let top = 30.0;
    let height = top + ROW * lanes.lanes.len().max(1) as f64 + 34.0;
    let plot = WIDTH - LABEL - 10.0;
    let buckets = lanes.buckets.max(1) as f64;
    let width = plot / buckets;
    let peak = lanes
        .lanes
        .iter()
        .flat_map(|l| l.events.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let seconds = lanes.span_ms / 1000.0;
    let body = html! {
        text x="0" y="16" font-weight="bold" fill=(INK) {
            "Every recorded event over the drill (" (pack.timeline.events_total) " events, " (format!("{seconds:.1}")) " s); red marks a failing verdict"
        }
        @for tick in 0..=4 {
            @let share = f64::from(tick) / 4.0;
            line x1=(f(LABEL + share * plot)) x2=(f(LABEL + share * plot)) y1=(f(top - 4.0)) y2=(f(height - 28.0)) stroke=(GRID) {}
            text x=(f(LABEL + share * plot)) y=(f(height - 12.0)) text-anchor=(if tick == 4 { "end" } else { "middle" }) fill=(INK) { (format!("{:.1} s", share * seconds)) }
        }
        @for (i, lane) in lanes.lanes.iter().enumerate() {
            @let y = top + ROW * i as f64;
            text x="4" y=(f(y + 15.0)) fill=(INK) { (lane.name) }
            @for (b, n) in lane.events.iter().enumerate() {
                @if *n > 0 {
                    rect x=(f(LABEL + b as f64 * width)) y=(f(y + 4.0)) width=(f(width.max(1.0))) height="14"
                        fill="#0969da" opacity=(format!("{:.2}", 0.2 + 0.8 * f64::from(*n) / peak)) {}
                }
            }
            @for (b, n) in lane.failures.iter().enumerate() {
                @if *n > 0 {
                    rect x=(f(LABEL + b as f64 * width)) y=(f(y + 2.0)) width=(f(width.max(2.0))) height="18" fill=(FAIL) {}
                }
            }
        }
    };
    svg(height, "Timeline", body)
}

fn controls(controls: &[ControlCheck]) -> String {
    let top = 30.0;
    let height = top + ROW * controls.len().max(1) as f64 + 34.0;
    let plot = WIDTH - LABEL - 90.0;
    let max_ms = controls
        .iter()
        .flat_map(|c| [c.claimed_ms, c.measured_ms])
        .flatten()
        .fold(1000.0_f64, f64::max);
    // Log scale from 1 ms: control times run from milliseconds to minutes.
    let decades = max_ms.log10().ceil().max(1.0);
    let x = |ms: f64| LABEL + (ms.max(1.0).log10() / decades) * plot;
    let body = html! {
        text x="0" y="16" font-weight="bold" fill=(INK) { "Control times, measured (bar) against claimed (black mark), log scale" }
        @for d in 0..=(decades as u32) {
            @let ms = 10f64.powi(d as i32);
            line x1=(f(x(ms))) x2=(f(x(ms))) y1=(f(top - 4.0)) y2=(f(height - 28.0)) stroke=(GRID) {}
            text x=(f(x(ms))) y=(f(height - 12.0)) text-anchor="middle" fill=(INK) { (duration_label(ms)) }
        }
        @if controls.is_empty() {
            text x=(f(LABEL)) y=(f(top + 14.0)) fill=(INK) { "No control was drilled." }
        }
        @for (i, c) in controls.iter().enumerate() {
            @let y = top + ROW * i as f64 + ROW / 2.0;
            text x="4" y=(f(y + 4.0)) fill=(INK) { (c.title) }
            @match c.measured_ms {
                Some(ms) => {
                    rect x=(f(LABEL)) y=(f(y - 6.0)) width=(f((x(ms) - LABEL).max(1.5))) height="12" fill=(colour(&c.verdict)) opacity="0.8" {}
                }
                None => {
                    text x=(f(LABEL + 4.0)) y=(f(y + 4.0)) fill=(colour(&c.verdict)) { "not measured" }
                }
            }
            @if let Some(claim) = c.claimed_ms {
                line x1=(f(x(claim))) x2=(f(x(claim))) y1=(f(y - 9.0)) y2=(f(y + 9.0)) stroke=(INK) stroke-width="2.5" {}
            }
            text x=(f(WIDTH - 4.0)) y=(f(y + 4.0)) text-anchor="end" fill=(colour(&c.verdict)) { (c.verdict) }
        }
    };
    svg(height, "Control times", body)
}

fn duration_label(ms: f64) -> String {
    if ms >= 60_000.0 {
        format!("{:.0} min", ms / 60_000.0)
    } else if ms >= 1000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// The SVG as markup to inline in the HTML.
pub fn inline(svg: &str) -> Markup {
    PreEscaped(svg.to_owned())
}
