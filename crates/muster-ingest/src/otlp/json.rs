//! OTLP/JSON bodies, read leniently (trace-formats §1.6): ids in hex of either case, base64 or
//! protobufjs `Buffer` objects; int64 as strings, numbers or protobufjs `Long` objects; enums as
//! numbers or names; lowerCamelCase or snake_case keys; the pre-1.0 `instrumentationLibrary*`
//! envelope. What cannot be read is reported per record with its JSON pointer.

use std::rc::Rc;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::model::{
    Attrs, Decoded, LogRec, ResourceInfo, ScopeInfo, SpanEvent, SpanLink, SpanRec, id_hex,
};
use super::proto::{LOGS, Shape, TRACES};
use crate::quarantine::Quarantined;
use crate::time::{EpochUnit, from_epoch_f64, from_epoch_str};

/// A field by its JSON name or its protobuf name (the protobuf JSON mapping accepts both).
fn get<'a>(obj: &'a Map<String, Value>, camel: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(camel) {
        return Some(v);
    }
    let mut snake = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    obj.get(&snake)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`{key}` is {}, expected a string", kind_of(other))),
    }
}

/// An AnyValue (`{"stringValue": …}` etc.) as plain JSON.
pub(crate) fn any_value(v: &Value) -> Result<Value, String> {
    let Value::Object(obj) = v else {
        return Err(format!(
            "value is {}, expected an AnyValue object",
            kind_of(v)
        ));
    };
    if obj.is_empty() {
        return Ok(Value::Null);
    }
    if let Some(s) = get(obj, "stringValue") {
        return match s {
            Value::String(_) | Value::Null => Ok(s.clone()),
            other => Err(format!("stringValue is {}", kind_of(other))),
        };
    }
    if let Some(b) = get(obj, "boolValue") {
        return match b {
            Value::Bool(_) => Ok(b.clone()),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(format!("boolValue is {}", kind_of(other))),
        };
    }
    if let Some(i) = get(obj, "intValue") {
        return int64(i)
            .map(Value::from)
            .map_err(|e| format!("intValue {e}"));
    }
    if let Some(d) = get(obj, "doubleValue") {
        return match d {
            Value::Number(_) => Ok(d.clone()),
            // The protobuf JSON mapping writes non-finite doubles as strings.
            Value::String(s) => match s.parse::<f64>() {
                Ok(f) => Ok(super::model::float_value(f)),
                Err(_) => Err(format!("doubleValue `{s}` is not a number")),
            },
            other => Err(format!("doubleValue is {}", kind_of(other))),
        };
    }
    if let Some(a) = get(obj, "arrayValue") {
        let values = match a {
            Value::Object(m) => get(m, "values"),
            Value::Null => None,
            other => return Err(format!("arrayValue is {}", kind_of(other))),
        };
        return match values {
            None | Some(Value::Null) => Ok(Value::Array(Vec::new())),
            Some(Value::Array(items)) => items
                .iter()
                .map(any_value)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Some(other) => Err(format!("arrayValue.values is {}", kind_of(other))),
        };
    }
    if let Some(kv) = get(obj, "kvlistValue") {
        let values = match kv {
            Value::Object(m) => get(m, "values"),
            Value::Null => None,
            other => return Err(format!("kvlistValue is {}", kind_of(other))),
        };
        return match values {
            None | Some(Value::Null) => Ok(Value::Object(Map::new())),
            Some(Value::Array(items)) => {
                let mut m = Map::new();
                for (k, v) in key_values(items)? {
                    m.insert(k, v);
                }
                Ok(Value::Object(m))
            }
            Some(other) => Err(format!("kvlistValue.values is {}", kind_of(other))),
        };
    }
    if let Some(b) = get(obj, "bytesValue") {
        return match b {
            Value::String(_) => Ok(b.clone()),
            other => Err(format!("bytesValue is {}", kind_of(other))),
        };
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).take(3).collect();
    Err(format!("not an AnyValue (keys {keys:?})"))
}

