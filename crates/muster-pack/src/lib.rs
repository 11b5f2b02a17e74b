//! The evidence pack: a drill, and the exercise around it, as a signed, board-readable record.
//!
//! `assemble` turns what the store recorded into a [`Pack`] (`pack.json`), with no I/O and no
//! clock; `html`, `plots` and (feature `pdf`) `muster-pdf` render it; `evidence_file` writes the
//! drill's events, personal data withheld; `seal` lists every file's SHA-256 in the manifest and
//! signs it with Ed25519; `verify` checks all of that back from the directory alone.

pub mod assemble;
pub mod error;
pub mod evidence_file;
pub mod html;
pub mod model;
pub mod plots;
pub mod redact;
pub mod seal;
pub mod stats;
pub mod time;
pub mod verify;
mod write;

pub use assemble::{ExerciseInput, PackInput, ScenarioText, TextStatus, assemble};
pub use error::PackError;
pub use model::{PACK_FORMAT, Pack};
pub use seal::{PackKey, fingerprint, normalise_fingerprint};
pub use verify::{Check, LockRecord, Verification, verify_pack};
pub use write::{PackEvidence, WriteOptions, Written, write_pack};

pub const PACK_FILE: &str = "pack.json";
pub const HTML_FILE: &str = "index.html";
pub const PDF_FILE: &str = "pack.pdf";
pub const EVIDENCE_FILE: &str = "evidence.jsonl";
/// The exercise's log, when the pack includes an exercise (same line format as the evidence).
pub const EXERCISE_LOG_FILE: &str = "exercise-log.jsonl";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURE_FILE: &str = "signature.json";

/// The report's sections in order: the HTML's section ids and every rendering's headings.
pub const SECTIONS: [(&str, &str); 14] = [
    ("summary", "Executive summary"),
    ("scenarios", "Scenarios"),
    ("journeys", "Affected journeys"),
    ("severity", "Severity"),
    ("timeline", "Timeline"),
    ("decisions", "Decision log"),
    ("systems", "Systems reviewed and evidence-chain audit"),
    ("findings", "Findings by failure mode"),
    ("controls", "Control checks"),
    ("gaps", "Control gaps"),
    ("remediation", "Remediation actions"),
    ("people", "Owners and participants"),
    ("method", "Method and reproducibility"),
    ("integrity", "Integrity"),
];

/// Whether this build renders `pack.pdf`.
pub const fn renders_pdf() -> bool {
    cfg!(feature = "pdf")
}

/// The JSON Schema of `pack.json`.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Pack)).unwrap_or(serde_json::Value::Null)
}
