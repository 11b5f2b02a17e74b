//! `muster pack` (write a drill's, or an exercise's, signed evidence pack) and `muster verify`
//! (check one).

use std::path::{Path, PathBuf};
use std::time::Instant;

use muster_console::state::ExerciseState;
use muster_evidence::SealedEvent;
use muster_model::agent::AgentManifest;
use muster_pack::{
    ExerciseInput, LockRecord, PackInput, PackKey, ScenarioText, TextStatus, WriteOptions,
};
use muster_store::{DrillRecord, ExerciseLogVerify, StoreError};
use serde_json::{Value, json};

use crate::cli::{PackArgs, PackVerifyArgs};
use crate::context::Context;
use crate::error::{CliError, exit};

/// The text of a file the drill loaded: built in (`builtin:…`) or on disk.
fn source_text(source: &str) -> Option<String> {
    match source.strip_prefix("builtin:") {
        Some(path) => muster_library::scenarios()
            .into_iter()
            .chain(
                [
                    muster_library::ReferenceInterface::Native,
                    muster_library::ReferenceInterface::OpenAiChat,
                ]
                .into_iter()
                .filter_map(muster_library::reference_manifest),
            )
            .find(|f| f.path == path)
            .map(|f| f.text.to_owned()),
        None => std::fs::read_to_string(source).ok(),
    }
}

/// Reads a recorded source back; `Verified` only when it still has the digest the drill recorded.
fn read_back(source: &str, digest: &str) -> (TextStatus, Option<String>) {
    match source_text(source) {
        None => (TextStatus::Unavailable, None),
        Some(text) if muster_drill::digest_text(&text) == digest => {
            (TextStatus::Verified, Some(text))
        }
        Some(_) => (TextStatus::Changed, None),
    }
}

fn started_event(events: &[SealedEvent]) -> Option<&SealedEvent> {
    events
        .iter()
        .find(|e| e.stream == "drill" && e.kind == "drill.started")
}

fn scenario_texts(started: Option<&SealedEvent>) -> Vec<ScenarioText> {
    let Some(list) = started
        .and_then(|e| e.value("scenarios"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let id = s.get("id")?.as_str()?.to_owned();
            let source = s.get("source").and_then(Value::as_str).unwrap_or("");
            let digest = s.get("digest").and_then(Value::as_str).unwrap_or("");
            let (status, text) = read_back(source, digest);
            let scenario = text.and_then(|t| muster_model::load_scenario(&t).value);
            Some(ScenarioText {
                id,
                status: if status == TextStatus::Verified && scenario.is_none() {
                    TextStatus::Unavailable
                } else {
                    status
                },
                scenario,
            })
        })
        .collect()
}

fn manifest_of(started: Option<&SealedEvent>) -> Option<AgentManifest> {
    let m = started?.value("manifest")?;
    let source = m.get("source")?.as_str()?;
    let digest = m.get("digest")?.as_str()?;
    match read_back(source, digest) {
        (TextStatus::Verified, Some(text)) => crate::load::manifest_from_text(source, &text).ok(),
        _ => None,
    }
}

