//! What a drill will run: the manifest and scenarios, with the digests that identify them.

use muster_model::agent::AgentManifest;
use muster_model::scenario::Scenario;
use sha2::{Digest as _, Sha256};

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct PlannedScenario {
    pub scenario: Scenario,
    /// Where it came from (a path, or `builtin:…`).
    pub source: String,
    /// SHA-256 of its text.
    pub digest: String,
    /// Set when the scenario replays a recorded conversation (`muster replay`).
    pub replay_of: Option<crate::replay::ReplayOrigin>,
}

/// A validated manifest and the scenarios to run against it.
#[derive(Clone, Debug)]
pub struct DrillPlan {
    pub manifest: AgentManifest,
    pub manifest_source: String,
    pub manifest_digest: String,
    pub scenarios: Vec<PlannedScenario>,
}

/// SHA-256 of a file's text, hex: how manifests and scenarios are identified in evidence.
pub fn digest_text(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
