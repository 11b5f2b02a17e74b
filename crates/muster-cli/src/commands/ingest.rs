//! `muster ingest`: telemetry files into the evidence store, in committed batches.
//!
//! Reading and parsing run on a blocking thread and hand batches to the store through a small
//! bounded channel, so memory stays constant in the input's size and parsing overlaps with the
//! store's hashing and commits. Batches end on body boundaries, so each committed batch's
//! `offset_reached` is a safe place to resume from.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use muster_ingest::{BodyFormat, BodyLocation, Item, JsonLinesReader, OtlpReader, Quarantined};
use muster_store::{EvidenceStore, IngestBatch, SqliteStore};
use serde_json::json;
use tokio::sync::mpsc;

use crate::cli::{IngestArgs, IngestFormat};
use crate::context::Context;
use crate::error::{CliError, exit};

/// How one input is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    Lines,
    Body(BodyFormat),
}

impl Reading {
    fn label(self) -> &'static str {
        match self {
            Reading::Lines => "otlp-jsonl",
            Reading::Body(BodyFormat::ProtobufTraces) => "otlp-protobuf-traces",
            Reading::Body(BodyFormat::ProtobufLogs) => "otlp-protobuf-logs",
            Reading::Body(_) => "otlp-json",
        }
    }
}

fn reading(format: IngestFormat, path: &Path) -> Result<Reading, CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let logs = name.contains("logs");
    let protobuf = if logs {
        BodyFormat::ProtobufLogs
    } else {
        BodyFormat::ProtobufTraces
    };
    Ok(match format {
        IngestFormat::OtlpJson => Reading::Body(BodyFormat::Json),
        IngestFormat::OtlpJsonl => Reading::Lines,
        IngestFormat::OtlpProtobuf => Reading::Body(protobuf),
        IngestFormat::OtlpProtobufTraces => Reading::Body(BodyFormat::ProtobufTraces),
        IngestFormat::OtlpProtobufLogs => Reading::Body(BodyFormat::ProtobufLogs),
        IngestFormat::Auto => {
            if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
                Reading::Lines
            } else if name.ends_with(".json") {
                Reading::Body(BodyFormat::Json)
            } else if name.ends_with(".pb")
                || name.ends_with(".binpb")
                || name.ends_with(".protobuf")
            {
                Reading::Body(protobuf)
            } else {
                return Err(CliError::input(format!(
                    "cannot tell the format of {} from its name",
                    path.display()
                ))
                .hint("pass --format otlp-json, otlp-jsonl or otlp-protobuf"));
            }
        }
    })
}

/// The files named: each file, and each folder's files in name order (not recursive). A folder's
/// files are marked so that, with `--format auto`, those of no known format are passed over
/// (a README beside the captures) while a file named outright must be readable.
fn inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, CliError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?;
        if meta.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
                })
                .collect();
            files.sort();
            out.extend(files.into_iter().map(|f| (f, true)));
        } else {
            out.push((path.clone(), false));
        }
    }
    Ok(out)
}

/// What was done with one input.
#[derive(Debug, Default)]
struct InputReport {
    input: String,
    format: &'static str,
    /// Already read to its end before: not read again.
    already_complete: bool,
    resumed_from: Option<u64>,
    events_read: u64,
    stored: u64,
    duplicates: u64,
    quarantined: u64,
    reasons: BTreeMap<String, u64>,
}

/// A batch from the reading thread, with the counts the report needs.
struct Chunk {
    events: Vec<muster_ingest::EvidenceEvent>,
    quarantined: Vec<Quarantined>,
    offset_reached: Option<u64>,
    complete: bool,
}

pub async fn run(ctx: &Context, args: &IngestArgs) -> Result<u8, CliError> {
    if let Some(addr) = args.listen {
        return crate::commands::receive::run(ctx, args, addr).await;
    }
    let files = inputs(&args.paths)?;
    let mut plan: Vec<(PathBuf, Reading)> = Vec::new();
    for (path, in_folder) in files {
        match reading(args.format, &path) {
            Ok(how) => plan.push((path, how)),
            Err(_) if in_folder => {}
            Err(e) => return Err(e),
        }
    }
    if plan.is_empty() {
        return Err(
            CliError::input("no telemetry files to ingest in the paths given")
                .hint("files are recognised by name: *.jsonl, *.json, *.pb; or pass --format"),
        );
    }
    let store = ctx.open_store().await?;
    let started = Instant::now();
    let mut reports = Vec::new();
    for (path, how) in &plan {
        reports.push(ingest_one(ctx, &store, args, path, *how).await?);
    }
    let elapsed = started.elapsed();
    store.close().await;
    print_summary(args, &reports, elapsed);
    Ok(exit::OK)
}