fn key_values(items: &[Value]) -> Result<Attrs, String> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(kv) = item else {
            return Err(format!(
                "attribute is {}, expected {{key, value}}",
                kind_of(item)
            ));
        };
        let key = match kv.get("key") {
            Some(Value::String(k)) => k.clone(),
            Some(other) => return Err(format!("attribute key is {}", kind_of(other))),
            None => return Err("attribute without a key".to_owned()),
        };
        let value = match kv.get("value") {
            None | Some(Value::Null) => Value::Null,
            Some(v) => any_value(v).map_err(|e| format!("attribute `{key}`: {e}"))?,
        };
        out.push((key, value));
    }
    Ok(out)
}

fn attributes(obj: &Map<String, Value>) -> Result<Attrs, String> {
    match get(obj, "attributes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => key_values(items),
        Some(other) => Err(format!(
            "attributes is {}, expected an array",
            kind_of(other)
        )),
    }
}

/// An int64 as a string, a number, or a protobufjs `Long` (`{low, high, unsigned}`).
fn int64(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| format!("{n} is not a 64-bit integer")),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("`{s}` is not an integer")),
        Value::Object(m) if m.contains_key("low") && m.contains_key("high") => {
            let part = |k: &str| {
                m.get(k)
                    .and_then(Value::as_i64)
                    .ok_or(format!("Long.{k} is not an integer"))
            };
            let low = part("low")? as u32;
            let high = part("high")? as u32;
            let bits = (u64::from(high) << 32) | u64::from(low);
            let unsigned = m.get("unsigned").and_then(Value::as_bool).unwrap_or(false);
            if unsigned {
                i64::try_from(bits).map_err(|_| format!("{bits} exceeds the int64 range"))
            } else {
                Ok(bits as i64)
            }
        }
        other => Err(format!("is {}, expected an integer", kind_of(other))),
    }
}

/// A `*UnixNano` field. Zero or absent means "not set" (OTLP).
fn unix_nano(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    let v = match get(obj, key) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let ns = match v {
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => {
            from_epoch_str(s, EpochUnit::Nanos).map_err(|e| format!("`{key}`: {e}"))?
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i,
            (None, Some(u)) => {
                return Err(format!("`{key}` {u} is beyond the year 2262"));
            }
            (None, None) => from_epoch_f64(n.as_f64().unwrap_or(f64::NAN), EpochUnit::Nanos)
                .map_err(|e| format!("`{key}`: {e}"))?,
        },
        other => int64(other).map_err(|e| format!("`{key}` {e}"))?,
    };
    Ok((ns != 0).then_some(ns))
}

/// A trace id (16 bytes) or span id (8 bytes): hex of either case, base64 (standard or URL-safe,
/// padded or not), or a protobufjs `Buffer`. Empty means absent.
fn id(obj: &Map<String, Value>, key: &str, bytes: usize) -> Result<Option<String>, String> {
    let raw: Vec<u8> = match get(obj, key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => {
            if s.len() == bytes * 2 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(Some(s.to_ascii_lowercase()).filter(|h| h.bytes().any(|b| b != b'0')));
            }
            let engines = [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|e| e.decode(s).ok().filter(|d| d.len() == bytes))
                .ok_or_else(|| {
                    format!(
                        "`{key}` `{s}` is neither {} hex digits nor base64 of {bytes} bytes",
                        bytes * 2
                    )
                })?
        }
        Some(Value::Object(m)) if m.get("type").and_then(Value::as_str) == Some("Buffer") => {
            let data = m
                .get("data")
                .and_then(Value::as_array)
                .ok_or(format!("`{key}` Buffer without data"))?;
            data.iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or(format!("`{key}` Buffer data is not bytes"))?
        }
        Some(other) => return Err(format!("`{key}` is {}, expected a string", kind_of(other))),
    };
    if raw.len() != bytes {
        return Err(format!("`{key}` has {} bytes, expected {bytes}", raw.len()));
    }
    Ok(id_hex(&raw))
}

