//! Helpdesk and CRM formats, and the handover-queue adapters a control drill polls to check that
//! when the AI agent hands a customer to a person, a ticket really lands in the escalation queue
//! carrying the conversation's context.
//!
//! * Wire types per vendor: [`zendesk`], [`freshdesk`], [`intercom`], [`salesforce`]. They are
//!   lenient (unknown fields ignored, optional fields `Option`, ids as numbers or strings via
//!   [`Scalar`]) but strict about the envelope a look-up depends on, so a body of the wrong shape
//!   is an error and never reads as "no ticket yet". Evidence readers reuse them.
//! * [`HandoverQueue`]: one async trait, one adapter per [`QueueKind`], built from the manifest by
//!   [`queue_from_manifest`]. The caller polls [`HandoverQueue::find_handover`] until its deadline
//!   and measures time-to-queue from the first poll that finds the ticket.
//!
//! **Invariant: an error is never a found ticket.** A look-up answers `Ok(Some(ticket))` only when
//! the helpdesk answered 2xx with a body of the documented shape containing a record whose
//! conversation field equals the conversation id (matched here, not trusted to the helpdesk's
//! filter). `Ok(None)` means "read cleanly, not there yet". A transport error, timeout, non-2xx
//! (401/403 credentials, 429 rate limit, 5xx), unreadable or wrongly shaped body, or a refused
//! webhook delivery is `Err`, which the drill reports as inconclusive.
//!
//! **Invariant:** secrets come only from the environment variables the manifest names and never
//! appear in recorded exchanges or error messages. Redirects are not followed.
//!
//! # What each adapter calls
//!
//! All requests send `Accept: application/json`. `{conversation}` is the agent's conversation id,
//! URL-encoded; `{base}` is the queue's `url`.
//!
//! | kind | request | matched on |
//! | --- | --- | --- |
//! | `zendesk` (default) | `GET {base}/api/v2/tickets.json?external_id={conversation}` (List Tickets, filtered by external id) | `tickets[].external_id` |
//! | `zendesk`, `conversation_field: custom_field:<id>` | `GET {base}/api/v2/search.json?query=type:ticket custom_field_<id>:"{conversation}"` (Search API) | `results[]` with `result_type: ticket` whose `custom_fields[id=<id>].value` equals it |
//! | `reference` | as `zendesk`, with `{base}` = the queue `url` resolved against the target's `base_url`, no credentials | as `zendesk` |
//! | `freshdesk` | `GET {base}/api/v2/search/tickets?query="tag:'{conversation}'"` or `"<name>:'{conversation}'"` for `cf_<name>` (Filter Tickets) | `results[].tags` / `results[].custom_fields.cf_<name>` |
//! | `intercom` (default) | `GET {base}/conversations/{conversation}` with `Intercom-Version` | the conversation itself |
//! | `intercom`, `custom_attribute:<name>` | `POST {base}/conversations/search` `{"query":{"field":"custom_attributes.<name>","operator":"=","value":"{conversation}"}}` | `conversations[].custom_attributes.<name>` |
//! | `salesforce` | `GET {base}/services/data/v{api_version}/query?q=SELECT … FROM Case WHERE <field> = '{conversation}' ORDER BY CreatedDate ASC LIMIT 10` | `records[]` of type `Case` whose `<field>` equals it |
//! | `webhook` | none: muster listens on loopback for the agent's `POST {path}` | the pointer `conversation_id` in the posted JSON |
//!
//! An Intercom conversation counts as handed over when Fin's `ai_agent.resolution_state` is
//! `routed_to_team`, or a team or an admin is assigned (`team_assignee_id`/`admin_assignee_id`).
//!
//! ## What the reference agent serves
//!
//! `kind: reference` is the Zendesk adapter without credentials. With the reference manifest's
//! `queue.url: /admin/handover-queue` and the agent at `http://127.0.0.1:8787`, each poll is
//!
//! ```text
//! GET http://127.0.0.1:8787/admin/handover-queue/api/v2/tickets.json?external_id=<conversation id>
//! Accept: application/json
//! ```
//!
//! answered `200` with `{"tickets": [ticket…]}` (an empty list while there is none), each ticket
//! in Zendesk's shape: `id` (number or string, required), `external_id` (= the conversation id),
//! `created_at` (RFC 3339), `description` (the transcript or summary handed over), `priority`
//! (`urgent|high|normal|low`), `tags` (strings), `group_id` (the queue), `requester_id` (the
//! customer reference), `status`, `subject`. Tickets for other conversations may be included;
//! they are ignored.
//!
//! ## Clock and indexing caveats
//!
//! Zendesk's Search API and Freshdesk's Filter Tickets API index new tickets with a delay of up to
//! a few minutes (both vendors document this); that delay counts against time-to-queue. Prefer
//! Zendesk's default `external_id` look-up, which reads tickets directly.

