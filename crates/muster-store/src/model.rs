use muster_evidence::{Digest, SealedEvent, VerifyReport};

/// What is known about a drill when it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrillHeader {
    pub id: String,
    pub started_at_ns: i64,
    pub agent: String,
    pub environment: String,
    pub manifest_digest: String,
    pub muster_version: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrillStatus {
    /// Started and not sealed: still running, or the process died.
    Running,
    /// Finished and sealed.
    Sealed,
    /// Stopped early (Ctrl-C) and sealed with what it had.
    Interrupted,
}

impl DrillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DrillStatus::Running => "running",
            DrillStatus::Sealed => "sealed",
            DrillStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(DrillStatus::Running),
            "sealed" => Some(DrillStatus::Sealed),
            "interrupted" => Some(DrillStatus::Interrupted),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DrillRecord {
    pub header: DrillHeader,
    pub status: DrillStatus,
    pub finished_at_ns: Option<i64>,
    pub root: Option<Digest>,
    pub summary: Option<serde_json::Value>,
    pub events: u64,
}

/// An event as stored: its id and its sealed form.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub id: String,
    pub event: SealedEvent,
}

/// A verification report with the stored ids of the events it names.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredVerify {
    pub drill: DrillRecord,
    pub report: VerifyReport,
    /// `(stream, seq) → event id` for every problem that names an event.
    pub event_ids: Vec<((String, u64), String)>,
}

impl StoredVerify {
    pub fn event_id(&self, stream: &str, seq: u64) -> Option<&str> {
        self.event_ids
            .iter()
            .find(|((s, q), _)| s == stream && *q == seq)
            .map(|(_, id)| id.as_str())
    }
}
