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
use muster_ingest::generic::Mapping;
use muster_ingest::helpdesk::{BodyReader, HelpdeskOptions};
use muster_ingest::lines::{LineReader, at_line};
use muster_ingest::{
    BodyFormat, BodyLocation, Item, JsonLinesReader, OtlpReader, Quarantined, ReadError, ReadStats,
};
use muster_store::{IngestBatch, Store};
use serde_json::json;
use tokio::sync::mpsc;

use crate::cli::{IngestArgs, IngestFormat};
use crate::context::Context;
use crate::error::{CliError, exit};

/// A format with a reader of its own (everything but OTLP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Native {
    Agents,
    Langsmith,
    Langfuse,
    Zendesk,
    Intercom,
    Freshdesk,
    Salesforce,
    ModelLogs,
    Bedrock,
    SplunkHec,
    Datadog,
    GenericJsonl,
    GenericCsv,
}

impl Native {
    fn of(format: IngestFormat) -> Option<Native> {
        Some(match format {
            IngestFormat::Auto
            | IngestFormat::OtlpJson
            | IngestFormat::OtlpJsonl
            | IngestFormat::OtlpProtobuf
            | IngestFormat::OtlpProtobufTraces
            | IngestFormat::OtlpProtobufLogs => return None,
            IngestFormat::OpenaiAgents => Native::Agents,
            IngestFormat::Langsmith => Native::Langsmith,
            IngestFormat::Langfuse => Native::Langfuse,
            IngestFormat::Zendesk => Native::Zendesk,
            IngestFormat::Intercom => Native::Intercom,
            IngestFormat::Freshdesk => Native::Freshdesk,
            IngestFormat::Salesforce => Native::Salesforce,
            IngestFormat::ModelLogs => Native::ModelLogs,
            IngestFormat::Bedrock => Native::Bedrock,
            IngestFormat::SplunkHec => Native::SplunkHec,
            IngestFormat::DatadogLogs | IngestFormat::DatadogWebhook => Native::Datadog,
            IngestFormat::GenericJsonl => Native::GenericJsonl,
            IngestFormat::GenericCsv | IngestFormat::SalesforceCsv => Native::GenericCsv,
        })
    }

    /// The source its events go to unless `--source` names one: the system they come from.
    fn source(self) -> &'static str {
        match self {
            Native::Agents => "openai-agents",
            Native::Langsmith => "langsmith",
            Native::Langfuse => "langfuse",
            Native::Zendesk => "zendesk",
            Native::Intercom => "intercom",
            Native::Freshdesk => "freshdesk",
            Native::Salesforce => "salesforce",
            Native::ModelLogs => "model-logs",
            Native::Bedrock => "bedrock",
            Native::SplunkHec => "splunk",
            Native::Datadog => "datadog",
            Native::GenericJsonl | Native::GenericCsv => "generic",
        }
    }

    /// Formats whose records are lines by nature; the others hold one body per file unless
    /// the file is named as JSON Lines.
    fn always_lines(self) -> bool {
        matches!(
            self,
            Native::ModelLogs
                | Native::Bedrock
                | Native::SplunkHec
                | Native::GenericJsonl
                | Native::GenericCsv
        )
    }
}

/// How one input is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    OtlpLines,
    OtlpBody(BodyFormat),
    /// One body (or record) per line, streamed.
    Lines(Native),
    /// One body per file.
    Body(Native),
}

impl Reading {
    /// The format as the summary names it: `--format`'s own name for the native formats
    /// (`salesforce-csv`, not the generic reader it uses).
    fn label(self, format: IngestFormat) -> String {
        let named = || {
            clap::ValueEnum::to_possible_value(&format)
                .map_or_else(|| "?".to_owned(), |v| v.get_name().to_owned())
        };
        match self {
            Reading::OtlpLines => "otlp-jsonl".to_owned(),
            Reading::OtlpBody(BodyFormat::ProtobufTraces) => "otlp-protobuf-traces".to_owned(),
            Reading::OtlpBody(BodyFormat::ProtobufLogs) => "otlp-protobuf-logs".to_owned(),
            Reading::OtlpBody(_) => "otlp-json".to_owned(),
            Reading::Lines(n) if n.always_lines() => named(),
            Reading::Lines(_) => format!("{} (JSON Lines)", named()),
            Reading::Body(_) => named(),
        }
    }

