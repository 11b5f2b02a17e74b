//! Outbound notifications from muster's exercise console to collaboration channels: Slack incoming
//! webhooks and Microsoft Teams incoming webhooks (Workflows or the legacy connector), each built
//! to its documented payload.
//!
//! * [`Notification`]: one event of an exercise (an inject released, a decision logged, a severity
//!   change, a communication approved), already worded by the console.
//! * [`slack_payload`] / [`teams_payload`]: the JSON body each service documents (Block Kit for
//!   Slack, an Adaptive Card message for Teams). Pure functions; see [`slack`] and [`teams`].
//! * [`Notifier`]: posts one notification to every configured [`Channel`] at once and reports one
//!   [`Delivery`] per channel, in channel order. One retry on 429 and 5xx, honouring
//!   `Retry-After` up to a small cap; see [`send`].
//! * [`channels_from_env`]: the channels whose webhook URLs are in the environment variables the
//!   console configuration names (`[console.notify]` `slack_webhook_env` / `teams_webhook_env` in
//!   `muster.toml`). See `docs/notifications.md`.
//!
//! **Invariant: a webhook URL is a secret.** It carries the token that lets anyone post to the
//! channel, so it never appears in a `Debug` output, an error, or a log line: errors and logs
//! name the channel instead, and a service's reply is scrubbed of the URL before it is reported.
//! Redirects are not followed. A webhook must be `https`, except on a loopback host (tests).
//!
//! **The console is responsible for redaction.** Every field of a [`Notification`] is posted as
//! given to a third-party service and shown to everyone in the channel; this crate escapes it for
//! the service's markup but does not look for personal data or secrets in it. Word notifications
//! from what the exercise page already shows, never from raw evidence.

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

pub mod send;
pub mod slack;
pub mod teams;

pub use send::Notifier;
pub use slack::slack_payload;
pub use teams::teams_payload;

/// One event of an exercise, as the console words it. Every text field is posted verbatim (after
/// the service's escaping) to a third party: the console must have redacted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub kind: NotificationKind,
    pub exercise_id: String,
    pub exercise_title: String,
    /// One line: what happened ("Inject 3: the outage reaches social media").
    pub headline: String,
    /// Optional body text, a few lines at most.
    pub detail: Option<String>,
    /// Who did it (a facilitator's display name), if anyone.
    pub actor: Option<String>,
    /// The exercise clock when it happened, e.g. `T+00:42`.
    pub exercise_clock: Option<String>,
    /// Absolute `http(s)` URL of the exercise page; anything else is left out of the message.
    pub link: Option<String>,
    /// When it happened (wall clock).
    pub at: jiff::Timestamp,
}

/// What kind of event a [`Notification`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    InjectReleased,
    DecisionLogged,
    SeverityChanged,
    CommsApproved,
}

impl NotificationKind {
    /// A short human label, used as the message's heading.
    pub fn label(&self) -> &'static str {
        match self {
            Self::InjectReleased => "Inject released",
            Self::DecisionLogged => "Decision logged",
            Self::SeverityChanged => "Severity changed",
            Self::CommsApproved => "Comms approved",
        }
    }
}

/// Which service a [`Channel`] posts to, and so which payload it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// A Slack incoming webhook (`https://hooks.slack.com/services/…`).
    Slack,
    /// A Microsoft Teams incoming webhook: a Workflows "When a Teams webhook request is received"
    /// trigger, or a legacy Incoming Webhook connector.
    Teams,
}

impl ChannelKind {
    /// The service's name, for messages.
    pub fn service(&self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Teams => "Teams",
        }
    }
}

/// Where notifications go. `webhook_url` is a secret (it carries the token); the `Debug` output
/// shows `<redacted>` in its place, and errors name the channel by `name`.
#[derive(Clone, PartialEq, Eq)]
pub struct Channel {
    pub kind: ChannelKind,
    /// A name for messages and logs, e.g. `slack` or `#exercise-bridge`.
    pub name: String,
    pub webhook_url: url::Url,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("webhook_url", &format_args!("<redacted>"))
            .finish()
    }
}

/// The outcome of posting one notification to one channel.
#[derive(Debug)]
pub struct Delivery {
    /// The channel's [`Channel::name`].
    pub channel: String,
    /// The HTTP status the service accepted the message with, or why it was not delivered.
    pub outcome: Result<u16, NotifyError>,
}