mod flex;
mod http;
mod webhook;

pub mod freshdesk;
pub mod intercom;
pub mod pull;
pub mod salesforce;
pub mod zendesk;

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use muster_model::agent::{Auth, Queue, QueueKind};
use muster_target::{Exchange, Secrets};
use serde_json::{Value, json};
use url::Url;

pub use flex::{Scalar, html_to_text, parse_timestamp};
pub use webhook::WebhookQueue;

/// What a drill asks the queue: did this conversation land?
#[derive(Clone, Debug, PartialEq)]
pub struct HandoverQuery {
    /// The agent's conversation id, as the drill opened it.
    pub conversation_id: String,
    /// The scenario's customer reference, when it has one; reported back, never used to match.
    pub customer_ref: Option<String>,
    /// When the drill asked for the handover; the caller measures time-to-queue from it. Adapters
    /// do not filter on it: conversation ids are unique, and a helpdesk's clock may be skewed.
    pub since: jiff::Timestamp,
}

/// A ticket found in the escalation queue, reduced to what the handover control judges.
#[derive(Clone, Debug, PartialEq)]
pub struct HandoverTicket {
    pub system: QueueKind,
    /// The helpdesk's id for the ticket (case, conversation).
    pub id: String,
    /// When the helpdesk says it was created (Intercom: when it was assigned).
    pub created_at: Option<jiff::Timestamp>,
    /// The conversation id the ticket carries.
    pub conversation_id: Option<String>,
    pub customer_ref: Option<String>,
    /// The transcript or summary handed to the person, as plain text.
    pub context: Option<String>,
    pub priority: Option<String>,
    pub tags: Vec<String>,
    /// Queue, group, team or owner the ticket sits with.
    pub queue: Option<String>,
    /// The record as the helpdesk sent it.
    pub raw: Value,
}

impl HandoverTicket {
    /// For evidence.
    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system,
            "id": self.id,
            "created_at": self.created_at.map(|t| t.to_string()),
            "conversation_id": self.conversation_id,
            "customer_ref": self.customer_ref,
            "context": self.context,
            "priority": self.priority,
            "tags": self.tags,
            "queue": self.queue,
            "raw": self.raw,
        })
    }
}

/// One poll: what it found, and every exchange it made (also when it failed).
#[derive(Debug)]
pub struct Lookup {
    pub outcome: Result<Option<HandoverTicket>, QueueError>,
    /// The HTTP requests made (or, for a webhook, the deliveries received since the last poll),
    /// with secrets redacted.
    pub exchanges: Vec<Exchange>,
}

impl Lookup {
    /// The poll's result; an error found after the exchange (a body of the wrong shape) is
    /// written onto the last exchange too, so the evidence says why the poll failed.
    pub(crate) fn new(
        outcome: Result<Option<HandoverTicket>, QueueError>,
        mut exchanges: Vec<Exchange>,
    ) -> Self {
        if let (Err(err), Some(last)) = (&outcome, exchanges.last_mut())
            && last.error.is_none()
        {
            last.error = Some(err.to_string());
        }
        Lookup { outcome, exchanges }
    }

    fn failed(err: QueueError, exchanges: Vec<Exchange>) -> Self {
        Lookup::new(Err(err), exchanges)
    }
}

/// An escalation queue muster can look into.
#[async_trait]
pub trait HandoverQueue: Send + Sync {
    /// Looks once. `Ok(None)`: read cleanly, no ticket for this conversation yet.
    async fn find_handover(&self, query: &HandoverQuery) -> Lookup;

