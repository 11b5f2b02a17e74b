//! `muster reconstruct --html`: the timeline as one self-contained page (no external requests,
//! prints cleanly): a lane per source drawn in SVG, the gaps, the keys that linked it, and every
//! event with how it was linked. Inferred events are drawn hollow and labelled as such.

use std::fmt::Write as _;

use muster_reconstruct::{Gap, LinkedEvent, Reconstruction};

use crate::commands::evidence::{actor, redacted, time};

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A colour per kind family, so lanes read at a glance.
fn colour(kind: &str) -> &'static str {
    match kind {
        "customer.message" => "#2b6cb0",
        "agent.message" => "#2f855a",
        "tool.call" => "#c05621",
        "account.change" => "#b7791f",
        "ticket.event" | "escalation.decision" => "#6b46c1",
        "alert" | "control.action" => "#c53030",
        _ => "#718096",
    }
}

const WIDTH: f64 = 960.0;
const LEFT: f64 = 180.0;
const LANE: f64 = 30.0;

fn lanes_svg(events: &[LinkedEvent]) -> String {
    let mut sources: Vec<&str> = events.iter().map(|e| e.event.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let times = events.iter().map(|e| e.event.event.time_ns);
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return String::new();
    };
    let span = (last - first).max(1) as f64;
    let height = LANE * sources.len() as f64 + 30.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="events by source over time">"#
    );
    for (i, source) in sources.iter().enumerate() {
        let y = LANE * i as f64 + LANE / 2.0;
        let _ = write!(
            svg,
            r##"<text x="4" y="{:.1}" font-size="12" fill="#1a202c">{}</text><line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e2e8f0"/>"##,
            y + 4.0,
            esc(source),
            WIDTH - 10.0
        );
    }
    for e in events {
        let lane = sources
            .iter()
            .position(|s| *s == e.event.source)
            .unwrap_or(0);
        let x = LEFT + (e.event.event.time_ns - first) as f64 / span * (WIDTH - LEFT - 20.0);
        let y = LANE * lane as f64 + LANE / 2.0;
        let kind = e.event.event.kind.name();
        let fill = if e.link.is_inferred() {
            "none"
        } else {
            colour(kind)
        };
        let _ = write!(
            svg,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{fill}" stroke="{}" stroke-width="1.5"><title>{} {} ({})</title></circle>"#,
            colour(kind),
            esc(&time(e.event.event.time_ns)),
            esc(kind),
            esc(&e.link.label())
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="{:.1}" font-size="11" fill="#4a5568">{}</text><text x="{:.1}" y="{:.1}" font-size="11" fill="#4a5568" text-anchor="end">{}</text></svg>"##,
        height - 6.0,
        esc(&time(first)),
        WIDTH - 10.0,
        height - 6.0,
        esc(&time(last))
    );
    svg
}

/// The page. `raw` shows personal data unredacted (the access was audited before).
pub fn page(what: &str, timeline: &Reconstruction, gaps: &[Gap], raw: bool, ms: f64) -> String {
    let events = &timeline.events;
    let inferred = events.iter().filter(|e| e.link.is_inferred()).count();
    let mut sources: Vec<&str> = events.iter().map(|e| e.event.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Incident timeline: {}</title><style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a202c;margin:2rem auto;max-width:1100px;padding:0 1rem}}
h1{{font-size:1.4rem}} h2{{font-size:1.1rem;margin-top:1.6rem}}
table{{border-collapse:collapse;width:100%}} th,td{{text-align:left;vertical-align:top;padding:4px 6px;border-bottom:1px solid #e2e8f0}}
th{{background:#f7fafc}} td.content{{white-space:pre-wrap;word-break:break-word}}
tr.inferred td{{font-style:italic;color:#4a5568;background:#fffaf0}}
.badge{{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#edf2f7}}
.inferred .badge{{background:#feebc8}} .gap{{color:#9b2c2c}} .note{{color:#4a5568}}
.warn{{background:#fff5f5;border:1px solid #feb2b2;padding:6px 10px}}
@media print{{body{{margin:0;max-width:none}} tr{{break-inside:avoid}}}}
</style></head><body>"#,
        esc(what)
    );
    let _ = write!(html, "<h1>Incident timeline: {}</h1>", esc(what));
    let _ = write!(
        html,
        r#"<p>{} events from {} sources ({}){}; reconstructed in {ms:.1} ms, {} rounds of linking{}.</p>"#,
        events.len(),
        sources.len(),
        esc(&sources.join(", ")),
        if inferred > 0 {
            format!(", {inferred} of them <em>inferred</em> by time and customer only")
        } else {
            String::new()
        },
        timeline.rounds,
        if timeline.truncated {
            ", <strong>truncated</strong>"
        } else {
            ""
        }
    );
    if raw {
        html.push_str(r#"<p class="warn">Personal data is shown unredacted. This access was recorded in the evidence store's access audit.</p>"#);
    } else {
        html.push_str(r#"<p class="note">Personal data is redacted.</p>"#);
    }
    html.push_str(&lanes_svg(events));
    html.push_str("<h2>Gaps</h2>");
    if gaps.is_empty() {
        html.push_str("<p>None found.</p>");
    } else {
        html.push_str("<ul>");
        for g in gaps {
            let _ = write!(
                html,
                r#"<li class="gap">{}{} {}</li>"#,
                g.time_ns
                    .map(|t| format!("{} ", esc(&time(t))))
                    .unwrap_or_default(),
                g.event
                    .as_deref()
                    .map(|e| format!("<code>{}</code>", esc(e)))
                    .unwrap_or_default(),
                esc(&g.message)
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("<h2>Linked by</h2><ul>");
    let k = &timeline.keys;
    for (name, set) in [
        ("conversations", &k.conversations),
        ("customers", &k.customers),
        ("traces", &k.traces),
        ("tickets", &k.tickets),
        ("cases", &k.cases),
    ] {
        if !set.is_empty() {
            let list: Vec<String> = set.iter().map(|v| esc(v)).collect();
            let _ = write!(html, "<li>{name}: {}</li>", list.join(", "));
        }
    }
    html.push_str("</ul><h2>Events</h2><table><thead><tr><th>time (UTC)</th><th>source</th><th>kind</th><th>actor</th><th>link</th><th>content</th></tr></thead><tbody>");
    for e in events {
        let ev = &e.event;
        let content = ev.event.content.as_deref().unwrap_or("");
        let content = if raw {
            content.to_owned()
        } else {
            redacted(content)
        };
        let _ = write!(
            html,
            r#"<tr{}><td>{}</td><td>{}<br><span class="note">{}#{}</span></td><td>{}</td><td>{}</td><td><span class="badge">{}</span></td><td class="content">{}</td></tr>"#,
            if e.link.is_inferred() {
                r#" class="inferred""#
            } else {
                ""
            },
            esc(&time(ev.event.time_ns)),
            esc(&ev.source),
            esc(&ev.source),
            ev.seq,
            esc(ev.event.kind.name()),
            esc(&actor(ev)),
            esc(&e.link.label()),
            esc(&content)
        );
    }
    html.push_str("</tbody></table></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_in_evidence_is_shown_not_run() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
