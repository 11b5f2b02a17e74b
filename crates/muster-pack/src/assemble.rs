//! From what the store recorded to a [`Pack`]: no I/O, no clock. The same drill, exercise and
//! inputs give the same pack, byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use muster_console::exercise::Rating;
use muster_console::state::ExerciseState;
use muster_controls::Catalogue;
use muster_evidence::{SealedEvent, VerifyReport};
use muster_model::agent::AgentManifest;
use muster_model::scenario::Scenario;
use muster_store::{DrillRecord, StoredEvent};
use serde_json::Value;

use crate::model::*;
use crate::redact::Redactor;
use crate::stats::wilson;
use crate::time::{rfc3339, rfc3339_opt};

/// Rows the timeline table shows at most; the chart shows every event.
pub const TIMELINE_LIMIT: usize = 250;
/// Buckets per lane in the timeline chart.
pub const TIMELINE_BUCKETS: usize = 120;

/// A scenario file read back for the pack, checked against the digest the drill recorded.
#[derive(Clone, Debug)]
pub struct ScenarioText {
    pub id: String,
    pub status: TextStatus,
    pub scenario: Option<Scenario>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextStatus {
    Verified,
    Changed,
    Unavailable,
}

impl TextStatus {
    fn as_str(self) -> &'static str {
        match self {
            TextStatus::Verified => "verified",
            TextStatus::Changed => "changed",
            TextStatus::Unavailable => "unavailable",
        }
    }
}

/// An exercise around the drill, folded from its log, with the log's chain check.
#[derive(Clone, Copy, Debug)]
pub struct ExerciseInput<'a> {
    pub state: &'a ExerciseState,
    pub log: &'a ExerciseLogAudit,
}

/// Everything a pack is made from. The CLI reads it from the store and the files.
#[derive(Clone, Copy, Debug)]
pub struct PackInput<'a> {
    /// The drill; `None` packs a tabletop exercise on its own (then `events` and `addenda` are
    /// empty and `exercise` is required).
    pub drill: Option<&'a DrillRecord>,
    pub events: &'a [StoredEvent],
    /// The store's check of the drill's chains.
    pub verify: Option<&'a VerifyReport>,
    pub addenda: &'a [StoredEvent],
    pub manifest: Option<&'a AgentManifest>,
    pub scenarios: &'a [ScenarioText],
    pub catalogue: Option<&'a Catalogue>,
    pub exercise: Option<ExerciseInput<'a>>,
    /// The root digest `muster.lock` records for this drill, if it records this drill.
    pub lock_root: Option<&'a str>,
    pub include_raw: bool,
    pub signer_fingerprint: &'a str,
}

const MODES: [&str; 4] = ["advice", "data", "authority", "escalation"];

pub fn assemble(input: &PackInput<'_>) -> Pack {
    let redactor = Redactor::new(input.include_raw);
    let header = input.drill.map(|d| &d.header);
    let started = find(input.events, "drill.started");
    let finished = find(input.events, "drill.finished");
    let summary_value = input
        .drill
        .and_then(|d| d.summary.clone())
        .or_else(|| finished.and_then(|e| e.value("summary").cloned()))
        .unwrap_or(Value::Null);
    let model = started
        .and_then(|e| e.value("model"))
        .and_then(model_info)
        .or_else(|| {
            input.manifest.map(|m| ModelInfo {
                provider: m.model.provider.clone(),
                name: m.model.name.clone(),
                version: Some(m.model.version.clone()),
            })
        });
    let exercise = input.exercise;
    let subject = Subject {
        drill_id: header.map(|h| h.id.clone()),
        agent: header
            .map(|h| h.agent.clone())
            .or_else(|| input.manifest.map(|m| m.name.clone())),
        description: input
            .manifest
            .and_then(|m| m.description.as_ref())
            .map(|d| d.trim().to_owned()),
        environment: header.map_or_else(|| "tabletop".to_owned(), |h| h.environment.clone()),
        adapter: str_at(started, "adapter"),
        base_url: str_at(started, "base_url"),
        model: model.clone(),
        started_at: rfc3339(start_ns(input)),
        finished_at: match input.drill {
            Some(d) => rfc3339_opt(d.finished_at_ns),
            None => rfc3339_opt(exercise.and_then(|x| x.state.clock.ended_at_ns)),
        },
        status: input
            .drill
            .map_or_else(|| "tabletop".to_owned(), |d| d.status.as_str().to_owned()),
        exercise: exercise.map(|x| ExerciseRef {
            id: x.state.id.clone(),
            title: x.state.title.clone(),
            objectives: x.state.definition.objectives.clone(),
        }),
    };

    // Each conversation's verdict and failed expectations, read once for both sections below.
    let evidence = scenario_evidence(input.events);
    let scenarios = match input.drill {
        Some(_) => scenario_sections(input, &evidence, &summary_value, &redactor),
        None => tabletop_scenario(input, &redactor).into_iter().collect(),
    };
    let controls = control_checks(&summary_value);
    let findings = findings_by_mode(input, &evidence, &scenarios, &redactor);
    let journeys = journeys(&scenarios);
    let severity = severity(&scenarios, exercise);
    let timeline = timeline(input, &redactor);
    let decisions = decisions(input, &redactor);
    let systems = systems(input);
    let gaps = gaps(input, &scenarios, &controls);
    let remediation = remediation(input, &scenarios, &controls);
    let people = people(input);
    let summary = executive_summary(input, &summary_value, &scenarios, &controls, &remediation);
    let method = method(input, started, &summary_value, model);
    let redaction = Redaction {
        raw_included: input.include_raw,
        warning: input.include_raw.then(|| {
            "This pack includes raw conversation content: personal data is NOT masked. Share it only with people entitled to see it.".to_owned()
        }),
        evidence_fields_withheld: 0,
    };
    let integrity = Integrity {
        root_digest: input.drill.and_then(|d| d.root).map(|d| d.to_hex()),
        evidence_file: crate::EVIDENCE_FILE.into(),
        evidence_events: (input.events.len() + input.addenda.len()) as u64,
        manifest_file: crate::MANIFEST_FILE.into(),
        signature_file: crate::SIGNATURE_FILE.into(),
        signer_fingerprint: input.signer_fingerprint.to_owned(),
        how_to_verify: format!(
            "muster verify <this directory> --key {}",
            input.signer_fingerprint
        ),
    };
    Pack {
        format: PACK_FORMAT.into(),
        title: match (header, exercise) {
            (Some(h), _) => format!("AI incident drill: {}", h.agent),
            (None, Some(x)) => format!("AI incident exercise: {}", x.state.title),
            (None, None) => "AI incident drill".to_owned(),
        },
        subject,
        redaction,
        summary,
        scenarios,
        journeys,
        severity,
        timeline,
        decisions,
        systems,
        findings,
        controls,
        gaps,
        remediation,
        people,
        method,
        integrity,
    }
}