/// An enum as its number or its name (`"SPAN_KIND_CLIENT"`; the prefix may be left off).
fn enumeration(
    obj: &Map<String, Value>,
    key: &str,
    prefix: &str,
    names: &[&str],
) -> Result<i32, String> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| format!("`{key}` {n} is not an enum number")),
        Some(Value::String(s)) => {
            let short = s.strip_prefix(prefix).unwrap_or(s);
            if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(short)) {
                return i32::try_from(i).map_err(|_| format!("`{key}` out of range"));
            }
            s.parse::<i32>()
                .map_err(|_| format!("`{key}` `{s}` is not a known value"))
        }
        Some(other) => Err(format!(
            "`{key}` is {}, expected a number or name",
            kind_of(other)
        )),
    }
}

const SPAN_KINDS: &[&str] = &[
    "UNSPECIFIED",
    "INTERNAL",
    "SERVER",
    "CLIENT",
    "PRODUCER",
    "CONSUMER",
];
const STATUS_CODES: &[&str] = &["UNSET", "OK", "ERROR"];
const SEVERITIES: &[&str] = &[
    "UNSPECIFIED",
    "TRACE",
    "TRACE2",
    "TRACE3",
    "TRACE4",
    "DEBUG",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "INFO",
    "INFO2",
    "INFO3",
    "INFO4",
    "WARN",
    "WARN2",
    "WARN3",
    "WARN4",
    "ERROR",
    "ERROR2",
    "ERROR3",
    "ERROR4",
    "FATAL",
    "FATAL2",
    "FATAL3",
    "FATAL4",
];

fn span(obj: &Map<String, Value>) -> Result<SpanRec, String> {
    let status = match get(obj, "status") {
        Some(Value::Object(s)) => Some(s),
        None | Some(Value::Null) => None,
        Some(other) => return Err(format!("`status` is {}", kind_of(other))),
    };
    let links = match get(obj, "links") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let Value::Object(l) = l else {
                    return Err(format!("link {i} is {}", kind_of(l)));
                };
                Ok(SpanLink {
                    trace_id: id(l, "traceId", 16).map_err(|e| format!("link {i}: {e}"))?,
                    span_id: id(l, "spanId", 8).map_err(|e| format!("link {i}: {e}"))?,
                    attributes: attributes(l).map_err(|e| format!("link {i}: {e}"))?,
                })
            })
            .collect::<Result<_, String>>()?,
        Some(other) => return Err(format!("`links` is {}", kind_of(other))),
    };
    let events = match get(obj, "events") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let Value::Object(e) = e else {
                    return Err(format!("event {i} is {}", kind_of(e)));
                };
                Ok(SpanEvent {
                    time_ns: unix_nano(e, "timeUnixNano")?,
                    name: opt_str(e, "name")?.unwrap_or_default(),
                    attributes: attributes(e).map_err(|err| format!("event {i}: {err}"))?,
                })
            })
            .collect::<Result<_, String>>()?,
        Some(other) => return Err(format!("`events` is {}", kind_of(other))),
    };
    Ok(SpanRec {
        trace_id: id(obj, "traceId", 16)?,
        span_id: id(obj, "spanId", 8)?,
        parent_span_id: id(obj, "parentSpanId", 8)?,
        name: opt_str(obj, "name")?.unwrap_or_default(),
        kind: enumeration(obj, "kind", "SPAN_KIND_", SPAN_KINDS)?,
        start_ns: unix_nano(obj, "startTimeUnixNano")?,
        end_ns: unix_nano(obj, "endTimeUnixNano")?,
        attributes: attributes(obj)?,
        events,
        links,
        status_code: match status {
            Some(s) => enumeration(s, "code", "STATUS_CODE_", STATUS_CODES)?,
            None => 0,
        },
        status_message: match status {
            Some(s) => opt_str(s, "message")?,
            None => None,
        },
    })
}

