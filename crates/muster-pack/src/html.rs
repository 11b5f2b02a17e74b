//! `index.html`: the pack for people, one self-contained page (styles and charts inline, no
//! script, no request to anywhere), with a print stylesheet so it prints as the board paper.

use maud::{DOCTYPE, Markup, html};

use crate::SECTIONS;
use crate::model::*;
use crate::plots;

const STYLE: &str = r#"
:root { --ink:#1f2328; --muted:#59636e; --line:#d0d7de; --fail:#b42318; --pass:#1a7f37; --unknown:#9a6700; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 60rem; padding: 1.5rem; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
.meta { color: var(--muted); }
.verdict { display: inline-block; font-weight: 700; padding: .1rem .6rem; border-radius: .3rem; color: #fff; text-transform: uppercase; }
.v-fail { background: var(--fail); } .v-pass { background: var(--pass); } .v-inconclusive { background: var(--unknown); }
.t-fail, .t-not-ready { color: var(--fail); font-weight: 600; } .t-pass, .t-ready { color: var(--pass); font-weight: 600; }
.t-inconclusive, .t-unproven { color: var(--unknown); font-weight: 600; }
.headline { font-size: 1.15rem; font-weight: 600; }
.warning { border: 3px solid var(--fail); padding: .6rem 1rem; font-weight: 700; color: var(--fail); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
thead { display: table-header-group; }
tr.top td { background: #fff8c5; }
pre.ticket { white-space: pre-wrap; background: #f6f8fa; border-left: 4px solid var(--line); padding: .6rem .8rem; font-size: .9rem; }
blockquote { margin: .3rem 0; padding-left: .8rem; border-left: 3px solid var(--line); color: var(--muted); }
code, .digest { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .85rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
nav ol { columns: 2; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  section { break-inside: auto; }
  tr, figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  @page { size: A4; margin: 16mm 14mm; }
}
"#;

fn verdict_badge(verdict: &str) -> Markup {
    html! { span class={ "verdict v-" (verdict) } { (verdict) } }
}

fn status(text: &str) -> Markup {
    html! { span class={ "t-" (text) } { (text) } }
}

fn none_recorded() -> Markup {
    html! { p class="meta" { "None recorded." } }
}

fn ms(ms: Option<f64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms >= 1000.0 => format!("{:.1} s", ms / 1000.0),
        Some(ms) => format!("{ms:.0} ms"),
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0} %", r * 100.0))
}

fn section(id: &str, body: Markup) -> Markup {
    let heading = SECTIONS
        .iter()
        .find(|(sid, _)| *sid == id)
        .map_or(id, |(_, h)| *h);
    html! {
        section id=(id) class="pack-section" {
            h2 { (heading) }
            (body)
        }
    }
}

/// The page. `charts` are the SVGs from [`plots::all`].
pub fn render(pack: &Pack, charts: &[(&'static str, String)]) -> String {
    let chart = |path: &str| {
        charts
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, svg)| plots::inline(svg))
    };
    let s = &pack.subject;
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                title { (pack.title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (pack.title) }
                    p class="meta" {
                        @match (&s.drill_id, &s.exercise) {
                            (Some(id), _) => { "Drill " code { (id) } }
                            (None, Some(x)) => { "Tabletop exercise " code { (x.id) } " (no drill)" }
                            (None, None) => { "No drill" }
                        }
                        " · " (s.environment) " · started " (s.started_at)
                        @if let Some(f) = &s.finished_at { " · finished " (f) }
                        " · " (s.status)
                    }
                    @if let Some(w) = &pack.redaction.warning { p class="warning" { (w) } }
                }
                nav { ol { @for (id, heading) in SECTIONS { li { a href={ "#" (id) } { (heading) } } } } }
                (section("summary", html! {
                    p { "Verdict: " (verdict_badge(&pack.summary.verdict)) }
                    p class="headline" { (pack.summary.headline) }
                    p class="meta" {
                        (pack.summary.conversations.pass) " conversations passed, "
                        (pack.summary.conversations.fail) " failed, "
                        (pack.summary.conversations.inconclusive) " inconclusive."
                    }
                    h3 { "Readiness per control and team capability" }
                    @if pack.summary.readiness.is_empty() { (none_recorded()) } @else {
                        table { thead { tr { th { "Control" } th { "Readiness" } th { "What the drill showed" } } }
                            tbody { @for r in &pack.summary.readiness { tr { td { (r.title) } td { (status(&r.readiness)) } td { (r.detail) } } } } }
                    }
                    h3 { "Top risks" }
                    @if pack.summary.top_risks.is_empty() { (none_recorded()) } @else {
                        ol { @for r in &pack.summary.top_risks { li { strong { (r.title) } " — " (r.severity) ", " (r.mode) ": " (r.detail) } } }
                    }
                    h3 { "What must happen before launch" }
                    @if pack.summary.before_launch.is_empty() { p { "Nothing: every scenario and control passed." } } @else {
                        ol { @for b in &pack.summary.before_launch { li { (b) } } }
                    }
                }))
                (section("scenarios", html! {
                    @if let Some(c) = chart(plots::PASS_RATES) { figure { (c) } }
                    @if pack.scenarios.is_empty() { (none_recorded()) }
                    @for sc in &pack.scenarios {
                        article class="scenario" {
                            h3 { (sc.title) " " (verdict_badge(&sc.verdict)) }
                            p class="meta" {
                                code { (sc.id) } " · " (sc.mode) " failure · severity " (sc.severity)
                                @if !sc.vectors.is_empty() { " · vectors: " (sc.vectors.join(", ")) }
                            }
                            @match &sc.ticket {
                                Some(t) => pre class="ticket" { (t) },
                                None => p class="meta" { "The scenario's text is " (sc.text_status) " since the drill, so it is not shown; its recorded digest is " code { (sc.digest) } "." },
                            }
                            @if let Some(p) = &sc.persona { p { strong { "Customer: " } (p) } }
                            p {
                                "Runs: " (sc.runs) " (" (sc.passed) " passed, " (sc.failed) " failed, " (sc.inconclusive) " inconclusive). Pass rate " (percent(sc.pass_rate))
                                @if let Some([lo, hi]) = sc.interval { " (95 % interval " (percent(Some(lo))) "–" (percent(Some(hi))) ")" }
                                "."
                            }
                            @if let Some(r) = &sc.reason { p { strong { "Why: " } (r) } }
                            @if !sc.expectations.is_empty() {
                                p { strong { "Expected: " } } ul { @for e in &sc.expectations { li { (e) } } }
                            }
                        }
                    }
                }))
                (section("journeys", html! {
                    @if pack.journeys.is_empty() { (none_recorded()) } @else {
                        table { thead { tr { th { "Journey" } th { "Result" } th { "Scenarios" } th { "Failed" } } }
                            tbody { @for j in &pack.journeys { tr { td { (j.journey) } td { (status(&j.verdict)) } td { (j.scenarios.join(", ")) } td { (j.failed.join(", ")) } } } } }
                    }
                }))
                (section("severity", html! {
                    p { "Assessed severity: " strong { (pack.severity.assessed) } " — " (pack.severity.basis) "." }
                    table { thead { tr { th { "Level" } th { "Meaning" } } }
                        tbody { @for l in &pack.severity.definition { tr { td { (l.level) } td { (l.meaning) } } } } }
                    @if !pack.severity.changes.is_empty() {
                        h3 { "Severity calls in the exercise" }
                        table { thead { tr { th { "When" } th { "Level" } th { "By" } th { "Rationale" } } }
                            tbody { @for c in &pack.severity.changes { tr { td { (c.at) } td { (c.level) } td { (c.by.as_deref().unwrap_or("—")) } td { (c.rationale) } } } } }
                    }
                }))
                (section("timeline", html! {
                    @if let Some(c) = chart(plots::TIMELINE) { figure { (c) } }
                    p class="meta" {
                        "The table lists milestones (" (pack.timeline.rows.len()) " rows"
                        @if pack.timeline.truncated { ", the first " (pack.timeline.limit) } "); every one of the "
                        (pack.timeline.events_total) " events is in evidence.jsonl."
                    }
                    @if pack.timeline.rows.is_empty() { (none_recorded()) } @else {
                        table { thead { tr { th { "Time (UTC)" } th { "+s" } th { "System" } th { "What happened" } } }
                            tbody { @for r in &pack.timeline.rows { tr { td { (r.at) } td { (format!("{:.1}", r.offset_ms / 1000.0)) } td { (r.system) } td { (r.summary) } } } } }
                    }
                }))
                (section("decisions", html! {
                    @if pack.decisions.is_empty() { (none_recorded()) }
                    @for d in &pack.decisions {
                        article {
                            h3 { (d.title) }
                            p class="meta" { (d.at) " · " (d.source) @if let Some(by) = &d.by { " · " (by) } }
                            p { strong { "Decision: " } (d.decision) }
                            @if !d.rationale.is_empty() { p { strong { "Rationale: " } (d.rationale) } }
                            p { strong { "Known at the time:" } }
                            @if d.known.is_empty() { (none_recorded()) } @else { ul { @for k in &d.known { li { (k) } } } }
                            p { strong { "Not known at the time:" } }
                            @if d.not_known.is_empty() { p class="meta" { "Nothing recorded as unknown." } } @else { ul { @for k in &d.not_known { li { (k) } } } }
                        }
                    }
                }))
                (section("systems", html! {
                    table { thead { tr { th { "System" } th { "Streams" } th { "Events" } th { "First" } th { "Last" } } }
                        tbody { @for sy in &pack.systems.systems { tr { td { (sy.system) } td { (sy.streams) } td { (sy.events) } td { (sy.first.as_deref().unwrap_or("—")) } td { (sy.last.as_deref().unwrap_or("—")) } } } } }
                    @let a = &pack.systems.audit;
                    h3 { "Evidence-chain audit" }
                    p {
                        (a.events_checked) " events in " (a.streams_checked) " hash-chained streams re-computed: "
                        @if a.intact { span class="t-pass" { "intact" } } @else { span class="t-fail" { "NOT intact" } } "."
                    }
                    @if !a.problems.is_empty() { ul { @for p in &a.problems { li class="t-fail" { (p) } } } }
                    p { "Root digest: " code { (a.root_digest.as_deref().unwrap_or("none (the drill was never sealed)")) } }
                    p {
                        "muster.lock: "
                        @match &a.lock_root_digest {
                            Some(l) if Some(l) == a.root_digest.as_ref() => { span class="t-pass" { "records the same root" } }
                            Some(l) => { span class="t-fail" { "records a different root " code { (l) } } }
                            None => { "does not record this drill" }
                        }
                    }
                    @if let Some(x) = &a.exercise_log {
                        p { "Exercise log: " (x.entries) " entries, chain "
                            @if x.intact { span class="t-pass" { "intact" } } @else { span class="t-fail" { "NOT intact" } } "." }
                    }
                }))
                (section("findings", html! {
                    @for m in &pack.findings {
                        h3 { (m.mode) " failures (" (m.failed_runs) " failed runs)" }
                        @if m.findings.is_empty() { p class="meta" { "No failure of this kind." } }
                        @for fi in &m.findings {
                            article {
                                p { strong { (fi.scenario) } " · " code { (fi.expectation) } " · " (fi.failed_runs) " run(s): " (fi.reason) }
                                @if let Some(x) = &fi.excerpt { blockquote { (x) } }
                                @if let Some(w) = &fi.why { p class="meta" { (w) } }
                                p class="meta" {
                                    @if let Some(e) = &fi.evidence { "Evidence: " code { (e) } ". " }
                                    @if !fi.frameworks.is_empty() { "Frameworks: " (fi.frameworks.join(", ")) }
                                }
                            }
                        }
                    }
                }))
                (section("controls", html! {
                    @if let Some(c) = chart(plots::CONTROLS) { figure { (c) } }
                    @if pack.controls.is_empty() { (none_recorded()) } @else {
                        table { thead { tr { th { "Control" } th { "Claimed" } th { "Measured" } th { "Result" } th { "Why" } } }
                            tbody { @for c in &pack.controls { tr { td { (c.title) } td { (c.claimed.as_deref().unwrap_or("—")) } td { (ms(c.measured_ms)) } td { (status(&c.verdict)) } td { (c.reason) } } } } }
                    }
                }))
                (section("gaps", html! {
                    @if pack.gaps.is_empty() { (none_recorded()) } @else {
                        table { thead { tr { th { "Gap" } th { "Source" } th { "Detail" } th { "Frameworks" } } }
                            tbody { @for g in &pack.gaps { tr {
                                td { (g.gap) } td { (g.source) } td { (g.detail) }
                                td { @for (i, fr) in g.frameworks.iter().enumerate() {
                                    @if i > 0 { br; }
                                    code { (fr.key) } @if let Some(n) = &fr.name { " " (n) }
                                } }
                            } } } }
                    }
                }))
                (section("remediation", html! {
                    @if pack.remediation.is_empty() { (none_recorded()) } @else {
                        p class="meta" { "The five to do first are highlighted." }
                        table { thead { tr { th { "#" } th { "Action" } th { "Owner" } th { "Due" } th { "Status" } } }
                            tbody { @for (i, a) in pack.remediation.iter().enumerate() {
                                tr class=[a.top.then_some("top")] { td { (i + 1) @if a.top { " ★" } } td { (a.title) } td { (a.owner) } td { (a.due) } td { (a.status) } }
                            } } }
                    }
                }))
                (section("people", html! {
                    @if pack.people.is_empty() { (none_recorded()) } @else {
                        table { thead { tr { th { "Name" } th { "Role" } th { "Capacity" } } }
                            tbody { @for p in &pack.people { tr { td { (p.name) } td { (p.role) } td { (p.capacity) } } } } }
                    }
                }))
                (section("method", html! {
                    @let m = &pack.method;
                    table { tbody {
                        tr { th { "muster version" } td { (m.muster_version) } }
                        tr { th { "Agent manifest" } td { @match &m.agent_manifest {
                            Some(a) => { (a.source) br; code { (a.sha256) } }
                            None => { "none: no drill was run" }
                        } } }
                        @if let Some(model) = &m.model { tr { th { "Model" } td { (model.provider) " " (model.name) " " (model.version.as_deref().unwrap_or("")) } } }
                        tr { th { "Times" } td { (m.started_at) " → " (m.finished_at.as_deref().unwrap_or("not finished")) " (" (ms(m.wall_ms)) ")" } }
                        tr { th { "Conversations / events" } td { (m.conversations) " / " (m.evidence_events) } }
                        tr { th { "Pass policy" } td { @for p in &m.policy { (p) br; } } }
                        tr { th { "Reproduce" } td { code { (m.reproduce) } } }
                    } }
                    h3 { "Scenario digests" }
                    table { thead { tr { th { "Scenario" } th { "Source" } th { "SHA-256" } } }
                        tbody { @for sc in &m.scenarios { tr { td { (sc.id) } td { (sc.source) } td { code { (sc.sha256) } } } } } }
                }))
                (section("integrity", html! {
                    @let i = &pack.integrity;
                    p { "Every file of this pack is listed with its SHA-256 in " code { (i.manifest_file) } ", which is signed with Ed25519 in " code { (i.signature_file) } "." }
                    p { "Signer fingerprint: " code class="digest" { (i.signer_fingerprint) } }
                    p { "Evidence: " (i.evidence_events) " events in " code { (i.evidence_file) } ", chained to root " code class="digest" { (i.root_digest.as_deref().unwrap_or("none")) } "; "
                        (pack.redaction.evidence_fields_withheld) " field value(s) holding personal data are withheld there and verify through their digests." }
                    @if let Some(log) = &pack.systems.audit.exercise_log {
                        p { "The exercise's log: " (log.entries) " entries in " code { (crate::EXERCISE_LOG_FILE) } ", chained from the exercise's start to "
                            code class="digest" { (log.head.as_deref().unwrap_or("nothing")) } "." }
                    }
                    p { "To check it: " code { (i.how_to_verify) } }
                }))
            }
        }
    }
    .into_string()
}