    fn line_oriented(self) -> bool {
        matches!(self, Reading::OtlpLines | Reading::Lines(_))
    }
}

fn json_lines_name(name: &str) -> bool {
    name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

fn reading(format: IngestFormat, path: &Path) -> Result<Reading, CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if let Some(native) = Native::of(format) {
        return Ok(if native.always_lines() || json_lines_name(&name) {
            Reading::Lines(native)
        } else {
            Reading::Body(native)
        });
    }
    let logs = name.contains("logs");
    let protobuf = if logs {
        BodyFormat::ProtobufLogs
    } else {
        BodyFormat::ProtobufTraces
    };
    Ok(match format {
        IngestFormat::OtlpJson => Reading::OtlpBody(BodyFormat::Json),
        IngestFormat::OtlpJsonl => Reading::OtlpLines,
        IngestFormat::OtlpProtobuf => Reading::OtlpBody(protobuf),
        IngestFormat::OtlpProtobufTraces => Reading::OtlpBody(BodyFormat::ProtobufTraces),
        IngestFormat::OtlpProtobufLogs => Reading::OtlpBody(BodyFormat::ProtobufLogs),
        // Only OTLP is guessed, and only from the name: a vendor's JSON looks like any other
        // JSON, and a wrong guess would quarantine a whole export instead of failing fast.
        _ => {
            if json_lines_name(&name) {
                Reading::OtlpLines
            } else if name.ends_with(".json") {
                Reading::OtlpBody(BodyFormat::Json)
            } else if name.ends_with(".pb")
                || name.ends_with(".binpb")
                || name.ends_with(".protobuf")
            {
                Reading::OtlpBody(protobuf)
            } else {
                return Err(CliError::input(format!(
                    "cannot tell the format of {} from its name",
                    path.display()
                ))
                .hint("pass --format (otlp-json, otlp-jsonl, otlp-protobuf, or a vendor's format such as zendesk; see muster ingest --help)"));
            }
        }
    })
}

/// What the native readers need besides the bytes: options the command line or muster.toml
/// declared.
#[derive(Clone, Debug, Default)]
struct Settings {
    helpdesk: HelpdeskOptions,
    mapping: Option<Mapping>,
}

/// The mapping `--mapping NAME` names in muster.toml (already checked when it was loaded).
fn configured_mapping(ctx: &Context, name: &str) -> Result<Mapping, CliError> {
    let Some((path, config)) = &ctx.config else {
        return Err(CliError::input(format!(
            "--mapping {name}: there is no muster.toml to find `[ingest.mappings.{name}]` in"
        ))
        .hint("declare the mapping in muster.toml (see docs/cli.md, `muster ingest`)"));
    };
    let Some(declared) = config.ingest.mappings.get(name) else {
        let known: Vec<&str> = config.ingest.mappings.keys().map(String::as_str).collect();
        return Err(CliError::input(format!(
            "--mapping {name}: {} has no `[ingest.mappings.{name}]`",
            path.display()
        ))
        .hint(if known.is_empty() {
            "declare one (see docs/cli.md, `muster ingest`)".to_owned()
        } else {
            format!("declared mappings: {}", known.join(", "))
        }));
    };
    Ok(declared.clone())
}