/// The drill `id` names (with no exercise named), or the exercise it names with that exercise's
/// drill, if it has one (a tabletop exercise may have none).
async fn resolve(
    store: &dyn muster_store::Store,
    id: &str,
) -> Result<(Option<DrillRecord>, Option<String>), CliError> {
    match store.drill(id).await {
        Ok(drill) => return Ok((Some(drill), None)),
        Err(StoreError::DrillNotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let Some(record) = store.exercise(id).await? else {
        return Err(
            CliError::input(format!("no drill or exercise `{id}` in the store"))
                .hint("`muster store list` lists drills; exercises are listed in the console"),
        );
    };
    let state = muster_console::state_of(store, &record, 0)
        .await
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let drill = match state
        .definition
        .drill_id
        .clone()
        .or_else(|| state.drills.last().map(|d| d.drill_id.clone()))
    {
        Some(drill_id) => Some(store.drill(&drill_id).await?),
        None => None,
    };
    Ok((drill, Some(record.id)))
}

/// The exercise to include: the one named, else the latest one that ran or reviews the drill.
async fn exercise_for(
    store: &dyn muster_store::Store,
    drill_id: Option<&str>,
    named: Option<&str>,
) -> Result<Option<(ExerciseState, ExerciseLogVerify)>, CliError> {
    let mut candidates = Vec::new();
    match named {
        Some(id) => match store.exercise(id).await? {
            Some(r) => candidates.push(r),
            None => return Err(CliError::input(format!("no exercise `{id}` in the store"))),
        },
        None => candidates = store.exercises().await?,
    }
    let mut found: Option<ExerciseState> = None;
    for record in candidates.iter().rev() {
        let now = muster_console::state_of(store, record, 0)
            .await
            .map_err(|e| CliError::runtime(e.to_string()))?;
        let linked = drill_id.is_some_and(|drill_id| {
            now.definition.drill_id.as_deref() == Some(drill_id)
                || now.drills.iter().any(|d| d.drill_id == drill_id)
        });
        if linked || named.is_some() {
            let state = (*now.state).clone();
            if found
                .as_ref()
                .is_none_or(|f| f.created_at_ns < state.created_at_ns)
            {
                found = Some(state);
            }
        }
    }
    match found {
        Some(state) => {
            let log = store.verify_exercise_log(&state.id).await?;
            Ok(Some((state, log)))
        }
        None => Ok(None),
    }
}

fn lock_records(path: &Path) -> Result<Option<Vec<LockRecord>>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::input(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let lock = muster_assess::Lock::parse(&text)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    Ok(Some(
        lock.agents
            .values()
            .map(|a| LockRecord {
                drill_id: a.drill_id.clone(),
                root_digest: a.root_digest.clone(),
            })
            .collect(),
    ))
}

/// The signing key: `--key`, else `[signing] key` in muster.toml, else beside the store.
fn key_path(ctx: &Context, flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_owned();
    }
    if let Some((config_path, config)) = &ctx.config
        && let Some(key) = &config.signing.key
    {
        return config_path.parent().unwrap_or(Path::new(".")).join(key);
    }
    muster_pack::seal::default_key_path(&ctx.local_dir)
}

pub fn default_out_dir(id: &str) -> PathBuf {
    PathBuf::from(format!("pack-{}", id.chars().take(8).collect::<String>()))
}

/// The customer-notice approval is recorded after the seal (in the drill's addenda): the pack
/// shows its row as it stands now, not as it stood when the drill was sealed.
async fn update_comms_row(
    store: &dyn muster_store::Store,
    drill: &mut DrillRecord,
    events: &[muster_store::StoredEvent],
) -> Result<(), CliError> {
    let Some((notice, claimed_ms)) = muster_control::comms::notice_in(events) else {
        return Ok(());
    };
    let row = muster_control::comms::current(store, &drill.header.id, &notice, claimed_ms).await?;
    let row = serde_json::to_value(&row).map_err(|e| CliError::internal(e.to_string()))?;
    if let Some(list) = drill
        .summary
        .as_mut()
        .and_then(|s| s.get_mut("controls"))
        .and_then(|c| c.get_mut("controls"))
        .and_then(Value::as_array_mut)
    {
        for entry in list.iter_mut() {
            if entry.get("control") == row.get("control") {
                *entry = row.clone();
            }
        }
    }
    Ok(())
}

/// What to pack, where, and how.
pub struct PackRequest<'a> {
    /// `None` packs the exercise on its own (a tabletop without a drill).
    pub drill_id: Option<&'a str>,
    pub exercise: Option<&'a str>,
    pub out: &'a Path,
    pub key: Option<&'a Path>,
    pub include_raw: bool,
    pub pdf: bool,
}

