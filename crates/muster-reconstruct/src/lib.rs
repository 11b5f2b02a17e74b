//! Incident reconstruction over ingested evidence: one conversation's or one customer's events
//! across every system, linked through the identifiers the systems share, and the gaps in them.
//!
//! [`reconstruct`] starts from the key asked for and widens round by round: the events carrying a
//! key bring in their other keys (a conversation's spans bring their trace ids, a helpdesk record
//! its ticket id, a CRM change its case id), and the events carrying those come next, until no
//! new key turns up or [`Query::max_rounds`] is reached. Declared [`LinkRule`]s add records that
//! name another system's key in a field of their own (a Salesforce Case with the conversation id in
//! a custom field). Last, a time window around the conversation brings in the same customer's
//! events that no identifier links — marked *inferred*, never presented as linked.
//!
//! [`gaps`] then names what the record should hold and does not: a tool call that changed
//! something with no account change recorded by the system of record, a handover with no ticket.
//! [`clock_skew`] estimates how far each source's clock is from the others' where two systems
//! recorded the same message.
//!
//! **Invariants:** every event says how it was linked ([`Link`]); an inferred event is never
//! reported as linked; customer references widen a conversation's timeline only through the
//! inferred window (a customer's whole history is not one incident). Backend-independent: only
//! the [`EvidenceStore`] trait is used.

mod audit;
mod gaps;
mod skew;

use std::collections::{BTreeMap, BTreeSet};

use muster_store::{EvidenceStore, KeySet, StoreError, StoredEvidence, TimeRange, TimelineKey};
use serde::Serialize;

pub use audit::{
    ARTEFACTS, AuditInput, AuditRow, Cell, CellStatus, SearchProbe, artefact_name, audit, kinds_of,
    probe_word,
};
pub use gaps::{Gap, GapKind, gaps};
pub use skew::{SkewEstimate, clock_skew};

/// Which correlation key a rule or link is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Conversation,
    Customer,
    Trace,
    Ticket,
    Case,
}

impl KeyKind {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "conversation" => KeyKind::Conversation,
            "customer" => KeyKind::Customer,
            "trace" => KeyKind::Trace,
            "ticket" => KeyKind::Ticket,
            "case" => KeyKind::Case,
            _ => return None,
        })
    }

    fn set(self, keys: &KeySet) -> &BTreeSet<String> {
        match self {
            KeyKind::Conversation => &keys.conversations,
            KeyKind::Customer => &keys.customers,
            KeyKind::Trace => &keys.traces,
            KeyKind::Ticket => &keys.tickets,
            KeyKind::Case => &keys.cases,
        }
    }

    fn set_mut(self, keys: &mut KeySet) -> &mut BTreeSet<String> {
        match self {
            KeyKind::Conversation => &mut keys.conversations,
            KeyKind::Customer => &mut keys.customers,
            KeyKind::Trace => &mut keys.traces,
            KeyKind::Ticket => &mut keys.tickets,
            KeyKind::Case => &mut keys.cases,
        }
    }
}

/// A declared link: events of `source` whose attribute `attribute` holds a `key` already in the
/// timeline belong to it (e.g. `salesforce`'s `Conversation_Id__c` holds a conversation id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkRule {
    pub name: String,
    pub source: String,
    pub attribute: String,
    pub key: KeyKind,
}

/// What to reconstruct.
#[derive(Clone, Debug)]
pub struct Query {
    pub key: TimelineKey,
    pub range: TimeRange,
    pub rules: Vec<LinkRule>,
    /// Same-customer events this close to a conversation's first and last event, linked by no
    /// identifier, are included as inferred (conversation timelines only). `None`: none.
    pub window_ns: Option<i64>,
    /// At most this many events.
    pub limit: u64,
    /// Rounds of widening through shared keys.
    pub max_rounds: usize,
}

/// How an event came into the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Link {
    /// It carries the key asked for.
    Key,
    /// It shares a key with events already linked.
    Shared { key: KeyKind, value: String },
    /// A declared rule linked it.
    Rule { rule: String, value: String },
    /// Only time and customer link it: it happened within the window around the conversation,
    /// to the same customer. Not proof of a link.
    Inferred { customer: String, window_ns: i64 },
}

