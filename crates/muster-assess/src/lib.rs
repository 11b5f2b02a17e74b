//! What drill an agent owes, from its manifest alone, and whether it may ship today.
//!
//! `assess` reads an [`AgentManifest`] and returns the risk tier with the manifest fields that put
//! it there, the drill that tier requires, the governance controls it must show (declared or
//! missing), the automated-decision boundary under UK GDPR Arts 22A–22D, and the re-drill cadence.
//! `fingerprint` reduces the manifest to the parts whose change re-triggers a drill; `muster.lock`
//! ([`Lock`]) records them with the drill's verdicts, and [`gate`] compares today's manifest and
//! date against it.
//!
//! **Invariants:** no I/O and no clock: callers pass the text of `muster.lock` and today's date, so
//! every result is reproducible. Every reason names the manifest field (a JSON pointer) it comes
//! from. A gate failure always names what fired; the gate never passes an agent that has no lock
//! entry.

mod adm;
mod assessment;
mod cadence;
mod fingerprint;
mod gate;
mod governance;
mod lock;
mod tier;

pub use adm::{AdmClass, AdmDecision, AdmQuestion, adm_decisions};
pub use assessment::{Assessment, assess};
pub use cadence::Cadence;
pub use fingerprint::{FieldChange, Fingerprints, ToolPrint, compare_fingerprints, fingerprint};
pub use gate::{GateOptions, GateReason, GateReport, gate};
pub use governance::{ControlStatus, GovernanceCheck, GovernanceControl, governance_checks};
pub use lock::{
    AgentEntry, DrillRecord, Finding, FindingStatus, LOCK_FILE_NAME, Lock, LockError,
    RiskAcceptance, ScenarioOutcome, ScenarioVerdict, scenario_set_digest,
};
pub use tier::{Reason, RequiredDrill, Tier, tier};
