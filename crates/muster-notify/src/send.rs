//! Posting notifications: one JSON `POST` per channel, all channels at once.
//!
//! Each request has the [`Notifier`]'s timeout (connect to end of body). A `429` or `5xx` answer
//! (or a legacy Teams connector's `200` whose body reports `HTTP error 429`) is retried once,
//! after the `Retry-After` the service asked for (seconds or an HTTP date; 1 s when absent) if that
//! is at most [`RETRY_CAP`]; a longer wait is not retried but reported. Timeouts and transport
//! errors are not retried: the message may have been posted, and a channel should not see it
//! twice.
//!
//! Errors name the channel and the service, never the webhook URL: reqwest's errors are stripped
//! of it, and a service's reply is scrubbed of the URL, its path and its query before it is
//! reported. Redirects are not followed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::{Channel, ChannelKind, Delivery, Notification, NotifyError, shorten};

/// The longest `Retry-After` a delivery waits for before its one retry.
pub const RETRY_CAP: Duration = Duration::from_secs(5);
/// The wait before the retry when the service gave no `Retry-After`.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(1);
/// How much of a refusal's body is read and reported.
const BODY_READ_MAX: usize = 4096;
const BODY_REPORT_MAX: usize = 200;

/// Posts notifications to a fixed set of channels.
pub struct Notifier {
    client: reqwest::Client,
    channels: Vec<Channel>,
    timeout: Duration,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Channel`'s own Debug redacts the webhook URL.
        f.debug_struct("Notifier")
            .field("channels", &self.channels)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier for `channels`, each request limited to `timeout`. Fails if a channel's URL is
    /// not `https` (plain `http` only to a loopback host) or the HTTP client cannot be built.
    pub fn new(channels: Vec<Channel>, timeout: Duration) -> Result<Self, NotifyError> {
        for channel in &channels {
            crate::check_webhook_url(&channel.webhook_url).map_err(|reason| {
                NotifyError::ChannelUrl {
                    channel: channel.name.clone(),
                    reason,
                }
            })?;
        }
        // reqwest is built with `rustls-no-provider`: install ring, as the rest of muster does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // A redirect would only send the message somewhere the channel owner did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "muster/",
                env!("CARGO_PKG_VERSION"),
                " (exercise notifications)"
            ))
            .build()
            .map_err(|e| NotifyError::Client(describe(e.without_url())))?;
        Ok(Self {
            client,
            channels,
            timeout,
        })
    }

    /// The configured channels.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// Posts `n` to every channel concurrently; one [`Delivery`] per channel, in channel order.
    /// Never fails as a whole: each channel's outcome is in its delivery.
    pub async fn send(&self, n: &Notification) -> Vec<Delivery> {
        let mut slack = None;
        let mut teams = None;
        let jobs = self.channels.iter().map(|channel| {
            let body = match channel.kind {
                ChannelKind::Slack => slack.get_or_insert_with(|| crate::slack_payload(n)),
                ChannelKind::Teams => teams.get_or_insert_with(|| crate::teams_payload(n)),
            }
            .clone();
            async move {
                let outcome = self.deliver(channel, &body).await;
                match &outcome {
                    Ok(status) => {
                        tracing::debug!(channel = %channel.name, status, "notification delivered");
                    }
                    Err(error) => {
                        tracing::warn!(channel = %channel.name, %error, "notification not delivered");
                    }
                }
                Delivery {
                    channel: channel.name.clone(),
                    outcome,
                }
            }
        });
        let jobs: Vec<_> = jobs.collect();
        join_all(jobs).await
    }

    async fn deliver(&self, channel: &Channel, body: &Value) -> Result<u16, NotifyError> {
        match self.attempt(channel, body).await {
            Attempt::Done(outcome) => outcome,
            Attempt::Retry { error, wait } if wait <= RETRY_CAP => {
                tracing::info!(channel = %channel.name, %error, ?wait, "retrying notification");
                tokio::time::sleep(wait).await;
                match self.attempt(channel, body).await {
                    Attempt::Done(outcome) => outcome,
                    Attempt::Retry { error, .. } => Err(error),
                }
            }
            Attempt::Retry { error, .. } => Err(error),
        }
    }

    async fn attempt(&self, channel: &Channel, body: &Value) -> Attempt {
        let service = channel.kind.service();
        let response = self
            .client
            .post(channel.webhook_url.clone())
            .timeout(self.timeout)
            .json(body)
            .send()
            .await;
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                NotifyError::Timeout {
                    channel: channel.name.clone(),
                    service,
                    after: self.timeout,
                }
            } else {
                NotifyError::Transport {
                    channel: channel.name.clone(),
                    service,
                    message: scrub(&describe(e.without_url()), &channel.webhook_url),
                }
            }
        };
        let mut response = match response {
            Ok(response) => response,
            Err(e) => return Attempt::Done(Err(failed(e))),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, jiff::Timestamp::now()));
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() >= BODY_READ_MAX {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Attempt::Done(Err(failed(e))),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let throttled = status == 429
            || (channel.kind == ChannelKind::Teams && text.contains("HTTP error 429"));
        if (200..300).contains(&status) && !throttled {
            return Attempt::Done(Ok(status));
        }
        let error = NotifyError::Rejected {
            channel: channel.name.clone(),
            service,
            status,
            body: report(&text, &channel.webhook_url),
        };
        if throttled || (500..600).contains(&status) {
            Attempt::Retry {
                error,
                wait: retry_after.unwrap_or(DEFAULT_RETRY_WAIT),
            }
        } else {
            Attempt::Done(Err(error))
        }
    }
}

enum Attempt {
    Done(Result<u16, NotifyError>),
    Retry { error: NotifyError, wait: Duration },
}

/// Polls every future to completion concurrently (on the caller's task, so dropping the caller
/// drops them); outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// `Retry-After` as a wait: delta-seconds or an HTTP date (a date in the past is no wait).
fn retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// The innermost cause of a reqwest error (already stripped of its URL): "connection refused"
/// rather than "error sending request".
fn describe(e: reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}

/// A service's reply as reported: scrubbed of the webhook URL, on one line, shortened.
fn report(text: &str, url: &Url) -> String {
    let scrubbed = scrub(text, url);
    let one_line = scrubbed.split_whitespace().collect::<Vec<_>>().join(" ");
    shorten(&one_line, BODY_REPORT_MAX)
}

/// `text` with the webhook URL, its path and its query replaced by `<redacted>`: a service that
/// echoes the request must not put the token into an error message.
fn scrub(text: &str, url: &Url) -> String {
    let mut out = text.replace(url.as_str(), "<redacted>");
    let path = url.path();
    if path.len() > 1 {
        out = out.replace(path, "<redacted>");
    }
    if let Some(query) = url.query().filter(|q| !q.is_empty()) {
        out = out.replace(query, "<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-11-27T10:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 10:00:02 GMT", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn replies_are_scrubbed_of_the_url() {
        let url = Url::parse(
            "https://example.webhook.office.com/webhookb2/abc/IncomingWebhook/def?sig=s3cret",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = format!(
            "bad request to {url}\n path {} query sig=s3cret",
            url.path()
        );
        let reported = report(&text, &url);
        assert!(!reported.contains("abc"), "{reported}");
        assert!(!reported.contains("s3cret"), "{reported}");
        assert_eq!(
            reported,
            "bad request to <redacted> path <redacted> query <redacted>"
        );
    }

    #[test]
    fn long_replies_are_shortened() {
        let url =
            Url::parse("https://hooks.slack.com/services/T/B/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            report(&"e".repeat(1000), &url).chars().count(),
            BODY_REPORT_MAX
        );
    }

    #[test]
    fn a_plain_http_channel_is_refused() {
        let channel = Channel {
            kind: ChannelKind::Slack,
            name: "ops".to_owned(),
            webhook_url: Url::parse("http://hooks.slack.com/services/T/B/t0ken")
                .unwrap_or_else(|e| panic!("{e}")),
        };
        let err = Notifier::new(vec![channel], Duration::from_secs(1))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("`ops`") && err.contains("https"), "{err}");
        assert!(!err.contains("t0ken"), "{err}");
    }

    #[test]
    fn debug_redacts_urls() {
        let channel = Channel {
            kind: ChannelKind::Teams,
            name: "bridge".to_owned(),
            webhook_url: Url::parse("https://example.webhook.office.com/x?sig=s3cret")
                .unwrap_or_else(|e| panic!("{e}")),
        };
        let notifier =
            Notifier::new(vec![channel], Duration::from_secs(1)).unwrap_or_else(|e| panic!("{e}"));
        let debug = format!("{notifier:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains("s3cret"),
            "{debug}"
        );
    }
}