/// Builds and writes the pack; shared by `muster pack` and `muster demo`.
pub async fn write(
    ctx: &Context,
    store: &dyn muster_store::Store,
    request: &PackRequest<'_>,
) -> Result<(muster_pack::Written, muster_pack::Pack, f64), CliError> {
    let PackRequest {
        drill_id,
        exercise,
        out,
        key,
        include_raw,
        pdf,
    } = *request;
    let started_at = Instant::now();
    let mut drill = match drill_id {
        Some(id) => Some(store.drill(id).await?),
        None => None,
    };
    let (stored, verify, addenda) = match &mut drill {
        Some(d) => {
            let stored = store.events(&d.header.id).await?;
            update_comms_row(store, d, &stored).await?;
            let verify = store.verify(&d.header.id).await?.report;
            let addenda = store.addenda(&d.header.id).await?;
            (stored, Some(verify), addenda)
        }
        None => (Vec::new(), None, Vec::new()),
    };
    // The evidence file holds the drill's events, then its addenda (chained from its root).
    let sealed: Vec<SealedEvent> = stored
        .iter()
        .chain(addenda.iter())
        .map(|e| e.event.clone())
        .collect();
    let started = started_event(&sealed);
    let manifest = manifest_of(started);
    let scenarios = scenario_texts(started);
    let catalogue = muster_controls::Catalogue::builtin().ok();
    let exercise = exercise_for(
        store,
        drill.as_ref().map(|d| d.header.id.as_str()),
        exercise,
    )
    .await?;
    if drill.is_none() && exercise.is_none() {
        return Err(CliError::input(
            "nothing to pack: name a drill, or an exercise",
        ));
    }
    let exercise_log: Vec<SealedEvent> = match &exercise {
        Some((state, _)) => store
            .exercise_log(&state.id)
            .await?
            .into_iter()
            .map(|e| e.event)
            .collect(),
        None => Vec::new(),
    };
    let exercise_audit = exercise
        .as_ref()
        .map(|(_, log)| muster_pack::model::ExerciseLogAudit {
            entries: log.entries,
            head: log.head.clone(),
            intact: log.problems.is_empty(),
            problems: log.problems.clone(),
        });
    let lock = lock_records(&ctx.lock_path(None))?;
    let lock_root = lock
        .as_ref()
        .and_then(|l| {
            l.iter()
                .find(|r| drill.as_ref().is_some_and(|d| r.drill_id == d.header.id))
        })
        .map(|r| r.root_digest.clone());
    let key_path = key_path(ctx, key);
    let (key, created) = PackKey::load_or_create(&key_path).map_err(|e| {
        CliError::input(e.to_string())
            .hint("`--key PATH` or `[signing] key` in muster.toml names another key file")
    })?;
    if created {
        eprintln!(
            "made a new pack signing key at {} (fingerprint {}); keep it safe and give the fingerprint to whoever checks your packs",
            key_path.display(),
            key.fingerprint()
        );
    }
    let fingerprint = key.fingerprint();
    let input = PackInput {
        drill: drill.as_ref(),
        events: &stored,
        verify: verify.as_ref(),
        addenda: &addenda,
        manifest: manifest.as_ref(),
        scenarios: &scenarios,
        catalogue: catalogue.as_ref(),
        exercise: match (&exercise, &exercise_audit) {
            (Some((state, _)), Some(log)) => Some(ExerciseInput { state, log }),
            _ => None,
        },
        lock_root: lock_root.as_deref(),
        include_raw,
        signer_fingerprint: &fingerprint,
    };
    let pack = muster_pack::assemble(&input);
    let written = muster_pack::write_pack(
        out,
        pack.clone(),
        muster_pack::PackEvidence {
            drill: &sealed,
            exercise_log: &exercise_log,
        },
        &key,
        WriteOptions { include_raw, pdf },
    )
    .map_err(|e| match e {
        muster_pack::PackError::NotEmpty { .. } => CliError::input(e.to_string())
            .hint("pass `-o` with a new directory; an existing pack is never overwritten"),
        other => CliError::runtime(other.to_string()),
    })?;
    Ok((written, pack, started_at.elapsed().as_secs_f64() * 1000.0))
}

