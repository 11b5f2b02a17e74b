//! One decoded form of OTLP records, whichever encoding they came in, so the convention mapping
//! is written once. Ids are lower-case hex; attribute values are JSON (AnyValue → JSON).

use serde_json::{Map, Value};

/// Attributes in source order. A `Vec`, not a map: OTLP allows duplicate keys and the mapping
/// takes the first, as the collector does.
pub(crate) type Attrs = Vec<(String, Value)>;

pub(crate) fn attr<'a>(attrs: &'a Attrs, key: &str) -> Option<&'a Value> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

pub(crate) fn attrs_to_map(attrs: &Attrs) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in attrs {
        if !m.contains_key(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    m
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceInfo {
    pub attributes: Attrs,
    pub schema_url: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ScopeInfo {
    pub name: Option<String>,
    pub version: Option<String>,
    pub schema_url: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SpanEvent {
    pub time_ns: Option<i64>,
    pub name: String,
    pub attributes: Attrs,
}

/// A link to another span (often in another trace: a batch, a follow-up turn).
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanLink {
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub attributes: Attrs,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SpanRec {
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: i32,
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
    pub attributes: Attrs,
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
    /// 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct LogRec {
    pub time_ns: Option<i64>,
    pub observed_ns: Option<i64>,
    pub severity_number: i32,
    pub severity_text: Option<String>,
    pub body: Option<Value>,
    pub attributes: Attrs,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub event_name: Option<String>,
}

/// A record with where it sits in its body, or the reason it could not be decoded.
pub(crate) enum Decoded<T> {
    Record {
        resource: std::rc::Rc<ResourceInfo>,
        scope: std::rc::Rc<ScopeInfo>,
        record: T,
        path: String,
    },
    Bad {
        path: String,
        reason: String,
        excerpt: String,
    },
}

/// A 16-byte trace id or 8-byte span id as lower-case hex; all zeroes means "no id" (OTLP).
pub(crate) fn id_hex(bytes: &[u8]) -> Option<String> {
    if bytes.iter().all(|b| *b == 0) {
        return None;
    }
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Some(s)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A float as JSON; JSON has no NaN or infinity, so those become their names as strings.
pub(crate) fn float_value(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or_else(|| Value::String(f.to_string()), Value::Number)
}
