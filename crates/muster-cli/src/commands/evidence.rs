//! `muster reconstruct` and `muster search`: reading ingested evidence back, redacted by default.

use std::time::Instant;

use muster_detect::{Families, Family, redact, scan};
use muster_store::{
    AccessRecord, EvidenceStore, SearchFilters, SqliteStore, StoredEvidence, TimelineKey,
    TimelineQuery,
};
use serde_json::{Value, json};

use crate::cli::{AccessArgs, ReconstructArgs, SearchArgs};
use crate::context::Context;
use crate::error::{CliError, exit};

/// Width of the content excerpt in the timeline table.
const EXCERPT_CHARS: usize = 72;

/// Personal data in `text` masked (`[email]`, `[phone]`…).
fn redacted(text: &str) -> String {
    let findings = scan(text, Families::only(Family::Personal));
    if findings.is_empty() {
        text.to_owned()
    } else {
        redact(text, &findings)
    }
}

/// Every string in a JSON value redacted: content, attributes, messages and arguments alike,
/// since personal data is not only in `content`.
fn redact_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            let r = redacted(s);
            if r != *s {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(map) => map.values_mut().for_each(redact_value),
        _ => {}
    }
}

async fn open(ctx: &Context) -> Result<SqliteStore, CliError> {
    if !ctx.store_path.exists() {
        return Err(CliError::input(format!(
            "there is no evidence store at {}",
            ctx.store_path.display()
        ))
        .hint("ingest telemetry first (`muster ingest traces.jsonl`), or pass --store PATH"));
    }
    ctx.open_store().await
}

/// With `--raw`, record who is reading what and why before anything is shown.
async fn audit(
    store: &SqliteStore,
    access: &AccessArgs,
    command: &str,
    what: String,
) -> Result<(), CliError> {
    if !access.raw {
        return Ok(());
    }
    let why = access.reason.clone().unwrap_or_default();
    if why.trim().is_empty() {
        return Err(CliError::input("--raw needs a --reason that says why"));
    }
    let who = access
        .as_name
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| {
            CliError::input("cannot tell who is reading: $USER is not set")
                .hint("pass --as NAME with --raw")
        })?;
    let at_ns = jiff::Timestamp::now().as_nanosecond();
    store
        .record_access(&AccessRecord {
            at_ns: i64::try_from(at_ns).unwrap_or(i64::MAX),
            who,
            command: command.to_owned(),
            what,
            why,
        })
        .await?;
    Ok(())
}

fn time(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns)).map_or_else(
        |_| ns.to_string(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
    )
}

fn actor(e: &StoredEvidence) -> String {
    e.event
        .actor
        .as_ref()
        .map(|a| {
            let role = serde_json::to_value(a.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            match &a.id {
                Some(id) => format!("{role}:{id}"),
                None => role,
            }
        })
        .unwrap_or_else(|| "-".into())
}

fn excerpt(e: &StoredEvidence, raw: bool) -> String {
    let text = e.event.content.as_deref().unwrap_or("");
    let text = if raw { text.to_owned() } else { redacted(text) };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > EXCERPT_CHARS {
        let cut: String = flat.chars().take(EXCERPT_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The timeline as a table: time, source, kind, actor, content excerpt.
fn table(events: &[StoredEvidence], raw: bool) -> String {
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            [
                time(e.event.time_ns),
                format!("{}/{}", e.source, e.event.source.format),
                e.event.kind.name().to_owned(),
                actor(e),
                excerpt(e, raw),
            ]
        })
        .collect();
    let headers = ["time (UTC)", "source", "kind", "actor", "content"];
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()).take(4) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: [&str; 5], out: &mut String| {
        for (i, cell) in cells.iter().enumerate() {
            if i < 4 {
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                out.push_str(cell);
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(headers, &mut out);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]], &mut out);
    }
    out
}

fn event_json(e: &StoredEvidence, raw: bool) -> Value {
    let mut event = serde_json::to_value(&e.event).unwrap_or(Value::Null);
    if !raw {
        redact_value(&mut event);
    }
    json!({
        "source": e.source,
        "seq": e.seq,
        "digest": e.digest.to_hex(),
        "event": event,
    })
}

