//! Recording HTTP exchanges for the evidence store, with secrets removed.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::TurnError;
use crate::interlock::Interlock;
use crate::traffic::{MAX_RETRY_WAIT, Traffic, backoff, retry_after};

/// Values that must never be written to evidence (API keys, tokens).
#[derive(Clone, Default)]
pub struct Secrets(Vec<String>);

/// `Target` derives `Debug`; printing it must not print the secrets it holds.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

impl Secrets {
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= 4 {
            self.0.push(secret.to_owned());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        self.0.iter().fold(text.to_owned(), |acc, s| {
            acc.replace(s.as_str(), "[redacted]")
        })
    }

    pub fn redact_json(&self, value: &Value) -> Value {
        if self.0.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.redact_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// One request and its response, as evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    /// Request headers; values of credential headers are replaced by `[redacted]`.
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Value>,
    pub status: Option<u16>,
    /// The response body: JSON when it parsed, else the text (truncated).
    pub response_body: Option<Value>,
    pub started_at_ns: i64,
    pub elapsed: Duration,
    pub error: Option<String>,
}

impl Exchange {
    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// As [`Exchange::to_json`], moving the bodies into the document rather than copying them.
    pub fn into_json(self) -> Value {
        let mut doc = serde_json::Map::with_capacity(9);
        doc.insert("method".into(), Value::String(self.method));
        doc.insert("url".into(), Value::String(self.url));
        doc.insert(
            "request_headers".into(),
            Value::Array(
                self.request_headers
                    .into_iter()
                    .map(|(k, v)| Value::Array(vec![Value::String(k), Value::String(v)]))
                    .collect(),
            ),
        );
        doc.insert(
            "request_body".into(),
            self.request_body.unwrap_or(Value::Null),
        );
        doc.insert(
            "status".into(),
            self.status.map_or(Value::Null, Value::from),
        );
        doc.insert(
            "response_body".into(),
            self.response_body.unwrap_or(Value::Null),
        );
        doc.insert("started_at_ns".into(), Value::from(self.started_at_ns));
        doc.insert(
            "elapsed_us".into(),
            Value::from(u64::try_from(self.elapsed.as_micros()).unwrap_or(u64::MAX)),
        );
        doc.insert(
            "error".into(),
            self.error.map_or(Value::Null, Value::String),
        );
        Value::Object(doc)
    }
}

const MAX_TEXT_BODY: usize = 64 * 1024;

pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Turns a successful non-JSON body into JSON, or says why it cannot.
pub(crate) type Decode = fn(&[u8]) -> Result<Value, String>;

/// A request about to be sent.
pub(crate) struct Outgoing {
    pub method: reqwest::Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    /// Header names whose values are secret.
    pub secret_headers: Vec<String>,
    pub body: Option<Value>,
    pub timeout: Duration,
    /// Reads a successful response that is not JSON (an event stream) into the JSON the adapter
    /// reads and the evidence records. `None`: the body must be JSON.
    pub decode: Option<Decode>,
    /// The reply may come as server-sent events: a body that is not JSON is then read as an event
    /// stream and recorded (and returned) as `{"event_stream": [{"event", "data"}…]}`.
    pub event_stream: bool,
}

/// Send, paced and retried as `traffic` says, each attempt after the interlock check. Returns
/// every attempt's exchange (always at least one) and the parsed JSON of the last (on success).
pub(crate) async fn send(
    client: &reqwest::Client,
    interlock: &Interlock,
    secrets: &Secrets,
    traffic: &Traffic,
    out: Outgoing,
) -> (Vec<Exchange>, Result<Value, TurnError>) {
    let (decode, event_stream) = (out.decode, out.event_stream);
    let read = move |bytes: &[u8], json: Option<Value>| match (decode, json) {
        (Some(decode), _) => decode(bytes).map_err(TurnError::Malformed),
        // The body already parsed as JSON for the evidence: not parsed a second time.
        (None, Some(json)) => Ok(json),
        (None, None) if event_stream => read_json_or_events(bytes),
        (None, None) => read_json(bytes),
    };
    send_reading(client, interlock, secrets, traffic, out, read).await
}

/// As [`send`], for bodies that are not one JSON document (server-sent events): the successful
/// body is returned as text, for the caller to parse.
pub(crate) async fn send_text(
    client: &reqwest::Client,
    interlock: &Interlock,
    secrets: &Secrets,
    traffic: &Traffic,
    out: Outgoing,
) -> (Vec<Exchange>, Result<String, TurnError>) {
    send_reading(client, interlock, secrets, traffic, out, |bytes, _| {
        read_text(bytes)
    })
    .await
}

fn read_json(bytes: &[u8]) -> Result<Value, TurnError> {
    serde_json::from_slice(bytes)
        .map_err(|_| TurnError::Malformed("the response body is not JSON".to_owned()))
}

/// JSON, or else server-sent events as `{"event_stream": [{"event", "data"}…]}`.
fn read_json_or_events(bytes: &[u8]) -> Result<Value, TurnError> {
    read_json(bytes).or_else(|err| crate::sse::parse(&String::from_utf8_lossy(bytes)).ok_or(err))
}

fn read_text(bytes: &[u8]) -> Result<String, TurnError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| TurnError::Malformed("the response body is not UTF-8 text".to_owned()))
}

