//! One look-up request to a helpdesk, recorded as an [`Exchange`] with secrets removed, and its
//! failure turned into a [`QueueError`] a person can act on.
//!
//! Nothing here retries: the drill polls the queue until its deadline anyway, and a 429 or 5xx is
//! reported (with `Retry-After`) so the caller decides.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use muster_target::{Exchange, Secrets};
use serde_json::Value;
use url::Url;

use crate::QueueError;

/// Evidence keeps bodies bounded; errors quote less.
const MAX_TEXT_BODY: usize = 64 * 1024;
const EXCERPT_CHARS: usize = 300;

/// A client for one queue: its credentials, fixed headers and timeout.
pub(crate) struct Http {
    client: reqwest::Client,
    /// The helpdesk's name in messages ("Zendesk").
    pub(crate) system: &'static str,
    secrets: Secrets,
    timeout: Duration,
    /// Credential headers: their values never reach evidence or errors.
    secret_headers: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("system", &self.system)
            .field("timeout", &self.timeout)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub(crate) fn new(
        system: &'static str,
        timeout: Duration,
        secrets: Secrets,
        secret_headers: Vec<(String, String)>,
        headers: Vec<(String, String)>,
    ) -> Result<Self, QueueError> {
        muster_target::install_crypto_provider();
        let client = reqwest::Client::builder()
            // A redirect could carry the credentials to another host; a queue API never needs one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| QueueError::Config(format!("could not create the HTTP client: {e}")))?;
        let mut headers = headers;
        headers.insert(0, ("Accept".to_owned(), "application/json".to_owned()));
        Ok(Self {
            client,
            system,
            secrets,
            timeout,
            secret_headers,
            headers,
        })
    }

    pub(crate) async fn get(&self, url: Url) -> (Exchange, Result<Value, QueueError>) {
        let (exchange, result, _) = self.send(reqwest::Method::GET, url, None).await;
        (exchange, result)
    }

    /// A GET that also returns the answer's `Link` header (pagination links), when it has one.
    pub(crate) async fn get_linked(
        &self,
        url: Url,
    ) -> (Exchange, Result<Value, QueueError>, Option<String>) {
        self.send(reqwest::Method::GET, url, None).await
    }

    pub(crate) async fn post(
        &self,
        url: Url,
        body: Value,
    ) -> (Exchange, Result<Value, QueueError>) {
        let (exchange, result, _) = self.send(reqwest::Method::POST, url, Some(body)).await;
        (exchange, result)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Option<Value>,
    ) -> (Exchange, Result<Value, QueueError>, Option<String>) {
        let shown_url = self.secrets.redact(url.as_str());
        let mut exchange = Exchange {
            method: method.as_str().to_owned(),
            url: shown_url.clone(),
            request_headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), self.secrets.redact(v)))
                .chain(
                    self.secret_headers
                        .iter()
                        .map(|(k, _)| (k.clone(), "[redacted]".to_owned())),
                )
                .collect(),
            request_body: body.as_ref().map(|b| self.secrets.redact_json(b)),
            status: None,
            response_body: None,
            started_at_ns: now_ns(),
            elapsed: Duration::ZERO,
            error: None,
        };
        let mut request = self.client.request(method, url).timeout(self.timeout);
        for (k, v) in self.headers.iter().chain(&self.secret_headers) {
            request = request.header(k, v);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let started = Instant::now();
        let system = self.system;
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                QueueError::Timeout {
                    system,
                    url: shown_url.clone(),
                    timeout: self.timeout,
                }
            } else {
                QueueError::Transport {
                    system,
                    url: shown_url.clone(),
                    reason: self.secrets.redact(&innermost(&e)),
                }
            }
        };
        let received = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, jiff::Timestamp::now()));
                let link = response
                    .headers()
                    .get(reqwest::header::LINK)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                response
                    .bytes()
                    .await
                    .map(|bytes| (status, retry_after, link, bytes))
                    .map_err(failed)
            }
            Err(e) => Err(failed(e)),
        };
        exchange.elapsed = started.elapsed();
        let (status, retry_after, link, bytes) = match received {
            Ok(r) => r,
            Err(err) => {
                exchange.error = Some(err.to_string());
                return (exchange, Err(err), None);
            }
        };
        exchange.status = Some(status);
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        let text = String::from_utf8_lossy(&bytes);
        exchange.response_body = Some(match &parsed {
            Some(v) => self.secrets.redact_json(v),
            None => Value::String(self.secrets.redact(&truncate(&text, MAX_TEXT_BODY))),
        });
        let excerpt = || {
            let cut: String = text.chars().take(EXCERPT_CHARS).collect();
            let cut = self.secrets.redact(cut.trim());
            if cut.is_empty() {
                "(empty body)".to_owned()
            } else {
                cut
            }
        };
        let url = shown_url.clone();
        let result = match status {
            200..=299 => parsed.ok_or_else(|| QueueError::Malformed {
                system,
                url,
                reason: format!("the body is not JSON: {}", excerpt()),
            }),
            401 | 403 => Err(QueueError::Unauthorized {
                system,
                url,
                status,
                excerpt: excerpt(),
            }),
            429 => Err(QueueError::RateLimited {
                system,
                url,
                retry_after,
                excerpt: excerpt(),
            }),
            _ => Err(QueueError::Status {
                system,
                url,
                status,
                excerpt: excerpt(),
            }),
        };
        if let Err(err) = &result {
            exchange.error = Some(err.to_string());
        }
        (exchange, result, link)
    }
}

pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// At most `max` bytes of `text`, cut on a character boundary and marked when cut.
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

/// `Retry-After` as seconds or an HTTP date, relative to now.
pub(crate) fn retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// reqwest nests its causes; people need the innermost one ("connection refused").
fn innermost(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}

/// `base` with `path` appended below it (not replacing its last segment, as `Url::join` would):
/// `https://h/admin/queue` + `api/v2/tickets.json` → `https://h/admin/queue/api/v2/tickets.json`.
pub(crate) fn below(base: &Url, path: &str) -> Result<Url, QueueError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.set_query(None);
    base.join(path.trim_start_matches('/')).map_err(|e| {
        QueueError::Config(format!(
            "cannot build a URL from `{base}` and `{path}`: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_below_the_base() {
        let base =
            Url::parse("http://127.0.0.1:9/admin/handover-queue").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            below(&base, "/api/v2/tickets.json")
                .unwrap_or_else(|e| panic!("{e}"))
                .as_str(),
            "http://127.0.0.1:9/admin/handover-queue/api/v2/tickets.json"
        );
        let root = Url::parse("https://acme.zendesk.example").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            below(&root, "api/v2/search.json")
                .unwrap_or_else(|e| panic!("{e}"))
                .as_str(),
            "https://acme.zendesk.example/api/v2/search.json"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: jiff::Timestamp = "2026-11-27T10:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after("soon", now), None);
    }
}
