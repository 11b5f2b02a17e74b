//! Monitoring and log platforms: Splunk HTTP Event Collector bodies, Datadog logs (intake
//! arrays, the Logs API's search/list pages, single log objects) and Datadog monitor webhooks.
//!
//! Log lines carry no convention muster knows, so a log becomes an `other` event with its text as
//! content; a monitor notification becomes an `alert`. Keys are looked for in the record's own
//! fields, its nested `attributes`/`fields`/`event`, and `key:value` tags: conversation
//! (`conversation_id`, `session_id`, `thread_id`), customer (`customer_id`, `usr.id`,
//! `user_id`), `ticket_id`, `case_id`, and a hex `trace_id`/`otel.trace_id` (Datadog's own
//! `dd.trace_id` is the decimal low half of an OTel id and is kept as an attribute only).

use serde_json::{Map, Value};

use crate::common::{Doc, Ev, Out, Rec, attr_key, parse_body, str_at, text, time_at};
use crate::event::{ActorRole, Correlation, EventKind, EvidenceEvent};
use crate::lines::LineReader;
use crate::otlp::BodyLocation;
use crate::quarantine::{Item, ReadStats};

const HEC: &str = "splunk-hec";
const DATADOG: &str = "datadog-json";

/// Read a file of HEC bodies (or of Datadog logs), one line at a time.
pub fn read_hec_lines<R: std::io::BufRead>(input: R, origin: impl Into<String>) -> LineReader<R> {
    LineReader::new(input, origin, HEC, read_hec)
}

pub fn read_datadog_lines<R: std::io::BufRead>(
    input: R,
    origin: impl Into<String>,
) -> LineReader<R> {
    LineReader::new(input, origin, DATADOG, read_datadog)
}

/// Read one `POST /services/collector/event` body: one or more JSON objects, concatenated
/// (HEC's batching), each an event. A syntax error quarantines the rest of the body, since the
/// objects after it cannot be found again.
pub fn read_hec(origin: &str, body: &[u8], at: BodyLocation) -> (Vec<Item>, ReadStats) {
    let d = Doc {
        origin,
        system: "splunk",
        format: HEC,
        at,
    };
    let mut out = Out::default();
    out.stats.bodies = 1;
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<Value>();
    let mut i = 0usize;
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(v)) => {
                let record = format!("/{i}");
                let result = match v.as_object() {
                    Some(o) => hec_event(&d, &record, o),
                    None => Err("a HEC event is not a JSON object".to_owned()),
                };
                out.record(&d, &record, &v, result);
            }
            Some(Err(e)) => {
                let rest = &text[start.min(text.len())..];
                if i == 0 {
                    out.body_failed(&d, format!("not JSON: {e}"), body);
                } else {
                    out.record_failed(
                        &d,
                        &format!("/{i}"),
                        format!("not JSON: {e}"),
                        &String::from_utf8_lossy(rest),
                    );
                }
                break;
            }
        }
        i += 1;
    }
    out.finish()
}

const CONVERSATION_KEYS: [&str; 4] = ["conversation_id", "session_id", "thread_id", "conversation"];
const CUSTOMER_KEYS: [&str; 5] = ["customer_id", "usr.id", "user_id", "customer", "user"];

/// A field by dotted name, as a flat key (`"usr.id": …`) or nested (`"usr": {"id": …}`).
fn dotted<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if let Some(v) = o.get(key) {
        return Some(v);
    }
    let (head, rest) = key.split_once('.')?;
    dotted(o.get(head)?.as_object()?, rest)
}

/// `key:value` tags, as a list or Datadog's comma-separated `ddtags`.
fn tag(tags: Option<&Value>, key: &str) -> Option<String> {
    let prefix = format!("{key}:");
    let find = |s: &str| s.strip_prefix(&prefix).map(str::to_owned);
    match tags? {
        Value::Array(list) => list.iter().filter_map(Value::as_str).find_map(find),
        Value::String(s) => s.split(',').map(str::trim).find_map(find),
        _ => None,
    }
}