impl Link {
    pub fn is_inferred(&self) -> bool {
        matches!(self, Link::Inferred { .. })
    }

    /// A short label for tables.
    pub fn label(&self) -> String {
        match self {
            Link::Key => "key".into(),
            Link::Shared { key, .. } => format!("{key:?}").to_lowercase(),
            Link::Rule { rule, .. } => format!("rule:{rule}"),
            Link::Inferred { .. } => "inferred".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkedEvent {
    pub event: StoredEvidence,
    pub link: Link,
}

/// A reconstructed timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconstruction {
    /// In time order.
    pub events: Vec<LinkedEvent>,
    /// Every key the timeline reached.
    pub keys: KeySet,
    /// Rounds of widening it took.
    pub rounds: usize,
    /// More keys were found than `max_rounds` allowed following, or `limit` cut events off.
    pub truncated: bool,
}

fn keys_of(e: &StoredEvidence, with_customer: bool) -> KeySet {
    let c = &e.event.correlation;
    let mut k = KeySet::default();
    let mut put = |kind: KeyKind, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            kind.set_mut(&mut k).insert(v.clone());
        }
    };
    put(KeyKind::Conversation, &c.conversation_id);
    put(KeyKind::Trace, &c.trace_id);
    put(KeyKind::Ticket, &c.ticket_id);
    put(KeyKind::Case, &c.case_id);
    if with_customer {
        put(KeyKind::Customer, &c.customer_ref);
    }
    k
}

/// Which of `frontier`'s keys `e` carries, in the order conversation, trace, ticket, case, customer.
fn shared_key(e: &StoredEvidence, frontier: &KeySet) -> Option<(KeyKind, String)> {
    let k = keys_of(e, true);
    [
        KeyKind::Conversation,
        KeyKind::Trace,
        KeyKind::Ticket,
        KeyKind::Case,
        KeyKind::Customer,
    ]
    .into_iter()
    .find_map(|kind| {
        kind.set(&k)
            .intersection(kind.set(frontier))
            .next()
            .map(|v| (kind, v.clone()))
    })
}

fn id(e: &StoredEvidence) -> (String, u64) {
    (e.source.clone(), e.seq)
}

/// Reconstruct `query`'s timeline from `store`.
pub async fn reconstruct(
    store: &dyn EvidenceStore,
    query: &Query,
) -> Result<Reconstruction, StoreError> {
    let mut seed = KeySet::default();
    let (start_kind, start_value) = match &query.key {
        TimelineKey::Conversation(c) => (KeyKind::Conversation, c.clone()),
        TimelineKey::Customer(c) => (KeyKind::Customer, c.clone()),
    };
    start_kind.set_mut(&mut seed).insert(start_value.clone());
    // A customer's timeline follows the customer's keys; a conversation's does not widen to the
    // customer's other conversations.
    let follow_customers = start_kind == KeyKind::Customer;

    let mut found: BTreeMap<(String, u64), LinkedEvent> = BTreeMap::new();
    let mut known = KeySet::default();
    let mut frontier = seed;
    let mut rounds = 0;
    let mut truncated = false;
    while !frontier.is_empty() {
        if rounds == query.max_rounds {
            truncated = true;
            break;
        }
        rounds += 1;
        let mut batch = store
            .events_with_keys(&frontier, query.range, Some(query.limit))
            .await?;
        if batch.len() as u64 >= query.limit {
            truncated = true;
        }
        let mut by_rule: Vec<(StoredEvidence, Link)> = Vec::new();
        for rule in &query.rules {
            let values: Vec<String> = rule.key.set(&frontier).iter().cloned().collect();
            for e in store
                .events_with_attribute(&rule.source, &rule.attribute, &values, query.range)
                .await?
            {
                let value = e
                    .event
                    .attributes
                    .get(&rule.attribute)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
                by_rule.push((
                    e,
                    Link::Rule {
                        rule: rule.name.clone(),
                        value,
                    },
                ));
            }
        }
        known.extend(&frontier);
        let mut next = KeySet::default();
        for e in batch.drain(..) {
            next.extend(&keys_of(&e, follow_customers));
            if found.contains_key(&id(&e)) {
                continue;
            }
            let link = match shared_key(&e, &frontier) {
                Some((kind, value)) if kind == start_kind && value == start_value => Link::Key,
                Some((key, value)) => Link::Shared { key, value },
                None => Link::Key,
            };
            found.insert(id(&e), LinkedEvent { event: e, link });
        }
        for (e, link) in by_rule {
            next.extend(&keys_of(&e, follow_customers));
            found
                .entry(id(&e))
                .or_insert(LinkedEvent { event: e, link });
        }
        frontier = next.minus(&known);
    }

    if let (Some(window), TimelineKey::Conversation(_)) = (query.window_ns, &query.key) {
        infer_by_time(store, query, window, &mut found, &known).await?;
    }

    let mut events: Vec<LinkedEvent> = found.into_values().collect();
    events.sort_by(|a, b| {
        (a.event.event.time_ns, &a.event.source, a.event.seq).cmp(&(
            b.event.event.time_ns,
            &b.event.source,
            b.event.seq,
        ))
    });
    if events.len() as u64 > query.limit {
        events.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
        truncated = true;
    }
    Ok(Reconstruction {
        events,
        keys: known,
        rounds,
        truncated,
    })
}