    /// One line for people: the helpdesk and where muster looks.
    fn describe(&self) -> String;

    /// Where the agent must send handovers, for receivers muster runs itself (`webhook`).
    fn endpoint(&self) -> Option<Url> {
        None
    }
}

/// Why a look-up, or building a queue, failed. Every variant makes the handover check
/// inconclusive; none is ever read as a found ticket.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum QueueError {
    #[error("the escalation queue is not set up: {0}")]
    Config(String),
    #[error("the queue's credentials come from ${0}, which is not set")]
    MissingSecret(String),
    #[error("{system} did not answer within {timeout:?} ({url})")]
    Timeout {
        system: &'static str,
        url: String,
        timeout: Duration,
    },
    #[error("could not reach {system} at {url}: {reason}")]
    Transport {
        system: &'static str,
        url: String,
        reason: String,
    },
    #[error("{system} refused muster's credentials (HTTP {status}) at {url}: {excerpt}")]
    Unauthorized {
        system: &'static str,
        url: String,
        status: u16,
        excerpt: String,
    },
    #[error("{system} is rate-limiting muster (HTTP 429{}) at {url}: {excerpt}", retry_note(*.retry_after))]
    RateLimited {
        system: &'static str,
        url: String,
        retry_after: Option<Duration>,
        excerpt: String,
    },
    #[error("{system} answered HTTP {status} at {url}: {excerpt}")]
    Status {
        system: &'static str,
        url: String,
        status: u16,
        excerpt: String,
    },
    #[error("{system}'s answer from {url} could not be read: {reason}")]
    Malformed {
        system: &'static str,
        url: String,
        reason: String,
    },
    #[error("the handover receiver at {url} refused a delivery: {reason}")]
    Rejected { url: String, reason: String },
    #[error("could not listen for handovers on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

fn retry_note(after: Option<Duration>) -> String {
    after.map_or(String::new(), |d| format!(", retry after {}s", d.as_secs()))
}

impl QueueError {
    /// The HTTP status the helpdesk answered, when it answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            QueueError::Unauthorized { status, .. } | QueueError::Status { status, .. } => {
                Some(*status)
            }
            QueueError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

/// Default for `queue.timeout`: one look-up, not the whole wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `Intercom-Version`.
pub const DEFAULT_INTERCOM_VERSION: &str = "2.14";
/// Default Salesforce REST API version.
pub const DEFAULT_SALESFORCE_VERSION: &str = "62.0";

