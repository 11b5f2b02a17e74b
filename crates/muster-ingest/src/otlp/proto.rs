//! OTLP protobuf bodies.
//!
//! The message structs are the OTLP subset muster reads, declared here with `prost` derives
//! (field numbers from opentelemetry-proto v1). Declaring them avoids both a `protoc` build step
//! and the `opentelemetry-proto` crate, whose generated types pull in tonic and whose serde
//! mapping is strict where muster must be lenient.
//!
//! The envelopes (request → resource → scope → records) are walked by hand at the wire level
//! instead of decoded in one go, so that one undecodable span, or a body cut off half-way, costs
//! only the records it touches: every record before the damage is still read.

use std::rc::Rc;

use base64::Engine as _;
use prost::Message;
use serde_json::{Map, Value};

use super::model::{
    Attrs, Decoded, LogRec, ResourceInfo, ScopeInfo, SpanEvent, SpanLink, SpanRec, float_value,
    id_hex,
};
use crate::quarantine::Quarantined;

#[derive(Clone, PartialEq, Message)]
pub(crate) struct AnyValue {
    #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<any_value::Value>,
}

pub(crate) mod any_value {
    // The variant names mirror the proto's field names.
    #[allow(clippy::enum_variant_names)]
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        #[prost(int64, tag = "3")]
        IntValue(i64),
        #[prost(double, tag = "4")]
        DoubleValue(f64),
        #[prost(message, tag = "5")]
        ArrayValue(super::ArrayValue),
        #[prost(message, tag = "6")]
        KvlistValue(super::KeyValueList),
        #[prost(bytes, tag = "7")]
        BytesValue(Vec<u8>),
    }
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct ArrayValue {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct KeyValueList {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct InstrumentationScope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Status {
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(int32, tag = "3")]
    pub code: i32,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Event {
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Link {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Span {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    #[prost(string, tag = "5")]
    pub name: String,
    #[prost(int32, tag = "6")]
    pub kind: i32,
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(message, repeated, tag = "11")]
    pub events: Vec<Event>,
    #[prost(message, repeated, tag = "13")]
    pub links: Vec<Link>,
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct LogRecord {
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "11")]
    pub observed_time_unix_nano: u64,
    #[prost(int32, tag = "2")]
    pub severity_number: i32,
    #[prost(string, tag = "3")]
    pub severity_text: String,
    #[prost(message, optional, tag = "5")]
    pub body: Option<AnyValue>,
    #[prost(message, repeated, tag = "6")]
    pub attributes: Vec<KeyValue>,
    #[prost(bytes = "vec", tag = "9")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "10")]
    pub span_id: Vec<u8>,
    #[prost(string, tag = "12")]
    pub event_name: String,
}

pub(crate) fn any_to_json(v: &AnyValue) -> Value {
    use any_value::Value as V;
    match &v.value {
        None => Value::Null,
        Some(V::StringValue(s)) => Value::String(s.clone()),
        Some(V::BoolValue(b)) => Value::Bool(*b),
        Some(V::IntValue(i)) => Value::from(*i),
        Some(V::DoubleValue(f)) => float_value(*f),
        Some(V::ArrayValue(a)) => Value::Array(a.values.iter().map(any_to_json).collect()),
        Some(V::KvlistValue(kv)) => {
            let mut m = Map::new();
            for item in &kv.values {
                m.insert(
                    item.key.clone(),
                    item.value.as_ref().map_or(Value::Null, any_to_json),
                );
            }
            Value::Object(m)
        }
        Some(V::BytesValue(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
    }
}

fn attrs(kvs: &[KeyValue]) -> Attrs {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(Value::Null, any_to_json),
            )
        })
        .collect()
}

fn id_field(bytes: &[u8], want: usize, what: &str) -> Result<Option<String>, String> {
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() != want {
        return Err(format!("{what} has {} bytes, expected {want}", bytes.len()));
    }
    Ok(id_hex(bytes))
}

fn time_field(ns: u64, what: &str) -> Result<Option<i64>, String> {
    if ns == 0 {
        return Ok(None);
    }
    i64::try_from(ns)
        .map(Some)
        .map_err(|_| format!("{what} {ns} is beyond the year 2262"))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn span_rec(s: Span) -> Result<SpanRec, String> {
    Ok(SpanRec {
        trace_id: id_field(&s.trace_id, 16, "traceId")?,
        span_id: id_field(&s.span_id, 8, "spanId")?,
        parent_span_id: id_field(&s.parent_span_id, 8, "parentSpanId")?,
        name: s.name,
        kind: s.kind,
        start_ns: time_field(s.start_time_unix_nano, "startTimeUnixNano")?,
        end_ns: time_field(s.end_time_unix_nano, "endTimeUnixNano")?,
        attributes: attrs(&s.attributes),
        events: s
            .events
            .iter()
            .map(|e| {
                Ok(SpanEvent {
                    time_ns: time_field(e.time_unix_nano, "event timeUnixNano")?,
                    name: e.name.clone(),
                    attributes: attrs(&e.attributes),
                })
            })
            .collect::<Result<_, String>>()?,
        links: s
            .links
            .iter()
            .map(|l| {
                Ok(SpanLink {
                    trace_id: id_field(&l.trace_id, 16, "link traceId")?,
                    span_id: id_field(&l.span_id, 8, "link spanId")?,
                    attributes: attrs(&l.attributes),
                })
            })
            .collect::<Result<_, String>>()?,
        status_code: s.status.as_ref().map_or(0, |st| st.code),
        status_message: s.status.as_ref().and_then(|st| non_empty(&st.message)),
    })
}

fn log_rec(l: LogRecord) -> Result<LogRec, String> {
    Ok(LogRec {
        time_ns: time_field(l.time_unix_nano, "timeUnixNano")?,
        observed_ns: time_field(l.observed_time_unix_nano, "observedTimeUnixNano")?,
        severity_number: l.severity_number,
        severity_text: non_empty(&l.severity_text),
        body: l.body.as_ref().map(any_to_json),
        attributes: attrs(&l.attributes),
        trace_id: id_field(&l.trace_id, 16, "traceId")?,
        span_id: id_field(&l.span_id, 8, "spanId")?,
        event_name: non_empty(&l.event_name),
    })
}

/// One field of a protobuf message at the wire level.
struct WireField<'a> {
    tag: u32,
    /// The payload of a length-delimited field; empty for the other wire types, which the
    /// envelopes do not use for anything muster reads.
    data: &'a [u8],
    delimited: bool,
}

/// Walk the top-level fields of a message. Stops at the first damaged field with the reason.
fn wire_fields(mut buf: &[u8]) -> impl Iterator<Item = Result<WireField<'_>, String>> {
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || buf.is_empty() {
            return None;
        }
        let step = next_field(&mut buf);
        failed = step.is_err();
        Some(step)
    })
}

