//! `muster ingest --from VENDOR`: helpdesk records pulled through the vendor's API, one
//! committed batch per page, with the page's cursor stored in the same transaction, so a rerun
//! (or a pull cut short by an error) continues after the last page stored.

use std::time::Instant;

use muster_helpdesk::QueueError;
use muster_helpdesk::pull::{PullPage, Puller, Stream, puller_from_queue};
use muster_ingest::helpdesk::{
    BodyReader, HelpdeskOptions, read_freshdesk, read_intercom, read_salesforce, read_zendesk,
};
use muster_ingest::{Item, Quarantined};
use muster_model::agent::{Auth, Queue, QueueKind};
use muster_store::{IngestBatch, Store};
use serde_json::json;

use crate::cli::{IngestArgs, PullVendor};
use crate::context::Context;
use crate::error::{CliError, exit};

fn kind(vendor: PullVendor) -> QueueKind {
    match vendor {
        PullVendor::Zendesk => QueueKind::Zendesk,
        PullVendor::Intercom => QueueKind::Intercom,
        PullVendor::Freshdesk => QueueKind::Freshdesk,
        PullVendor::Salesforce => QueueKind::Salesforce,
    }
}

fn vendor_name(vendor: PullVendor) -> &'static str {
    match vendor {
        PullVendor::Zendesk => "zendesk",
        PullVendor::Intercom => "intercom",
        PullVendor::Freshdesk => "freshdesk",
        PullVendor::Salesforce => "salesforce",
    }
}

/// The helpdesk to pull from: the manifest's escalation queue (its URL, credentials' variable,
/// user, API version, conversation field), with the flags overriding it; or the flags alone.
fn queue(args: &IngestArgs, vendor: PullVendor) -> Result<Queue, CliError> {
    let mut queue = match &args.agent {
        Some(path) => {
            let text = crate::load::read(path)?;
            let label = path.display().to_string();
            let manifest = crate::load::manifest_from_text(&label, &text)
                .map_err(|p| crate::load::report_problems(&[p], false))?;
            let queue = manifest.escalation.and_then(|e| e.queue).ok_or_else(|| {
                CliError::input(format!("{label} declares no `escalation.queue`"))
                    .hint("pass --url and --token-env instead")
            })?;
            if queue.kind != kind(vendor) {
                return Err(CliError::input(format!(
                    "{label}'s escalation queue is not {}",
                    vendor_name(vendor)
                ))
                .hint("pass --url and --token-env to pull from another helpdesk"));
            }
            queue
        }
        None => Queue {
            kind: kind(vendor),
            url: None,
            auth: None,
            name: None,
            monitored: false,
            hours: None,
            user: None,
            conversation_field: None,
            api_version: None,
            timeout: None,
            webhook: None,
        },
    };
    if let Some(url) = &args.url {
        queue.url = Some(url.clone());
    }
    if let Some(env) = &args.token_env {
        queue.auth = Some(Auth {
            env: env.clone(),
            header: "Authorization".to_owned(),
            scheme: "Bearer".to_owned(),
        });
    }
    if let Some(user) = &args.user {
        if vendor != PullVendor::Zendesk {
            return Err(CliError::input("--user is only read with --from zendesk"));
        }
        queue.user = Some(user.clone());
    }
    if let Some(field) = &args.conversation_field {
        queue.conversation_field = Some(field.clone());
    }
    Ok(queue)
}

/// The queue's `conversation_field` as the readers take it: the field itself, without the
/// look-up's prefix, and nothing for the vendor's default place.
fn reader_field(field: Option<&str>) -> Option<String> {
    let field = field?;
    let bare = field
        .strip_prefix("custom_field:")
        .or_else(|| field.strip_prefix("custom_attribute:"))
        .unwrap_or(field);
    (!matches!(bare, "external_id" | "id" | "tag")).then(|| bare.to_owned())
}

fn failed(e: &QueueError, vendor: PullVendor) -> CliError {
    let message = format!("pulling from {}: {e}", vendor_name(vendor));
    match e {
        QueueError::MissingSecret(var) => CliError::runtime(message)
            .hint(format!("export {var} with the API token (it is never logged)")),
        QueueError::Config(_) => CliError::input(message).hint(
            "name the helpdesk with --agent agent.yaml (its escalation.queue) or --url and --token-env",
        ),
        QueueError::Unauthorized { .. } => CliError::runtime(message)
            .hint("check the token in the environment variable, and --user for a Zendesk API token"),
        QueueError::RateLimited { .. } => CliError::runtime(message)
            .hint("rerun later: the pull continues after the last page stored"),
        _ => CliError::runtime(message)
            .hint("pages stored before the failure are kept; rerun to continue after them"),
    }
}

/// What one stream's pull did.
#[derive(Debug, Default)]
struct StreamReport {
    stream: &'static str,
    pages: u64,
    records: u64,
    stored: u64,
    duplicates: u64,
    quarantined: u64,
    waited: u64,
    /// Records listed as changed but deleted before their details were read.
    gone: Vec<String>,
    cursor: Option<String>,
}

