//! One control's evidence stream.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use muster_evidence::EventDraft;
use muster_store::{EvidenceStore, StoreError};

pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Appends to `control/<id>` in the drill's evidence.
#[derive(Clone)]
pub struct Recorder {
    store: Arc<dyn EvidenceStore>,
    drill_id: String,
    stream: String,
}

impl Recorder {
    pub fn new(store: Arc<dyn EvidenceStore>, drill_id: &str, control: &str) -> Self {
        Self {
            store,
            drill_id: drill_id.to_owned(),
            stream: format!("control/{control}"),
        }
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub async fn write(&self, events: Vec<EventDraft>) -> Result<(), StoreError> {
        self.store
            .append(&self.drill_id, &self.stream, events)
            .await
            .map(|_| ())
    }

    pub async fn one(&self, event: EventDraft) -> Result<(), StoreError> {
        self.write(vec![event]).await
    }
}