/// Keys from the places in `scopes` (named for the key origin), first found wins.
fn keys(scopes: &[(&str, &Map<String, Value>)], tags: Option<&Value>) -> Correlation {
    let mut c = Correlation::default();
    let find = |names: &[&str]| {
        scopes.iter().find_map(|(at, o)| {
            names.iter().find_map(|k| {
                text(dotted(o, k)).map(|v| {
                    let key = if at.is_empty() {
                        (*k).to_owned()
                    } else {
                        format!("{at}.{k}")
                    };
                    (v, key)
                })
            })
        })
    };
    let from_tags = |names: &[&str]| {
        names
            .iter()
            .find_map(|k| tag(tags, k).map(|v| (v, format!("tags.{k}"))))
    };
    if let Some((v, k)) = find(&CONVERSATION_KEYS).or_else(|| from_tags(&CONVERSATION_KEYS)) {
        c.conversation_id = Some(v);
        c.conversation_from = attr_key(&k);
    }
    if let Some((v, k)) = find(&CUSTOMER_KEYS).or_else(|| from_tags(&CUSTOMER_KEYS)) {
        c.customer_ref = Some(v);
        c.customer_from = attr_key(&k);
    }
    c.ticket_id = find(&["ticket_id"])
        .or_else(|| from_tags(&["ticket_id"]))
        .map(|x| x.0);
    c.case_id = find(&["case_id"])
        .or_else(|| from_tags(&["case_id"]))
        .map(|x| x.0);
    c.trace_id = find(&["trace_id", "otel.trace_id", "traceId"])
        .map(|x| x.0)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|t| t.to_ascii_lowercase());
    c.span_id = find(&["span_id", "otel.span_id", "spanId"])
        .map(|x| x.0)
        .filter(|t| t.len() == 16 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|t| t.to_ascii_lowercase());
    c
}

/// The text of a log: a string, or the usual message fields of an object.
fn message(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => ["message", "msg", "text", "log"]
            .iter()
            .find_map(|k| text(o.get(*k))),
        _ => None,
    }
}

fn hec_event(
    d: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
) -> Result<Vec<EvidenceEvent>, String> {
    // HEC's `time` is epoch seconds with a fraction, as a number or a string.
    let t = crate::common::epoch_seconds_at(o, "time")?
        .ok_or("no `time`: Splunk would stamp its receipt time, and muster reads no clock")?;
    let event = o.get("event").ok_or("no `event`")?;
    let empty = Map::new();
    let fields = o.get("fields").and_then(Value::as_object).unwrap_or(&empty);
    let ev_obj = event.as_object().unwrap_or(&empty);
    let corr = keys(&[("fields", fields), ("event", ev_obj)], None);
    let service = text(o.get("source")).or_else(|| text(o.get("host")));
    let mut rec = Rec::new(d, record.to_owned(), d.source(service), corr, t);
    rec.push(
        Ev::new(
            t,
            EventKind::Other {
                name: text(o.get("sourcetype")).unwrap_or_else(|| "event".to_owned()),
                operation: Some("splunk.event".to_owned()),
            },
        )
        .by(ActorRole::System, text(o.get("host")))
        .content(message(Some(event)))
        .attr("event", Some(event.clone()))
        .attr("fields", o.get("fields").cloned())
        .attr("host", o.get("host").cloned())
        .attr("source", o.get("source").cloned())
        .attr("index", o.get("index").cloned()),
    );
    Ok(rec.finish())
}