fn log(obj: &Map<String, Value>) -> Result<LogRec, String> {
    Ok(LogRec {
        time_ns: unix_nano(obj, "timeUnixNano")?,
        observed_ns: unix_nano(obj, "observedTimeUnixNano")?,
        severity_number: enumeration(obj, "severityNumber", "SEVERITY_NUMBER_", SEVERITIES)?,
        severity_text: opt_str(obj, "severityText")?,
        body: match get(obj, "body") {
            None | Some(Value::Null) => None,
            Some(b) => Some(any_value(b).map_err(|e| format!("body: {e}"))?),
        },
        attributes: attributes(obj)?,
        trace_id: id(obj, "traceId", 16)?,
        span_id: id(obj, "spanId", 8)?,
        event_name: opt_str(obj, "eventName")?,
    })
}

fn excerpt(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    Quarantined::text_excerpt(text.as_bytes())
}

/// The list under `key` (or its legacy name), or an error if it is there and not a list.
fn list<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Result<&'a [Value], (String, String)> {
    for key in keys {
        match get(obj, key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => return Ok(items),
            Some(other) => {
                return Err((
                    (*key).to_owned(),
                    format!("`{key}` is {}, expected an array", kind_of(other)),
                ));
            }
        }
    }
    Ok(&[])
}

fn walk<T>(
    body: &Map<String, Value>,
    shape: Shape,
    legacy_scope_list: &str,
    convert: fn(&Map<String, Value>) -> Result<T, String>,
) -> Vec<Decoded<T>> {
    let mut out = Vec::new();
    let bad = |path: String, reason: String, v: &Value| Decoded::Bad {
        path,
        reason,
        excerpt: excerpt(v),
    };
    let resources = match list(body, &[shape.resource_list]) {
        Ok(r) => r,
        Err((_, reason)) => {
            out.push(Decoded::Bad {
                path: format!("/{}", shape.resource_list),
                reason,
                excerpt: String::new(),
            });
            return out;
        }
    };
    for (ri, r) in resources.iter().enumerate() {
        let rpath = format!("/{}/{ri}", shape.resource_list);
        let Value::Object(robj) = r else {
            out.push(bad(rpath, format!("resource entry is {}", kind_of(r)), r));
            continue;
        };
        let mut resource = ResourceInfo::default();
        match get(robj, "resource") {
            Some(Value::Object(res)) => match attributes(res) {
                Ok(a) => resource.attributes = a,
                // The records can still be read; only their resource attributes are lost, and
                // that loss is reported.
                Err(reason) => out.push(bad(format!("{rpath}/resource"), reason, r)),
            },
            None | Some(Value::Null) => {}
            Some(other) => out.push(bad(
                format!("{rpath}/resource"),
                format!("`resource` is {}", kind_of(other)),
                r,
            )),
        }
        resource.schema_url = opt_str(robj, "schemaUrl").ok().flatten();
        let resource = Rc::new(resource);
        let scopes = match list(robj, &[shape.scope_list, legacy_scope_list]) {
            Ok(s) => s,
            Err((key, reason)) => {
                out.push(bad(format!("{rpath}/{key}"), reason, r));
                continue;
            }
        };
        for (si, s) in scopes.iter().enumerate() {
            let spath = format!("{rpath}/{}/{si}", shape.scope_list);
            let Value::Object(sobj) = s else {
                out.push(bad(spath, format!("scope entry is {}", kind_of(s)), s));
                continue;
            };
            let mut scope = ScopeInfo {
                schema_url: opt_str(sobj, "schemaUrl").ok().flatten(),
                ..ScopeInfo::default()
            };
            let scope_obj = get(sobj, "scope").or_else(|| get(sobj, "instrumentationLibrary"));
            if let Some(Value::Object(sc)) = scope_obj {
                scope.name = opt_str(sc, "name").ok().flatten();
                scope.version = opt_str(sc, "version").ok().flatten();
            }
            let scope = Rc::new(scope);
            let records = match list(sobj, &[shape.record_list]) {
                Ok(items) => items,
                Err((key, reason)) => {
                    out.push(bad(format!("{spath}/{key}"), reason, s));
                    continue;
                }
            };
            for (i, rec) in records.iter().enumerate() {
                let path = format!("{spath}/{}/{i}", shape.record_list);
                let Value::Object(robj) = rec else {
                    out.push(bad(
                        path,
                        format!("record is {}, expected an object", kind_of(rec)),
                        rec,
                    ));
                    continue;
                };
                match convert(robj) {
                    Ok(record) => out.push(Decoded::Record {
                        resource: Rc::clone(&resource),
                        scope: Rc::clone(&scope),
                        record,
                        path,
                    }),
                    Err(reason) => out.push(bad(path, reason, rec)),
                }
            }
        }
    }
    out
}

