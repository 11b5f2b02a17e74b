//! The demo's incident reconstruction: the reference agent exports its traces to muster while it
//! is drilled; afterwards its helpdesk (Zendesk tickets), CRM (Salesforce account history) and
//! monitoring (Datadog monitor webhooks) are pulled over HTTP, read by the same readers as any
//! real export, ingested, and the conversation the monitor fired on is reconstructed across all
//! four — the board question "can we reconstruct what happened?" answered with a number.

use std::sync::Arc;
use std::time::Instant;

use muster_ingest::helpdesk::{HelpdeskOptions, read_salesforce, read_zendesk};
use muster_ingest::monitoring::read_datadog_lines;
use muster_ingest::{EventKind, Item, ReadStats};
use muster_model::agent::AgentManifest;
use muster_receiver::{DEFAULT_MAX_BODY, Receiver};
use muster_reconstruct::{Gap, Query, clock_skew, gaps, reconstruct};
use muster_store::{IngestBatch, Store, TimeRange, TimelineKey};
use serde::Serialize;

use crate::commands::receive::{StoreSink, raw_dir};
use crate::context::Context;
use crate::error::CliError;

/// The agent's traces go to this source.
pub const TRACES: &str = "agent-traces";

/// The receiver the reference agent exports to during the demo.
pub struct Telemetry {
    pub receiver: Receiver,
    store: Arc<dyn Store>,
}

impl Telemetry {
    pub async fn start(ctx: &Context) -> Result<Self, CliError> {
        let store = ctx.open_store().await?;
        let sink = Arc::new(StoreSink::new(store.clone(), TRACES, raw_dir(ctx)?, false));
        let receiver = Receiver::start(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            sink,
            DEFAULT_MAX_BODY,
        )
        .await
        .map_err(|e| CliError::runtime(e.to_string()))?;
        Ok(Self { receiver, store })
    }
}

/// What the demo reconstructed.
#[derive(Debug, Serialize)]
pub struct Incident {
    pub conversation: String,
    /// Why this conversation: the alert that named it.
    pub why: String,
    pub events: usize,
    pub sources: Vec<String>,
    pub inferred: usize,
    pub gaps: Vec<Gap>,
    pub clock_skew: Vec<muster_reconstruct::SkewEstimate>,
    pub reconstruction_ms: f64,
    /// Events per system ingested after the drill.
    pub ingested: Vec<(String, u64)>,
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, CliError> {
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| CliError::runtime(format!("cannot fetch {url}: {e}")))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| CliError::runtime(format!("cannot read {url}: {e}")))?;
    if !status.is_success() {
        return Err(CliError::runtime(format!("{url} answered {status}")));
    }
    Ok(body.to_vec())
}

async fn ingest(
    store: &dyn Store,
    source: &str,
    input: &str,
    (items, _): (Vec<Item>, ReadStats),
) -> Result<u64, CliError> {
    let (mut events, mut quarantined) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Item::Event(e) => events.push(*e),
            Item::Quarantined(q) => quarantined.push(*q),
        }
    }
    let receipt = store
        .ingest_batch(IngestBatch {
            source: source.to_owned(),
            input: input.to_owned(),
            events,
            quarantined,
            offset_reached: None,
            complete: true,
            cursor: None,
        })
        .await?;
    Ok(receipt.stored + receipt.duplicates)
}

/// The amount an alert says was moved ("… moved £749.00 for …"), 0 when it names none.
fn amount_moved(text: &str) -> f64 {
    text.split_once("moved £")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
                .filter(|c| *c != ',')
                .collect::<String>()
        })
        .and_then(|n| n.trim_end_matches('.').parse().ok())
        .unwrap_or(0.0)
}