fn settings(ctx: &Context, args: &IngestArgs) -> Result<Settings, CliError> {
    let mapping = match (args.format, &args.mapping) {
        (IngestFormat::GenericJsonl | IngestFormat::GenericCsv, Some(name))
        | (IngestFormat::SalesforceCsv, Some(name)) => Some(configured_mapping(ctx, name)?),
        (IngestFormat::SalesforceCsv, None) => {
            Some(muster_ingest::generic::salesforce_case_history_csv())
        }
        (IngestFormat::GenericJsonl | IngestFormat::GenericCsv, None) => {
            return Err(CliError::input(format!(
                "--format {} needs a field mapping",
                if args.format == IngestFormat::GenericCsv {
                    "generic-csv"
                } else {
                    "generic-jsonl"
                }
            ))
            .hint("declare `[ingest.mappings.NAME]` in muster.toml and pass --mapping NAME"));
        }
        (_, Some(_)) => {
            return Err(CliError::input(
                "--mapping is only read with --format generic-jsonl, generic-csv or salesforce-csv",
            ));
        }
        (_, None) => None,
    };
    let helpdesk_format = matches!(
        args.format,
        IngestFormat::Zendesk
            | IngestFormat::Intercom
            | IngestFormat::Freshdesk
            | IngestFormat::Salesforce
    );
    if args.conversation_field.is_some() && !helpdesk_format && args.from.is_none() {
        return Err(CliError::input(
            "--conversation-field is only read with a helpdesk format (zendesk, intercom, freshdesk, salesforce) or --from",
        ));
    }
    Ok(Settings {
        helpdesk: HelpdeskOptions {
            conversation_field: args.conversation_field.clone(),
        },
        mapping,
    })
}

/// The source a format's events go to unless `--source` names one; a mapping's is its `system`.
fn default_source(format: IngestFormat, settings: &Settings) -> String {
    match (Native::of(format), &settings.mapping) {
        (None, _) => "otlp".to_owned(),
        (Some(_), Some(mapping)) => mapping.system.clone(),
        (Some(native), None) => native.source().to_owned(),
    }
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
    format: String,
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
    let settings = settings(ctx, args)?;
    if let Some(vendor) = args.from {
        return crate::commands::pull::run(ctx, args, vendor).await;
    }
    let source = args
        .source
        .clone()
        .unwrap_or_else(|| default_source(args.format, &settings));
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
        let input = Input {
            source: &source,
            how: *how,
            settings: &settings,
        };
        match ingest_one(ctx, &*store, args, path, input).await {
            Ok(report) => reports.push(report),
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        }
    }
    let elapsed = started.elapsed();
    store.close().await;
    print_summary(args.json, &source, &reports, elapsed);
    Ok(exit::OK)
}

/// One input's reading instructions.
#[derive(Clone, Copy)]
struct Input<'a> {
    source: &'a str,
    how: Reading,
    settings: &'a Settings,
}

async fn ingest_one(
    ctx: &Context,
    store: &dyn Store,
    args: &IngestArgs,
    path: &Path,
    input: Input<'_>,
) -> Result<InputReport, CliError> {
    let how = input.how;
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
        format: how.label(args.format),
        ..InputReport::default()
    };
    let progress = store.ingest_progress(input.source, &origin).await?;
    let done_to = progress.offset_reached.unwrap_or(0);
    if progress.complete && done_to >= size {
        report.already_complete = true;
        return Ok(report);
    }
    // Resume only line-oriented inputs; a single body is re-read and its stored records skipped.
    let resume = (how.line_oriented() && done_to > 0 && done_to <= size).then_some(done_to);
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
    let settings = input.settings.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let job = ReadJob {
            path: &file_path,
            origin: &reader_origin,
            how,
            settings,
            resume,
            size,
            batch_size,
        };
        read_input(job, &tx)
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
            source: input.source.to_owned(),
            input: origin.clone(),
            events: chunk.events,
            quarantined: chunk.quarantined,
            offset_reached: chunk.offset_reached,
            complete: chunk.complete,
            cursor: None,
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