pub(crate) fn decode_traces(body: &Map<String, Value>) -> Vec<Decoded<SpanRec>> {
    walk(body, TRACES, "instrumentationLibrarySpans", span)
}

pub(crate) fn decode_logs(body: &Map<String, Value>) -> Vec<Decoded<LogRec>> {
    walk(body, LOGS, "instrumentationLibraryLogs", log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn ids_in_every_encoding() {
        let hex = "5b8efff798038103d269b633813fc60c";
        for raw in [
            json!(hex),
            json!("5B8EFFF798038103D269B633813FC60C"),
            json!("W47/95gDgQPSabYzgT/GDA=="),
            json!("W47_95gDgQPSabYzgT_GDA"),
        ] {
            assert_eq!(
                id(&obj(json!({ "traceId": raw })), "traceId", 16),
                Ok(Some(hex.to_owned())),
                "{raw}"
            );
        }
        let buffer = json!({"spanId": {"type": "Buffer", "data": [1,2,3,4,5,6,7,8]}});
        assert_eq!(
            id(&obj(buffer), "spanId", 8),
            Ok(Some("0102030405060708".to_owned()))
        );
        assert_eq!(id(&obj(json!({"spanId": ""})), "spanId", 8), Ok(None));
        assert_eq!(
            id(&obj(json!({"spanId": "0000000000000000"})), "spanId", 8),
            Ok(None)
        );
        assert!(id(&obj(json!({"spanId": "xyz"})), "spanId", 8).is_err());
        assert!(id(&obj(json!({"spanId": 12})), "spanId", 8).is_err());
    }

    #[test]
    fn int64_and_enum_leniency() {
        assert_eq!(int64(&json!("42")), Ok(42));
        assert_eq!(int64(&json!(42)), Ok(42));
        assert_eq!(
            int64(&json!({"low": 5, "high": 1, "unsigned": false})),
            Ok((1 << 32) + 5)
        );
        assert!(int64(&json!("4x")).is_err());
        let kinds = |v| enumeration(&obj(json!({ "kind": v })), "kind", "SPAN_KIND_", SPAN_KINDS);
        assert_eq!(kinds(json!(3)), Ok(3));
        assert_eq!(kinds(json!("SPAN_KIND_CLIENT")), Ok(3));
        assert_eq!(kinds(json!("internal")), Ok(1));
        assert!(kinds(json!("SIDEWAYS")).is_err());
        assert_eq!(
            unix_nano(
                &obj(json!({"startTimeUnixNano": 1795720102180012471u64})),
                "startTimeUnixNano"
            ),
            Ok(Some(1_795_720_102_180_012_471))
        );
        assert_eq!(
            unix_nano(&obj(json!({"timeUnixNano": "0"})), "timeUnixNano"),
            Ok(None)
        );
    }

    #[test]
    fn any_values() {
        assert_eq!(any_value(&json!({})), Ok(Value::Null));
        assert_eq!(any_value(&json!({"intValue": "7"})), Ok(json!(7)));
        assert_eq!(any_value(&json!({"int_value": 7})), Ok(json!(7)));
        assert_eq!(any_value(&json!({"doubleValue": "NaN"})), Ok(json!("NaN")));
        assert_eq!(
            any_value(
                &json!({"kvlistValue": {"values": [{"key": "a", "value": {"arrayValue": {"values": [{"boolValue": true}]}}}]}})
            ),
            Ok(json!({"a": [true]}))
        );
        assert_eq!(any_value(&json!({"arrayValue": {}})), Ok(json!([])));
        assert!(any_value(&json!({"intValue": true})).is_err());
        assert!(any_value(&json!({"colour": "red"})).is_err());
        assert!(any_value(&json!("bare")).is_err());
    }
}