/// The same customer's events near the conversation that no identifier linked. An event nearer
/// in time to another conversation of the customer (a drill runs the same customer through many)
/// is that conversation's, not this one's: only events whose nearest event of any of the
/// customer's conversations is this conversation's are inferred.
async fn infer_by_time(
    store: &dyn EvidenceStore,
    query: &Query,
    window: i64,
    found: &mut BTreeMap<(String, u64), LinkedEvent>,
    known: &KeySet,
) -> Result<(), StoreError> {
    let times = found.values().map(|e| e.event.event.time_ns);
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return Ok(());
    };
    let customers: BTreeSet<String> = found
        .values()
        .filter_map(|e| e.event.event.correlation.customer_ref.clone())
        .collect();
    if customers.is_empty() {
        return Ok(());
    }
    let keys = KeySet {
        customers,
        ..KeySet::default()
    };
    let range = TimeRange {
        from_ns: Some(
            first
                .saturating_sub(window)
                .max(query.range.from_ns.unwrap_or(i64::MIN)),
        ),
        to_ns: Some(
            last.saturating_add(window)
                .min(query.range.to_ns.unwrap_or(i64::MAX)),
        ),
    };
    let nearby = store
        .events_with_keys(&keys, range, Some(query.limit))
        .await?;
    // Each other conversation's event times in the window, and this one's.
    let mut others: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for e in &nearby {
        if let Some(c) = e.event.correlation.conversation_id.as_deref()
            && !known.conversations.contains(c)
        {
            others.entry(c).or_default().push(e.event.time_ns);
        }
    }
    let own: Vec<i64> = found
        .values()
        .filter(|e| !e.link.is_inferred())
        .map(|e| e.event.event.time_ns)
        .collect();
    // Distance to a conversation: to its nearest event (a span would be stretched by a late
    // alert or ticket and swallow its neighbours' records).
    let nearest = |times: &[i64], t: i64| times.iter().map(|x| (x - t).abs()).min();
    let mut inferred = Vec::new();
    for e in &nearby {
        if found.contains_key(&id(e)) || e.event.correlation.conversation_id.is_some() {
            continue;
        }
        let t = e.event.time_ns;
        let Some(mine) = nearest(&own, t) else {
            continue;
        };
        if others
            .values()
            .any(|times| nearest(times, t).is_some_and(|d| d < mine))
        {
            continue;
        }
        inferred.push(e.clone());
    }
    for e in inferred {
        let customer = e.event.correlation.customer_ref.clone().unwrap_or_default();
        found.insert(
            id(&e),
            LinkedEvent {
                event: e,
                link: Link::Inferred {
                    customer,
                    window_ns: window,
                },
            },
        );
    }
    Ok(())
}