/// What the reading thread reads, and how.
struct ReadJob<'a> {
    path: &'a Path,
    origin: &'a str,
    how: Reading,
    settings: Settings,
    resume: Option<u64>,
    size: u64,
    batch_size: usize,
}

/// Any of the line readers, over any input: OTLP's keeps trace keys from line to line, the
/// native ones read each line with their format's body reader.
enum Lines {
    Otlp(JsonLinesReader<Box<dyn BufRead + Send>>),
    Native(LineReader<Box<dyn BufRead + Send>>),
}

impl Iterator for Lines {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        match self {
            Lines::Otlp(r) => r.next(),
            Lines::Native(r) => r.next(),
        }
    }
}

impl Lines {
    fn finish(self) -> Result<ReadStats, ReadError> {
        match self {
            Lines::Otlp(r) => r.finish(),
            Lines::Native(r) => r.finish(),
        }
    }
}

/// LangSmith's multipart bodies start with their boundary line; JSON cannot.
fn is_multipart(body: &[u8]) -> bool {
    body.trim_ascii_start().starts_with(b"--")
}

/// One whole body of a native format.
fn read_native_body(native: Native, origin: &str, body: &[u8], settings: &Settings) -> Vec<Item> {
    let at = BodyLocation::default();
    let opts = &settings.helpdesk;
    let (items, _) = match native {
        Native::Agents => muster_ingest::openai_agents::read_body(origin, body),
        Native::Langsmith if is_multipart(body) => {
            muster_ingest::langsmith::read_multipart(origin, body, None)
        }
        Native::Langsmith => muster_ingest::langsmith::read_json(origin, body),
        Native::Langfuse => muster_ingest::langfuse::read_body(origin, body),
        Native::Zendesk => muster_ingest::helpdesk::read_zendesk(origin, body, opts),
        Native::Intercom => muster_ingest::helpdesk::read_intercom(origin, body, opts),
        Native::Freshdesk => muster_ingest::helpdesk::read_freshdesk(origin, body, opts),
        Native::Salesforce => muster_ingest::helpdesk::read_salesforce(origin, body, opts),
        Native::ModelLogs => muster_ingest::model_logs::read_body(origin, body, at),
        Native::Bedrock => muster_ingest::bedrock::read_body(origin, body, at),
        Native::SplunkHec => muster_ingest::monitoring::read_hec(origin, body, at),
        Native::Datadog => muster_ingest::monitoring::read_datadog(origin, body, at),
        // Line-oriented by nature (`always_lines` keeps them from here); read as lines all the
        // same, so no caller can lose a body by sending one.
        Native::GenericJsonl | Native::GenericCsv => {
            let lines = Box::new(std::io::Cursor::new(body.to_vec()));
            (
                native_lines(native, lines, origin, settings).collect(),
                ReadStats::default(),
            )
        }
    };
    items
}

/// A native format's line reader over `input`.
fn native_lines(
    native: Native,
    input: Box<dyn BufRead + Send>,
    origin: &str,
    settings: &Settings,
) -> LineReader<Box<dyn BufRead + Send>> {
    use muster_ingest::helpdesk::{read_freshdesk, read_intercom, read_salesforce, read_zendesk};
    let opts = settings.helpdesk.clone();
    // A helpdesk JSON Lines file holds one API body per line (a pull's pages, say).
    let helpdesk = |input, format: &'static str, read: BodyReader| {
        LineReader::new(input, origin, format, move |origin, line, at| {
            let (items, stats) = read(origin, line, &opts);
            (at_line(items, at), stats)
        })
    };
    match native {
        Native::Agents => muster_ingest::openai_agents::read_lines(input, origin),
        Native::Langsmith => muster_ingest::langsmith::read_json_lines(input, origin),
        Native::Langfuse => muster_ingest::langfuse::read_lines(input, origin),
        Native::Zendesk => helpdesk(input, "zendesk-json", read_zendesk),
        Native::Intercom => helpdesk(input, "intercom-json", read_intercom),
        Native::Freshdesk => helpdesk(input, "freshdesk-json", read_freshdesk),
        Native::Salesforce => helpdesk(input, "salesforce-rest-json", read_salesforce),
        Native::ModelLogs => muster_ingest::model_logs::read_lines(input, origin),
        Native::Bedrock => muster_ingest::bedrock::read_lines(input, origin),
        Native::SplunkHec => muster_ingest::monitoring::read_hec_lines(input, origin),
        Native::Datadog => muster_ingest::monitoring::read_datadog_lines(input, origin),
        Native::GenericJsonl => muster_ingest::generic::read_jsonl(
            input,
            origin,
            settings.mapping.clone().unwrap_or_default(),
        ),
        Native::GenericCsv => muster_ingest::generic::read_csv(
            input,
            origin,
            settings.mapping.clone().unwrap_or_default(),
        ),
    }
}