/// Builds the adapter the manifest's `escalation.queue` describes. `target_base` is the agent's
/// `target.base_url` (the reference queue lives there); `env` reads environment variables, so
/// tests need not touch the process environment. A `webhook` queue starts listening here, so this
/// must be called inside a Tokio runtime.
pub fn queue_from_manifest(
    queue: &Queue,
    target_base: &Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn HandoverQueue>, QueueError> {
    let timeout = queue.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
    if timeout.is_zero() {
        return Err(QueueError::Config(
            "`timeout` must be more than zero".into(),
        ));
    }
    let kind = queue.kind;
    let unused = |field: &str, set: bool| {
        if set {
            Err(QueueError::Config(format!(
                "`{field}` is not used by a `{}` queue",
                kind_name(kind)
            )))
        } else {
            Ok(())
        }
    };
    unused(
        "webhook",
        queue.webhook.is_some() && kind != QueueKind::Webhook,
    )?;
    unused("user", queue.user.is_some() && kind != QueueKind::Zendesk)?;
    unused(
        "api_version",
        queue.api_version.is_some() && !matches!(kind, QueueKind::Intercom | QueueKind::Salesforce),
    )?;
    let (mut secrets, secret) = resolve_secret(queue, env)?;
    let field = queue.conversation_field.as_deref();
    match kind {
        QueueKind::Reference => {
            if secret.is_some() {
                return Err(QueueError::Config(
                    "the reference queue takes no credentials; remove `auth`".into(),
                ));
            }
            let base = match queue.url.as_deref() {
                Some(url) => target_base.join(url).map_err(|e| {
                    QueueError::Config(format!(
                        "`{url}` does not resolve against `{target_base}`: {e}"
                    ))
                })?,
                None => target_base.clone(),
            };
            let http = http::Http::new(
                "the reference agent's queue",
                timeout,
                secrets,
                vec![],
                vec![],
            )?;
            Ok(Box::new(zendesk::ZendeskQueue::new(
                QueueKind::Reference,
                http,
                base,
                zendesk::ZendeskLookup::parse(field)?,
            )))
        }
        QueueKind::Zendesk => {
            let api = connect(queue, timeout, secrets, secret)?;
            Ok(Box::new(zendesk::ZendeskQueue::new(
                QueueKind::Zendesk,
                api.http,
                api.base,
                zendesk::ZendeskLookup::parse(field)?,
            )))
        }
        QueueKind::Freshdesk => {
            let api = connect(queue, timeout, secrets, secret)?;
            Ok(Box::new(freshdesk::FreshdeskQueue::new(
                api.http,
                api.base,
                freshdesk::FreshdeskLookup::parse(field)?,
            )))
        }
        QueueKind::Intercom => {
            let api = connect(queue, timeout, secrets, secret)?;
            Ok(Box::new(intercom::IntercomQueue::new(
                api.http,
                api.base,
                intercom::IntercomLookup::parse(field)?,
            )))
        }
        QueueKind::Salesforce => {
            let api = connect(queue, timeout, secrets, secret)?;
            Ok(Box::new(salesforce::SalesforceQueue::new(
                api.http,
                api.base,
                &api.version,
                field,
            )?))
        }
        QueueKind::Webhook => {
            unused("conversation_field", field.is_some())?;
            let settings = queue
                .webhook
                .clone()
                .unwrap_or(muster_model::agent::WebhookReceiver {
                    listen: None,
                    path: None,
                    conversation_id: None,
                    id: None,
                    customer_ref: None,
                    context: None,
                    priority: None,
                    tags: None,
                    queue: None,
                    secret: None,
                });
            let shared = match &settings.secret {
                Some(auth) => {
                    let value = env(&auth.env)
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| QueueError::MissingSecret(auth.env.clone()))?;
                    secrets.add(&value);
                    Some((auth.header.clone(), with_scheme(&auth.scheme, &value)))
                }
                None => None,
            };
            Ok(Box::new(WebhookQueue::start(&settings, shared, secrets)?))
        }
    }
}

/// The queue's secret, read from the environment variable its `auth` names, and a redactor
/// that knows it.
fn resolve_secret(
    queue: &Queue,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Secrets, Option<(Auth, String)>), QueueError> {
    let mut secrets = Secrets::default();
    let secret = match &queue.auth {
        Some(auth) => {
            let value = env(&auth.env).filter(|v| !v.is_empty());
            let value = value.ok_or_else(|| QueueError::MissingSecret(auth.env.clone()))?;
            secrets.add(&value);
            Some((auth.clone(), value))
        }
        None => None,
    };
    Ok((secrets, secret))
}

/// An authenticated client for a helpdesk vendor's API, and where the API is.
pub(crate) struct Api {
    pub(crate) http: http::Http,
    pub(crate) base: Url,
    /// Intercom's `Intercom-Version` or Salesforce's REST version; empty for the others.
    pub(crate) version: String,
}