async fn ingest_one(
    ctx: &Context,
    store: &SqliteStore,
    args: &IngestArgs,
    path: &Path,
    how: Reading,
) -> Result<InputReport, CliError> {
    // The canonical path is the input's identity in raw pointers and progress, so the same file
    // named another way is still recognised.
    let origin = std::fs::canonicalize(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?
        .display()
        .to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?
        .len();
    let mut report = InputReport {
        input: path.display().to_string(),
        format: how.label(),
        ..InputReport::default()
    };
    let progress = store.ingest_progress(&args.source, &origin).await?;
    let done_to = progress.offset_reached.unwrap_or(0);
    if progress.complete && done_to >= size {
        report.already_complete = true;
        return Ok(report);
    }
    // Resume only line-oriented inputs; a single body is re-read and its stored records skipped.
    let resume = match how {
        Reading::Lines if done_to > 0 && done_to <= size => Some(done_to),
        _ => None,
    };
    report.resumed_from = resume;

    let bar = ProgressBar::with_draw_target(
        Some(size),
        if ctx.stderr_is_terminal && !args.json {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    let style = ProgressStyle::with_template(
        "{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(report.input.clone());
    bar.set_position(resume.unwrap_or(0));

    let (tx, mut rx) = mpsc::channel::<Chunk>(2);
    let batch_size = args.batch as usize;
    let file_path = path.to_owned();
    let reader_origin = origin.clone();
    let reader = tokio::task::spawn_blocking(move || {
        read_input(
            &file_path,
            &reader_origin,
            how,
            resume,
            size,
            batch_size,
            &tx,
        )
    });

    // One batch committing while the next is hashed: submitted in order, awaited in order.
    let mut in_flight: std::collections::VecDeque<(muster_store::IngestPending, Option<u64>)> =
        std::collections::VecDeque::new();
    while let Some(chunk) = rx.recv().await {
        report.events_read += chunk.events.len() as u64;
        for q in &chunk.quarantined {
            *report.reasons.entry(reason_class(&q.reason)).or_default() += 1;
        }
        let offset = chunk.offset_reached;
        let pending = store.submit_ingest(IngestBatch {
            source: args.source.clone(),
            input: origin.clone(),
            events: chunk.events,
            quarantined: chunk.quarantined,
            offset_reached: chunk.offset_reached,
            complete: chunk.complete,
        })?;
        in_flight.push_back((pending, offset));
        if in_flight.len() > 1
            && let Some((pending, offset)) = in_flight.pop_front()
        {
            settle(&mut report, &bar, pending.wait().await?, offset);
        }
    }
    while let Some((pending, offset)) = in_flight.pop_front() {
        settle(&mut report, &bar, pending.wait().await?, offset);
    }
    bar.finish_and_clear();
    match reader.await {
        Ok(Ok(())) => Ok(report),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(CliError::internal(format!("the reading task failed: {e}"))),
    }
}

fn settle(
    report: &mut InputReport,
    bar: &ProgressBar,
    receipt: muster_store::IngestReceipt,
    offset: Option<u64>,
) {
    report.stored += receipt.stored;
    report.duplicates += receipt.duplicates;
    report.quarantined += receipt.quarantined;
    if let Some(o) = offset {
        bar.set_position(o);
    }
    bar.set_message(format!("{} events", report.stored));
}

/// The reason without its detail (`not JSON: expected value at line 1 column 2` → `not JSON`),
/// so the summary groups like with like.
fn reason_class(reason: &str) -> String {
    let head = reason.split(':').next().unwrap_or(reason).trim();
    head.chars().take(80).collect()
}

/// Read one input on a blocking thread and send it in batches that end on body boundaries.
fn read_input(
    path: &Path,
    origin: &str,
    how: Reading,
    resume: Option<u64>,
    size: u64,
    batch_size: usize,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), CliError> {
    let cannot =
        |e: std::io::Error| CliError::input(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let send = |chunk: Chunk| {
        // A closed channel means the store side failed; its error is the one reported.
        tx.blocking_send(chunk).is_ok()
    };
    match how {
        Reading::Body(format) => {
            let mut body = Vec::new();
            BufReader::new(file)
                .read_to_end(&mut body)
                .map_err(cannot)?;
            let mut reader = OtlpReader::new(origin);
            let items = reader.read_body(&body, format, BodyLocation::default());
            let (events, quarantined) = split(items);
            send(Chunk {
                events,
                quarantined,
                offset_reached: Some(size),
                complete: true,
            });
            Ok(())
        }
        Reading::Lines => {
            let mut input = BufReader::with_capacity(1 << 20, file);
            let mut lines = 0u64;
            if let Some(offset) = resume {
                lines = skip_prefix(&mut input, offset).map_err(cannot)?;
            }
            let mut reader = JsonLinesReader::new(input, origin);
            if let Some(offset) = resume {
                reader = reader.resume_at(offset, lines);
            }
            let mut events = Vec::with_capacity(batch_size);
            let mut quarantined = Vec::new();
            let mut body: Option<u64> = None;
            for item in reader.by_ref() {
                let at = match &item {
                    Item::Event(e) => e.raw.offset,
                    Item::Quarantined(q) => q.pointer.offset,
                };
                if at != body {
                    // A new body starts: everything before it is in hand.
                    if events.len() + quarantined.len() >= batch_size {
                        let full = Chunk {
                            events: std::mem::replace(&mut events, Vec::with_capacity(batch_size)),
                            quarantined: std::mem::take(&mut quarantined),
                            offset_reached: at,
                            complete: false,
                        };
                        if !send(full) {
                            return Ok(());
                        }
                    }
                    body = at;
                }
                match item {
                    Item::Event(e) => events.push(*e),
                    Item::Quarantined(q) => quarantined.push(*q),
                }
            }
            let finished = reader.finish();
            let complete = finished.is_ok();
            send(Chunk {
                events,
                quarantined,
                // After a read error, only what was read is safe to resume past.
                offset_reached: if complete { Some(size) } else { body },
                complete,
            });
            finished
                .map(|_| ())
                .map_err(|e| CliError::runtime(e.to_string()))
        }
    }
}

/// Skip `offset` bytes, counting the lines they hold (cheap: no parsing).
fn skip_prefix(input: &mut impl BufRead, offset: u64) -> std::io::Result<u64> {
    let mut left = offset;
    let mut lines = 0u64;
    while left > 0 {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let take = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        lines += memchr_count(&buf[..take]);
        input.consume(take);
        left -= take as u64;
    }
    Ok(lines)
}

fn memchr_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

fn split(items: Vec<Item>) -> (Vec<muster_ingest::EvidenceEvent>, Vec<Quarantined>) {
    let mut events = Vec::new();
    let mut quarantined = Vec::new();
    for item in items {
        match item {
            Item::Event(e) => events.push(*e),
            Item::Quarantined(q) => quarantined.push(*q),
        }
    }
    (events, quarantined)
}

fn print_summary(args: &IngestArgs, reports: &[InputReport], elapsed: std::time::Duration) {
    let stored: u64 = reports.iter().map(|r| r.stored).sum();
    let duplicates: u64 = reports.iter().map(|r| r.duplicates).sum();
    let quarantined: u64 = reports.iter().map(|r| r.quarantined).sum();
    let complete = reports.iter().filter(|r| r.already_complete).count();
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    for r in reports {
        for (reason, n) in &r.reasons {
            *reasons.entry(reason).or_default() += n;
        }
    }
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        stored as f64 / secs
    } else {
        0.0
    };
    if args.json {
        let out = json!({
            "source": args.source,
            "inputs": reports.iter().map(|r| json!({
                "input": r.input,
                "format": r.format,
                "already_ingested": r.already_complete,
                "resumed_from_offset": r.resumed_from,
                "events_read": r.events_read,
                "stored": r.stored,
                "already_stored": r.duplicates,
                "quarantined": r.quarantined,
            })).collect::<Vec<_>>(),
            "stored": stored,
            "already_stored": duplicates,
            "inputs_already_ingested": complete,
            "quarantined": quarantined,
            "quarantine_reasons": reasons,
            "elapsed_ms": elapsed.as_millis() as u64,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return;
    }
    for r in reports {
        if r.already_complete {
            println!(
                "{}  already ingested into `{}`, skipped",
                r.input, args.source
            );
            continue;
        }
        let resumed = r
            .resumed_from
            .map(|o| format!(", resumed at byte {o}"))
            .unwrap_or_default();
        println!(
            "{}  {}: {} events stored, {} already stored, {} quarantined{resumed}",
            r.input, r.format, r.stored, r.duplicates, r.quarantined
        );
    }
    println!(
        "source `{}`: {stored} events stored, {duplicates} already stored (skipped), {quarantined} quarantined{} in {:.1} s ({rate:.0} events/s)",
        args.source,
        if complete > 0 {
            format!(", {complete} input(s) already ingested")
        } else {
            String::new()
        },
        secs
    );
    if !reasons.is_empty() {
        println!("quarantined, by reason:");
        for (reason, n) in &reasons {
            println!("  {n:>6}  {reason}");
        }
    }
}