/// Read one Datadog body: an intake array of logs, a Logs API page (`{"data": […]}`), one log,
/// or one monitor webhook (told apart by `alert_transition`, `event_type`, `alert_id` or
/// `last_updated`).
pub fn read_datadog(origin: &str, body: &[u8], at: BodyLocation) -> (Vec<Item>, ReadStats) {
    let d = Doc {
        origin,
        system: "datadog",
        format: DATADOG,
        at,
    };
    let mut out = Out::default();
    out.stats.bodies = 1;
    let value = match parse_body(body) {
        Ok(v) => v,
        Err(reason) => {
            out.body_failed(&d, reason, body);
            return out.finish();
        }
    };
    let each = |record: String, v: &Value, out: &mut Out| {
        let result = match v.as_object() {
            Some(o) if is_monitor(o) => monitor(&d, &record, o),
            Some(o) => datadog_log(&d, &record, o),
            None => Err("a log is not a JSON object".to_owned()),
        };
        out.record(&d, &record, v, result);
    };
    match &value {
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                each(format!("/{i}"), v, &mut out);
            }
        }
        Value::Object(o) if o.get("data").is_some_and(Value::is_array) => {
            for (i, v) in o
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                each(format!("/data/{i}"), v, &mut out);
            }
        }
        Value::Object(_) => each(String::new(), &value, &mut out),
        _ => out.body_failed(&d, "not Datadog logs or a monitor webhook".to_owned(), body),
    }
    out.finish()
}

fn is_monitor(o: &Map<String, Value>) -> bool {
    [
        "alert_transition",
        "event_type",
        "alert_id",
        "last_updated",
        "alert_priority",
    ]
    .iter()
    .any(|k| o.contains_key(*k))
}

fn datadog_log(
    d: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
) -> Result<Vec<EvidenceEvent>, String> {
    // The Logs API wraps a log as `{id, type: "log", attributes: {timestamp, message, …,
    // attributes: {custom}}}`; intake logs are flat.
    let outer = o
        .get("attributes")
        .and_then(Value::as_object)
        .filter(|_| str_at(o, "type") == Some("log"))
        .unwrap_or(o);
    let empty = Map::new();
    let custom = outer
        .get("attributes")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let t = match time_at(outer, "timestamp")? {
        Some(t) => t,
        None => time_at(outer, "date")?.ok_or("no time: a log without `timestamp`")?,
    };
    let tags = outer.get("tags").or_else(|| outer.get("ddtags"));
    let corr = keys(&[("attributes", custom), ("", outer)], tags);
    let service = text(outer.get("service"));
    let mut rec = Rec::new(d, record.to_owned(), d.source(service), corr, t);
    rec.push(
        Ev::new(
            t,
            EventKind::Other {
                name: "log".to_owned(),
                operation: text(outer.get("status")),
            },
        )
        .by(
            ActorRole::System,
            text(outer.get("host")).or_else(|| text(outer.get("hostname"))),
        )
        .content(text(outer.get("message")))
        .attr("id", o.get("id").cloned())
        .attr("tags", tags.cloned())
        .attr(
            "dd.trace_id",
            dotted(custom, "dd.trace_id")
                .or_else(|| dotted(outer, "dd.trace_id"))
                .cloned(),
        )
        .attr(
            "attributes",
            (!custom.is_empty()).then(|| Value::Object(custom.clone())),
        )
        .attr("ddsource", outer.get("ddsource").cloned()),
    );
    Ok(rec.finish())
}

fn monitor(
    d: &Doc<'_>,
    record: &str,
    o: &Map<String, Value>,
) -> Result<Vec<EvidenceEvent>, String> {
    let mut t = None;
    for k in ["date", "last_updated", "date_posix", "timestamp"] {
        if let Some(v) = time_at(o, k)? {
            t = Some(v);
            break;
        }
    }
    let t = t.ok_or("no time: a monitor notification without `date` or `last_updated`")?;
    let tags = o.get("tags");
    let corr = keys(&[("", o)], tags);
    let mut rec = Rec::new(d, record.to_owned(), d.source(None), corr, t);
    let status = text(o.get("alert_transition")).or_else(|| text(o.get("event_type")));
    rec.push(
        Ev::new(
            t,
            EventKind::Alert {
                name: text(o.get("title")).or_else(|| text(o.get("alert_title"))),
                status,
                severity: text(o.get("alert_priority")).or_else(|| text(o.get("priority"))),
            },
        )
        .by(ActorRole::System, text(o.get("alert_id")))
        .content(text(o.get("body")))
        .attributes(crate::common::rest(
            o,
            &["title", "body", "alert_transition", "alert_priority"],
        )),
    );
    Ok(rec.finish())
}