async fn send_reading<T>(
    client: &reqwest::Client,
    interlock: &Interlock,
    secrets: &Secrets,
    traffic: &Traffic,
    out: Outgoing,
    read: impl Fn(&[u8], Option<Value>) -> Result<T, TurnError>,
) -> (Vec<Exchange>, Result<T, TurnError>) {
    let mut exchanges = Vec::new();
    let mut attempt = 0;
    loop {
        let permit = traffic.admit().await;
        let (mut exchange, result, retry) =
            attempt_once(client, interlock, secrets, &out, &read).await;
        drop(permit);
        let wait = match retry {
            Retry::No => None,
            Retry::After(Some(wait)) => Some(wait),
            Retry::After(None) => Some(backoff(attempt, now_ns().unsigned_abs())),
        };
        match wait {
            Some(wait) if attempt < traffic.retries && wait <= MAX_RETRY_WAIT => {
                attempt += 1;
                let note = format!(
                    "; retry {attempt} of {} in {:.1}s",
                    traffic.retries,
                    wait.as_secs_f64()
                );
                exchange.error = Some(exchange.error.unwrap_or_default() + &note);
                exchanges.push(exchange);
                tokio::time::sleep(wait).await;
            }
            _ => {
                exchanges.push(exchange);
                return (exchanges, result);
            }
        }
    }
}

/// Whether an attempt may be repeated: only when the target did not act on it.
enum Retry {
    No,
    /// After the target's `Retry-After`, or a backoff when it gave none.
    After(Option<Duration>),
}