/// The vendor API client a `zendesk`, `freshdesk`, `intercom` or `salesforce` queue describes:
/// its base URL and its credentials in the vendor's documented scheme. Shared by the handover
/// look-ups and `muster ingest --from`.
pub(crate) fn connect(
    queue: &Queue,
    timeout: Duration,
    mut secrets: Secrets,
    secret: Option<(Auth, String)>,
) -> Result<Api, QueueError> {
    let kind = queue.kind;
    let needs_secret = |what: &str| {
        secret.clone().ok_or_else(|| {
            QueueError::Config(format!(
                "a `{}` queue needs `auth` naming the environment variable that holds {what}",
                kind_name(kind)
            ))
        })
    };
    let (http, base, version) = match kind {
        QueueKind::Zendesk => {
            let base = absolute_url(queue.url.as_deref(), None, kind)?;
            let (auth, token) = needs_secret("an API token or OAuth access token")?;
            let header = match &queue.user {
                Some(user) => {
                    let plain = format!("{user}/token:{token}");
                    let encoded = base64::engine::general_purpose::STANDARD.encode(&plain);
                    secrets.add(&plain);
                    secrets.add(&encoded);
                    ("Authorization".to_owned(), format!("Basic {encoded}"))
                }
                None => (auth.header.clone(), with_scheme(&auth.scheme, &token)),
            };
            let http = http::Http::new("Zendesk", timeout, secrets, vec![header], vec![])?;
            (http, base, String::new())
        }
        QueueKind::Freshdesk => {
            let base = absolute_url(queue.url.as_deref(), None, kind)?;
            let (_, key) = needs_secret("the API key")?;
            // Freshdesk's documented scheme: the API key as user name, `X` as password.
            let plain = format!("{key}:X");
            let encoded = base64::engine::general_purpose::STANDARD.encode(&plain);
            secrets.add(&encoded);
            let header = ("Authorization".to_owned(), format!("Basic {encoded}"));
            let http = http::Http::new("Freshdesk", timeout, secrets, vec![header], vec![])?;
            (http, base, String::new())
        }
        QueueKind::Intercom => {
            let base = absolute_url(queue.url.as_deref(), Some(intercom::API_BASE), kind)?;
            let (auth, token) = needs_secret("an access token")?;
            let version = queue
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_INTERCOM_VERSION.to_owned());
            let header = (auth.header.clone(), with_scheme(&auth.scheme, &token));
            let http = http::Http::new(
                "Intercom",
                timeout,
                secrets,
                vec![header],
                vec![("Intercom-Version".to_owned(), version.clone())],
            )?;
            (http, base, version)
        }
        QueueKind::Salesforce => {
            let base = absolute_url(queue.url.as_deref(), None, kind)?;
            let (auth, token) = needs_secret("an OAuth access token")?;
            let version = queue
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_SALESFORCE_VERSION.to_owned());
            let header = (auth.header.clone(), with_scheme(&auth.scheme, &token));
            let http = http::Http::new("Salesforce", timeout, secrets, vec![header], vec![])?;
            (http, base, version)
        }
        QueueKind::Reference | QueueKind::Webhook => {
            return Err(QueueError::Config(format!(
                "a `{}` queue has no vendor API",
                kind_name(kind)
            )));
        }
    };
    Ok(Api {
        http,
        base,
        version,
    })
}

fn kind_name(kind: QueueKind) -> &'static str {
    match kind {
        QueueKind::Reference => "reference",
        QueueKind::Zendesk => "zendesk",
        QueueKind::Freshdesk => "freshdesk",
        QueueKind::Intercom => "intercom",
        QueueKind::Salesforce => "salesforce",
        QueueKind::Webhook => "webhook",
    }
}

fn with_scheme(scheme: &str, secret: &str) -> String {
    if scheme.is_empty() {
        secret.to_owned()
    } else {
        format!("{scheme} {secret}")
    }
}

fn absolute_url(
    url: Option<&str>,
    default: Option<&str>,
    kind: QueueKind,
) -> Result<Url, QueueError> {
    let name = kind_name(kind);
    let text = url.or(default).ok_or_else(|| {
        QueueError::Config(format!(
            "a `{name}` queue needs `url`, the helpdesk's API base URL"
        ))
    })?;
    let url = Url::parse(text).map_err(|e| {
        QueueError::Config(format!(
            "`{text}` is not an absolute URL for the `{name}` queue: {e}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(QueueError::Config(format!(
            "`{text}` is not an http(s) URL with a host"
        )));
    }
    // A URL is printed in evidence and errors; credentials in it would be too.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(QueueError::Config(format!(
            "the `{name}` queue's `url` carries credentials; put them in an environment variable named by `auth`"
        )));
    }
    Ok(url)
}

/// Takes the first record a vendor adapter matched, or says why the body was unusable.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    system: &'static str,
    url: &str,
    value: Value,
    expected: &str,
) -> Result<T, QueueError> {
    serde_json::from_value(value).map_err(|e| QueueError::Malformed {
        system,
        url: url.to_owned(),
        reason: format!("expected {expected}: {e}"),
    })
}
