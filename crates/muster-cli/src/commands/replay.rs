//! `muster replay`: re-run recorded conversations against an agent version.

use std::collections::BTreeMap;

use muster_drill::{
    DrillPlan, DrillReport, PlannedScenario, RecordedConversation, ReplayOrigin, TranscriptMessage,
    Verdict, digest_text, plan_drill_replay, plan_transcript_replay, recorded_conversations,
    transcript_turns, turns_digest,
};
use muster_ingest::EventKind;
use muster_store::{DrillStatus, Store, TimelineKey, TimelineQuery};
use serde::Serialize;

use crate::cli::ReplayArgs;
use crate::commands::drill::{CiOutputs, Execution, Outcome, execute, exit_for, print_report};
use crate::context::Context;
use crate::error::CliError;
use crate::load::{plan_from_texts, read, report_problems};

/// One replayed conversation beside what it was.
#[derive(Debug, Serialize)]
struct Row {
    /// The scenario id the replay ran under.
    replay_id: String,
    origin: ReplayOrigin,
    /// The original conversation's verdict (drills only).
    was: Option<String>,
    /// Other recorded conversations with the same turns, replayed by this one.
    same_turns_as: Vec<String>,
    verdict: Verdict,
    runs: u32,
    passed: u32,
    failed: u32,
    inconclusive: u32,
    reason: String,
}

pub async fn run(ctx: &Context, args: &ReplayArgs) -> Result<u8, CliError> {
    ctx.require_store()?;
    let manifest_text = read(&args.agent)?;
    let overrides = read_overrides(&args.scenario)?;
    let store = ctx.open_store().await?;
    let selected = match (&args.drill, &args.transcript) {
        (Some(drill), _) => from_drill(&*store, drill, args, &overrides).await,
        (None, Some(conversation)) => {
            from_transcript(&*store, conversation, args.source.as_deref(), &overrides).await
        }
        (None, None) => Err(CliError::input("name a drill, or --transcript")),
    };
    store.close().await;
    let selected = selected?;

    // Validate the scenarios against the new manifest the way a drill does, then swap in the
    // recorded turns.
    let mut texts: Vec<(String, String)> = Vec::new();
    for s in &selected {
        if !texts.iter().any(|(label, _)| *label == s.label) {
            texts.push((s.label.clone(), s.text.clone()));
        }
    }
    let base = plan_from_texts((&args.agent.display().to_string(), &manifest_text), &texts)
        .map_err(|p| report_problems(&p, ctx.color))?;
    let mut scenarios: Vec<PlannedScenario> = Vec::new();
    for s in &selected {
        let Some(original) = base.scenarios.iter().find(|p| p.source == s.label) else {
            return Err(CliError::internal(format!(
                "scenario {} was validated but is not in the plan",
                s.label
            )));
        };
        let planned = match &s.recording {
            Recording::Drill(conv) => plan_drill_replay(
                conv,
                s.root.clone(),
                &original.scenario,
                &original.source,
                &original.digest,
            )
            .map_err(|e| CliError::input(e.to_string()))?,
            Recording::Transcript {
                conversation,
                source,
                messages,
            } => plan_transcript_replay(
                conversation,
                source,
                messages,
                &original.scenario,
                &original.source,
                &original.digest,
            ),
        };
        scenarios.push(planned);
    }
    let plan = DrillPlan { scenarios, ..base };

    let Outcome { report, .. } = execute(
        ctx,
        &plan,
        Execution {
            base_url: args.base_url.clone(),
            concurrency: ctx.concurrency(args.concurrency),
            repeat: args.repeat,
            reword: 0,
            controls: Vec::new(),
            // A replay's runs are few (the policy's, per conversation): keep them all.
            retain: muster_drill::Retain::All,
            spill_runs: false,
            exercise: None,
            distributed: None,
        },
    )
    .await?;
    CiOutputs {
        junit: args.junit.as_deref(),
        sarif: args.sarif.as_deref(),
    }
    .write(&report, &texts)?;
    let rows = rows(&plan, &selected, &report);
    if args.json {
        let mut value =
            serde_json::to_value(&report).map_err(|e| CliError::internal(e.to_string()))?;
        value["store"] = serde_json::Value::String(ctx.store.describe());
        value["replayed"] = serde_json::to_value(&rows).unwrap_or_default();
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        print_report(ctx, &report);
        println!();
        print!("{}", replay_table(&rows));
    }
    Ok(exit_for(&report))
}

/// A recorded conversation picked for replay, with the scenario text that judges it.
struct Selected {
    /// The scenario's label: where it was loaded from.
    label: String,
    text: String,
    /// The recording's drill root, when it came from a drill.
    root: Option<String>,
    recording: Recording,
    same_turns_as: Vec<String>,
}