pub async fn run(ctx: &Context, args: &PackArgs) -> Result<u8, CliError> {
    let store = ctx.open_store().await?;
    let (drill, exercise) = resolve(&*store, &args.id).await?;
    let exercise = args.exercise.clone().or(exercise);
    let drill_id = drill.as_ref().map(|d| d.header.id.clone());
    let out = args.out.clone().unwrap_or_else(|| {
        default_out_dir(
            drill_id
                .as_deref()
                .or(exercise.as_deref())
                .unwrap_or("pack"),
        )
    });
    let pdf = muster_pack::renders_pdf() && !args.no_pdf;
    let (written, pack, ms) = write(
        ctx,
        &*store,
        &PackRequest {
            drill_id: drill_id.as_deref(),
            exercise: exercise.as_deref(),
            out: &out,
            key: args.key.as_deref(),
            include_raw: args.include_raw,
            pdf,
        },
    )
    .await?;
    if args.json {
        let files: Vec<Value> = written
            .files
            .iter()
            .map(|(p, b)| json!({"path": p, "bytes": b}))
            .collect();
        let body = json!({
            "dir": written.dir,
            "drill": drill_id,
            "exercise": pack.subject.exercise.as_ref().map(|x| &x.id),
            "verdict": pack.summary.verdict,
            "signer": written.fingerprint,
            "manifest_sha256": written.manifest_sha256,
            "files": files,
            "raw_included": args.include_raw,
            "pdf_ms": written.pdf_ms,
            "total_ms": ms,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    } else {
        println!(
            "pack: {} — verdict {}, {} file(s), signed by {}",
            written.dir.display(),
            pack.summary.verdict,
            written.files.len(),
            written.fingerprint
        );
        println!("  {}", pack.summary.headline);
        if args.include_raw {
            println!("  WARNING: raw content included; personal data is not masked");
        }
        if !pdf {
            println!(
                "  (no pack.pdf: {})",
                if args.no_pdf {
                    "--no-pdf"
                } else {
                    "built without the `pdf` feature"
                }
            );
        }
        println!(
            "  open {}; check it with `muster verify {} --key {}` ({ms:.0} ms)",
            written.dir.join(muster_pack::HTML_FILE).display(),
            written.dir.display(),
            written.fingerprint
        );
    }
    Ok(exit::OK)
}

pub fn verify(ctx: &Context, args: &PackVerifyArgs) -> Result<u8, CliError> {
    let lock = match &args.lock {
        Some(p) => Some(
            lock_records(p)?
                .ok_or_else(|| CliError::input(format!("{} does not exist", p.display())))?,
        ),
        None => None,
    };
    let _ = ctx;
    let result = muster_pack::verify_pack(&args.dir, args.key.as_deref(), lock.as_deref())
        .map_err(|e| CliError::input(e.to_string()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ok": result.ok(),
                "dir": result.dir,
                "drill": result.drill_id,
                "exercise": result.exercise_id,
                "signer": result.signer,
                "signer_checked": result.signer_checked,
                "checks": result.checks,
            }))
            .unwrap_or_default()
        );
    } else {
        for c in &result.checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            if c.ok && c.check.starts_with("file ") && !args.verbose {
                continue;
            }
            println!("{mark} {}: {}", c.check, c.detail);
        }
        let files = result
            .checks
            .iter()
            .filter(|c| c.check.starts_with("file ") && c.ok)
            .count();
        if files > 0 && !args.verbose {
            println!("ok   {files} file digest(s) match the manifest (--verbose lists them)");
        }
        if result.ok() {
            let subject = match (&result.drill_id, &result.exercise_id) {
                (Some(d), Some(x)) => format!("drill {d}, exercise {x}"),
                (Some(d), None) => format!("drill {d}"),
                (None, Some(x)) => format!("tabletop exercise {x}"),
                (None, None) => "nothing named".to_owned(),
            };
            println!(
                "verified: {} ({subject}), signed by {}",
                result.dir.display(),
                result.signer.as_deref().unwrap_or("?")
            );
            if !result.signer_checked {
                println!(
                    "note: the signer was not compared with a key you expect; pass --key FINGERPRINT to do so"
                );
            }
        } else {
            println!(
                "NOT verified: {} check(s) failed",
                result.failures().count()
            );
        }
    }
    Ok(if result.ok() { exit::OK } else { exit::FAILED })
}
