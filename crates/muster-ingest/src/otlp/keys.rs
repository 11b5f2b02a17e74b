//! Conversation and customer keys: which attributes name them, and how they pass down the span
//! tree (within a body, and from spans remembered from earlier bodies).

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::model::{Attrs, ResourceInfo, SpanRec, attr};
use crate::event::{Correlation, KeyOrigin};

/// Attribute keys naming the conversation, in order of preference.
const CONVERSATION_KEYS: &[&str] = &[
    "gen_ai.conversation.id",
    // Azure AI Agents (Foundry): the thread a run, message or listing belongs to.
    "gen_ai.thread.id",
    "session.id",
    "langfuse.session.id",
    "traceloop.association.properties.conversation_id",
    "traceloop.association.properties.session_id",
    "traceloop.association.properties.thread_id",
];

/// Attribute keys naming the customer.
const CUSTOMER_KEYS: &[&str] = &[
    "user.id",
    "enduser.id",
    "langfuse.user.id",
    "traceloop.association.properties.user_id",
    "traceloop.association.properties.customer_id",
];

type Key = Option<(String, KeyOrigin)>;

#[derive(Clone, Debug, Default)]
pub(crate) struct Keys {
    conversation: Key,
    customer: Key,
}

pub(crate) fn string_attr(attrs: &Attrs, key: &str) -> Option<String> {
    match attr(attrs, key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn own_key(attrs: &Attrs, resource: &Attrs, keys: &[&str]) -> Key {
    let named = |key: &&str| (*key).to_owned();
    keys.iter()
        .find_map(|k| string_attr(attrs, k).map(|v| (v, KeyOrigin::Attribute { key: named(k) })))
        .or_else(|| {
            keys.iter().find_map(|k| {
                string_attr(resource, k).map(|v| (v, KeyOrigin::Resource { key: named(k) }))
            })
        })
}

/// The keys a record carries itself (or its resource does).
pub(crate) fn own_keys(attrs: &Attrs, resource: &Attrs) -> Keys {
    Keys {
        conversation: own_key(attrs, resource, CONVERSATION_KEYS),
        customer: own_key(attrs, resource, CUSTOMER_KEYS),
    }
}

/// A key as inherited from span `from`: its origin names the span that actually carries it.
fn inherited(key: &Key, from: &str) -> Key {
    key.as_ref().map(|(v, origin)| {
        let origin = match origin {
            KeyOrigin::Span { .. } => origin.clone(),
            KeyOrigin::Attribute { key } | KeyOrigin::Resource { key } => KeyOrigin::Span {
                span_id: from.to_owned(),
                key: key.clone(),
            },
        };
        (v.clone(), origin)
    })
}

impl Keys {
    fn complete(&self) -> bool {
        self.conversation.is_some() && self.customer.is_some()
    }

    /// Fill what is missing from span `from`'s keys.
    pub(crate) fn inherit(&mut self, from_keys: &Keys, from: &str) {
        if self.conversation.is_none() {
            self.conversation = inherited(&from_keys.conversation, from);
        }
        if self.customer.is_none() {
            self.customer = inherited(&from_keys.customer, from);
        }
    }

    pub(crate) fn correlation(
        &self,
        trace: Option<&str>,
        span: Option<&str>,
        parent: Option<&str>,
    ) -> Correlation {
        let (conversation_id, conversation_from) = self.conversation.clone().unzip();
        let (customer_ref, customer_from) = self.customer.clone().unzip();
        Correlation {
            conversation_id,
            conversation_from,
            customer_ref,
            customer_from,
            trace_id: trace.map(str::to_owned),
            span_id: span.map(str::to_owned),
            parent_span_id: parent.map(str::to_owned),
            ..Correlation::default()
        }
    }
}

/// Keys learned from spans of earlier bodies, so a span or log record in a later body whose
/// parent (or own span) was seen before still inherits. Bounded: the oldest entries go first,
/// which keeps memory constant on endless inputs.
pub(crate) struct Carry {
    map: HashMap<(String, String), Keys>,
    order: VecDeque<(String, String)>,
    cap: usize,
}

impl Carry {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap,
        }
    }

    pub(crate) fn get(&self, trace: &str, span: &str) -> Option<&Keys> {
        self.map.get(&(trace.to_owned(), span.to_owned()))
    }

    fn remember(&mut self, trace: &str, span: &str, keys: &Keys) {
        if self.cap == 0 || (keys.conversation.is_none() && keys.customer.is_none()) {
            return;
        }
        let k = (trace.to_owned(), span.to_owned());
        if self.map.insert(k.clone(), keys.clone()).is_none() {
            self.order.push_back(k);
        }
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// Every span's keys: its own, and what it lacks from its nearest ancestor that has it (by
/// `parentSpanId` within the trace, in this body or remembered from an earlier one). The
/// resolved keys are remembered for later bodies.
pub(crate) fn resolve(spans: &[(&SpanRec, &ResourceInfo)], carry: &mut Carry) -> Vec<Keys> {
    let index: HashMap<(&str, &str), usize> = spans
        .iter()
        .enumerate()
        .filter_map(|(i, (s, _))| Some(((s.trace_id.as_deref()?, s.span_id.as_deref()?), i)))
        .collect();
    let own: Vec<Keys> = spans
        .iter()
        .map(|(s, r)| own_keys(&s.attributes, &r.attributes))
        .collect();
    let mut out = own.clone();
    for (i, (span, _)) in spans.iter().enumerate() {
        let Some(trace) = span.trace_id.as_deref() else {
            continue;
        };
        let mut parent = span.parent_span_id.as_deref();
        // At most one step per span in the body, so a parent cycle in bad input ends.
        for _ in 0..=spans.len() {
            let Some(p) = parent else { break };
            if out[i].complete() {
                break;
            }
            let (keys, next) = match index.get(&(trace, p)) {
                Some(&j) => (&own[j], spans[j].0.parent_span_id.as_deref()),
                // Remembered keys are already resolved up their own chain.
                None => match carry.get(trace, p) {
                    Some(k) => (k, None),
                    None => break,
                },
            };
            let keys = keys.clone();
            out[i].inherit(&keys, p);
            parent = next;
        }
    }
    for ((span, _), keys) in spans.iter().zip(&out) {
        if let (Some(t), Some(s)) = (&span.trace_id, &span.span_id) {
            carry.remember(t, s, keys);
        }
    }
    out
}