/// Why notifications could not be configured or delivered. No variant carries a webhook URL or
/// an environment variable's value.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("`{0}` is not a usable environment variable name")]
    EnvName(String),
    #[error("environment variable `{var}` is set but is not a usable webhook URL: {reason}")]
    EnvUrl { var: String, reason: String },
    #[error("channel `{channel}`: the webhook URL is not usable: {reason}")]
    ChannelUrl {
        channel: String,
        reason: &'static str,
    },
    #[error("could not create the HTTP client: {0}")]
    Client(String),
    #[error("channel `{channel}`: no answer from {service} within {after:?}")]
    Timeout {
        channel: String,
        service: &'static str,
        after: Duration,
    },
    #[error("channel `{channel}`: could not reach {service}: {message}")]
    Transport {
        channel: String,
        service: &'static str,
        message: String,
    },
    #[error("channel `{channel}`: {service} refused the message: HTTP {status}{}", body_suffix(.body))]
    Rejected {
        channel: String,
        service: &'static str,
        status: u16,
        /// The service's reply, trimmed, shortened and scrubbed of the webhook URL (Slack answers
        /// e.g. `invalid_payload`, `no_service`, `channel_not_found`, `action_prohibited`).
        body: String,
    },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(" {body}")
    }
}

/// The channels whose webhook URLs are in the named environment variables: `slack_env` for a
/// Slack channel named `slack`, `teams_env` for a Teams channel named `teams` (the variable names
/// come from `[console.notify]` `slack_webhook_env` / `teams_webhook_env` in `muster.toml`).
///
/// A variable that is not named, unset, or empty gives no channel. A variable that is set but not
/// an absolute `https` URL (plain `http` only on a loopback host) is an error naming the
/// variable, never its value.
pub fn channels_from_env(
    slack_env: Option<&str>,
    teams_env: Option<&str>,
) -> Result<Vec<Channel>, NotifyError> {
    channels_from(slack_env, teams_env, |var| std::env::var_os(var))
}

fn channels_from(
    slack_env: Option<&str>,
    teams_env: Option<&str>,
    lookup: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<Channel>, NotifyError> {
    let mut channels = Vec::new();
    for (var, kind, name) in [
        (slack_env, ChannelKind::Slack, "slack"),
        (teams_env, ChannelKind::Teams, "teams"),
    ] {
        let Some(var) = var else { continue };
        if var.is_empty() || var.contains(['=', '\0']) {
            return Err(NotifyError::EnvName(var.to_owned()));
        }
        let Some(value) = lookup(var) else { continue };
        let bad = |reason: &str| NotifyError::EnvUrl {
            var: var.to_owned(),
            reason: reason.to_owned(),
        };
        let value = value.into_string().map_err(|_| bad("it is not UTF-8"))?;
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        // `url::ParseError`'s messages are fixed phrases: they never quote the input.
        let url = url::Url::parse(value).map_err(|e| bad(&e.to_string()))?;
        check_webhook_url(&url).map_err(bad)?;
        channels.push(Channel {
            kind,
            name: name.to_owned(),
            webhook_url: url,
        });
    }
    Ok(channels)
}

/// A webhook URL must be `https` with a host; plain `http` is allowed only to a loopback host.
pub(crate) fn check_webhook_url(url: &url::Url) -> Result<(), &'static str> {
    let loopback = match url.host() {
        None => return Err("it has no host"),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("it must use https (plain http only to a loopback host)"),
        _ => Err("it must be an https URL"),
    }
}

