//! Control-drill steps, in the manner of Chaos Toolkit experiments: a steady-state probe, the
//! method (actions), verification probes polled until a deadline, and rollbacks that always run.
//!
//! The built-in control drills (kill switch, handover, content rollback) are assembled from the
//! manifest's `controls`; `controls.experiments` lets the owners add their own from the same parts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::HttpMethod;
use crate::common::Duration;
use crate::scenario::Expectation;

/// A custom control experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    #[schemars(length(min = 1))]
    pub id: String,
    pub title: String,
    /// Claimed time from the start of the method to the verification probes all passing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_within: Option<Duration>,
    /// Probes that must pass before anything is changed; if one fails the method never runs.
    #[serde(default)]
    pub steady_state: Vec<Step>,
    /// What is done to the system.
    #[serde(default)]
    pub method: Vec<Step>,
    /// Probes polled until all pass or the deadline passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
    /// Steps that put the system back. They always run: after a pass, a failure, an error or Ctrl-C.
    #[serde(default)]
    pub rollbacks: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    pub probes: Vec<Step>,
    /// How often to poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<Duration>,
    /// How long to keep polling; defaults to twice the claim (or 60s without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_after: Option<Duration>,
}

/// One step: exactly one provider (`http`, `command`, `converse`) or a named manifest `action`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step is, in words, for the evidence and the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpProbe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandProbe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converse: Option<ConverseProbe>,
    /// One of the manifest's `actions`, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl Step {
    /// How many providers the step names; exactly one is valid.
    pub fn provider_count(&self) -> usize {
        usize::from(self.http.is_some())
            + usize::from(self.command.is_some())
            + usize::from(self.converse.is_some())
            + usize::from(self.action.is_some())
    }

    pub fn provider(&self) -> &'static str {
        if self.http.is_some() {
            "http"
        } else if self.command.is_some() {
            "command"
        } else if self.converse.is_some() {
            "converse"
        } else {
            "action"
        }
    }

    /// The step's name, or a description built from its provider.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match (&self.http, &self.command, &self.converse, &self.action) {
            (Some(h), ..) => format!("{} {}", h.method.as_str(), h.url),
            (_, Some(c), ..) => c.argv.join(" "),
            (_, _, Some(c), _) => format!("converse: {}", c.say.first().map_or("", String::as_str)),
            (_, _, _, Some(a)) => format!("action {a}"),
            _ => "empty step".to_owned(),
        }
    }
}

/// An HTTP request and what its response must show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    #[serde(default = "default_get")]
    pub method: HttpMethod,
    /// Absolute, or relative to the target's base URL; the interlock applies either way.
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Status codes that count as success; any 2xx when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_status: Vec<u16>,
    /// Checks on the JSON response body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<JsonCheck>,
}

fn default_get() -> HttpMethod {
    HttpMethod::Get
}

/// A check on one value of a JSON document, found by JSON pointer (RFC 6901).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonCheck {
    /// e.g. `/status` or `/items/0/state`.
    pub pointer: String,
    /// The value must equal this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
    /// The value (as text) must match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// The value must be present (`true`) or absent (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
}

/// A local process, its exit code and output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandProbe {
    /// Program and arguments; no shell is involved.
    #[schemars(length(min = 1))]
    pub argv: Vec<String>,
    #[serde(default)]
    pub expect_exit: i32,
    /// Standard output must match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_matches: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// A conversation through the target adapter, judged like a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConverseProbe {
    /// The customer's messages, one per turn.
    #[schemars(length(min = 1))]
    pub say: Vec<String>,
    /// The signed-in customer's reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Expectations on the replies, as in a scenario.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// The customer message that makes the agent act, used to probe whether it still does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActingProbe {
    /// A request the agent answers with a tool call when it is working normally.
    #[schemars(length(min = 1))]
    pub say: String,
    /// The signed-in customer's reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
}

/// How a timed control is polled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Polling {
    /// How often to look again; default 1s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<Duration>,
    /// How long to keep measuring past the start; default twice the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_after: Option<Duration>,
}

/// Placeholders a correction notice template may use: the incident's facts.
pub const NOTICE_PLACEHOLDERS: &[&str] = &[
    "customer.name",
    "customer.ref",
    "agent.name",
    "company",
    "incident.date",
    "incident.summary",
    "incident.wrong_advice",
    "incident.correct_position",
    "incident.remedy",
    "contact",
];