/// Where the pack's clock starts: the drill's start, else the exercise's clock start, else its creation.
fn start_ns(input: &PackInput<'_>) -> i64 {
    match (input.drill, input.exercise) {
        (Some(d), _) => d.header.started_at_ns,
        (None, Some(x)) => x.state.clock.started_at_ns.unwrap_or(x.state.created_at_ns),
        (None, None) => 0,
    }
}

fn find<'e>(events: &'e [StoredEvent], kind: &str) -> Option<&'e SealedEvent> {
    events
        .iter()
        .map(|e| &e.event)
        .find(|e| e.kind == kind && e.stream == "drill")
}

fn str_at(event: Option<&SealedEvent>, name: &str) -> Option<String> {
    event
        .and_then(|e| e.value(name))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn num(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

fn count(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The scenarios `drill.started` recorded: id, where each was loaded from, and its digest.
fn recorded_scenarios(started: Option<&SealedEvent>) -> Vec<DigestedSource> {
    started
        .and_then(|e| e.value("scenarios"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    Some(DigestedSource {
                        id: text(s, "id")?,
                        source: text(s, "source").unwrap_or_default(),
                        sha256: text(s, "digest").unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn model_info(value: &Value) -> Option<ModelInfo> {
    Some(ModelInfo {
        provider: text(value, "provider")?,
        name: text(value, "name")?,
        version: text(value, "version"),
    })
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

fn verdict_rank(verdict: &str) -> u8 {
    match verdict {
        "fail" => 2,
        "inconclusive" => 1,
        _ => 0,
    }
}

/// One conversation's verdict event and expectation results, by scenario.
#[derive(Default)]
struct ScenarioEvidence<'e> {
    started: Option<&'e SealedEvent>,
    first_reason: BTreeMap<String, String>,
    failed_expectations: Vec<&'e SealedEvent>,
}

fn scenario_evidence(events: &[StoredEvent]) -> BTreeMap<String, ScenarioEvidence<'_>> {
    let mut by_stream_scenario: BTreeMap<&str, String> = BTreeMap::new();
    let mut out: BTreeMap<String, ScenarioEvidence<'_>> = BTreeMap::new();
    for e in events.iter().map(|e| &e.event) {
        if !e.stream.starts_with("conv/") {
            continue;
        }
        match e.kind.as_str() {
            "scenario.started" => {
                if let Some(id) = e.value("scenario_id").and_then(Value::as_str) {
                    by_stream_scenario.insert(e.stream.as_str(), id.to_owned());
                    out.entry(id.to_owned())
                        .or_default()
                        .started
                        .get_or_insert(e);
                }
            }
            "scenario.verdict" => {
                let Some(id) = by_stream_scenario.get(e.stream.as_str()) else {
                    continue;
                };
                let verdict = e.value("verdict").and_then(Value::as_str).unwrap_or("");
                if let Some(reason) = e.value("reason").and_then(Value::as_str) {
                    out.entry(id.clone())
                        .or_default()
                        .first_reason
                        .entry(verdict.to_owned())
                        .or_insert_with(|| reason.to_owned());
                }
            }
            "expectation.result" => {
                let Some(id) = by_stream_scenario.get(e.stream.as_str()) else {
                    continue;
                };
                let failed = e
                    .value("result")
                    .and_then(|r| r.get("status"))
                    .and_then(Value::as_str)
                    == Some("fail");
                if failed {
                    out.entry(id.clone())
                        .or_default()
                        .failed_expectations
                        .push(e);
                }
            }
            _ => {}
        }
    }
    out
}

fn scenario_sections(
    input: &PackInput<'_>,
    evidence: &BTreeMap<String, ScenarioEvidence<'_>>,
    summary: &Value,
    redactor: &Redactor,
) -> Vec<ScenarioSection> {
    let recorded: BTreeMap<String, (String, String)> =
        recorded_scenarios(find(input.events, "drill.started"))
            .into_iter()
            .map(|s| (s.id, (s.source, s.sha256)))
            .collect();
    let results = summary
        .get("scenarios")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    results
        .iter()
        .filter_map(|r| {
            let id = text(r, "id")?;
            let ev = evidence.get(&id);
            let started = ev.and_then(|e| e.started);
            let file = input.scenarios.iter().find(|s| s.id == id);
            let parsed = file
                .filter(|f| f.status == TextStatus::Verified)
                .and_then(|f| f.scenario.as_ref());
            let (source, digest) = recorded.get(&id).cloned().unwrap_or_default();
            let passed = count(r, "passed");
            let failed = count(r, "failed");
            let inconclusive = count(r, "inconclusive");
            let judged = passed + failed;
            let verdict = text(r, "verdict").unwrap_or_else(|| "inconclusive".into());
            let reason = ev.and_then(|e| e.first_reason.get(&verdict).cloned());
            let started_str = |k: &str| {
                started
                    .and_then(|e| e.value(k))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            Some(ScenarioSection {
                title: parsed
                    .map(|s| s.title.clone())
                    .or_else(|| started_str("title"))
                    .unwrap_or_else(|| id.clone()),
                mode: parsed
                    .map(|s| s.mode.as_str().to_owned())
                    .or_else(|| started_str("mode"))
                    .unwrap_or_default(),
                severity: parsed
                    .map(|s| s.severity.as_str().to_owned())
                    .or_else(|| started_str("severity"))
                    .unwrap_or_default(),
                vectors: parsed
                    .map(|s| s.vectors.iter().filter_map(vector_name).collect())
                    .unwrap_or_default(),
                journeys: parsed.map(|s| s.journeys.clone()).unwrap_or_default(),
                ticket: parsed.map(|s| redactor.text(s.ticket.trim_end())),
                persona: parsed.map(|s| {
                    let p = &s.persona;
                    redactor.text(&match &p.description {
                        Some(d) => format!("{}: {d}", p.name),
                        None => p.name.clone(),
                    })
                }),
                text_status: file
                    .map_or(TextStatus::Unavailable, |f| f.status)
                    .as_str()
                    .to_owned(),
                source,
                digest,
                runs: count(r, "runs"),
                passed,
                failed,
                inconclusive,
                pass_rate: (judged > 0).then(|| passed as f64 / judged as f64),
                interval: (judged > 0).then(|| wilson(passed, judged)),
                verdict,
                reason: reason.map(|r| redactor.text(&r)),
                expectations: parsed
                    .map(|s| {
                        s.expect
                            .iter()
                            .map(|e| match e.why() {
                                Some(why) => format!("{}: {why}", e.kind()),
                                None => e.kind().to_owned(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                taxonomy: parsed.map(|s| s.taxonomy.clone()).unwrap_or_default(),
                controls: parsed.map(|s| s.controls.clone()).unwrap_or_default(),
                id,
            })
        })
        .collect()
}

/// A tabletop exercise without a drill: its scenario as the exercise was run on it, not drilled.
fn tabletop_scenario(input: &PackInput<'_>, redactor: &Redactor) -> Option<ScenarioSection> {
    let x = input.exercise?;
    let brief = &x.state.definition.scenario;
    let file = input
        .scenarios
        .iter()
        .find(|s| s.id == brief.id && s.status == TextStatus::Verified)
        .and_then(|s| s.scenario.as_ref());
    Some(ScenarioSection {
        id: brief.id.clone(),
        title: brief.title.clone(),
        mode: brief.mode.clone(),
        severity: brief.severity.clone(),
        vectors: file
            .map(|s| s.vectors.iter().filter_map(vector_name).collect())
            .unwrap_or_default(),
        journeys: brief.journeys.clone(),
        ticket: Some(redactor.text(brief.ticket.trim_end())),
        persona: file.map(|s| redactor.text(&s.persona.name)),
        text_status: "exercise".into(),
        source: "the exercise definition".into(),
        digest: String::new(),
        runs: 0,
        passed: 0,
        failed: 0,
        inconclusive: 0,
        pass_rate: None,
        interval: None,
        verdict: "inconclusive".into(),
        reason: Some(
            "not drilled: the exercise rehearsed the team's response, not the agent".into(),
        ),
        expectations: Vec::new(),
        taxonomy: file.map(|s| s.taxonomy.clone()).unwrap_or_default(),
        controls: file.map(|s| s.controls.clone()).unwrap_or_default(),
    })
}

fn vector_name(vector: &muster_model::scenario::Vector) -> Option<String> {
    serde_json::to_value(vector)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn control_checks(summary: &Value) -> Vec<ControlCheck> {
    summary
        .get("controls")
        .and_then(|c| c.get("controls"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| ControlCheck {
                    control: text(c, "control").unwrap_or_default(),
                    title: text(c, "title").unwrap_or_default(),
                    claimed: text(c, "claimed"),
                    claimed_ms: num(c, "claimed_ms"),
                    measured_ms: num(c, "measured_ms"),
                    verdict: text(c, "verdict").unwrap_or_else(|| "inconclusive".into()),
                    reason: text(c, "reason").unwrap_or_default(),
                    evidence: text(c, "evidence"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn framework_refs(catalogue: Option<&Catalogue>, keys: &[String]) -> Vec<FrameworkRef> {
    let mut seen = BTreeSet::new();
    keys.iter()
        .filter(|k| seen.insert(k.as_str()))
        .map(|key| FrameworkRef {
            key: key.clone(),
            name: catalogue
                .and_then(|c| c.get(key))
                .map(|l| l.entry.name.clone()),
        })
        .collect()
}

fn mode_keys(catalogue: Option<&Catalogue>, mode: &str) -> Vec<String> {
    let concept = format!("muster@1:failure-mode/{mode}");
    match catalogue {
        Some(c) => c.expand(&concept),
        None => vec![concept],
    }
}

fn findings_by_mode(
    input: &PackInput<'_>,
    evidence: &BTreeMap<String, ScenarioEvidence<'_>>,
    scenarios: &[ScenarioSection],
    redactor: &Redactor,
) -> Vec<ModeFindings> {
    let mut by_mode: BTreeMap<String, BTreeMap<(String, String), Finding>> = BTreeMap::new();
    for scenario in scenarios {
        let Some(ev) = evidence.get(&scenario.id) else {
            continue;
        };
        for e in &ev.failed_expectations {
            let Some(result) = e.value("result") else {
                continue;
            };
            let mode = text(result, "mode").unwrap_or_else(|| scenario.mode.clone());
            let kind = text(result, "kind").unwrap_or_default();
            let expectation = match text(result, "subject") {
                Some(subject) => format!("{kind}({subject})"),
                None => kind,
            };
            let mut frameworks = scenario.taxonomy.clone();
            frameworks.extend(mode_keys(input.catalogue, &mode));
            let finding = by_mode
                .entry(mode)
                .or_default()
                .entry((scenario.id.clone(), expectation.clone()))
                .or_insert_with(|| Finding {
                    scenario: scenario.id.clone(),
                    expectation,
                    failed_runs: 0,
                    reason: redactor.text(&text(result, "reason").unwrap_or_default()),
                    why: text(result, "why"),
                    excerpt: result
                        .get("excerpt")
                        .and_then(|x| x.get("text"))
                        .and_then(Value::as_str)
                        .map(|t| redactor.text(t)),
                    evidence: Some(format!("{}#{}", e.stream, e.seq)),
                    frameworks: framework_refs(input.catalogue, &frameworks)
                        .into_iter()
                        .map(|f| f.key)
                        .collect(),
                });
            finding.failed_runs += 1;
        }
    }
    let mut out: Vec<ModeFindings> = MODES
        .iter()
        .map(|mode| {
            let findings: Vec<Finding> = by_mode
                .remove(*mode)
                .map(|m| m.into_values().collect())
                .unwrap_or_default();
            ModeFindings {
                mode: (*mode).to_owned(),
                failed_runs: scenarios
                    .iter()
                    .filter(|s| s.mode == *mode)
                    .map(|s| s.failed)
                    .sum(),
                findings,
            }
        })
        .collect();
    out.extend(by_mode.into_iter().map(|(mode, m)| ModeFindings {
        failed_runs: m.values().map(|f| f.failed_runs).sum(),
        mode,
        findings: m.into_values().collect(),
    }));
    out
}

fn journeys(scenarios: &[ScenarioSection]) -> Vec<JourneyImpact> {
    let mut map: BTreeMap<&str, (Vec<String>, Vec<String>, u8)> = BTreeMap::new();
    for s in scenarios {
        for j in &s.journeys {
            let entry = map.entry(j.as_str()).or_default();
            entry.0.push(s.id.clone());
            if s.verdict == "fail" {
                entry.1.push(s.id.clone());
            }
            entry.2 = entry.2.max(verdict_rank(&s.verdict));
        }
    }
    map.into_iter()
        .map(|(journey, (all, failed, rank))| JourneyImpact {
            journey: journey.to_owned(),
            scenarios: all,
            failed,
            verdict: match rank {
                2 => "fail",
                1 => "inconclusive",
                _ => "pass",
            }
            .into(),
        })
        .collect()
}

fn severity(scenarios: &[ScenarioSection], exercise: Option<ExerciseInput<'_>>) -> SeveritySection {
    let definition = vec![
        level(
            "critical",
            "Irreversible harm to customers or the firm: money moved or data disclosed at scale, a vulnerable customer left without help, a regulator notifiable breach.",
        ),
        level(
            "high",
            "Harm to an individual customer that needs correcting: wrong advice acted on, a refund or promise the firm must honour, a record changed outside policy.",
        ),
        level(
            "medium",
            "A failure caught before harm, or harm that is minor and easily put right.",
        ),
        level(
            "low",
            "A quality problem with no customer harm: tone, clarity, a missed courtesy.",
        ),
    ];
    let changes: Vec<SeverityCall> = exercise
        .map(|x| {
            x.state
                .severity
                .iter()
                .map(|c| SeverityCall {
                    level: c.level.clone(),
                    rationale: c.rationale.clone(),
                    at: rfc3339(c.set.at_ns),
                    by: c.set.by.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let worst = scenarios
        .iter()
        .filter(|s| s.verdict == "fail")
        .min_by_key(|s| severity_rank(&s.severity));
    let (assessed, basis) = match (changes.last(), worst) {
        (Some(call), _) => (
            call.level.clone(),
            format!(
                "set in the exercise{}: {}",
                call.by
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                call.rationale
            ),
        ),
        (None, Some(s)) => (
            s.severity.clone(),
            format!(
                "the most severe failing scenario, {} ({}), is rated {}",
                s.id, s.title, s.severity
            ),
        ),
        (None, None) => (
            "none".into(),
            "no scenario failed, so the drill found no incident to grade".into(),
        ),
    };
    SeveritySection {
        definition,
        assessed,
        basis,
        changes,
    }
}

fn level(level: &str, meaning: &str) -> SeverityLevel {
    SeverityLevel {
        level: level.into(),
        meaning: meaning.into(),
    }
}

fn system_of(stream: &str) -> &'static str {
    match stream.split('/').next().unwrap_or("") {
        "conv" => "agent",
        "control" => "control",
        "observe" => "traces",
        "drill" => "drill",
        _ => "other",
    }
}

fn event_summary(e: &SealedEvent, redactor: &Redactor) -> Option<String> {
    let v = |k: &str| e.value(k);
    let s = |k: &str| v(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some(match e.kind.as_str() {
        "drill.started" => format!(
            "Drill started against {} ({})",
            s("agent"),
            s("environment")
        ),
        "drill.finished" => format!(
            "Drill finished: {}",
            v("summary")
                .and_then(|x| x.get("verdict"))
                .and_then(Value::as_str)
                .unwrap_or("?")
        ),
        "control.started" => format!("Control drill started: {}", s("control")),
        "control.verdict" => {
            let r = v("result")?;
            format!(
                "{}: {} — {}",
                text(r, "title").unwrap_or_default(),
                text(r, "verdict").unwrap_or_default(),
                redactor.text(&text(r, "reason").unwrap_or_default())
            )
        }
        "shutdown.evaluated" => {
            let r = v("result")?;
            format!(
                "Shutdown criterion {}: {}",
                text(r, "id").unwrap_or_default(),
                if r.get("fired").and_then(Value::as_bool) == Some(true) {
                    "fired"
                } else {
                    "did not fire"
                }
            )
        }
        "comms.notice" => "Customer correction notice rendered for approval".into(),
        "scenario.started" => format!("Scenario started: {}", s("title")),
        "scenario.verdict" => format!(
            "{}: {}",
            s("verdict"),
            redactor.text(v("reason").and_then(Value::as_str).unwrap_or(""))
        ),
        _ => return None,
    })
}

fn timeline(input: &PackInput<'_>, redactor: &Redactor) -> Timeline {
    let start = start_ns(input);
    let mut rows: Vec<(i64, TimelineRow)> = Vec::new();
    let mut first_started: BTreeSet<String> = BTreeSet::new();
    let mut first_verdict: BTreeSet<(String, String)> = BTreeSet::new();
    let mut scenario_of_stream: BTreeMap<&str, String> = BTreeMap::new();
    for e in input.events.iter().map(|e| &e.event) {
        let keep = match e.kind.as_str() {
            "scenario.started" => {
                let id = e
                    .value("scenario_id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                scenario_of_stream.insert(e.stream.as_str(), id.clone());
                first_started.insert(id)
            }
            "scenario.verdict" => {
                let id = scenario_of_stream
                    .get(e.stream.as_str())
                    .cloned()
                    .unwrap_or_default();
                let verdict = e
                    .value("verdict")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                first_verdict.insert((id, verdict))
            }
            _ => true,
        };
        if !keep {
            continue;
        }
        if let Some(summary) = event_summary(e, redactor) {
            let summary = match e.kind.as_str() {
                "scenario.verdict" => format!(
                    "{} (first {} run) {summary}",
                    scenario_of_stream
                        .get(e.stream.as_str())
                        .map_or("", String::as_str),
                    e.value("verdict").and_then(Value::as_str).unwrap_or("")
                ),
                _ => summary,
            };
            rows.push((
                e.time_ns,
                row(e.time_ns, start, system_of(&e.stream), &e.kind, summary),
            ));
        }
    }
    for a in input.addenda.iter().map(|e| &e.event) {
        if a.kind == "comms.approval" {
            let who = a.value("approver").and_then(Value::as_str).unwrap_or("?");
            rows.push((
                a.time_ns,
                row(
                    a.time_ns,
                    start,
                    "addenda",
                    &a.kind,
                    format!("Customer notice approved by {who}"),
                ),
            ));
        }
    }
    if let Some(x) = input.exercise {
        for logged in &x.state.entries {
            rows.push((
                logged.at_ns,
                row(
                    logged.at_ns,
                    start,
                    "exercise",
                    logged.entry.kind(),
                    redactor.text(&logged.entry.summary()),
                ),
            ));
        }
    }
    rows.sort_by_key(|(t, _)| *t);
    let truncated = rows.len() > TIMELINE_LIMIT;
    rows.truncate(TIMELINE_LIMIT);
    Timeline {
        events_total: input.events.len() as u64,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        limit: TIMELINE_LIMIT as u64,
        truncated,
        lanes: lanes(input),
    }
}

fn row(at_ns: i64, start_ns: i64, system: &str, kind: &str, summary: String) -> TimelineRow {
    TimelineRow {
        at: rfc3339(at_ns),
        offset_ms: (at_ns - start_ns) as f64 / 1e6,
        system: system.into(),
        kind: kind.into(),
        summary,
    }
}

/// Every event, counted per lane (a scenario's conversations, a control, the drill) and time bucket.
fn lanes(input: &PackInput<'_>) -> TimelineLanes {
    let start = start_ns(input);
    let end = input
        .events
        .iter()
        .map(|e| e.event.time_ns)
        .max()
        .unwrap_or(start)
        .max(start + 1);
    let span = (end - start) as f64;
    let bucket_of = |t: i64| {
        let f = ((t - start).max(0) as f64 / span * TIMELINE_BUCKETS as f64) as usize;
        f.min(TIMELINE_BUCKETS - 1)
    };
    let mut scenario_of_stream: BTreeMap<&str, String> = BTreeMap::new();
    let mut lanes: BTreeMap<String, Lane> = BTreeMap::new();
    for e in input.events.iter().map(|e| &e.event) {
        if e.kind == "scenario.started"
            && let Some(id) = e.value("scenario_id").and_then(Value::as_str)
        {
            scenario_of_stream.insert(e.stream.as_str(), id.to_owned());
        }
        let name = match scenario_of_stream.get(e.stream.as_str()) {
            Some(id) => id.clone(),
            None => {
                let mut parts = e.stream.splitn(3, '/');
                match (parts.next(), parts.next()) {
                    (Some("conv"), Some(id)) => id.to_owned(),
                    (Some(first), Some(second)) => format!("{first}/{second}"),
                    (Some(first), None) => first.to_owned(),
                    _ => e.stream.clone(),
                }
            }
        };
        let lane = lanes.entry(name.clone()).or_insert_with(|| Lane {
            name,
            events: vec![0; TIMELINE_BUCKETS],
            failures: vec![0; TIMELINE_BUCKETS],
        });
        let b = bucket_of(e.time_ns);
        lane.events[b] += 1;
        let failed = matches!(e.kind.as_str(), "scenario.verdict" | "control.verdict")
            && (e.value("verdict").and_then(Value::as_str) == Some("fail")
                || e.value("result")
                    .and_then(|r| r.get("verdict"))
                    .and_then(Value::as_str)
                    == Some("fail"));
        if failed {
            lane.failures[b] += 1;
        }
    }
    TimelineLanes {
        span_ms: span / 1e6,
        buckets: TIMELINE_BUCKETS as u64,
        lanes: lanes.into_values().collect(),
    }
}

fn decisions(input: &PackInput<'_>, redactor: &Redactor) -> Vec<DecisionEntry> {
    let mut out: Vec<(i64, DecisionEntry)> = Vec::new();
    for e in input.events.iter().map(|e| &e.event) {
        if e.kind != "shutdown.evaluated" {
            continue;
        }
        let Some(r) = e.value("result") else { continue };
        let fired = r.get("fired").and_then(Value::as_bool) == Some(true);
        let mut known = vec![text(r, "description").unwrap_or_default()];
        known.push(format!(
            "{} matching finding(s) in the drill",
            count(r, "matching_findings")
        ));
        if let Some(by) = text(r, "fired_by") {
            known.push(format!("fired by {by}"));
        }
        let mut not_known = Vec::new();
        if fired && r.get("stopped_in_time").and_then(Value::as_bool) != Some(true) {
            not_known.push(
                "whether pulling the kill switch would actually stop the agent (the kill-switch drill measured it later)".to_owned(),
            );
        }
        let at_ns = text(r, "fired_at")
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or(e.time_ns, |t| t.as_nanosecond() as i64);
        out.push((
            at_ns,
            DecisionEntry {
                at: rfc3339(at_ns),
                by: None,
                source: "drill".into(),
                title: format!("Shutdown criterion `{}`", text(r, "id").unwrap_or_default()),
                decision: if fired {
                    "Stop the agent (the criterion fired)".into()
                } else {
                    "Keep the agent running (the criterion did not fire)".into()
                },
                rationale: redactor.text(&text(r, "explanation").unwrap_or_default()),
                known,
                not_known,
            },
        ));
    }
    for a in input.addenda.iter().map(|e| &e.event) {
        if a.kind != "comms.approval" {
            continue;
        }
        let approved = a.value("approved").and_then(Value::as_bool) == Some(true);
        out.push((
            a.time_ns,
            DecisionEntry {
                at: rfc3339(a.time_ns),
                by: a
                    .value("approver")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                source: "drill".into(),
                title: "Customer correction notice".into(),
                decision: if approved {
                    "Approved".into()
                } else {
                    "Not approved".into()
                },
                rationale: a
                    .value("note")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                known: vec![format!(
                    "the notice text with SHA-256 {}",
                    a.value("notice_digest")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                )],
                not_known: Vec::new(),
            },
        ));
    }
    if let Some(x) = input.exercise {
        for d in &x.state.decisions {
            let mut not_known: Vec<String> = d
                .questions
                .iter()
                .map(|q| match (&q.answer, &q.answered) {
                    (Some(answer), Some(at)) => format!(
                        "{} (answered later, {}: {})",
                        q.text,
                        rfc3339(at.at_ns),
                        answer
                    ),
                    _ => format!("{} (never answered)", q.text),
                })
                .collect();
            not_known.extend(d.assumptions.iter().map(|a| format!("assumed: {a}")));
            out.push((
                d.logged.at_ns,
                DecisionEntry {
                    at: rfc3339(d.logged.at_ns),
                    by: d.logged.by.clone(),
                    source: "exercise".into(),
                    title: redactor.text(&d.title),
                    decision: redactor.text(&d.decision),
                    rationale: redactor.text(&d.rationale),
                    known: d.facts.iter().map(|f| redactor.text(f)).collect(),
                    not_known: not_known.iter().map(|n| redactor.text(n)).collect(),
                },
            ));
        }
    }
    out.sort_by_key(|(t, _)| *t);
    out.into_iter().map(|(_, d)| d).collect()
}

fn systems(input: &PackInput<'_>) -> SystemsSection {
    let mut map: BTreeMap<&'static str, (BTreeSet<&str>, u64, i64, i64)> = BTreeMap::new();
    for e in input.events.iter().map(|e| &e.event) {
        let name = match (system_of(&e.stream), e.kind.as_str()) {
            ("control", "queue.lookup") => "Handover queue (helpdesk API)",
            ("agent", _) => "Agent under test (conversations and tool calls)",
            ("control", _) => "Control drills (kill switch, handover, rollback, notice)",
            ("traces", _) => "Agent traces (OTLP)",
            ("drill", _) => "Drill engine",
            _ => "Other",
        };
        let entry = map
            .entry(name)
            .or_insert((BTreeSet::new(), 0, i64::MAX, i64::MIN));
        entry.0.insert(e.stream.as_str());
        entry.1 += 1;
        entry.2 = entry.2.min(e.time_ns);
        entry.3 = entry.3.max(e.time_ns);
    }
    let mut systems: Vec<SystemReviewed> = map
        .into_iter()
        .map(|(name, (streams, events, first, last))| SystemReviewed {
            system: name.into(),
            streams: streams.len() as u64,
            events,
            first: Some(rfc3339(first)),
            last: Some(rfc3339(last)),
        })
        .collect();
    if let Some(x) = input.exercise {
        let times: Vec<i64> = x.state.entries.iter().map(|e| e.at_ns).collect();
        systems.push(SystemReviewed {
            system: "Exercise console log".into(),
            streams: 1,
            events: x.log.entries,
            first: times.iter().min().map(|t| rfc3339(*t)),
            last: times.iter().max().map(|t| rfc3339(*t)),
        });
    }
    let empty = VerifyReport::default();
    let report = input.verify.unwrap_or(&empty);
    SystemsSection {
        systems,
        audit: ChainAudit {
            events_checked: report.events_checked,
            streams_checked: report.streams_checked,
            intact: report.is_intact(),
            problems: report.problems.iter().map(ToString::to_string).collect(),
            root_digest: input.drill.and_then(|d| d.root).map(|d| d.to_hex()),
            lock_root_digest: input.lock_root.map(str::to_owned),
            exercise_log: input.exercise.map(|x| x.log.clone()),
        },
    }
}

fn base_control(control: &str) -> &str {
    control.split('/').next().unwrap_or(control)
}

fn gaps(
    input: &PackInput<'_>,
    scenarios: &[ScenarioSection],
    controls: &[ControlCheck],
) -> Vec<ControlGap> {
    let mut out = Vec::new();
    for s in scenarios.iter().filter(|s| s.verdict == "fail") {
        let mut keys = s.taxonomy.clone();
        keys.extend(mode_keys(input.catalogue, &s.mode));
        out.push(ControlGap {
            gap: s.title.clone(),
            source: "failed-scenario".into(),
            detail: s.reason.clone().unwrap_or_default(),
            frameworks: framework_refs(input.catalogue, &keys),
        });
    }
    for c in controls.iter().filter(|c| c.verdict != "pass") {
        let concept = format!("muster@1:control/{}", base_control(&c.control));
        let keys = match input.catalogue {
            Some(cat) if cat.contains(&concept) => cat.expand(&concept),
            _ => vec![concept],
        };
        out.push(ControlGap {
            gap: c.title.clone(),
            source: if c.verdict == "fail" {
                "failed-control"
            } else {
                "unproven-control"
            }
            .into(),
            detail: c.reason.clone(),
            frameworks: framework_refs(input.catalogue, &keys),
        });
    }
    if let Some(m) = input.manifest {
        let assessment = muster_assess::assess(m);
        for g in assessment.gaps() {
            out.push(ControlGap {
                gap: g.title.to_owned(),
                source: "governance".into(),
                detail: g.detail.clone(),
                frameworks: framework_refs(input.catalogue, &g.keys),
            });
        }
    }
    out
}

fn remediation(
    input: &PackInput<'_>,
    scenarios: &[ScenarioSection],
    controls: &[ControlCheck],
) -> Vec<RemediationAction> {
    let owner = input.manifest.map_or_else(
        || "agent owner".to_owned(),
        |m| match &m.owner.role {
            Some(role) => format!("{} ({role})", m.owner.name),
            None => m.owner.name.clone(),
        },
    );
    let governance = input.manifest.map(|m| &m.governance);
    let control_owner = |control: &str| -> String {
        let from = match base_control(control) {
            "comms-approval" => governance.and_then(|g| g.customer_correction.as_ref()),
            "handover" => governance.and_then(|g| g.human_review_route.as_ref()),
            _ => None,
        };
        from.and_then(|p| p.owner.clone())
            .unwrap_or_else(|| owner.clone())
    };
    // (rank, action): severity first, then failures.
    let mut drill: Vec<((u8, u8, u64), RemediationAction)> = Vec::new();
    for s in scenarios.iter().filter(|s| s.verdict != "pass") {
        let failing = s.verdict == "fail";
        drill.push((
            (
                severity_rank(&s.severity),
                2 - verdict_rank(&s.verdict),
                u64::MAX - s.failed,
            ),
            RemediationAction {
                id: format!("scenario/{}", s.id),
                title: if failing {
                    format!(
                        "Fix and re-drill: {} ({} of {} runs failed{})",
                        s.title,
                        s.failed,
                        s.runs,
                        s.reason
                            .as_ref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    )
                } else {
                    format!("Re-drill until judged: {} was inconclusive", s.title)
                },
                owner: owner.clone(),
                due: "before launch".into(),
                status: "open".into(),
                top: false,
                source: "drill".into(),
            },
        ));
    }
    for c in controls.iter().filter(|c| c.verdict != "pass") {
        drill.push((
            (1, 2 - verdict_rank(&c.verdict), u64::MAX),
            RemediationAction {
                id: format!("control/{}", c.control),
                title: if c.verdict == "fail" {
                    format!("Make the control work: {} — {}", c.title, c.reason)
                } else {
                    format!("Prove the control: {} — {}", c.title, c.reason)
                },
                owner: control_owner(&c.control),
                due: "before launch".into(),
                status: "open".into(),
                top: false,
                source: "drill".into(),
            },
        ));
    }
    drill.sort_by_key(|(rank, _)| *rank);
    let mut out: Vec<RemediationAction> = Vec::new();
    if let Some(x) = input.exercise {
        for a in &x.state.actions {
            out.push(RemediationAction {
                id: a.action_id.clone(),
                title: a.title.clone(),
                owner: a.owner.clone(),
                due: a.due.clone(),
                status: serde_json::to_value(a.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                top: false,
                source: "exercise".into(),
            });
        }
    }
    out.extend(drill.into_iter().map(|(_, a)| a));
    // The five to do first: open drill failures by rank, exercise actions in their order.
    let mut marked = 0;
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|i| (out[*i].source != "drill", *i));
    for i in order {
        if marked == 5 {
            break;
        }
        if !matches!(out[i].status.as_str(), "done" | "closed") {
            out[i].top = true;
            marked += 1;
        }
    }
    out
}

fn people(input: &PackInput<'_>) -> Vec<Person> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |name: String, role: String, capacity: &str| {
        if seen.insert((name.clone(), role.clone(), capacity.to_owned())) {
            out.push(Person {
                name,
                role,
                capacity: capacity.into(),
            });
        }
    };
    if let Some(m) = input.manifest {
        add(
            m.owner.name.clone(),
            m.owner.role.clone().unwrap_or_default(),
            "agent owner",
        );
        let g = &m.governance;
        for (what, process) in [
            ("customer correction", &g.customer_correction),
            ("human review route", &g.human_review_route),
        ] {
            if let Some(owner) = process.as_ref().and_then(|p| p.owner.clone()) {
                add(owner, what.into(), "governance owner");
            }
        }
    }
    for a in input.addenda.iter().map(|e| &e.event) {
        if a.kind == "comms.approval" {
            let who = a.value("approver").and_then(Value::as_str).unwrap_or("?");
            let role = a.value("role").and_then(Value::as_str).unwrap_or("");
            add(who.to_owned(), role.to_owned(), "approver");
        }
    }
    if let Some(x) = input.exercise {
        add(x.state.created_by.clone(), "facilitator".into(), "exercise");
        for (role, spells) in &x.state.seats {
            for spell in spells {
                add(spell.username.clone(), role.clone(), "exercise seat");
            }
        }
    }
    out
}

fn executive_summary(
    input: &PackInput<'_>,
    summary: &Value,
    scenarios: &[ScenarioSection],
    controls: &[ControlCheck],
    remediation: &[RemediationAction],
) -> ExecutiveSummary {
    let scenario_worst = scenarios
        .iter()
        .map(|s| verdict_rank(&s.verdict))
        .max()
        .unwrap_or(1);
    let control_worst = controls
        .iter()
        .map(|c| verdict_rank(&c.verdict))
        .max()
        .unwrap_or(0);
    let recorded = summary
        .get("verdict")
        .and_then(Value::as_str)
        .map(verdict_rank);
    let rank = scenario_worst.max(control_worst).max(recorded.unwrap_or(0));
    let verdict = match rank {
        2 => "fail",
        1 => "inconclusive",
        _ => "pass",
    }
    .to_owned();
    let failed_s = scenarios.iter().filter(|s| s.verdict == "fail").count();
    let unproven_s = scenarios
        .iter()
        .filter(|s| s.verdict == "inconclusive")
        .count();
    let failed_c = controls.iter().filter(|c| c.verdict == "fail").count();
    let unproven_c = controls
        .iter()
        .filter(|c| c.verdict == "inconclusive")
        .count();
    let headline = match verdict.as_str() {
        "pass" => format!(
            "Ready on this evidence: all {} scenario(s) and {} control check(s) passed within their claims.",
            scenarios.len(),
            controls.len()
        ),
        "fail" if controls.is_empty() => format!(
            "Not ready for launch: {failed_s} of {} scenario(s) failed; no control (kill switch, handover, rollback) was drilled.",
            scenarios.len()
        ),
        "fail" => format!(
            "Not ready for launch: {failed_s} of {} scenario(s) failed and {failed_c} of {} control check(s) failed{}.",
            scenarios.len(),
            controls.len(),
            if unproven_s + unproven_c > 0 {
                format!("; {} more could not be proven", unproven_s + unproven_c)
            } else {
                String::new()
            }
        ),
        _ if input.drill.is_none() => "Not proven: a tabletop exercise only. The team's response was rehearsed, but no drill tested the agent's behaviour or its controls.".to_owned(),
        _ => format!(
            "Not proven: {unproven_s} scenario(s) and {unproven_c} control check(s) could not be judged; nothing failed outright."
        ),
    };
    let counts = summary
        .get("counts")
        .map_or_else(Counts::default, |c| Counts {
            pass: count(c, "pass"),
            fail: count(c, "fail"),
            inconclusive: count(c, "inconclusive"),
        });
    let mut readiness: Vec<Readiness> = controls
        .iter()
        .map(|c| Readiness {
            control: c.control.clone(),
            title: c.title.clone(),
            readiness: match c.verdict.as_str() {
                "pass" => "ready",
                "fail" => "not-ready",
                _ => "unproven",
            }
            .into(),
            detail: c.reason.clone(),
        })
        .collect();
    // The team's capabilities, as the exercise's hot wash rated them.
    if let Some(x) = input.exercise {
        for capability in &x.state.definition.capabilities {
            let rated = x
                .state
                .ratings
                .iter()
                .rev()
                .find(|r| &r.capability == capability);
            readiness.push(Readiness {
                control: format!("capability/{capability}"),
                title: format!("Team: {capability}"),
                readiness: match rated.map(|r| r.rating) {
                    Some(
                        Rating::PerformedWithoutChallenges | Rating::PerformedWithSomeChallenges,
                    ) => "ready",
                    Some(Rating::PerformedWithMajorChallenges | Rating::UnableToBePerformed) => {
                        "not-ready"
                    }
                    None => "unproven",
                }
                .into(),
                detail: match rated {
                    Some(r) if r.notes.is_empty() => r.rating.label().to_owned(),
                    Some(r) => format!("{}: {}", r.rating.label(), r.notes),
                    None => "not rated in the hot wash".to_owned(),
                },
            });
        }
    }
    let mut risks: Vec<((u8, u64), Risk)> = scenarios
        .iter()
        .filter(|s| s.verdict == "fail")
        .map(|s| {
            (
                (severity_rank(&s.severity), u64::MAX - s.failed),
                Risk {
                    title: s.title.clone(),
                    mode: s.mode.clone(),
                    severity: s.severity.clone(),
                    detail: format!(
                        "failed {} of {} runs{}",
                        s.failed,
                        s.runs,
                        s.reason
                            .as_ref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ),
                },
            )
        })
        .chain(controls.iter().filter(|c| c.verdict == "fail").map(|c| {
            (
                (1, u64::MAX),
                Risk {
                    title: c.title.clone(),
                    mode: "control".into(),
                    severity: "high".into(),
                    detail: c.reason.clone(),
                },
            )
        }))
        .collect();
    risks.sort_by_key(|(rank, _)| *rank);
    let before_launch = remediation
        .iter()
        .filter(|a| a.top)
        .map(|a| a.title.clone())
        .collect();
    ExecutiveSummary {
        verdict,
        headline,
        conversations: counts,
        readiness,
        top_risks: risks.into_iter().take(5).map(|(_, r)| r).collect(),
        before_launch,
    }
}

fn method(
    input: &PackInput<'_>,
    started: Option<&SealedEvent>,
    summary: &Value,
    model: Option<ModelInfo>,
) -> Method {
    let header = input.drill.map(|d| &d.header);
    let manifest_source = started
        .and_then(|e| e.value("manifest"))
        .and_then(|m| text(m, "source"))
        .unwrap_or_default();
    let scenarios = recorded_scenarios(started);
    let options = started.and_then(|e| e.value("options"));
    let policy = options
        .and_then(|o| o.get("policy"))
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .map(|(severity, rule)| {
                    format!(
                        "{severity}: at least {} judged run(s), at most {} failure(s)",
                        count(rule, "min_runs"),
                        count(rule, "max_failures")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let timing = summary.get("timing");
    Method {
        muster_version: header.map_or_else(
            || env!("CARGO_PKG_VERSION").to_owned(),
            |h| h.muster_version.clone(),
        ),
        agent_manifest: header.map(|h| DigestedSource {
            id: h.agent.clone(),
            source: manifest_source.clone(),
            sha256: h.manifest_digest.clone(),
        }),
        scenarios,
        model,
        started_at: rfc3339(start_ns(input)),
        finished_at: input.drill.and_then(|d| rfc3339_opt(d.finished_at_ns)),
        wall_ms: timing.and_then(|t| num(t, "wall_ms")),
        conversations: timing.map_or(0, |t| count(t, "conversations")),
        evidence_events: input.events.len() as u64,
        policy,
        concurrency: options
            .and_then(|o| o.get("concurrency"))
            .and_then(Value::as_u64),
        rewordings: options
            .and_then(|o| o.get("reword"))
            .and_then(Value::as_u64),
        reproduce: match header {
            Some(h) => format!(
                "muster drill --agent {} (with the scenarios above, at the digests listed; `muster replay {}` re-runs the failed conversations)",
                if manifest_source.is_empty() {
                    "<agent.yaml>"
                } else {
                    manifest_source.as_str()
                },
                h.id
            ),
            None => "A tabletop exercise: its whole log is in exercise-log.jsonl. No drill was run, so nothing about the agent's behaviour or its controls was measured; run `muster drill --agent … --exercise <id>` to add that evidence.".to_owned(),
        },
    }
}