/// The notification's link, if it is an absolute `http(s)` URL.
pub(crate) fn link(n: &Notification) -> Option<url::Url> {
    let url = url::Url::parse(n.link.as_deref()?.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The timestamp as both services show it: `2026-03-12 10:42:07 UTC`.
pub(crate) fn when(n: &Notification) -> String {
    n.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Notification {
        Notification {
            kind: NotificationKind::InjectReleased,
            exercise_id: "ex-2026-03".to_owned(),
            exercise_title: "Larkspur outage <tabletop> & comms".to_owned(),
            headline: "Inject 3: the outage reaches social media".to_owned(),
            detail: Some("Customers report *billing* errors on 555-0100 lines.".to_owned()),
            actor: Some("Dana Facilitator".to_owned()),
            exercise_clock: Some("T+00:42".to_owned()),
            link: Some("https://console.example.com/exercises/ex-2026-03?tab=log&x=1".to_owned()),
            at: "2026-03-12T10:42:07Z"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        }
    }

    pub(crate) fn minimal() -> Notification {
        Notification {
            kind: NotificationKind::DecisionLogged,
            exercise_id: "ex-1".to_owned(),
            exercise_title: "Drill".to_owned(),
            headline: "Decision: pause the agent".to_owned(),
            detail: None,
            actor: None,
            exercise_clock: None,
            link: Some("javascript:alert(1)".to_owned()),
            at: "2026-03-12T10:00:00Z"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        }
    }

    const SECRET: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn debug_never_prints_the_webhook_url() {
        let channel = Channel {
            kind: ChannelKind::Slack,
            name: "slack".to_owned(),
            webhook_url: url::Url::parse(SECRET).unwrap_or_else(|e| panic!("{e}")),
        };
        let debug = format!("{channel:?}");
        assert_eq!(
            debug,
            r#"Channel { kind: Slack, name: "slack", webhook_url: <redacted> }"#
        );
        assert!(!format!("{channel:#?}").contains("XXXXSECRET"));
    }

    #[test]
    fn labels() {
        let labels = [
            NotificationKind::InjectReleased,
            NotificationKind::DecisionLogged,
            NotificationKind::SeverityChanged,
            NotificationKind::CommsApproved,
        ]
        .map(|k| k.label());
        assert_eq!(
            labels,
            [
                "Inject released",
                "Decision logged",
                "Severity changed",
                "Comms approved"
            ]
        );
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn channels_come_from_the_named_variables() {
        let lookup = env(&[
            ("MUSTER_SLACK", SECRET),
            (
                "MUSTER_TEAMS",
                "https://example.webhook.office.com/webhookb2/abc?sig=s3cret",
            ),
        ]);
        let channels = channels_from(Some("MUSTER_SLACK"), Some("MUSTER_TEAMS"), &lookup)
            .unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<_> = channels.iter().map(|c| (c.kind, c.name.as_str())).collect();
        assert_eq!(
            got,
            [(ChannelKind::Slack, "slack"), (ChannelKind::Teams, "teams")]
        );
        assert_eq!(channels[0].webhook_url.as_str(), SECRET);
    }

    #[test]
    fn unset_unnamed_or_empty_variables_give_no_channel() {
        let lookup = env(&[("EMPTY", "  ")]);
        for (slack, teams) in [
            (None, None),
            (Some("UNSET"), None),
            (Some("EMPTY"), Some("UNSET")),
        ] {
            let channels = channels_from(slack, teams, &lookup).unwrap_or_else(|e| panic!("{e}"));
            assert!(channels.is_empty());
        }
    }

    #[test]
    fn a_bad_url_names_the_variable_never_the_value() {
        for (value, reason) in [
            (
                "hooks.slack.com/services/T0/B0/tok3n",
                "relative URL without a base",
            ),
            (
                "http://hooks.slack.com/services/T0/B0/tok3n",
                "must use https",
            ),
            (
                "ftp://hooks.slack.com/services/T0/B0/tok3n",
                "must be an https URL",
            ),
            ("https://[::1/tok3n", "invalid IPv6 address"),
        ] {
            let lookup = env(&[("MUSTER_SLACK", value)]);
            let err = channels_from(Some("MUSTER_SLACK"), None, &lookup)
                .err()
                .unwrap_or_else(|| panic!("{value} was accepted"));
            let message = err.to_string();
            assert!(message.contains("`MUSTER_SLACK`"), "{message}");
            assert!(message.contains(reason), "{message}");
            assert!(!message.contains("tok3n"), "{message}");
        }
    }

    #[test]
    fn loopback_http_is_allowed_for_tests() {
        let lookup = env(&[
            ("T", "http://127.0.0.1:8080/hook"),
            ("S", "http://localhost/x"),
        ]);
        let channels =
            channels_from(Some("S"), Some("T"), &lookup).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(channels.len(), 2);
    }

    #[test]
    fn bad_variable_names_are_refused() {
        let err = channels_from(Some("A=B"), None, env(&[])).err();
        assert!(matches!(err, Some(NotifyError::EnvName(_))));
        let err = channels_from(None, Some(""), env(&[])).err();
        assert!(matches!(err, Some(NotifyError::EnvName(_))));
    }

    #[test]
    fn the_real_environment_is_read() {
        // PATH is set in any test environment and is not a URL.
        let err = channels_from_env(Some("PATH"), None)
            .err()
            .unwrap_or_else(|| panic!("PATH was accepted as a URL"));
        let message = err.to_string();
        assert!(message.contains("`PATH`"), "{message}");
        if let Some(path) = std::env::var_os("PATH").and_then(|p| p.into_string().ok()) {
            assert!(!message.contains(path.trim()), "{message}");
        }
        let none = channels_from_env(Some("MUSTER_NOTIFY_TEST_SURELY_UNSET"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_empty());
    }

    #[test]
    fn links_must_be_absolute_http() {
        assert!(link(&sample()).is_some());
        assert!(link(&minimal()).is_none());
        let mut relative = sample();
        relative.link = Some("/exercises/1".to_owned());
        assert!(link(&relative).is_none());
    }

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
        assert_eq!(shorten("ééé", 2), "é…");
    }
}