enum Recording {
    Drill(RecordedConversation),
    Transcript {
        conversation: String,
        source: String,
        messages: Vec<TranscriptMessage>,
    },
}

/// `--scenario` files by scenario id.
fn read_overrides(
    paths: &[std::path::PathBuf],
) -> Result<BTreeMap<String, (String, String)>, CliError> {
    let mut out = BTreeMap::new();
    for path in paths {
        let text = read(path)?;
        let label = path.display().to_string();
        let loaded = muster_model::load_scenario(&text);
        let has_errors = loaded.has_errors();
        let Some(scenario) = loaded.value.filter(|_| !has_errors) else {
            return Err(report_problems(
                &[crate::load::FileProblems {
                    file: label,
                    text,
                    diagnostics: loaded.diagnostics,
                }],
                false,
            ));
        };
        out.insert(scenario.id, (label, text));
    }
    Ok(out)
}

async fn from_drill(
    store: &dyn Store,
    drill: &str,
    args: &ReplayArgs,
    overrides: &BTreeMap<String, (String, String)>,
) -> Result<Vec<Selected>, CliError> {
    let record = store.drill(drill).await?;
    let id = record.header.id.clone();
    if record.status == DrillStatus::Running {
        return Err(CliError::input(format!(
            "drill {id} is still running (or its process died before sealing)"
        ))
        .hint("replay a sealed or interrupted drill: `muster store list` shows them"));
    }
    // A recording that no longer verifies cannot be trusted to say what was sent.
    let verified = store.verify(&id).await?;
    if !verified.report.is_intact() {
        return Err(CliError::input(format!(
            "drill {id} does not verify ({} problems), so its recorded turns cannot be trusted",
            verified.report.problems.len()
        ))
        .hint(format!("`muster store verify {id}` names what changed")));
    }
    let events: Vec<_> = store
        .events(&id)
        .await?
        .into_iter()
        .map(|e| e.event)
        .collect();
    let conversations = recorded_conversations(&id, &events);
    if conversations.is_empty() {
        return Err(
            CliError::input(format!("drill {id} recorded no conversations"))
                .hint("a drill of control drills only has nothing to replay"),
        );
    }
    let picked: Vec<RecordedConversation> = if !args.conversations.is_empty() {
        let mut picked = Vec::new();
        for stream in &args.conversations {
            let Some(c) = conversations.iter().find(|c| c.stream == *stream) else {
                let known: Vec<&str> = conversations.iter().map(|c| c.stream.as_str()).collect();
                let hint = match muster_model::diag::nearest(stream, known.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "`muster replay DRILL --all --json` lists them under replayed[].origin.stream".into(),
                };
                return Err(
                    CliError::input(format!("no conversation `{stream}` in drill {id}")).hint(hint),
                );
            };
            picked.push(c.clone());
        }
        picked
    } else if args.all {
        conversations
    } else {
        let failing: Vec<_> = conversations
            .into_iter()
            .filter(|c| c.verdict.as_deref() != Some("pass"))
            .collect();
        if failing.is_empty() {
            return Err(CliError::input(format!(
                "every conversation of drill {id} passed: nothing failed to replay"
            ))
            .hint("--all replays every conversation; --conversation STREAM picks one"));
        }
        failing
    };

    // Runs of a scenario with a script and no adaptive turn usually said the same thing: replay
    // each distinct recording once (its runs come from --repeat or the pass policy).
    let mut selected: Vec<Selected> = Vec::new();
    let root = record.root.map(|r| r.to_hex());
    for conv in picked {
        let digest = turns_digest(conv.turns.iter().map(|t| t.text.as_str()));
        if let Some(earlier) = selected.iter_mut().find(|s| match &s.recording {
            Recording::Drill(c) => {
                c.scenario_id == conv.scenario_id
                    && turns_digest(c.turns.iter().map(|t| t.text.as_str())) == digest
            }
            Recording::Transcript { .. } => false,
        }) {
            earlier.same_turns_as.push(conv.stream.clone());
            continue;
        }
        let (label, text) = scenario_for(&conv, overrides)?;
        selected.push(Selected {
            label,
            text,
            root: root.clone(),
            recording: Recording::Drill(conv),
            same_turns_as: Vec::new(),
        });
    }
    Ok(selected)
}

