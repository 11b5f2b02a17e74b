//! `muster assess`: everything the manifest says about the drill this agent owes.

use muster_model::agent::AgentManifest;
use serde::Serialize;

use crate::adm::{AdmDecision, adm_decisions};
use crate::cadence::Cadence;
use crate::governance::{GovernanceCheck, governance_checks};
use crate::tier::{Reason, RequiredDrill, Tier, tier};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub agent: String,
    pub tier: Tier,
    pub tier_label: &'static str,
    pub reasons: Vec<Reason>,
    pub required_drill: RequiredDrill,
    pub controls: Vec<GovernanceCheck>,
    pub adm: Vec<AdmDecision>,
    pub cadence: Cadence,
}

impl Assessment {
    /// Required controls that are missing or incomplete.
    pub fn gaps(&self) -> impl Iterator<Item = &GovernanceCheck> {
        self.controls.iter().filter(|c| c.is_gap())
    }
}

pub fn assess(manifest: &AgentManifest) -> Assessment {
    let (tier, reasons) = tier(manifest);
    Assessment {
        agent: manifest.name.clone(),
        tier,
        tier_label: tier.label(),
        reasons,
        required_drill: tier.required_drill(),
        controls: governance_checks(manifest, tier),
        adm: adm_decisions(manifest),
        cadence: Cadence::for_tier(tier),
    }
}