/// Read one input on a blocking thread and send it in batches that end on body boundaries.
fn read_input(job: ReadJob<'_>, tx: &mpsc::Sender<Chunk>) -> Result<(), CliError> {
    let ReadJob {
        path,
        origin,
        how,
        settings,
        resume,
        size,
        batch_size,
    } = job;
    let cannot =
        |e: std::io::Error| CliError::input(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let send = |chunk: Chunk| {
        // A closed channel means the store side failed; its error is the one reported.
        tx.blocking_send(chunk).is_ok()
    };
    let native = match how {
        Reading::OtlpBody(_) | Reading::Body(_) => {
            let mut body = Vec::new();
            BufReader::new(file)
                .read_to_end(&mut body)
                .map_err(cannot)?;
            let items = match how {
                Reading::OtlpBody(format) => {
                    OtlpReader::new(origin).read_body(&body, format, BodyLocation::default())
                }
                Reading::Body(native) => read_native_body(native, origin, &body, &settings),
                Reading::OtlpLines | Reading::Lines(_) => Vec::new(),
            };
            let (events, quarantined) = split(items);
            send(Chunk {
                events,
                quarantined,
                offset_reached: Some(size),
                complete: true,
            });
            return Ok(());
        }
        Reading::OtlpLines => None,
        Reading::Lines(native) => Some(native),
    };
    let mut input = BufReader::with_capacity(1 << 20, file);
    // A CSV's rows are read by its header, which a resumed read has skipped: read it again
    // first, placed just before the resume point, so it names the columns and yields nothing.
    let mut header: Vec<u8> = Vec::new();
    if native == Some(Native::GenericCsv) && resume.is_some() {
        input.read_until(b'\n', &mut header).map_err(cannot)?;
    }
    let mut lines = 0u64;
    let mut start = resume;
    if let Some(offset) = resume {
        let skip = offset.saturating_sub(header.len() as u64);
        // With the header fed again, the read starts at the header's place: the header's
        // length and one line before the resume point.
        lines = skip_prefix(&mut input, skip).map_err(cannot)?;
        start = Some(skip);
    }
    let boxed: Box<dyn BufRead + Send> = if header.is_empty() {
        Box::new(input)
    } else {
        Box::new(std::io::Cursor::new(header).chain(input))
    };
    let mut reader = match native {
        None => {
            let mut r = JsonLinesReader::new(boxed, origin);
            if let Some(offset) = start {
                r = r.resume_at(offset, lines);
            }
            Lines::Otlp(r)
        }
        Some(native) => {
            let mut r = native_lines(native, boxed, origin, &settings);
            if let Some(offset) = start {
                r = r.resume_at(offset, lines);
            }
            Lines::Native(r)
        }
    };
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

fn print_summary(json: bool, source: &str, reports: &[InputReport], elapsed: std::time::Duration) {
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
    if json {
        let out = json!({
            "source": source,
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
            println!("{}  already ingested into `{}`, skipped", r.input, source);
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
        source,
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
