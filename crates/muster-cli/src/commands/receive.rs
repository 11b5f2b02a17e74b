//! `muster ingest --listen`: an OTLP/HTTP receiver writing into the evidence store until Ctrl-C.
//!
//! Each request is one committed batch of its own source chain, and its body is kept under
//! `received/` beside the store, named by its SHA-256 — the origin of its events' raw pointers —
//! so every event still points at the record it came from.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use muster_ingest::Item;
use muster_receiver::{DEFAULT_MAX_BODY, Encoding, Export, Receiver, Sink, SinkError};
use muster_store::{IngestBatch, Store};
use serde_json::json;

use crate::cli::IngestArgs;
use crate::context::Context;
use crate::error::{CliError, exit};

/// Keeps each export's raw body under `raw_dir` and ingests its events into `source`.
pub(crate) struct StoreSink {
    store: Arc<dyn Store>,
    source: String,
    raw_dir: PathBuf,
    pub(crate) stored: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) quarantined: AtomicU64,
    show: bool,
}

impl StoreSink {
    /// `show` prints a line per export on stderr.
    pub(crate) fn new(store: Arc<dyn Store>, source: &str, raw_dir: PathBuf, show: bool) -> Self {
        Self {
            store,
            source: source.to_owned(),
            raw_dir,
            stored: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            quarantined: AtomicU64::new(0),
            show,
        }
    }
}

/// Where raw exports are kept: `received/` beside the store.
pub(crate) fn raw_dir(ctx: &Context) -> Result<PathBuf, CliError> {
    let dir = ctx.local_dir.join("received");
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::runtime(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

#[async_trait]
impl Sink for StoreSink {
    async fn accept(&self, export: Export) -> Result<(), SinkError> {
        let digest = export.origin.rsplit('/').next().unwrap_or_default();
        let ext = match export.encoding {
            Encoding::Protobuf => "pb",
            Encoding::Json => "json",
        };
        let raw = self.raw_dir.join(format!("{digest}.{ext}"));
        // Content-addressed: a retried export finds its body already kept.
        if !raw.exists() {
            tokio::fs::write(&raw, &export.body).await.map_err(|e| {
                SinkError(format!(
                    "cannot keep the raw export at {}: {e}",
                    raw.display()
                ))
            })?;
        }
        let (mut events, mut quarantined) = (Vec::new(), Vec::new());
        for item in export.items {
            match item {
                Item::Event(e) => events.push(*e),
                Item::Quarantined(q) => quarantined.push(*q),
            }
        }
        let receipt = self
            .store
            .ingest_batch(IngestBatch {
                source: self.source.clone(),
                input: export.origin,
                events,
                quarantined,
                offset_reached: None,
                complete: true,
                cursor: None,
            })
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        let stored = self.stored.fetch_add(receipt.stored, Ordering::Relaxed) + receipt.stored;
        self.duplicates
            .fetch_add(receipt.duplicates, Ordering::Relaxed);
        let q = self
            .quarantined
            .fetch_add(receipt.quarantined, Ordering::Relaxed)
            + receipt.quarantined;
        if self.show {
            eprintln!(
                "  {} export: {} events stored, {} already stored, {} quarantined (total {stored} stored, {q} quarantined)",
                match export.signal {
                    muster_receiver::Signal::Traces => "traces",
                    muster_receiver::Signal::Logs => "logs",
                },
                receipt.stored,
                receipt.duplicates,
                receipt.quarantined
            );
        }
        Ok(())
    }
}

pub async fn run(ctx: &Context, args: &IngestArgs, addr: SocketAddr) -> Result<u8, CliError> {
    let store = ctx.open_store().await?;
    let raw_dir = raw_dir(ctx)?;
    let source = args.source.clone().unwrap_or_else(|| "otlp".to_owned());
    let sink = Arc::new(StoreSink::new(
        store.clone(),
        &source,
        raw_dir.clone(),
        !args.json,
    ));
    let receiver = Receiver::start(addr, sink.clone(), DEFAULT_MAX_BODY)
        .await
        .map_err(|e| {
            CliError::runtime(e.to_string())
                .hint("is another receiver (an OpenTelemetry collector?) on that port? pass --listen ADDR")
        })?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {addr}, which is not loopback: anyone who can reach it can write evidence into source `{source}`"
        );
    }
    eprintln!(
        "listening on {} (OTLP/HTTP: /v1/traces, /v1/logs) into source `{}`; raw exports kept in {}; Ctrl-C stops",
        receiver.endpoint(),
        source,
        raw_dir.display()
    );
    let _ = tokio::signal::ctrl_c().await;
    let stats = receiver.stats();
    drop(receiver);
    store.close().await;
    let stored = sink.stored.load(Ordering::Relaxed);
    let duplicates = sink.duplicates.load(Ordering::Relaxed);
    let quarantined = sink.quarantined.load(Ordering::Relaxed);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "source": source,
                "listened_on": addr.to_string(),
                "requests_accepted": stats.accepted,
                "requests_refused": stats.refused,
                "stored": stored,
                "already_stored": duplicates,
                "quarantined": quarantined,
                "raw_exports": raw_dir.display().to_string(),
            }))
            .unwrap_or_default()
        );
    } else {
        println!(
            "stopped: {} requests accepted, {} refused; {stored} events stored, {duplicates} already stored, {quarantined} quarantined",
            stats.accepted, stats.refused
        );
    }
    Ok(exit::OK)
}
