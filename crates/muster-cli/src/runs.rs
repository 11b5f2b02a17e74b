//! Every run of a drill, kept on disk as it finishes, for `--json`.
//!
//! A drill of 10,000 runs would otherwise hold every run (with its turns and judgements) in
//! memory until the report is printed. The engine keeps only what the summaries need
//! (`Retain::Deciding`); each finished run is written here, and the report's `scenarios` list is
//! copied from this file into the JSON as it is printed — the same document, in the same order
//! (plan order, then run), as when every run was kept in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use muster_drill::ScenarioResult;

/// Where `--json` puts the runs in the report while it is printed.
const RUNS_MARKER: &str = "__muster_every_run_is_copied_here__";

pub struct RunSpill {
    file: BufWriter<File>,
    written: u64,
    /// Plan position of each scenario id, for the report's order.
    order: HashMap<String, usize>,
    /// (plan position, run, offset, length) of each run in the file.
    index: Vec<(usize, u32, u64, u64)>,
    error: Option<io::Error>,
}

impl RunSpill {
    /// An anonymous temporary file (removed by the system when closed). `ids` are the plan's
    /// scenario ids in plan order.
    pub fn new<'a>(ids: impl IntoIterator<Item = &'a str>) -> io::Result<Self> {
        let mut order = HashMap::new();
        for (i, id) in ids.into_iter().enumerate() {
            order.entry(id.to_owned()).or_insert(i);
        }
        Ok(Self {
            file: BufWriter::new(tempfile::tempfile()?),
            written: 0,
            order,
            index: Vec::new(),
            error: None,
        })
    }

    /// Keep one finished run, pretty-printed as the report prints it. The first write error is
    /// kept and reported by [`RunSpill::write_report`]: the drill itself goes on.
    pub fn add(&mut self, run: &ScenarioResult) {
        if self.error.is_some() {
            return;
        }
        let text = match serde_json::to_vec_pretty(run) {
            Ok(t) => t,
            Err(e) => {
                self.error = Some(io::Error::other(e));
                return;
            }
        };
        if let Err(e) = self.file.write_all(&text) {
            self.error = Some(e);
            return;
        }
        let position = self.order.get(&run.id).copied().unwrap_or(usize::MAX);
        let length = text.len() as u64;
        self.index.push((position, run.run, self.written, length));
        self.written += length;
    }

    /// Print `report` (the JSON value of the drill report, with every other key already set) to
    /// `out`, its `scenarios` being every run kept here, as `serde_json::to_string_pretty` would
    /// print them, followed by a newline.
    pub fn write_report(
        mut self,
        mut report: serde_json::Value,
        out: &mut impl Write,
    ) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.file.flush()?;
        let mut file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        report["scenarios"] = serde_json::Value::String(RUNS_MARKER.to_owned());
        let text = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
        let marker = format!("\"{RUNS_MARKER}\"");
        let Some((head, tail)) = text.split_once(&marker) else {
            return Err(io::Error::other("the report has no place for its runs"));
        };
        out.write_all(head.as_bytes())?;
        self.index
            .sort_by_key(|&(position, run, _, _)| (position, run));
        if self.index.is_empty() {
            out.write_all(b"[]")?;
        } else {
            out.write_all(b"[\n")?;
            let mut buffer = Vec::new();
            for (i, &(_, _, offset, length)) in self.index.iter().enumerate() {
                buffer.clear();
                file.seek(SeekFrom::Start(offset))?;
                (&mut file).take(length).read_to_end(&mut buffer)?;
                // Two levels deeper than on its own (the report object, then its list). JSON
                // text has no raw newlines inside strings, so every line is indented whole.
                for (n, line) in buffer.split(|b| *b == b'\n').enumerate() {
                    if n > 0 {
                        out.write_all(b"\n")?;
                    }
                    out.write_all(b"    ")?;
                    out.write_all(line)?;
                }
                out.write_all(if i + 1 < self.index.len() {
                    b",\n"
                } else {
                    b"\n  ]"
                })?;
            }
        }
        out.write_all(tail.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_drill::{ScenarioResult, TurnSummary, Verdict};
    use muster_model::common::{Mode, Severity};

    fn run(id: &str, run: u32) -> ScenarioResult {
        ScenarioResult {
            id: id.to_owned(),
            title: format!("{id} \"quoted\"\nline"),
            mode: Mode::Advice,
            severity: Severity::Low,
            taxonomy: vec!["a@1:x".into()],
            source: "s.yaml".into(),
            run,
            reword: 0,
            nondeterministic: run.is_multiple_of(2),
            verdict: Verdict::Pass,
            failed_modes: Vec::new(),
            reason: "ok".into(),
            expectations: Vec::new(),
            turns: vec![TurnSummary {
                turn: 1,
                customer: "hi".into(),
                reply: Some("hello".into()),
                tool_calls: vec![serde_json::json!({"name": "t", "arguments": {"a": [1, {}]}})],
                handover: None,
                confidence: Some(0.5),
                content_version: None,
                error: None,
                agent_ms: 1.5,
            }],
            fixture_errors: Vec::new(),
            conversation_id: None,
            stream: format!("conv/{id}/{run}"),
            started_at_ns: 0,
            finished_at_ns: 0,
        }
    }

    fn printed(runs: &[ScenarioResult], spill_order: &[usize]) -> (String, String) {
        let report =
            serde_json::json!({"drill_id": "d", "scenarios": runs, "timing": {"wall_ms": 1.0}});
        let expected = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
        let mut spill = match RunSpill::new(["b", "a"]) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        for &i in spill_order {
            spill.add(&runs[i]);
        }
        let mut out = Vec::new();
        if let Err(e) = spill.write_report(report, &mut out) {
            panic!("{e}");
        }
        (expected, String::from_utf8(out).unwrap_or_default())
    }

    #[test]
    fn prints_every_run_in_plan_then_run_order_exactly_as_in_memory() {
        // Plan order b, a; finished in another order.
        let runs = vec![run("b", 1), run("b", 2), run("a", 1), run("a", 2)];
        let (expected, got) = printed(&runs, &[3, 0, 2, 1]);
        assert_eq!(got, expected);
    }

    #[test]
    fn no_runs_print_an_empty_list() {
        let (expected, got) = printed(&[], &[]);
        assert_eq!(got, expected);
    }
}
