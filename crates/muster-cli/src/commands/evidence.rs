//! `muster reconstruct` and `muster search`: reading ingested evidence back, redacted by default.

use std::time::Instant;

use muster_reconstruct::{KeyKind, LinkRule, LinkedEvent, Query};
use muster_store::{AccessRecord, SearchFilters, Store, StoredEvidence, TimeRange, TimelineKey};
use serde_json::{Value, json};

use crate::cli::{AccessArgs, ReconstructArgs, SearchArgs};
use crate::context::Context;
use crate::error::{CliError, exit};

/// Width of the content excerpt in the timeline table.
const EXCERPT_CHARS: usize = 72;

/// Personal data in `text` masked (`[email]`, `[phone]`…).
pub(crate) fn redacted(text: &str) -> String {
    muster_detect::redact_personal(text)
}

async fn open(ctx: &Context) -> Result<std::sync::Arc<dyn Store>, CliError> {
    ctx.require_store()?;
    ctx.open_store().await
}

/// With `--raw`, record who is reading what and why before anything is shown.
async fn audit(
    store: &dyn Store,
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

pub(crate) fn time(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns)).map_or_else(
        |_| ns.to_string(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
    )
}

pub(crate) fn actor(e: &StoredEvidence) -> String {
    e.event
        .actor
        .as_ref()
        .map_or_else(|| "-".into(), muster_ingest::Actor::label)
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

/// A timeline as a table: time, source, kind, actor, how it was linked, content excerpt.
fn table(events: &[LinkedEvent], raw: bool) -> String {
    let rows: Vec<[String; 6]> = events
        .iter()
        .map(|l| {
            let e = &l.event;
            [
                time(e.event.time_ns),
                format!("{}/{}", e.source, e.event.source.format),
                e.event.kind.name().to_owned(),
                actor(e),
                l.link.label(),
                excerpt(e, raw),
            ]
        })
        .collect();
    render_rows(
        ["time (UTC)", "source", "kind", "actor", "link", "content"],
        &rows,
    )
}

/// Search matches as a table: time, source, kind, actor, content excerpt.
fn match_table(events: &[StoredEvidence], raw: bool) -> String {
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
    render_rows(["time (UTC)", "source", "kind", "actor", "content"], &rows)
}

/// Columns padded to their widest cell; the last column runs free.
fn render_rows<const N: usize>(headers: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = headers.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()).take(N - 1) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < N {
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                out.push_str(cell);
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(headers.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

fn event_json(e: &StoredEvidence, raw: bool) -> Value {
    let mut event = serde_json::to_value(&e.event).unwrap_or(Value::Null);
    if !raw {
        muster_detect::redact_personal_json(&mut event);
    }
    json!({
        "source": e.source,
        "seq": e.seq,
        "digest": e.digest.to_hex(),
        "event": event,
    })
}

fn sources_of(events: &[&StoredEvidence]) -> Vec<String> {
    let mut s: Vec<String> = events
        .iter()
        .map(|e| format!("{}/{}", e.source, e.event.source.format))
        .collect();
    s.sort();
    s.dedup();
    s
}

/// The inferred window when neither `--window` nor muster.toml says.
const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

/// `[[evidence.links]]` as reconstruction rules (`from = "<source>.<attribute>"`,
/// `to = "<system>.<key>"`; the config check has made sure the key is one muster links by).
fn link_rules(ctx: &Context) -> Vec<LinkRule> {
    let Some((_, config)) = &ctx.config else {
        return Vec::new();
    };
    config
        .evidence
        .links
        .iter()
        .filter_map(|l| {
            let (source, attribute) = l.from.split_once('.')?;
            let key = match l.to.split_once('.')?.1 {
                "conversation_id" => KeyKind::Conversation,
                "customer_ref" => KeyKind::Customer,
                "trace_id" => KeyKind::Trace,
                "ticket_id" => KeyKind::Ticket,
                "case_id" => KeyKind::Case,
                _ => return None,
            };
            Some(LinkRule {
                name: l.name.clone(),
                source: source.to_owned(),
                attribute: attribute.to_owned(),
                key,
            })
        })
        .collect()
}

pub async fn reconstruct(ctx: &Context, args: &ReconstructArgs) -> Result<u8, CliError> {
    let key = match (&args.conversation, &args.customer) {
        (Some(c), _) => TimelineKey::Conversation(c.clone()),
        (None, Some(c)) => TimelineKey::Customer(c.clone()),
        (None, None) => {
            return Err(CliError::input("give --conversation ID or --customer REF"));
        }
    };
    let manifest = match &args.agent {
        Some(path) => {
            let text = crate::load::read(path)?;
            Some(
                crate::load::manifest_from_text(&path.display().to_string(), &text)
                    .map_err(|p| crate::load::report_problems(&[p], ctx.color))?,
            )
        }
        None => None,
    };
    let to_ns = |t: &Option<jiff::Timestamp>| {
        t.map(|t| i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX))
    };
    let window = args
        .window
        .map(|w| w.0)
        .or_else(|| {
            ctx.config
                .as_ref()
                .and_then(|(_, c)| c.evidence.inferred_window())
        })
        .unwrap_or(DEFAULT_WINDOW);
    let query = Query {
        key: key.clone(),
        range: TimeRange {
            from_ns: to_ns(&args.from),
            to_ns: to_ns(&args.to),
        },
        rules: link_rules(ctx),
        window_ns: (!window.is_zero())
            .then(|| i64::try_from(window.as_nanos()).unwrap_or(i64::MAX)),
        limit: args.limit,
        max_rounds: 4,
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
    audit(&*store, &args.access, "reconstruct", what.clone()).await?;
    let started = Instant::now();
    let timeline = muster_reconstruct::reconstruct(&*store, &query).await?;
    let gaps = muster_reconstruct::gaps(&timeline.events, manifest.as_ref());
    let skew = muster_reconstruct::clock_skew(&timeline.events);
    let took = started.elapsed();
    store.close().await;
    let raw = args.access.raw;
    let ms = took.as_secs_f64() * 1000.0;
    let events: Vec<&StoredEvidence> = timeline.events.iter().map(|e| &e.event).collect();
    let inferred = timeline
        .events
        .iter()
        .filter(|e| e.link.is_inferred())
        .count();
    if let Some(path) = &args.html {
        let page = crate::render::timeline_html::page(&what, &timeline, &gaps, raw, ms);
        std::fs::write(path, page)
            .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))?;
    }
    if args.json {
        let out = json!({
            "query": what,
            "redacted": !raw,
            "events": timeline.events.iter().map(|e| {
                let mut v = event_json(&e.event, raw);
                v["link"] = serde_json::to_value(&e.link).unwrap_or(Value::Null);
                v
            }).collect::<Vec<_>>(),
            "sources": sources_of(&events),
            "keys": {
                "conversations": timeline.keys.conversations,
                "customers": timeline.keys.customers,
                "traces": timeline.keys.traces,
                "tickets": timeline.keys.tickets,
                "cases": timeline.keys.cases,
            },
            "rounds": timeline.rounds,
            "truncated": timeline.truncated,
            "inferred": inferred,
            "gaps": gaps,
            "clock_skew": skew,
            "reconstruction_ms": ms,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if events.is_empty() {
        println!("no evidence for {what}");
    } else {
        print!("{}", table(&timeline.events, raw));
        let sources = sources_of(&events).len();
        println!(
            "{} events from {sources} source{} for {what}{}{}; reconstructed in {ms:.1} ms",
            events.len(),
            if sources == 1 { "" } else { "s" },
            if inferred > 0 {
                format!(" ({inferred} inferred by time and customer only)")
            } else {
                String::new()
            },
            if raw {
                " (unredacted, access recorded)"
            } else {
                ", personal data redacted"
            },
        );
        if timeline.truncated {
            println!(
                "truncated: more linked evidence exists than --limit or the link depth allowed"
            );
        }
        for k in &skew {
            println!(
                "clock skew: {} records {:+.3} s after {} (median of {} shared message{}, {:+.3} to {:+.3} s)",
                k.source,
                k.offset_ns as f64 / 1e9,
                k.reference,
                k.pairs,
                if k.pairs == 1 { "" } else { "s" },
                k.min_ns as f64 / 1e9,
                k.max_ns as f64 / 1e9
            );
        }
        if !gaps.is_empty() {
            println!("\ngaps:");
            for g in &gaps {
                let when = g.time_ns.map(time).unwrap_or_default();
                println!(
                    "  {when:<24} {}  {}",
                    g.event.as_deref().unwrap_or("-"),
                    g.message
                );
            }
        }
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
        &*store,
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
        print!("{}", match_table(&found, raw));
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