async fn attempt_once<T>(
    client: &reqwest::Client,
    interlock: &Interlock,
    secrets: &Secrets,
    out: &Outgoing,
    read: &impl Fn(&[u8], Option<Value>) -> Result<T, TurnError>,
) -> (Exchange, Result<T, TurnError>, Retry) {
    let mut exchange = Exchange {
        method: out.method.as_str().to_owned(),
        url: out.url.to_string(),
        request_headers: out
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = out.secret_headers.iter().any(|s| s.eq_ignore_ascii_case(k));
                (
                    k.clone(),
                    if secret {
                        "[redacted]".to_owned()
                    } else {
                        secrets.redact(v)
                    },
                )
            })
            .collect(),
        request_body: out.body.as_ref().map(|b| secrets.redact_json(b)),
        status: None,
        response_body: None,
        started_at_ns: now_ns(),
        elapsed: Duration::ZERO,
        error: None,
    };
    if let Err(refused) = interlock.check(&out.url) {
        exchange.error = Some(refused.to_string());
        return (exchange, Err(TurnError::Refused(refused)), Retry::No);
    }
    let mut request = client
        .request(out.method.clone(), out.url.clone())
        .timeout(out.timeout);
    for (k, v) in &out.headers {
        request = request.header(k, v);
    }
    if let Some(body) = &out.body {
        request = request.json(body);
    }
    let started = Instant::now();
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            TurnError::Timeout(out.timeout)
        } else {
            TurnError::Transport(describe(&e))
        }
    };
    let received = match request.send().await {
        Ok(response) => {
            let status = response.status();
            let after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, jiff::Timestamp::now()));
            response
                .bytes()
                .await
                .map(|bytes| (status, after, bytes))
                .map_err(failed)
        }
        Err(e) => {
            // A connection that was never made is the one transport error safe to repeat.
            let retry = if e.is_connect() && !e.is_timeout() {
                Retry::After(None)
            } else {
                Retry::No
            };
            let err = failed(e);
            exchange.elapsed = started.elapsed();
            exchange.error = Some(err.to_string());
            return (exchange, Err(err), retry);
        }
    };
    let (status, after, bytes) = match received {
        Ok(r) => r,
        Err(err) => {
            exchange.elapsed = started.elapsed();
            exchange.error = Some(err.to_string());
            return (exchange, Err(err), Retry::No);
        }
    };
    exchange.status = Some(status.as_u16());
    exchange.elapsed = started.elapsed();
    // What the evidence records: a decoded event stream, else JSON, else server-sent events.
    let decoded = match out.decode {
        Some(decode) if status.is_success() => decode(&bytes).ok(),
        _ => None,
    };
    // The body as a JSON document, when it is one (read once: the evidence and the reply both
    // come from it).
    let json: Option<Value> = if decoded.is_some() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    let parsed: Option<&Value> = decoded.as_ref().or(json.as_ref());
    let events = match parsed {
        None if out.event_stream => crate::sse::parse(&String::from_utf8_lossy(&bytes)),
        _ => None,
    };
    exchange.response_body = Some(match parsed.or(events.as_ref()) {
        Some(v) => secrets.redact_json(v),
        None => Value::String(
            secrets.redact(&truncate(&String::from_utf8_lossy(&bytes), MAX_TEXT_BODY)),
        ),
    });
    if !status.is_success() {
        let excerpt: String = truncate(&String::from_utf8_lossy(&bytes), MAX_TEXT_BODY)
            .chars()
            .take(300)
            .collect();
        let err = TurnError::Status {
            status: status.as_u16(),
            excerpt: secrets.redact(&excerpt),
        };
        exchange.error = Some(err.to_string());
        // 529 is Anthropic's documented "overloaded": like 503, the request was not taken.
        let retry = if matches!(status.as_u16(), 429 | 503 | 529) {
            Retry::After(after)
        } else {
            Retry::No
        };
        return (exchange, Err(err), retry);
    }
    match read(&bytes, json) {
        Ok(v) => (exchange, Ok(v), Retry::No),
        Err(err) => {
            exchange.error = Some(err.to_string());
            (exchange, Err(err), Retry::No)
        }
    }
}

/// At most `max` bytes of `text` (cut on a character boundary), marked when cut: evidence keeps
/// bodies and command output bounded.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… [truncated]", &text[..cut])
}

/// reqwest's errors nest their cause; people need the innermost one ("connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_exchange_as_json_keeps_every_field_in_order() {
        let x = Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:8787/v1/chat/completions".into(),
            request_headers: vec![("X-Conversation-Id".into(), "c-1".into())],
            request_body: Some(
                json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            ),
            status: Some(200),
            response_body: Some(json!({"choices": [], "usage": {"total_tokens": 3}})),
            started_at_ns: 1_700_000_000_000_000_000,
            elapsed: Duration::from_micros(1234),
            error: None,
        };
        // What evidence recorded before exchanges were moved into their events.
        let before = json!({
            "method": x.method,
            "url": x.url,
            "request_headers": x.request_headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "request_body": x.request_body,
            "status": x.status,
            "response_body": x.response_body,
            "started_at_ns": x.started_at_ns,
            "elapsed_us": 1234,
            "error": x.error,
        });
        assert_eq!(x.to_json().to_string(), before.to_string());
        let failed = Exchange {
            status: None,
            response_body: None,
            request_body: None,
            error: Some("connection refused".into()),
            ..x.clone()
        };
        assert_eq!(
            failed.clone().into_json().to_string(),
            json!({
                "method": "POST", "url": failed.url, "request_headers": [["X-Conversation-Id", "c-1"]],
                "request_body": null, "status": null, "response_body": null,
                "started_at_ns": failed.started_at_ns, "elapsed_us": 1234, "error": "connection refused",
            })
            .to_string()
        );
    }
}
