//! The drill as JUnit XML for CI dashboards: one test case per scenario, judged by the pass
//! policy. A failed scenario is a `<failure>`; an inconclusive one is an `<error>` (it could not be
//! judged — never a pass).

use std::io;

use muster_drill::{DrillReport, ScenarioResult, Status, Verdict};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::render::table::why;

pub fn junit_xml(report: &DrillReport) -> io::Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let of = |v: Verdict| report.summaries.iter().filter(|s| s.verdict == v).count();
    let tests = report.summaries.len().to_string();
    let failures = of(Verdict::Fail).to_string();
    let errors = of(Verdict::Inconclusive).to_string();
    let time = format!("{:.3}", report.timing.wall_ms / 1000.0);
    let suite_name = format!("muster drill of {}", report.agent);
    w.create_element("testsuites")
        .with_attributes([
            ("name", suite_name.as_str()),
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("time", time.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes([
                    ("name", report.agent.as_str()),
                    ("tests", tests.as_str()),
                    ("failures", failures.as_str()),
                    ("errors", errors.as_str()),
                    ("skipped", "0"),
                    ("time", time.as_str()),
                    ("timestamp", report.started_at.as_str()),
                    ("id", report.drill_id.as_str()),
                ])
                .write_inner_content(|w| {
                    w.create_element("properties").write_inner_content(|w| {
                        for (name, value) in [
                            ("drill_id", report.drill_id.as_str()),
                            ("root_digest", report.root_digest.as_str()),
                            ("environment", report.environment.as_str()),
                            ("adapter", report.adapter.as_str()),
                            ("status", report.status.as_str()),
                        ] {
                            w.create_element("property")
                                .with_attributes([("name", name), ("value", value)])
                                .write_empty()?;
                        }
                        Ok(())
                    })?;
                    for s in &report.summaries {
                        let runs: Vec<&ScenarioResult> =
                            report.scenarios.iter().filter(|r| r.id == s.id).collect();
                        let classname = format!("{}.{}", s.mode, s.severity);
                        let source = runs.first().map(|r| r.source.as_str()).unwrap_or("");
                        // Over every run, which the report may not keep.
                        let seconds = s.agent_ms / 1000.0;
                        let seconds = format!("{seconds:.3}");
                        let element = w.create_element("testcase").with_attributes([
                            ("name", s.id.as_str()),
                            ("classname", classname.as_str()),
                            ("file", source),
                            ("time", seconds.as_str()),
                        ]);
                        let deciding = runs.iter().find(|r| r.verdict == s.verdict);
                        match s.verdict {
                            Verdict::Pass => {
                                element.write_empty()?;
                            }
                            Verdict::Fail | Verdict::Inconclusive => {
                                let tag = if s.verdict == Verdict::Fail {
                                    "failure"
                                } else {
                                    "error"
                                };
                                let kind = deciding
                                    .and_then(|r| {
                                        r.expectations
                                            .iter()
                                            .find(|e| e.status == status_of(s.verdict))
                                    })
                                    .map(|e| format!("{}/{}", e.mode, e.kind))
                                    .unwrap_or_else(|| s.verdict.as_str().to_owned());
                                let body = deciding.map(|r| why(r)).unwrap_or_default();
                                element.write_inner_content(|w| {
                                    w.create_element(tag)
                                        .with_attributes([
                                            ("message", s.reason.as_str()),
                                            ("type", kind.as_str()),
                                        ])
                                        .write_text_content(BytesText::new(&body))?;
                                    Ok(())
                                })?;
                            }
                        }
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(io::Error::other)
}

pub fn status_of(verdict: Verdict) -> Status {
    match verdict {
        Verdict::Pass => Status::Pass,
        Verdict::Fail => Status::Fail,
        Verdict::Inconclusive => Status::Inconclusive,
    }
}