/// Pull the agent's systems of record, ingest them, and reconstruct the conversation the most
/// serious alert names. `None` when no alert fired (a hardened agent moves no money past its limits).
pub async fn reconstruct_incident(
    telemetry: Telemetry,
    base_url: &str,
    manifest: &AgentManifest,
) -> Result<Option<Incident>, CliError> {
    // Let the agent's last batch of spans arrive.
    tokio::time::sleep(muster_refagent::BATCH_DELAY * 4).await;
    let Telemetry { receiver, store } = telemetry;
    drop(receiver);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let opts = HelpdeskOptions::default();
    let zendesk_url = format!("{base_url}/admin/handover-queue/api/v2/tickets.json");
    let crm_url = format!("{base_url}/admin/export/salesforce/account-history.json");
    let alerts_url = format!("{base_url}/admin/export/datadog/monitor-webhooks.jsonl");
    let zendesk = fetch(&http, &zendesk_url).await?;
    let crm = fetch(&http, &crm_url).await?;
    let alerts = fetch(&http, &alerts_url).await?;
    let mut ingested = vec![(
        TRACES.to_owned(),
        store
            .sources()
            .await?
            .iter()
            .find(|s| s.name == TRACES)
            .map_or(0, |s| s.events),
    )];
    ingested.push((
        "zendesk".into(),
        ingest(
            &*store,
            "zendesk",
            &zendesk_url,
            read_zendesk(&zendesk_url, &zendesk, &opts),
        )
        .await?,
    ));
    ingested.push((
        "crm".into(),
        ingest(
            &*store,
            "crm",
            &crm_url,
            read_salesforce(&crm_url, &crm, &opts),
        )
        .await?,
    ));
    let alert_items: Vec<Item> =
        read_datadog_lines(alerts.as_slice(), alerts_url.clone()).collect();
    let alert_events: Vec<_> = alert_items
        .iter()
        .filter_map(Item::event)
        .cloned()
        .collect();
    ingested.push((
        "datadog".into(),
        ingest(
            &*store,
            "datadog",
            &alerts_url,
            (alert_items, ReadStats::default()),
        )
        .await?,
    ));

    // The most serious alert first: the one that moved the most money (the first of equals), so
    // which conversation is reconstructed does not depend on which drill conversation ran first.
    let mut alert_events = alert_events;
    alert_events.sort_by(|a, b| {
        let moved =
            |e: &muster_ingest::EvidenceEvent| e.content.as_deref().map_or(0.0, amount_moved);
        moved(b).total_cmp(&moved(a))
    });
    let from_alert = alert_events.iter().find_map(|e| {
        let title = match &e.kind {
            EventKind::Alert { name, .. } => name.clone().unwrap_or_default(),
            _ => String::new(),
        };
        e.correlation
            .conversation_id
            .clone()
            .map(|c| (c, format!("the monitor fired: {title}")))
    });
    let Some((conversation, why)) = from_alert else {
        store.close().await;
        return Ok(None);
    };
    let started = Instant::now();
    let timeline = reconstruct(
        store.as_ref(),
        &Query {
            key: TimelineKey::Conversation(conversation.clone()),
            range: TimeRange::default(),
            rules: Vec::new(),
            window_ns: Some(600_000_000_000),
            limit: 10_000,
            max_rounds: 4,
        },
    )
    .await?;
    let found_gaps = gaps(&timeline.events, Some(manifest));
    let skew = clock_skew(&timeline.events);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    store.close().await;
    let mut sources: Vec<String> = timeline
        .events
        .iter()
        .map(|e| e.event.source.clone())
        .collect();
    sources.sort();
    sources.dedup();
    Ok(Some(Incident {
        conversation,
        why,
        events: timeline.events.len(),
        sources,
        inferred: timeline
            .events
            .iter()
            .filter(|e| e.link.is_inferred())
            .count(),
        gaps: found_gaps,
        clock_skew: skew,
        reconstruction_ms: ms,
        ingested,
    }))
}

/// The incident as the demo prints it.
pub fn summary(i: &Incident, agent_path: &str) -> String {
    let mut out = format!(
        "incident: {} — reconstructed conversation {} across {} systems ({}): {} events, {} inferred by customer and time; {:.1} ms\n",
        i.why,
        i.conversation,
        i.sources.len(),
        i.sources.join(", "),
        i.events,
        i.inferred,
        i.reconstruction_ms
    );
    if i.gaps.is_empty() {
        out.push_str("  gaps: none — every money tool call has its account change, every handover its ticket\n");
    }
    for g in &i.gaps {
        out.push_str(&format!("  gap: {}\n", g.message));
    }
    out.push_str(&format!(
        "  see it: muster reconstruct --conversation {} --agent {agent_path} --html incident.html\n",
        i.conversation
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::amount_moved;

    #[test]
    fn the_amount_an_alert_moved_is_read_from_its_text() {
        assert_eq!(
            amount_moved(
                "`process_return` moved £749.00 for LM-100004 in conversation c-3; the chat limit is £100."
            ),
            749.0
        );
        assert_eq!(amount_moved("moved £1,250.50 for x"), 1250.5);
        assert_eq!(amount_moved("no amount here"), 0.0);
    }
}