/// The scenario a drill's conversation ran: a `--scenario` with its id, else the file (or
/// built-in) the drill loaded, which must still be the text the drill ran.
fn scenario_for(
    conv: &RecordedConversation,
    overrides: &BTreeMap<String, (String, String)>,
) -> Result<(String, String), CliError> {
    if let Some((label, text)) = overrides.get(&conv.scenario_id) {
        return Ok((label.clone(), text.clone()));
    }
    let source = &conv.scenario_source;
    let text = if let Some(path) = source.strip_prefix("builtin:") {
        muster_library::scenarios()
            .into_iter()
            .find(|f| f.path == path)
            .map(|f| f.text.to_owned())
    } else {
        std::fs::read_to_string(source).ok()
    };
    let Some(text) = text else {
        return Err(CliError::input(format!(
            "the scenario `{}` ran from {source}, which cannot be read now",
            conv.scenario_id
        ))
        .hint(format!(
            "pass it with --scenario FILE (a scenario whose id is `{}`)",
            conv.scenario_id
        )));
    };
    let digest = digest_text(&text);
    if digest != conv.scenario_digest {
        return Err(CliError::input(format!(
            "the scenario `{}` at {source} has changed since the drill (SHA-256 {} then, {} now)",
            conv.scenario_id,
            short(&conv.scenario_digest),
            short(&digest)
        ))
        .hint("to judge the recorded turns by the current version, pass it with --scenario FILE"));
    }
    Ok((source.clone(), text))
}

fn short(digest: &str) -> &str {
    &digest[..12.min(digest.len())]
}

async fn from_transcript(
    store: &dyn Store,
    conversation: &str,
    source: Option<&str>,
    overrides: &BTreeMap<String, (String, String)>,
) -> Result<Vec<Selected>, CliError> {
    let mut scenarios = overrides.values();
    let (Some((label, text)), None) = (scenarios.next(), scenarios.next()) else {
        return Err(CliError::input(
            "--transcript is judged by exactly one scenario: pass one --scenario FILE",
        ));
    };
    let events = store
        .timeline(&TimelineQuery {
            key: TimelineKey::Conversation(conversation.to_owned()),
            from_ns: None,
            to_ns: None,
            limit: None,
        })
        .await?;
    let messages: Vec<TranscriptMessage> = events
        .into_iter()
        .filter(|e| matches!(e.event.kind, EventKind::CustomerMessage { .. }))
        // The timeline also brings in events of the conversation's traces; only the
        // conversation's own messages are its turns.
        .filter(|e| e.event.correlation.conversation_id.as_deref() == Some(conversation))
        .map(|e| TranscriptMessage {
            source: e.source,
            seq: e.seq,
            time_ns: e.event.time_ns,
            text: e.event.content.unwrap_or_default(),
        })
        .collect();
    let (source, messages) = transcript_turns(conversation, &messages, source).map_err(|e| {
        let hint = match &e {
            muster_drill::ReplayError::SeveralSources { .. } => {
                "choose one with --source NAME".to_owned()
            }
            _ => format!(
                "`muster reconstruct --conversation {conversation}` shows what is stored for it"
            ),
        };
        CliError::input(e.to_string()).hint(hint)
    })?;
    Ok(vec![Selected {
        label: label.clone(),
        text: text.clone(),
        root: None,
        recording: Recording::Transcript {
            conversation: conversation.to_owned(),
            source,
            messages,
        },
        same_turns_as: Vec::new(),
    }])
}

fn rows(plan: &DrillPlan, selected: &[Selected], report: &DrillReport) -> Vec<Row> {
    plan.scenarios
        .iter()
        .zip(selected)
        .filter_map(|(planned, s)| {
            let origin = planned.replay_of.clone()?;
            let summary = report
                .summaries
                .iter()
                .find(|x| x.id == planned.scenario.id);
            let was = match &s.recording {
                Recording::Drill(c) => c.verdict.clone(),
                Recording::Transcript { .. } => None,
            };
            Some(Row {
                replay_id: planned.scenario.id.clone(),
                origin,
                was,
                same_turns_as: s.same_turns_as.clone(),
                verdict: summary.map_or(Verdict::Inconclusive, |x| x.verdict),
                runs: summary.map_or(0, |x| x.runs),
                passed: summary.map_or(0, |x| x.passed),
                failed: summary.map_or(0, |x| x.failed),
                inconclusive: summary.map_or(0, |x| x.inconclusive),
                reason: summary.map(|x| x.reason.clone()).unwrap_or_else(|| {
                    "not run (the replay was interrupted before it started)".into()
                }),
            })
        })
        .collect()
}

fn replay_table(rows: &[Row]) -> String {
    let mut out =
        String::from("replayed                                             was           now\n");
    for r in rows {
        let from = match &r.origin {
            ReplayOrigin::Drill { stream, .. } => stream.clone(),
            ReplayOrigin::Transcript {
                conversation,
                source,
                ..
            } => format!("{source}:{conversation}"),
        };
        out.push_str(&format!(
            "  {from:<50} {:<13} {} ({} of {} runs passed)\n",
            r.was.as_deref().unwrap_or("—"),
            r.verdict.as_str(),
            r.passed,
            r.runs
        ));
        if !r.same_turns_as.is_empty() {
            out.push_str(&format!(
                "    also stands for {} (same turns)\n",
                r.same_turns_as.join(", ")
            ));
        }
    }
    out
}