fn sources_of(events: &[StoredEvidence]) -> Vec<String> {
    let mut s: Vec<String> = events
        .iter()
        .map(|e| format!("{}/{}", e.source, e.event.source.format))
        .collect();
    s.sort();
    s.dedup();
    s
}

pub async fn reconstruct(ctx: &Context, args: &ReconstructArgs) -> Result<u8, CliError> {
    let key = match (&args.conversation, &args.customer) {
        (Some(c), _) => TimelineKey::Conversation(c.clone()),
        (None, Some(c)) => TimelineKey::Customer(c.clone()),
        (None, None) => {
            return Err(CliError::input("give --conversation ID or --customer REF"));
        }
    };
    let to_ns = |t: &Option<jiff::Timestamp>| {
        t.map(|t| i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX))
    };
    let query = TimelineQuery {
        key: key.clone(),
        from_ns: to_ns(&args.from),
        to_ns: to_ns(&args.to),
        limit: Some(args.limit),
    };
    let store = open(ctx).await?;
    let what = format!(
        "{} {}{}{}",
        match &key {
            TimelineKey::Conversation(_) => "conversation",
            TimelineKey::Customer(_) => "customer",
        },
        match &key {
            TimelineKey::Conversation(c) | TimelineKey::Customer(c) => c,
        },
        args.from.map(|t| format!(" from {t}")).unwrap_or_default(),
        args.to.map(|t| format!(" to {t}")).unwrap_or_default(),
    );
    audit(&store, &args.access, "reconstruct", what.clone()).await?;
    let started = Instant::now();
    let events = store.timeline(&query).await?;
    let took = started.elapsed();
    store.close().await;
    let raw = args.access.raw;
    let ms = took.as_secs_f64() * 1000.0;
    if args.json {
        let out = json!({
            "query": what,
            "redacted": !raw,
            "events": events.iter().map(|e| event_json(e, raw)).collect::<Vec<_>>(),
            "sources": sources_of(&events),
            "reconstruction_ms": ms,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if events.is_empty() {
        println!("no evidence for {what}");
    } else {
        print!("{}", table(&events, raw));
        println!(
            "{} events from {} source{} for {what}{}; reconstructed in {ms:.1} ms",
            events.len(),
            sources_of(&events).len(),
            if sources_of(&events).len() == 1 {
                ""
            } else {
                "s"
            },
            if raw {
                " (unredacted, access recorded)"
            } else {
                ", personal data redacted"
            },
        );
    }
    Ok(if events.is_empty() {
        exit::FAILED
    } else {
        exit::OK
    })
}

pub async fn search(ctx: &Context, args: &SearchArgs) -> Result<u8, CliError> {
    if muster_store::fts_query(&args.text).is_empty() {
        return Err(CliError::input("give some words to search for"));
    }
    let store = open(ctx).await?;
    let filters = SearchFilters {
        kind: args.kind.clone(),
        source: args.source.clone(),
        conversation: args.conversation.clone(),
        limit: Some(args.limit),
    };
    audit(
        &store,
        &args.access,
        "search",
        format!("search {:?}", args.text),
    )
    .await?;
    let started = Instant::now();
    let found = store.search(&args.text, &filters).await?;
    let took = started.elapsed();
    store.close().await;
    let raw = args.access.raw;
    if args.json {
        let out = json!({
            "query": args.text,
            "redacted": !raw,
            "matches": found.iter().map(|e| event_json(e, raw)).collect::<Vec<_>>(),
            "search_ms": took.as_secs_f64() * 1000.0,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if found.is_empty() {
        println!("no matches");
    } else {
        print!("{}", table(&found, raw));
        println!(
            "{} match{} in {:.1} ms",
            found.len(),
            if found.len() == 1 { "" } else { "es" },
            took.as_secs_f64() * 1000.0
        );
    }
    Ok(if found.is_empty() {
        exit::FAILED
    } else {
        exit::OK
    })
}