pub async fn run(ctx: &Context, args: &IngestArgs, vendor: PullVendor) -> Result<u8, CliError> {
    let queue = queue(args, vendor)?;
    let puller = puller_from_queue(&queue, &|name| std::env::var(name).ok())
        .map_err(|e| failed(&e, vendor))?;
    // `--conversation-field` is already in the queue, in either spelling.
    let opts = HelpdeskOptions {
        conversation_field: reader_field(queue.conversation_field.as_deref()),
    };
    let source = args
        .source
        .clone()
        .unwrap_or_else(|| vendor_name(vendor).to_owned());
    let since = args.since.map_or(0, jiff::Timestamp::as_second);
    let store = ctx.open_store().await?;
    let pull = Pull {
        store: &*store,
        puller: &puller,
        read: match vendor {
            PullVendor::Zendesk => read_zendesk,
            PullVendor::Intercom => read_intercom,
            PullVendor::Freshdesk => read_freshdesk,
            PullVendor::Salesforce => read_salesforce,
        },
        source: &source,
        since,
        opts: &opts,
    };
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut outcome = Ok(());
    for &stream in puller.streams() {
        let mut report = StreamReport {
            stream: stream.name(),
            ..StreamReport::default()
        };
        let result = pull_stream(&pull, stream, &mut report).await;
        reports.push(report);
        if let Err(e) = result {
            outcome = Err(e);
            break;
        }
    }
    store.close().await;
    print_summary(args.json, &source, &puller, &reports, started.elapsed());
    outcome.map_err(|e| match e {
        Pulled::Store(e) => e,
        Pulled::Api(e) => failed(&e, vendor),
    })?;
    Ok(exit::OK)
}

enum Pulled {
    Api(QueueError),
    Store(CliError),
}

/// The stored progress of a stream: one input per base URL and stream.
fn input_name(puller: &Puller, stream: Stream) -> String {
    format!("{} {}", puller.base(), stream.name())
}

/// One pull: where from, into which source, and how its records are read.
struct Pull<'a> {
    store: &'a dyn Store,
    puller: &'a Puller,
    read: BodyReader,
    source: &'a str,
    /// Where a first pull starts (Unix seconds).
    since: i64,
    opts: &'a HelpdeskOptions,
}

async fn pull_stream(
    pull: &Pull<'_>,
    stream: Stream,
    report: &mut StreamReport,
) -> Result<(), Pulled> {
    let input = input_name(pull.puller, stream);
    let mut cursor = pull
        .store
        .ingest_progress(pull.source, &input)
        .await
        .map_err(|e| Pulled::Store(e.into()))?
        .cursor;
    loop {
        let page = pull
            .puller
            .page(stream, cursor.as_deref(), pull.since)
            .await
            .map_err(Pulled::Api)?;
        report.pages += 1;
        report.records += page.records.len() as u64;
        report.waited += u64::from(page.waited);
        report.gone.extend(page.gone.iter().cloned());
        let done = page.done;
        let next = page.cursor.clone();
        let (events, quarantined) = read_page(pull.read, page, pull.opts);
        let receipt = pull
            .store
            .ingest_batch(IngestBatch {
                source: pull.source.to_owned(),
                input: input.clone(),
                events,
                quarantined,
                offset_reached: None,
                complete: done,
                cursor: Some(next.clone()),
            })
            .await
            .map_err(|e| Pulled::Store(e.into()))?;
        report.stored += receipt.stored;
        report.duplicates += receipt.duplicates;
        report.quarantined += receipt.quarantined;
        report.cursor = Some(next.clone());
        if done {
            return Ok(());
        }
        cursor = Some(next);
    }
}

/// Each record read on its own, under its own name, so one read again unchanged in a later
/// pull is recognised.
fn read_page(
    read: BodyReader,
    page: PullPage,
    opts: &HelpdeskOptions,
) -> (Vec<muster_ingest::EvidenceEvent>, Vec<Quarantined>) {
    let mut events = Vec::new();
    let mut quarantined = Vec::new();
    for record in page.records {
        for item in read(&record.origin, &record.body, opts).0 {
            match item {
                Item::Event(e) => events.push(*e),
                Item::Quarantined(q) => quarantined.push(*q),
            }
        }
    }
    (events, quarantined)
}

fn print_summary(
    json: bool,
    source: &str,
    puller: &Puller,
    reports: &[StreamReport],
    elapsed: std::time::Duration,
) {
    let stored: u64 = reports.iter().map(|r| r.stored).sum();
    let duplicates: u64 = reports.iter().map(|r| r.duplicates).sum();
    let quarantined: u64 = reports.iter().map(|r| r.quarantined).sum();
    if json {
        let out = json!({
            "source": source,
            "from": puller.vendor(),
            "api": puller.base().as_str(),
            "streams": reports.iter().map(|r| json!({
                "stream": r.stream,
                "pages": r.pages,
                "records": r.records,
                "stored": r.stored,
                "already_stored": r.duplicates,
                "quarantined": r.quarantined,
                "rate_limited_waits": r.waited,
                "gone": r.gone,
                "cursor": r.cursor,
            })).collect::<Vec<_>>(),
            "stored": stored,
            "already_stored": duplicates,
            "quarantined": quarantined,
            "elapsed_ms": elapsed.as_millis() as u64,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return;
    }
    for r in reports {
        let mut waited = if r.waited > 0 {
            format!(", waited out {} rate limit(s)", r.waited)
        } else {
            String::new()
        };
        if !r.gone.is_empty() {
            waited.push_str(&format!(
                "; {} gone since listed (skipped): {}",
                r.gone.len(),
                r.gone.join(", ")
            ));
        }
        println!(
            "{} {}  {} page(s), {} records: {} events stored, {} already stored, {} quarantined{waited}",
            puller.vendor(),
            r.stream,
            r.pages,
            r.records,
            r.stored,
            r.duplicates,
            r.quarantined
        );
    }
    println!(
        "source `{source}` from {}: {stored} events stored, {duplicates} already stored (skipped), {quarantined} quarantined in {:.1} s; the next pull continues from here",
        puller.base(),
        elapsed.as_secs_f64()
    );
}