fn next_field<'a>(buf: &mut &'a [u8]) -> Result<WireField<'a>, String> {
    let key = prost::encoding::decode_varint(buf).map_err(|e| format!("bad field key: {e}"))?;
    let tag = u32::try_from(key >> 3).map_err(|_| "field number out of range".to_owned())?;
    if tag == 0 {
        return Err("field number 0".to_owned());
    }
    let skip = |buf: &mut &'a [u8], n: usize| -> Result<&'a [u8], String> {
        if buf.len() < n {
            return Err(format!(
                "truncated: field {tag} needs {n} bytes, {} left",
                buf.len()
            ));
        }
        let (head, tail) = buf.split_at(n);
        *buf = tail;
        Ok(head)
    };
    match key & 7 {
        0 => {
            prost::encoding::decode_varint(buf).map_err(|e| format!("field {tag}: {e}"))?;
            Ok(WireField {
                tag,
                data: &[],
                delimited: false,
            })
        }
        1 => {
            skip(buf, 8)?;
            Ok(WireField {
                tag,
                data: &[],
                delimited: false,
            })
        }
        5 => {
            skip(buf, 4)?;
            Ok(WireField {
                tag,
                data: &[],
                delimited: false,
            })
        }
        2 => {
            let len = prost::encoding::decode_varint(buf)
                .map_err(|e| format!("field {tag}: bad length: {e}"))?;
            let len = usize::try_from(len).map_err(|_| format!("field {tag}: length too large"))?;
            let data = skip(buf, len)?;
            Ok(WireField {
                tag,
                data,
                delimited: true,
            })
        }
        other => Err(format!("field {tag}: unsupported wire type {other}")),
    }
}

/// Which record list an envelope holds: traces (`resourceSpans/scopeSpans/spans`) or logs.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    pub resource_list: &'static str,
    pub scope_list: &'static str,
    pub record_list: &'static str,
}

pub(crate) const TRACES: Shape = Shape {
    resource_list: "resourceSpans",
    scope_list: "scopeSpans",
    record_list: "spans",
};

pub(crate) const LOGS: Shape = Shape {
    resource_list: "resourceLogs",
    scope_list: "scopeLogs",
    record_list: "logRecords",
};

