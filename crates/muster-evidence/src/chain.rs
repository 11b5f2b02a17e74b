//! Building the chain as events are recorded.

use std::collections::BTreeMap;

use crate::digest::{Digest, content_digest, event_digest, field_digest, genesis};

/// An event before it has a place in a chain.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDraft {
    pub kind: String,
    pub time_ns: i64,
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl EventDraft {
    pub fn new(kind: impl Into<String>, time_ns: i64) -> Self {
        Self {
            kind: kind.into(),
            time_ns,
            fields: BTreeMap::new(),
        }
    }

    pub fn field(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Digest every field and the contents, ready to be chained. Separate from chaining so the
    /// hashing can be done before (and away from) the writer that assigns chain positions, and so
    /// a record already stored can be recognised by its content digest before it takes a place.
    pub fn prepare(self) -> PreparedEvent {
        let (kind, time_ns, fields) = self.digest_fields();
        let named: Vec<(&str, Digest)> =
            fields.iter().map(|f| (f.name.as_str(), f.digest)).collect();
        let content = content_digest(time_ns, &kind, &named);
        PreparedEvent {
            kind,
            time_ns,
            fields,
            content,
        }
    }

    /// Every field with its digest, in name order.
    fn digest_fields(self) -> (String, i64, Vec<Field>) {
        let fields = self
            .fields
            .into_iter()
            .map(|(name, value)| Field {
                digest: field_digest(&name, &value),
                name,
                value: Some(value),
            })
            .collect();
        (self.kind, self.time_ns, fields)
    }
}

/// An event whose fields are digested but which has no place in a chain yet.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedEvent {
    pub kind: String,
    pub time_ns: i64,
    /// Sorted by name.
    pub fields: Vec<Field>,
    /// See [`SealedEvent::content_digest`].
    pub content: Digest,
}

/// One field of a sealed event. `value` is `None` once redacted or expired; `digest` remains.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: Option<serde_json::Value>,
    pub digest: Digest,
}

/// An event with its place in its stream's chain.
#[derive(Clone, Debug, PartialEq)]
pub struct SealedEvent {
    pub drill_id: String,
    pub stream: String,
    pub seq: u64,
    pub time_ns: i64,
    pub kind: String,
    /// Sorted by name.
    pub fields: Vec<Field>,
    pub prev: Digest,
    pub digest: Digest,
}

impl SealedEvent {
    pub fn value(&self, name: &str) -> Option<&serde_json::Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.as_ref())
    }

    /// The digest recomputed from this event's own contents (values where present, stored field
    /// digests where redacted).
    pub fn recompute(&self) -> Digest {
        let fields: Vec<(&str, Digest)> = self
            .fields
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.value
                        .as_ref()
                        .map_or(f.digest, |v| field_digest(&f.name, v)),
                )
            })
            .collect();
        event_digest(
            &self.drill_id,
            &self.stream,
            self.seq,
            self.time_ns,
            &self.kind,
            &self.prev,
            &fields,
        )
    }

    /// The digest of this event's contents alone (kind, time, field digests), without its place
    /// in the chain: the same record read twice has the same content digest.
    pub fn content_digest(&self) -> Digest {
        let fields: Vec<(&str, Digest)> = self
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.digest))
            .collect();
        content_digest(self.time_ns, &self.kind, &fields)
    }

    /// The same event with a field's value removed; it still verifies.
    pub fn redacted(mut self, name: &str) -> Self {
        for f in &mut self.fields {
            if f.name == name {
                f.value = None;
            }
        }
        self
    }
}

/// The running end of one stream's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamChain {
    drill_id: String,
    stream: String,
    next_seq: u64,
    head: Digest,
}

impl StreamChain {
    pub fn new(drill_id: &str, stream: &str) -> Self {
        Self {
            drill_id: drill_id.to_owned(),
            stream: stream.to_owned(),
            next_seq: 0,
            head: genesis(drill_id, stream),
        }
    }

    /// Resume a chain from its stored length and head.
    pub fn resume(drill_id: &str, stream: &str, length: u64, head: Digest) -> Self {
        Self {
            drill_id: drill_id.to_owned(),
            stream: stream.to_owned(),
            next_seq: length,
            head,
        }
    }

    pub fn length(&self) -> u64 {
        self.next_seq
    }

    pub fn head(&self) -> Digest {
        self.head
    }

    /// Chain an event (its content digest, which only ingest needs, is not computed).
    pub fn append(&mut self, draft: EventDraft) -> SealedEvent {
        let (kind, time_ns, fields) = draft.digest_fields();
        self.chain(kind, time_ns, fields)
    }

    /// Chain an event prepared with [`EventDraft::prepare`].
    pub fn append_prepared(&mut self, draft: PreparedEvent) -> SealedEvent {
        self.chain(draft.kind, draft.time_ns, draft.fields)
    }

    fn chain(&mut self, kind: String, time_ns: i64, fields: Vec<Field>) -> SealedEvent {
        let named: Vec<(&str, Digest)> =
            fields.iter().map(|f| (f.name.as_str(), f.digest)).collect();
        let digest = event_digest(
            &self.drill_id,
            &self.stream,
            self.next_seq,
            time_ns,
            &kind,
            &self.head,
            &named,
        );
        let event = SealedEvent {
            drill_id: self.drill_id.clone(),
            stream: self.stream.clone(),
            seq: self.next_seq,
            time_ns,
            kind,
            fields,
            prev: self.head,
            digest,
        };
        self.head = digest;
        self.next_seq += 1;
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft(kind: &str, time_ns: i64, fields: &[(String, i64)]) -> EventDraft {
        fields
            .iter()
            .fold(EventDraft::new(kind, time_ns), |d, (n, v)| d.field(n, *v))
    }

    proptest! {
        /// Ingest relies on this: preparing then chaining is the same as chaining, and the
        /// content digest names the contents whatever chain (source) or position they land in,
        /// while any change to the contents changes it.
        #[test]
        fn content_digest_ignores_position_and_catches_changes(
            kind in "[a-z.]{1,12}",
            time_ns in any::<i64>(),
            fields in proptest::collection::vec(("[a-z]{1,6}", any::<i64>()), 0..6),
            skip in 0u64..5,
            bump in 1i64..1000,
        ) {
            let d = draft(&kind, time_ns, &fields);
            let mut a = StreamChain::new("evidence", "a");
            let mut b = StreamChain::resume("evidence", "b", skip, genesis("x", "y"));
            let via_prepare = a.clone().append_prepared(d.clone().prepare());
            let sealed_a = a.append(d.clone());
            prop_assert_eq!(&via_prepare, &sealed_a);
            let sealed_b = b.append(d.clone());
            prop_assert_eq!(sealed_a.content_digest(), sealed_b.content_digest());
            prop_assert_eq!(sealed_a.content_digest(), d.clone().prepare().content);
            let changed = draft(&kind, time_ns.wrapping_add(bump), &fields);
            prop_assert_ne!(changed.prepare().content, sealed_a.content_digest());
        }
    }
}
