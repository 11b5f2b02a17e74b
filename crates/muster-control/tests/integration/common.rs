use std::sync::Arc;

use muster_control::{ControlKind, ControlReport, run_controls};
use muster_drill::{DrillPlan, DrillReport, DrillSession, RunOptions, digest_text};
use muster_library::{ReferenceInterface, reference_manifest};
use muster_model::agent::AgentManifest;
use muster_refagent::{FlawSet, RefAgentConfig, RunningRefAgent};
use muster_store::{EvidenceStore, SqliteStore, StoredEvent};
use tokio::sync::watch;

/// The reference manifest, changed by `edit`, with no scenarios: control drills only.
pub fn plan(edit: impl FnOnce(&mut AgentManifest)) -> DrillPlan {
    let Some(file) = reference_manifest(ReferenceInterface::Native) else {
        panic!("no reference manifest")
    };
    let loaded = muster_model::load_agent(file.text);
    let Some(mut manifest) = loaded.value else {
        panic!("{:#?}", loaded.diagnostics)
    };
    edit(&mut manifest);
    DrillPlan {
        manifest,
        manifest_source: file.path.to_owned(),
        manifest_digest: digest_text(file.text),
        scenarios: Vec::new(),
    }
}

pub async fn agent(flaws: FlawSet) -> RunningRefAgent {
    let config = RefAgentConfig {
        seed: 7,
        flaws,
        flaw_rate: 1.0,
        model: None,
        today: None,
        telemetry: Default::default(),
    };
    match muster_refagent::start(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await {
        Ok(a) => a,
        Err(e) => panic!("reference agent: {e}"),
    }
}

pub struct Ran {
    pub report: DrillReport,
    pub controls: ControlReport,
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl Ran {
    pub fn row(&self, control: &str) -> &muster_control::ControlResult {
        match self.controls.controls.iter().find(|r| r.control == control) {
            Some(r) => r,
            None => panic!("no row {control}: {:#?}", self.controls.controls),
        }
    }

    pub async fn events(&self, stream: &str) -> Vec<StoredEvent> {
        let all = self
            .store
            .events(&self.report.drill_id)
            .await
            .unwrap_or_default();
        all.into_iter()
            .filter(|e| e.event.stream == stream)
            .collect()
    }
}

/// Run `kinds` against the agent at `base_url`; `cancel` may stop the drill.
pub async fn run(
    plan: &DrillPlan,
    base_url: &str,
    kinds: &[ControlKind],
    cancel: Option<watch::Receiver<bool>>,
) -> Ran {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let store = match SqliteStore::open(&dir.path().join("evidence.db")).await {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("{e}"),
    };
    let options = RunOptions {
        base_url: Some(base_url.to_owned()),
        cancel,
        ..RunOptions::default()
    };
    let shared: Arc<dyn EvidenceStore> = store.clone();
    let mut session = match DrillSession::begin(plan, shared, options).await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    session.run_scenarios().await;
    let controls = match run_controls(&session, kinds, None).await {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let report = match session.finish(Vec::new()).await {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    Ran {
        report,
        controls,
        store,
        _dir: dir,
    }
}

/// A JSON document from the agent's admin API.
pub async fn get_json(url: &str) -> serde_json::Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = match reqwest::get(url).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(e) => panic!("{url}: {e}"),
    };
    serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
}