/// Decode a body into records (or per-record failures), in order. `convert` turns one record's
/// bytes into the common form.
fn walk<T>(body: &[u8], shape: Shape, convert: fn(&[u8]) -> Result<T, String>) -> Vec<Decoded<T>> {
    let mut out = Vec::new();
    let bad = |path: String, reason: String, bytes: &[u8]| Decoded::Bad {
        path,
        reason,
        excerpt: Quarantined::binary_excerpt(bytes),
    };
    let mut ri = 0usize;
    let mut stray_reported = false;
    for field in wire_fields(body) {
        let field = match field {
            Ok(f) => f,
            Err(reason) => {
                out.push(bad(format!("/{}/{ri}", shape.resource_list), reason, body));
                break;
            }
        };
        if field.tag != 1 || !field.delimited {
            // An export request has one field. Anything else means this is not an OTLP body
            // (JSON sent as protobuf, the wrong signal); say so once and keep looking.
            if !stray_reported {
                stray_reported = true;
                out.push(bad(
                    "".to_owned(),
                    format!(
                        "not an OTLP export request: unexpected top-level field {}",
                        field.tag
                    ),
                    body,
                ));
            }
            continue;
        }
        let rpath = format!("/{}/{ri}", shape.resource_list);
        ri += 1;
        // Resource and schema URL come before or after the scopes on the wire; collect them
        // first so every record carries them.
        let mut resource = ResourceInfo::default();
        let mut scopes: Vec<&[u8]> = Vec::new();
        let mut damaged = None;
        for f in wire_fields(field.data) {
            match f {
                Ok(f) if f.tag == 1 && f.delimited => match Resource::decode(f.data) {
                    Ok(r) => resource.attributes = attrs(&r.attributes),
                    Err(e) => damaged = Some(format!("resource: {e}")),
                },
                Ok(f) if f.tag == 2 && f.delimited => scopes.push(f.data),
                Ok(f) if f.tag == 3 && f.delimited => {
                    resource.schema_url = Some(String::from_utf8_lossy(f.data).into_owned());
                }
                Ok(_) => {}
                Err(e) => damaged = Some(e),
            }
        }
        let resource = Rc::new(resource);
        for (si, scope_bytes) in scopes.into_iter().enumerate() {
            let spath = format!("{rpath}/{}/{si}", shape.scope_list);
            let mut scope = ScopeInfo::default();
            let mut records: Vec<&[u8]> = Vec::new();
            let mut scope_damage = None;
            for f in wire_fields(scope_bytes) {
                match f {
                    Ok(f) if f.tag == 1 && f.delimited => {
                        match InstrumentationScope::decode(f.data) {
                            Ok(s) => {
                                scope.name = non_empty(&s.name);
                                scope.version = non_empty(&s.version);
                            }
                            Err(e) => scope_damage = Some(format!("scope: {e}")),
                        }
                    }
                    Ok(f) if f.tag == 2 && f.delimited => records.push(f.data),
                    Ok(f) if f.tag == 3 && f.delimited => {
                        scope.schema_url = Some(String::from_utf8_lossy(f.data).into_owned());
                    }
                    Ok(_) => {}
                    Err(e) => scope_damage = Some(e),
                }
            }
            let scope = Rc::new(scope);
            for (i, rec) in records.into_iter().enumerate() {
                let path = format!("{spath}/{}/{i}", shape.record_list);
                match convert(rec) {
                    Ok(record) => out.push(Decoded::Record {
                        resource: Rc::clone(&resource),
                        scope: Rc::clone(&scope),
                        record,
                        path,
                    }),
                    Err(reason) => out.push(bad(path, reason, rec)),
                }
            }
            if let Some(reason) = scope_damage {
                out.push(bad(spath, reason, scope_bytes));
            }
        }
        if let Some(reason) = damaged {
            out.push(bad(rpath, reason, field.data));
        }
    }
    out
}

fn convert_span(bytes: &[u8]) -> Result<SpanRec, String> {
    let span = Span::decode(bytes).map_err(|e| format!("undecodable span: {e}"))?;
    span_rec(span)
}

fn convert_log(bytes: &[u8]) -> Result<LogRec, String> {
    let log = LogRecord::decode(bytes).map_err(|e| format!("undecodable log record: {e}"))?;
    log_rec(log)
}

pub(crate) fn decode_traces(body: &[u8]) -> Vec<Decoded<SpanRec>> {
    walk(body, TRACES, convert_span)
}

pub(crate) fn decode_logs(body: &[u8]) -> Vec<Decoded<LogRec>> {
    walk(body, LOGS, convert_log)
}
