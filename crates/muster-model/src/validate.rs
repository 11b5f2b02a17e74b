//! Checks that need the typed model: cross-references, patterns, placeholders, URLs. Each problem is
//! located through the [`SpanIndex`] built while parsing.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use crate::agent::{
    Action, AdapterKind, AgentManifest, BedrockConverseTarget, HttpRequest, Queue, QueueKind,
    Target,
};
use crate::common::FieldPath;
use crate::controls::{ControlMap, split_key};
use crate::diag::{Diagnostic, nearest};
use crate::scenario::{Expectation, Scenario};
use crate::template::{placeholders, placeholders_in};
use crate::tree::{SpanIndex, escape_pointer_token};

/// Collects located problems for one file.
pub(crate) struct Problems<'a> {
    spans: &'a SpanIndex,
    pub(crate) out: Vec<Diagnostic>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(spans: &'a SpanIndex) -> Self {
        Self {
            spans,
            out: Vec::new(),
        }
    }

    fn push(&mut self, mut d: Diagnostic, pointer: &str, at_key: bool, hint: Option<String>) {
        let span = if at_key {
            self.spans.key_or_value_span(pointer)
        } else {
            self.spans.value_span(pointer)
        };
        d = d.with_pointer(pointer).at_opt(span);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.out.push(d);
    }

    fn error(
        &mut self,
        pointer: &str,
        code: &'static str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(Diagnostic::error(code, message), pointer, false, hint);
    }

    fn error_at_key(
        &mut self,
        pointer: &str,
        code: &'static str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(Diagnostic::error(code, message), pointer, true, hint);
    }

    fn warning(
        &mut self,
        pointer: &str,
        code: &'static str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(Diagnostic::warning(code, message), pointer, false, hint);
    }

    /// The manifest names an adapter but not its settings block.
    fn missing_adapter_block(&mut self, adapter: &str, block: &str, needs: &str) {
        self.error_at_key(
            "/target/adapter",
            "missing-adapter-settings",
            format!("`adapter: {adapter}` needs a `target.{block}` block"),
            Some(format!("add `{block}:` with {needs}")),
        );
    }

    /// A settings block that only one adapter reads, under another adapter.
    fn unused_adapter_block(&mut self, block: &str, adapter: &str) {
        self.error(
            &format!("/target/{block}"),
            "unused-settings",
            format!("`{block}` settings need `adapter: {adapter}`"),
            Some(format!("set `adapter: {adapter}` or remove the block")),
        );
    }

    /// Each optional field path under `base`, checked.
    fn field_paths(&mut self, base: &str, paths: [(&str, &Option<FieldPath>); 4]) {
        for (key, path) in paths {
            if let Some(path) = path {
                self.field_path(&format!("{base}/{key}"), path);
            }
        }
    }

    fn field_path(&mut self, pointer: &str, path: &FieldPath) {
        if let Err(msg) = path.validate() {
            self.error(pointer, "invalid-field-path", msg, None);
        }
    }

    fn placeholders(&mut self, pointer: &str, value: &Value, allowed: &[&str], context: &str) {
        let mut found = Vec::new();
        placeholders_in(value, pointer, &mut found);
        for (at, name) in found {
            if !allowed.contains(&name.as_str()) {
                let hint = match nearest(&name, allowed.iter().copied()) {
                    Some(best) => format!("did you mean `{{{{{best}}}}}`?"),
                    None => format!(
                        "{context} may use: {}",
                        allowed
                            .iter()
                            .map(|a| format!("{{{{{a}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.error(
                    &at,
                    "unknown-placeholder",
                    format!("unknown placeholder `{{{{{name}}}}}`"),
                    Some(hint),
                );
            }
        }
    }

    fn unique<'i>(&mut self, base: &str, ids: impl Iterator<Item = &'i str>, what: &str) {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            if !seen.insert(id) {
                self.error(
                    &format!("{base}/{i}"),
                    "duplicate-id",
                    format!("{what} `{id}` is declared twice"),
                    Some("ids must be unique".to_owned()),
                );
            }
        }
    }
}

/// Placeholders a request to the agent may use.
pub const SEND_PLACEHOLDERS: &[&str] = &[
    "message",
    "session_id",
    "turn",
    "customer.ref",
    "customer.name",
    "customer.email",
    "customer.phone",
    "customer.postcode",
    "customer.date_of_birth",
    "scenario.id",
    "drill.id",
];
/// Placeholders the session-opening request may use.
pub const OPEN_PLACEHOLDERS: &[&str] = &[
    "customer.ref",
    "customer.name",
    "customer.email",
    "customer.phone",
    "customer.postcode",
    "customer.date_of_birth",
    "scenario.id",
    "drill.id",
];

pub(crate) fn check_agent(manifest: &AgentManifest, p: &mut Problems<'_>) {
    if manifest.kind != "agent" {
        p.error(
            "/kind",
            "wrong-kind",
            format!(
                "this is parsed as an agent manifest but says `kind: {}`",
                manifest.kind
            ),
            None,
        );
    }
    check_hosts(manifest, p);
    let target = &manifest.target;
    if let Some(observe) = &target.observe {
        check_listen(
            p,
            "/target/observe/traces/listen",
            &observe.traces.listen,
            ("observe-not-loopback", "observe-listen"),
        );
    }
    match url::Url::parse(&target.base_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            let host = url.host_str().unwrap_or_default();
            let port = url.port_or_known_default();
            if !host_allowed(&manifest.hosts, host, port) {
                p.error(
                    "/target/base_url",
                    "host-not-declared",
                    format!("`{host}` is not among the manifest's `hosts`"),
                    Some("add it to `hosts` if it is a pre-production host; drills send nothing elsewhere".to_owned()),
                );
            }
        }
        Ok(_) => p.error(
            "/target/base_url",
            "invalid-url",
            "the base URL must be http:// or https:// with a host",
            None,
        ),
        Err(e) => p.error(
            "/target/base_url",
            "invalid-url",
            format!("not a URL: {e}"),
            Some("e.g. http://127.0.0.1:8787".to_owned()),
        ),
    }

    match target.adapter {
        AdapterKind::HttpJson => match &target.http_json {
            None => p.missing_adapter_block("http-json", "http_json", "`send` and `reply`"),
            Some(h) => {
                if let Some(open) = &h.open_session {
                    check_request(
                        p,
                        "/target/http_json/open_session/request",
                        &open.request,
                        OPEN_PLACEHOLDERS,
                        "the session-opening request",
                    );
                    p.field_path(
                        "/target/http_json/open_session/conversation_id",
                        &open.conversation_id,
                    );
                }
                let mut allowed: Vec<&str> = SEND_PLACEHOLDERS.to_vec();
                if h.open_session.is_none() {
                    allowed.retain(|n| *n != "session_id");
                    allowed.push("session_id");
                }
                check_request(
                    p,
                    "/target/http_json/send",
                    &h.send,
                    &allowed,
                    "the send request",
                );
                let r = &h.reply;
                p.field_path("/target/http_json/reply/text", &r.text);
                if let Some(t) = &r.tool_calls {
                    p.field_path("/target/http_json/reply/tool_calls/at", &t.at);
                    p.field_path("/target/http_json/reply/tool_calls/name", &t.name);
                    p.field_path("/target/http_json/reply/tool_calls/arguments", &t.arguments);
                    if let Some(res) = &t.result {
                        p.field_path("/target/http_json/reply/tool_calls/result", res);
                    }
                }
                for (key, path) in [
                    ("handover", &r.handover),
                    ("confidence", &r.confidence),
                    ("content_version", &r.content_version),
                ] {
                    if let Some(path) = path {
                        p.field_path(&format!("/target/http_json/reply/{key}"), path);
                    }
                }
            }
        },
        AdapterKind::OpenaiChat => match &target.openai_chat {
            None => p.missing_adapter_block("openai-chat", "openai_chat", "at least `model`"),
            Some(o) => p.field_paths(
                "/target/openai_chat",
                [
                    ("tool_results", &o.tool_results),
                    ("handover", &o.handover),
                    ("confidence", &o.confidence),
                    ("content_version", &o.content_version),
                ],
            ),
        },
        AdapterKind::OpenaiResponses => match &target.openai_responses {
            None => {
                p.missing_adapter_block("openai-responses", "openai_responses", "at least `model`");
            }
            Some(o) => p.field_paths(
                "/target/openai_responses",
                [
                    ("tool_results", &o.tool_results),
                    ("handover", &o.handover),
                    ("confidence", &o.confidence),
                    ("content_version", &o.content_version),
                ],
            ),
        },
        AdapterKind::AnthropicMessages => match &target.anthropic_messages {
            None => p.missing_adapter_block(
                "anthropic-messages",
                "anthropic_messages",
                "at least `model`",
            ),
            Some(a) => p.field_paths(
                "/target/anthropic_messages",
                [
                    ("tool_results", &a.tool_results),
                    ("handover", &a.handover),
                    ("confidence", &a.confidence),
                    ("content_version", &a.content_version),
                ],
            ),
        },
        AdapterKind::Command => match &target.command {
            None => p.missing_adapter_block("command", "command", "`argv` and a `reply` mapping"),
            Some(c) => {
                if c.argv.first().is_none_or(|a| a.trim().is_empty()) {
                    p.error(
                        "/target/command/argv",
                        "invalid-value",
                        "`argv` must start with the program to run",
                        None,
                    );
                }
                p.field_path("/target/command/reply/text", &c.reply.text);
            }
        },
        AdapterKind::BedrockConverse => match &target.bedrock_converse {
            None => p.missing_adapter_block(
                "bedrock-converse",
                "bedrock_converse",
                "at least `model_id`",
            ),
            Some(b) => check_bedrock(p, b, &target.base_url, target.auth.is_some()),
        },
        AdapterKind::OpenaiModel => match &target.openai_model {
            None => p.missing_adapter_block("openai-model", "openai_model", "at least `model`"),
            Some(o) => {
                if let Some(prompt) = &o.system_prompt {
                    p.placeholders(
                        "/target/openai_model/system_prompt",
                        &Value::String(prompt.clone()),
                        CUSTOMER_PLACEHOLDERS,
                        "the system prompt",
                    );
                }
            }
        },
    }
    if let Some(o) = &target.openai_model
        && o.system_prompt.is_some()
        && o.system_prompt_file.is_some()
    {
        p.error_at_key(
            "/target/openai_model/system_prompt_file",
            "conflicting-keys",
            "give the system prompt inline (`system_prompt`) or in a file (`system_prompt_file`), not both",
            None,
        );
    }
    if target.adapter != AdapterKind::OpenaiModel && target.openai_model.is_some() {
        p.unused_adapter_block("openai_model", "openai-model");
    }
    check_models(manifest, p);
    if target.adapter != AdapterKind::Command && target.command.is_some() {
        p.unused_adapter_block("command", "command");
    }
    if target.adapter != AdapterKind::BedrockConverse && target.bedrock_converse.is_some() {
        // An error rather than the other adapters' warning: the block names AWS credentials and a
        // model, and a manifest that carries it but drills another adapter is almost surely wrong.
        p.unused_adapter_block("bedrock_converse", "bedrock-converse");
    }
    check_azure(target, p);
    if target.adapter != AdapterKind::HttpJson && target.http_json.is_some() {
        p.warning(
            "/target/http_json",
            "unused-settings",
            "`http_json` settings are ignored with this adapter",
            None,
        );
    }
    if target.adapter != AdapterKind::OpenaiChat && target.openai_chat.is_some() {
        p.warning(
            "/target/openai_chat",
            "unused-settings",
            "`openai_chat` settings are ignored with this adapter",
            None,
        );
    }
    // An error, not a warning: a Responses block under another adapter means the drill would
    // talk to the agent in a way its owners did not intend.
    if target.adapter != AdapterKind::OpenaiResponses && target.openai_responses.is_some() {
        p.error_at_key(
            "/target/openai_responses",
            "unused-settings",
            format!(
                "`openai_responses` settings need `adapter: openai-responses`, not `{}`",
                target.adapter.as_str()
            ),
            None,
        );
    }
    if target.adapter != AdapterKind::AnthropicMessages && target.anthropic_messages.is_some() {
        p.warning(
            "/target/anthropic_messages",
            "unused-settings",
            "`anthropic_messages` settings are ignored with this adapter",
            None,
        );
    }
    if target.timeout.0.is_zero() {
        p.error(
            "/target/timeout",
            "invalid-value",
            "a zero timeout would make every turn inconclusive",
            None,
        );
    }

    p.unique(
        "/tools",
        manifest.tools.iter().map(|t| t.name.as_str()),
        "tool",
    );
    p.unique(
        "/decisions",
        manifest.decisions.iter().map(|d| d.id.as_str()),
        "decision",
    );
    p.unique(
        "/policies",
        manifest.policies.iter().map(|d| d.id.as_str()),
        "policy",
    );
    p.unique(
        "/data_sources",
        manifest.data_sources.iter().map(|d| d.id.as_str()),
        "data source",
    );
    p.unique(
        "/logs",
        manifest.logs.iter().map(|d| d.id.as_str()),
        "log source",
    );
    p.unique(
        "/shutdown_criteria",
        manifest.shutdown_criteria.iter().map(|d| d.id.as_str()),
        "shutdown criterion",
    );

    let tool_names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    if let Some(tool) = manifest.escalation.as_ref().and_then(|e| e.tool.as_deref())
        && !tool_names.contains(&tool)
    {
        p.error(
            "/escalation/tool",
            "unknown-tool",
            format!("`{tool}` is not one of the manifest's `tools`"),
            suggestion(tool, &tool_names),
        );
    }

    if let Some(queue) = manifest.escalation.as_ref().and_then(|e| e.queue.as_ref()) {
        check_queue(queue, p);
    }

    let action_names: Vec<&str> = manifest.actions.keys().map(String::as_str).collect();
    let action_ref = |p: &mut Problems<'_>, pointer: &str, name: &str| {
        if !manifest.actions.contains_key(name) {
            p.error(
                pointer,
                "unknown-action",
                format!("`{name}` is not one of the manifest's `actions`"),
                suggestion(name, &action_names),
            );
        }
    };
    if let Some(k) = &manifest.controls.kill_switch {
        action_ref(p, "/controls/kill_switch/action", &k.action);
        action_ref(p, "/controls/kill_switch/resume", &k.resume);
    }
    if let Some(r) = &manifest.controls.content_rollback {
        action_ref(p, "/controls/content_rollback/action", &r.action);
        if let Some(restore) = &r.restore {
            action_ref(p, "/controls/content_rollback/restore", restore);
        }
    }
    check_controls(manifest, p, &action_ref);
    for (name, action) in &manifest.actions {
        let base = format!("/actions/{}", escape_pointer_token(name));
        check_action(p, &base, action, &["version", "drill.id"], "an action");
    }
    for (name, fixture) in &manifest.fixtures {
        let base = format!("/fixtures/{}", escape_pointer_token(name));
        let mut plant_vars: Vec<&str> = fixture.params.iter().map(String::as_str).collect();
        plant_vars.extend(["canary", "drill.id", "scenario.id", "customer.ref"]);
        check_action(
            p,
            &format!("{base}/plant"),
            &fixture.plant,
            &plant_vars,
            "a fixture's plant action",
        );
        let mut remove_vars = plant_vars.clone();
        remove_vars.push("fixture_id");
        check_action(
            p,
            &format!("{base}/remove"),
            &fixture.remove,
            &remove_vars,
            "a fixture's remove action",
        );
        if let Some(path) = &fixture.id_at {
            p.field_path(&format!("{base}/id_at"), path);
        }
    }

    if let Some(pattern) = &manifest.identifiers.customer_ref
        && let Err(e) = regex::Regex::new(pattern)
    {
        p.error(
            "/identifiers/customer_ref",
            "invalid-regex",
            format!(
                "not a valid regular expression: {}",
                first_line(&e.to_string())
            ),
            None,
        );
    }
    for (i, public) in manifest.identifiers.public.iter().enumerate() {
        if public.trim().is_empty() {
            p.error(
                &format!("/identifiers/public/{i}"),
                "empty-public-identifier",
                "an empty public identifier matches nothing",
                Some(
                    "give the helpline number or address as customers see it, or remove the entry"
                        .to_owned(),
                ),
            );
        }
    }
    for (name, pattern) in &manifest.identifiers.other {
        if let Err(e) = regex::Regex::new(pattern) {
            p.error(
                &format!("/identifiers/other/{}", escape_pointer_token(name)),
                "invalid-regex",
                format!(
                    "not a valid regular expression: {}",
                    first_line(&e.to_string())
                ),
                None,
            );
        }
    }
}

/// The control drills' own parts: patterns, fixtures, steps.
fn check_controls(
    manifest: &AgentManifest,
    p: &mut Problems<'_>,
    action_ref: &dyn Fn(&mut Problems<'_>, &str, &str),
) {
    let c = &manifest.controls;
    if let Some(k) = &c.kill_switch {
        if let Some(pattern) = &k.fallback {
            check_regex(p, "/controls/kill_switch/fallback", pattern);
        }
        if k.probe.say.trim().is_empty() {
            p.error(
                "/controls/kill_switch/probe/say",
                "empty-text",
                "the probe must say something the working agent acts on",
                None,
            );
        }
    }
    if let Some(r) = &c.content_rollback {
        // Control checks poll until a deadline; a judge model per poll is not run, so a graded
        // expectation there could never be decided.
        for (key, list) in [
            ("expect_before", &r.expect_before),
            ("expect_after", &r.expect_after),
        ] {
            for (i, e) in list.iter().enumerate() {
                if matches!(e, Expectation::Graded(_)) {
                    p.error_at_key(
                        &format!("/controls/content_rollback/{key}/{i}/graded"),
                        "graded-in-control",
                        "`graded` expectations are for scenarios; a control check is judged without a model",
                        Some("use `must_say` or `must_not_say` here".to_owned()),
                    );
                }
            }
        }
        let fixture_names: Vec<&str> = manifest.fixtures.keys().map(String::as_str).collect();
        for (i, step) in r.setup.iter().enumerate() {
            if !manifest.fixtures.contains_key(&step.fixture) {
                p.error(
                    &format!("/controls/content_rollback/setup/{i}/fixture"),
                    "unknown-fixture",
                    format!("`{}` is not one of the manifest's `fixtures`", step.fixture),
                    suggestion(&step.fixture, &fixture_names),
                );
            }
        }
    }
    if let Some(comms) = &c.comms_approval
        && let Some(template) = &comms.template
    {
        p.placeholders(
            "/controls/comms_approval/template",
            &serde_json::Value::String(template.clone()),
            crate::experiment::NOTICE_PLACEHOLDERS,
            "a correction notice",
        );
    }
    let mut seen = BTreeSet::new();
    for (e, experiment) in c.experiments.iter().enumerate() {
        let base = format!("/controls/experiments/{e}");
        if !seen.insert(experiment.id.as_str()) {
            p.error(
                &format!("{base}/id"),
                "duplicate-id",
                format!("another experiment is already called `{}`", experiment.id),
                None,
            );
        }
        if experiment.method.is_empty() && experiment.verify.is_none() {
            p.error_at_key(
                &base,
                "empty-experiment",
                "an experiment needs a `method` or `verify` probes",
                None,
            );
        }
        let groups = [
            ("steady_state", experiment.steady_state.as_slice()),
            ("method", experiment.method.as_slice()),
            (
                "verify/probes",
                experiment
                    .verify
                    .as_ref()
                    .map_or(&[][..], |v| v.probes.as_slice()),
            ),
            ("rollbacks", experiment.rollbacks.as_slice()),
        ];
        for (group, steps) in groups {
            for (i, step) in steps.iter().enumerate() {
                let at = format!("{base}/{group}/{i}");
                if step.provider_count() != 1 {
                    p.error_at_key(
                        &at,
                        "one-provider",
                        format!(
                            "a step needs exactly one of `http`, `command`, `converse` or `action`; this one has {}",
                            step.provider_count()
                        ),
                        None,
                    );
                }
                if let Some(name) = &step.action {
                    action_ref(p, &format!("{at}/action"), name);
                }
                if let Some(h) = &step.http {
                    for (j, check) in h.checks.iter().enumerate() {
                        let cat = format!("{at}/http/checks/{j}");
                        if !check.pointer.is_empty() && !check.pointer.starts_with('/') {
                            p.error(
                                &format!("{cat}/pointer"),
                                "invalid-pointer",
                                "a JSON pointer must be empty or start with `/`",
                                Some(format!("write `/{}`", check.pointer)),
                            );
                        }
                        if let Some(pattern) = &check.matches {
                            check_regex(p, &format!("{cat}/matches"), pattern);
                        }
                    }
                }
                if let Some(cmd) = &step.command
                    && let Some(pattern) = &cmd.stdout_matches
                {
                    check_regex(p, &format!("{at}/command/stdout_matches"), pattern);
                }
            }
        }
    }
}

fn check_regex(p: &mut Problems<'_>, pointer: &str, pattern: &str) {
    if let Err(e) = regex::Regex::new(pattern) {
        p.error(
            pointer,
            "invalid-regex",
            format!(
                "not a valid regular expression: {}",
                first_line(&e.to_string())
            ),
            None,
        );
    }
}

/// The `bedrock_converse` block: what would make every request fail, said before any is sent.
fn check_bedrock(p: &mut Problems<'_>, b: &BedrockConverseTarget, base_url: &str, has_auth: bool) {
    if b.model_id.trim().is_empty() || b.model_id.chars().any(char::is_whitespace) {
        p.error(
            "/target/bedrock_converse/model_id",
            "invalid-value",
            "the model id must be non-empty and contain no spaces",
            Some("e.g. anthropic.claude-3-haiku-20240307-v1:0".to_owned()),
        );
    }
    if let Some(region) = &b.region
        && (region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        p.error(
            "/target/bedrock_converse/region",
            "invalid-value",
            format!("`{region}` is not an AWS region name"),
            Some("e.g. eu-west-2".to_owned()),
        );
    }
    if !b.path.contains("{model_id}") {
        p.warning(
            "/target/bedrock_converse/path",
            "missing-placeholder",
            "the Converse path does not contain `{model_id}`, so the model id is not sent",
            Some("the default is /model/{model_id}/converse".to_owned()),
        );
    }
    if let Some(config) = &b.inference_config
        && !config.is_object()
    {
        p.error(
            "/target/bedrock_converse/inference_config",
            "invalid-value",
            "`inference_config` must be a mapping (maxTokens, temperature, topP, stopSequences)",
            None,
        );
    }
    // Requests signed for one region and sent to another region's endpoint are all refused by AWS
    // (the signature does not match): say so before the drill rather than after every turn fails.
    if let (Some(region), Ok(url)) = (&b.region, url::Url::parse(base_url))
        && let Some(endpoint_region) = url
            .host_str()
            .and_then(|h| h.strip_prefix("bedrock-runtime."))
            .and_then(|h| h.split('.').next())
        && endpoint_region != region
    {
        p.error(
            "/target/bedrock_converse/region",
            "region-mismatch",
            format!(
                "requests would be signed for `{region}` but sent to the `{endpoint_region}` endpoint"
            ),
            Some(format!("use region `{endpoint_region}` or that region's base_url")),
        );
    }
    if has_auth {
        p.warning(
            "/target/auth",
            "unused-settings",
            "`auth` is not used with `adapter: bedrock-converse`: requests are signed with the AWS_* credentials",
            None,
        );
    }
}

fn check_request(
    p: &mut Problems<'_>,
    base: &str,
    req: &HttpRequest,
    allowed: &[&str],
    context: &str,
) {
    p.placeholders(
        &format!("{base}/url"),
        &Value::String(req.url.clone()),
        allowed,
        context,
    );
    for (name, value) in &req.headers {
        p.placeholders(
            &format!("{base}/headers/{}", escape_pointer_token(name)),
            &Value::String(value.clone()),
            allowed,
            context,
        );
    }
    if let Some(body) = &req.body {
        p.placeholders(&format!("{base}/body"), body, allowed, context);
    }
}

fn check_action(
    p: &mut Problems<'_>,
    base: &str,
    action: &Action,
    allowed: &[&str],
    context: &str,
) {
    match action {
        Action::Http(h) => {
            p.placeholders(
                &format!("{base}/http/url"),
                &Value::String(h.url.clone()),
                allowed,
                context,
            );
            for (name, value) in &h.headers {
                p.placeholders(
                    &format!("{base}/http/headers/{}", escape_pointer_token(name)),
                    &Value::String(value.clone()),
                    allowed,
                    context,
                );
            }
            if let Some(body) = &h.body {
                p.placeholders(&format!("{base}/http/body"), body, allowed, context);
            }
            for (i, status) in h.expect_status.iter().enumerate() {
                if !(100..=599).contains(status) {
                    p.error(
                        &format!("{base}/http/expect_status/{i}"),
                        "invalid-value",
                        format!("{status} is not an HTTP status"),
                        None,
                    );
                }
            }
        }
        Action::Command(c) => {
            for (i, arg) in c.argv.iter().enumerate() {
                p.placeholders(
                    &format!("{base}/command/argv/{i}"),
                    &Value::String(arg.clone()),
                    allowed,
                    context,
                );
            }
        }
    }
}

/// Placeholders a text may use that is filled per conversation from the signed-in customer.
const CUSTOMER_PLACEHOLDERS: &[&str] = &[
    "customer.ref",
    "customer.name",
    "customer.email",
    "customer.phone",
    "customer.postcode",
    "customer.date_of_birth",
];

/// `models.customer` and `models.judge`: an absolute URL must be http(s) on a declared host, as
/// the interlock will insist when the drill starts.
fn check_models(manifest: &AgentManifest, p: &mut Problems<'_>) {
    for (key, endpoint) in [
        ("customer", &manifest.models.customer),
        ("judge", &manifest.models.judge),
    ] {
        let Some(endpoint) = endpoint else { continue };
        if !endpoint.url.contains("://") {
            continue;
        }
        let pointer = format!("/models/{key}/url");
        match url::Url::parse(&endpoint.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                let host = url.host_str().unwrap_or_default();
                if !host_allowed(&manifest.hosts, host, url.port_or_known_default()) {
                    p.error(
                        &pointer,
                        "host-not-declared",
                        format!("`{host}` is not among the manifest's `hosts`"),
                        Some("add it to `hosts`: muster sends nothing to undeclared hosts, its own models included".to_owned()),
                    );
                }
            }
            _ => p.error(
                &pointer,
                "invalid-url",
                "the URL must be http:// or https:// with a host, or a path",
                None,
            ),
        }
    }
}

fn check_hosts(manifest: &AgentManifest, p: &mut Problems<'_>) {
    for (i, host) in manifest.hosts.iter().enumerate() {
        if parse_host_rule(host).is_none() {
            p.error(
                &format!("/hosts/{i}"),
                "invalid-host",
                format!("`{host}` is not a host"),
                Some("write a host name or address, optionally with :port, or *.domain — no scheme or path".to_owned()),
            );
        }
    }
}

/// A host rule: (host or `*.suffix`, optional port).
/// The queue settings each helpdesk needs, checked before a drill rather than at its first
/// look-up. `muster-helpdesk` applies the same rules when it builds the adapter.
fn check_queue(queue: &Queue, p: &mut Problems<'_>) {
    const AT: &str = "/escalation/queue";
    let kind = queue.kind;
    let named = match kind {
        QueueKind::Reference => "reference",
        QueueKind::Zendesk => "zendesk",
        QueueKind::Freshdesk => "freshdesk",
        QueueKind::Intercom => "intercom",
        QueueKind::Salesforce => "salesforce",
        QueueKind::Webhook => "webhook",
    };
    let not_for = |p: &mut Problems<'_>, field: &str, used_by: &str| {
        p.error_at_key(
            &format!("{AT}/{field}"),
            "queue-field-unused",
            format!("`{field}` is not used by a `{named}` queue"),
            Some(format!("`{field}` is read by {used_by}")),
        );
    };
    // Incomplete connection settings are warnings: a queue may be declared for the governance
    // control alone, and the handover drill reports a queue it cannot read as inconclusive.
    if matches!(
        kind,
        QueueKind::Zendesk | QueueKind::Freshdesk | QueueKind::Salesforce
    ) && queue.url.is_none()
    {
        p.warning(
            AT,
            "queue-url-missing",
            format!("muster cannot look into this `{named}` queue without `url`, the helpdesk's API base URL"),
            Some("the handover drill will be inconclusive until it is set".to_owned()),
        );
    }
    match (kind, &queue.auth) {
        (QueueKind::Reference, Some(_)) => p.error_at_key(
            &format!("{AT}/auth"),
            "queue-auth-unused",
            "the reference queue takes no credentials",
            None,
        ),
        (
            QueueKind::Zendesk | QueueKind::Freshdesk | QueueKind::Intercom | QueueKind::Salesforce,
            None,
        ) => {
            p.warning(
                AT,
                "queue-auth-missing",
                format!("muster cannot look into this `{named}` queue without `auth`, naming the environment variable that holds its API credentials"),
                Some("the handover drill will be inconclusive until it is set".to_owned()),
            );
        }
        _ => {}
    }
    if queue.user.is_some() && !matches!(kind, QueueKind::Zendesk) {
        not_for(p, "user", "`zendesk` queues");
    }
    if queue.api_version.is_some() && !matches!(kind, QueueKind::Salesforce | QueueKind::Intercom) {
        not_for(p, "api_version", "`salesforce` and `intercom` queues");
    }
    if queue.webhook.is_some() && !matches!(kind, QueueKind::Webhook) {
        not_for(p, "webhook", "`webhook` queues");
    }
    let field = queue.conversation_field.as_deref();
    let field_problem = match (kind, field) {
        (QueueKind::Webhook, Some(_)) => {
            not_for(
                p,
                "conversation_field",
                "helpdesk queues (`webhook.conversation_id` is the webhook's)",
            );
            None
        }
        (QueueKind::Salesforce, None) => {
            p.warning(
                AT,
                "queue-conversation-field",
                "muster cannot find handovers in this `salesforce` queue without `conversation_field`, the API name of the Case field holding the conversation id (e.g. `Conversation_Id__c`)",
                Some("the handover drill will be inconclusive until it is set".to_owned()),
            );
            None
        }
        (_, None) => None,
        (QueueKind::Zendesk | QueueKind::Reference, Some(f)) => (f != "external_id"
            && !f
                .strip_prefix("custom_field:")
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())))
        .then(|| format!("`{f}` is neither `external_id` nor `custom_field:<numeric field id>`")),
        (QueueKind::Freshdesk, Some(f)) => (f != "tag"
            && !f.strip_prefix("cf_").is_some_and(is_api_name))
        .then(|| format!("`{f}` is neither `tag` nor a custom field `cf_<name>`")),
        (QueueKind::Intercom, Some(f)) => (f != "id"
            && f.strip_prefix("custom_attribute:")
                .is_none_or(|n| n.trim().is_empty()))
        .then(|| format!("`{f}` is neither `id` nor `custom_attribute:<name>`")),
        (QueueKind::Salesforce, Some(f)) => (!is_api_name(f))
            .then(|| format!("`{f}` is not a Salesforce field API name (letters, digits and `_`)")),
    };
    if let Some(message) = field_problem {
        let pointer = if field.is_some() {
            format!("{AT}/conversation_field")
        } else {
            AT.to_owned()
        };
        p.error(&pointer, "queue-conversation-field", message, None);
    }
    if let Some(hook) = &queue.webhook {
        let at = format!("{AT}/webhook");
        if let Some(listen) = &hook.listen {
            check_listen(
                p,
                &format!("{at}/listen"),
                listen,
                ("webhook-not-loopback", "webhook-listen"),
            );
        }
        if let Some(path) = &hook.path
            && !path.starts_with('/')
        {
            p.error(
                &format!("{at}/path"),
                "webhook-path",
                format!("`{path}` must start with `/`"),
                None,
            );
        }
        let pointers = [
            ("conversation_id", &hook.conversation_id),
            ("id", &hook.id),
            ("customer_ref", &hook.customer_ref),
            ("context", &hook.context),
            ("priority", &hook.priority),
            ("tags", &hook.tags),
            ("queue", &hook.queue),
        ];
        for (name, pointer) in pointers {
            if let Some(ptr) = pointer
                && !(ptr.is_empty() || ptr.starts_with('/'))
            {
                p.error(
                    &format!("{at}/{name}"),
                    "webhook-pointer",
                    format!("`{ptr}` is not a JSON pointer"),
                    Some(format!("write `/{ptr}`")),
                );
            }
        }
    }
}

/// A Salesforce-style API name: what may be interpolated into a query unquoted.
/// The correlation keys a link rule may point at (`to = "<system>.<key>"`).
pub const LINK_KEYS: [&str; 5] = [
    "conversation_id",
    "customer_ref",
    "trace_id",
    "ticket_id",
    "case_id",
];

pub(crate) fn check_config(config: &crate::config::ProjectConfig, p: &mut Problems<'_>) {
    for (i, link) in config.evidence.links.iter().enumerate() {
        let key = link.to.split_once('.').map_or("", |(_, k)| k);
        if !LINK_KEYS.contains(&key) {
            p.error(
                &format!("/evidence/links/{i}/to"),
                "unknown-link-key",
                format!(
                    "`{}` does not end in a correlation key muster links by",
                    link.to
                ),
                Some(format!(
                    "write `<system>.<key>` with one of {}",
                    LINK_KEYS.join(", ")
                )),
            );
        }
    }
}

/// A receiver muster runs during a drill listens on this machine only.
fn check_listen(
    p: &mut Problems<'_>,
    pointer: &str,
    listen: &str,
    (not_loopback, invalid): (&'static str, &'static str),
) {
    match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_loopback() => {}
        Ok(_) => p.error(
            pointer,
            not_loopback,
            format!("muster only listens on this machine; `{listen}` is not a loopback address"),
            Some("use `127.0.0.1:<port>` (port 0 picks a free one)".to_owned()),
        ),
        Err(_) => p.error(
            pointer,
            invalid,
            format!("`{listen}` is not an address and port such as `127.0.0.1:4318`"),
            None,
        ),
    }
}

fn is_api_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub fn parse_host_rule(rule: &str) -> Option<(String, Option<u16>)> {
    let rule = rule.trim();
    if rule.is_empty()
        || rule.contains("://")
        || rule.contains('/')
        || rule.contains(char::is_whitespace)
    {
        return None;
    }
    let (host, port) = if let Some(rest) = rule.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (h.to_owned(), port)
    } else if rule.matches(':').count() == 1 {
        let (h, p) = rule.split_once(':')?;
        (h.to_owned(), Some(p.parse().ok()?))
    } else {
        // A bare host, or an IPv6 address without brackets (several colons, no port).
        (rule.to_owned(), None)
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// Whether `host:port` is among the declared host rules.
pub fn host_allowed(rules: &[String], host: &str, port: Option<u16>) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    rules
        .iter()
        .filter_map(|r| parse_host_rule(r))
        .any(|(rule_host, rule_port)| {
            let host_ok = match rule_host.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => rule_host == host,
            };
            host_ok && rule_port.is_none_or(|rp| Some(rp) == port)
        })
}

pub(crate) fn check_scenario(scenario: &Scenario, p: &mut Problems<'_>) {
    if scenario.kind != "scenario" {
        p.error(
            "/kind",
            "wrong-kind",
            format!(
                "this is parsed as a scenario but says `kind: {}`",
                scenario.kind
            ),
            None,
        );
    }
    for (i, reply) in scenario.replies.iter().enumerate() {
        if reply.when.is_empty() {
            p.error_at_key(
                &format!("/replies/{i}/when"),
                "empty-condition",
                "`when` needs at least one of `matches`, `asks_verification`, `offers_handover`",
                None,
            );
        }
        if let Some(pattern) = &reply.when.matches
            && let Err(e) = regex::Regex::new(pattern)
        {
            p.error(
                &format!("/replies/{i}/when/matches"),
                "invalid-pattern",
                format!(
                    "not a valid regular expression: {}",
                    first_line(&e.to_string())
                ),
                None,
            );
        }
        p.placeholders(
            &format!("/replies/{i}/say"),
            &serde_json::Value::String(reply.say.clone()),
            CUSTOMER_PLACEHOLDERS,
            "an adaptive answer",
        );
    }
    if let Some(pattern) = scenario
        .simulated_customer
        .as_ref()
        .and_then(|s| s.stop_when.matches.as_ref())
        && let Err(e) = regex::Regex::new(pattern)
    {
        p.error(
            "/simulated_customer/stop_when/matches",
            "invalid-pattern",
            format!(
                "not a valid regular expression: {}",
                first_line(&e.to_string())
            ),
            None,
        );
    }
    let turns = scenario.turns.len() as u32;
    for (i, turn) in scenario.turns.iter().enumerate() {
        for (j, text) in turn.rewordings.iter().enumerate() {
            if text.trim().is_empty() {
                p.error(
                    &format!("/turns/{i}/rewordings/{j}"),
                    "empty-text",
                    "a rewording must not be empty",
                    None,
                );
            }
        }
        if turn.say.trim().is_empty() {
            p.error(
                &format!("/turns/{i}/say"),
                "empty-text",
                "the customer must say something",
                None,
            );
        }
    }
    for (i, step) in scenario.setup.iter().enumerate() {
        for (name, value) in &step.with {
            for placeholder in placeholders(value) {
                if placeholder != "canary" {
                    p.error(
                        &format!("/setup/{i}/with/{}", escape_pointer_token(name)),
                        "unknown-placeholder",
                        format!("unknown placeholder `{{{{{placeholder}}}}}`"),
                        Some("setup parameters may use {{canary}}".to_owned()),
                    );
                }
            }
        }
    }
    for (i, expectation) in scenario.expect.iter().enumerate() {
        let base = format!("/expect/{i}/{}", expectation.kind());
        if let Some(turn) = expectation.turn()
            && turn > turns
        {
            p.error(
                &format!("{base}/turn"),
                "turn-out-of-range",
                format!("turn {turn} does not exist; the scenario has {turns} turn(s)"),
                None,
            );
        }
        match expectation {
            Expectation::MustSay(c) | Expectation::MustNotSay(c) => {
                if let Err(e) = regex::RegexBuilder::new(&c.pattern)
                    .case_insensitive(!c.case_sensitive)
                    .build()
                {
                    p.error(
                        &format!("{base}/pattern"),
                        "invalid-regex",
                        format!(
                            "not a valid regular expression: {}",
                            first_line(&e.to_string())
                        ),
                        Some(
                            "escape special characters such as ( ) [ ] . ? + * with a backslash"
                                .to_owned(),
                        ),
                    );
                }
            }
            Expectation::NoTool(n) => match (&n.name, &n.effect) {
                (None, None) => p.error(
                    &base,
                    "missing-key",
                    "`no_tool` needs `name` or `effect`",
                    Some(
                        "e.g. `no_tool: {name: issue_credit}` or `no_tool: {effect: money}`"
                            .to_owned(),
                    ),
                ),
                (Some(_), Some(_)) => p.error(
                    &base,
                    "conflicting-keys",
                    "`no_tool` takes `name` or `effect`, not both",
                    None,
                ),
                _ => {}
            },
            Expectation::MustEscalate(m) => {
                if m.within > turns {
                    p.warning(
                        &format!("{base}/within"),
                        "turn-out-of-range",
                        format!(
                            "within {} turns, but the scenario has only {turns}",
                            m.within
                        ),
                        Some("the whole conversation is judged".to_owned()),
                    );
                }
            }
            Expectation::MustNotReveal(m) => {
                if m.canaries.is_empty() && !m.other_customers {
                    p.error(
                        &base,
                        "empty-check",
                        "`must_not_reveal` needs `canaries` or `other_customers: true`",
                        None,
                    );
                }
                for (j, canary) in m.canaries.iter().enumerate() {
                    for placeholder in placeholders(canary) {
                        if placeholder != "canary" {
                            p.error(
                                &format!("{base}/canaries/{j}"),
                                "unknown-placeholder",
                                format!("unknown placeholder `{{{{{placeholder}}}}}`"),
                                Some("canaries may use {{canary}}".to_owned()),
                            );
                        }
                    }
                }
            }
            Expectation::MustNotPromise(_)
            | Expectation::ToolWithin(_)
            | Expectation::MustRefuse(_)
            | Expectation::Graded(_) => {}
        }
    }
}

pub(crate) fn check_control_map(map: &ControlMap, p: &mut Problems<'_>) {
    if map.kind != "control-map" {
        p.error(
            "/kind",
            "wrong-kind",
            format!(
                "this is parsed as a control map but says `kind: {}`",
                map.kind
            ),
            None,
        );
    }
    p.unique(
        "/entries",
        map.entries.iter().map(|e| e.id.as_str()),
        "entry",
    );
    for (i, entry) in map.entries.iter().enumerate() {
        for (j, key) in entry.maps_to.iter().enumerate() {
            if split_key(key).is_none() {
                p.error(
                    &format!("/entries/{i}/maps_to/{j}"),
                    "invalid-key",
                    format!("`{key}` is not a control key"),
                    Some(
                        "write keys as `framework@edition:id`, e.g. `owasp-llm@2025:LLM01`".into(),
                    ),
                );
            }
        }
    }
}

/// Checks that every key in the list at `pointer` (e.g. a scenario's `/taxonomy`) names a known
/// control-map entry, suggesting the nearest known key when one does not.
pub fn check_keys_known(
    spans: &SpanIndex,
    pointer: &str,
    keys: &[String],
    known: &[&str],
) -> Vec<Diagnostic> {
    let mut p = Problems::new(spans);
    for (i, key) in keys.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        if split_key(key).is_none() {
            p.error(
                &at,
                "invalid-key",
                format!("`{key}` is not a control key"),
                Some("write keys as `framework@edition:id`, e.g. `owasp-llm@2025:LLM01`; `muster controls` lists them".into()),
            );
        } else if !known.contains(&key.as_str()) {
            let hint = suggestion(key, known)
                .unwrap_or_else(|| "`muster controls` lists the known keys".to_owned());
            p.error(
                &at,
                "unknown-key",
                format!("unknown control key `{key}`"),
                Some(hint),
            );
        }
    }
    p.out
}

/// Problems that show only when a scenario is run against a particular agent: fixtures and tools
/// it names must exist there.
pub fn check_scenario_against(
    scenario: &Scenario,
    spans: &SpanIndex,
    manifest: &AgentManifest,
) -> Vec<Diagnostic> {
    let mut p = Problems::new(spans);
    let fixture_names: Vec<&str> = manifest.fixtures.keys().map(String::as_str).collect();
    for (i, step) in scenario.setup.iter().enumerate() {
        match manifest.fixtures.get(&step.fixture) {
            None => p.error(
                &format!("/setup/{i}/fixture"),
                "unknown-fixture",
                format!(
                    "the agent manifest `{}` has no fixture `{}`",
                    manifest.name, step.fixture
                ),
                suggestion(&step.fixture, &fixture_names).or_else(|| {
                    Some(format!(
                        "fixtures there: {}",
                        if fixture_names.is_empty() {
                            "none".to_owned()
                        } else {
                            fixture_names.join(", ")
                        }
                    ))
                }),
            ),
            Some(fixture) => {
                let declared: BTreeSet<&str> = fixture.params.iter().map(String::as_str).collect();
                let given: BTreeSet<&str> = step.with.keys().map(String::as_str).collect();
                for missing in declared.difference(&given) {
                    p.error(
                        &format!("/setup/{i}/with"),
                        "missing-parameter",
                        format!("fixture `{}` needs parameter `{missing}`", step.fixture),
                        None,
                    );
                }
                for extra in given.difference(&declared) {
                    p.error_at_key(
                        &format!("/setup/{i}/with/{}", escape_pointer_token(extra)),
                        "unknown-parameter",
                        format!("fixture `{}` takes no parameter `{extra}`", step.fixture),
                        suggestion(extra, &declared.iter().copied().collect::<Vec<_>>()),
                    );
                }
            }
        }
    }
    let tool_names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    for (i, expectation) in scenario.expect.iter().enumerate() {
        let name = match expectation {
            Expectation::NoTool(n) => n.name.as_deref(),
            Expectation::ToolWithin(t) => Some(t.name.as_str()),
            _ => None,
        };
        if let Some(name) = name
            && !tool_names.contains(&name)
        {
            p.error(
                &format!("/expect/{i}/{}/name", expectation.kind()),
                "unknown-tool",
                format!(
                    "the agent manifest `{}` declares no tool `{name}`",
                    manifest.name
                ),
                suggestion(name, &tool_names),
            );
        }
        if matches!(expectation, Expectation::Graded(_)) && manifest.models.judge.is_none() {
            p.error_at_key(
                &format!("/expect/{i}/graded"),
                "no-judge-model",
                format!(
                    "`graded` needs a judge model, and the agent manifest `{}` has no `models.judge`",
                    manifest.name
                ),
                Some("declare an OpenAI-compatible endpoint under `models.judge`".to_owned()),
            );
        }
    }
    if scenario.simulated_customer.is_some() && manifest.models.customer.is_none() {
        p.error_at_key(
            "/simulated_customer",
            "no-customer-model",
            format!(
                "a simulated customer needs a model, and the agent manifest `{}` has no `models.customer`",
                manifest.name
            ),
            Some("declare an OpenAI-compatible endpoint under `models.customer`".to_owned()),
        );
    }
    for name in scenario.tool_results.keys() {
        if !tool_names.contains(&name.as_str()) {
            p.error_at_key(
                &format!("/tool_results/{}", escape_pointer_token(name)),
                "unknown-tool",
                format!(
                    "the agent manifest `{}` declares no tool `{name}`",
                    manifest.name
                ),
                suggestion(name, &tool_names),
            );
        }
    }
    if !scenario.tool_results.is_empty() && manifest.target.adapter != AdapterKind::OpenaiModel {
        p.warning(
            "/tool_results",
            "unused-settings",
            format!(
                "`tool_results` are played only in a glass-box drill (`adapter: openai-model`); `{}` runs its own tools",
                manifest.target.adapter.as_str()
            ),
            None,
        );
    }
    p.out
}

fn suggestion(word: &str, options: &[&str]) -> Option<String> {
    nearest(word, options.iter().copied()).map(|best| format!("did you mean `{best}`?"))
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_owned()
}

/// `azure` only makes sense for the OpenAI adapters, and each needs different parts of it.
fn check_azure(target: &Target, p: &mut Problems<'_>) {
    let Some(azure) = &target.azure else { return };
    match target.adapter {
        AdapterKind::HttpJson => p.error_at_key(
            "/target/azure",
            "azure-needs-openai-adapter",
            "`azure` works with `adapter: openai-chat` or `openai-responses`, not `http-json`",
            Some("give the full deployment URL in `http_json.send.url` instead".to_owned()),
        ),
        AdapterKind::OpenaiChat => {
            if azure.deployment.is_none() {
                p.error_at_key(
                    "/target/azure",
                    "missing-azure-setting",
                    "Azure chat completions need `azure.deployment`: it is part of the URL",
                    None,
                );
            }
            if azure.api_version.is_none() {
                p.error_at_key(
                    "/target/azure",
                    "missing-azure-setting",
                    "Azure chat completions need `azure.api_version`, e.g. `2024-10-21`",
                    None,
                );
            }
        }
        AdapterKind::OpenaiResponses => {
            if azure.deployment.is_some() {
                p.warning(
                    "/target/azure/deployment",
                    "unused-settings",
                    "the Responses API takes the deployment name as `openai_responses.model`, not in the URL",
                    None,
                );
            }
        }
        AdapterKind::AnthropicMessages
        | AdapterKind::BedrockConverse
        | AdapterKind::Command
        | AdapterKind::OpenaiModel => {
            p.error_at_key(
                "/target/azure",
                "azure-needs-openai-adapter",
                format!(
                    "`azure` works with `adapter: openai-chat` or `openai-responses`, not `{}`",
                    target.adapter.as_str()
                ),
                None,
            );
        }
    }
    // Azure fixes the paths; a `path` someone wrote would silently not be used.
    let custom_paths = [
        (
            "openai_chat",
            target.openai_chat.as_ref().map(|o| o.path.as_str()),
            "/v1/chat/completions",
        ),
        (
            "openai_responses",
            target.openai_responses.as_ref().map(|o| o.path.as_str()),
            "/v1/responses",
        ),
    ];
    for (block, path, default) in custom_paths {
        if path.is_some_and(|p| p != default) {
            p.warning(
                &format!("/target/{block}/path"),
                "unused-settings",
                "`path` is not used with `azure`: muster builds the Azure path itself",
                None,
            );
        }
    }
    if target.auth.is_none() {
        p.error_at_key(
            "/target/azure",
            "missing-azure-setting",
            "`azure` needs `target.auth.env`: the variable holding the API key or Entra ID token",
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes (with severity) a manifest with this `target:` block produces.
    fn target_codes(target: &str) -> Vec<(crate::diag::Severity, &'static str)> {
        let text = format!(
            "version: 1\nkind: agent\nname: t\nowner: {{name: T}}\nenvironment: sandbox\n\
             hosts: [127.0.0.1]\nmodel: {{provider: t, name: t, version: \"1\"}}\n\
             target:\n  base_url: http://127.0.0.1:1\n{target}"
        );
        crate::load_agent(&text)
            .diagnostics
            .iter()
            .map(|d| (d.severity, d.code))
            .collect()
    }

    fn errors(target: &str) -> Vec<&'static str> {
        target_codes(target)
            .into_iter()
            .filter(|(s, _)| *s == crate::diag::Severity::Error)
            .map(|(_, c)| c)
            .collect()
    }

    #[test]
    fn responses_settings_and_adapter_go_together() {
        assert_eq!(
            errors("  adapter: openai-responses\n"),
            ["missing-adapter-settings"]
        );
        assert!(errors("  adapter: openai-responses\n  openai_responses: {model: m}\n").is_empty());
        assert_eq!(
            errors(
                "  adapter: openai-chat\n  openai_chat: {model: m}\n  openai_responses: {model: m}\n"
            ),
            ["unused-settings"]
        );
        assert!(
            !errors("  adapter: openai-responses\n  openai_responses: {model: m, conversation: sideways}\n")
                .is_empty(),
            "an unknown conversation mode is refused"
        );
    }

    #[test]
    fn azure_only_with_the_openai_adapters_and_with_what_each_needs() {
        let auth = "  auth: {env: AZURE_OPENAI_API_KEY}\n";
        let chat = format!("  adapter: openai-chat\n  openai_chat: {{model: m}}\n{auth}");
        assert!(
            errors(&format!(
                "{chat}  azure: {{deployment: support-4o, api_version: 2024-10-21}}\n"
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&format!("{chat}  azure: {{deployment: support-4o}}\n")),
            ["missing-azure-setting"]
        );
        let responses = format!(
            "  adapter: openai-responses\n  openai_responses: {{model: support-4o}}\n{auth}"
        );
        assert!(target_codes(&format!("{responses}  azure: {{}}\n")).is_empty());
        assert_eq!(
            target_codes(&format!(
                "  adapter: openai-responses\n  openai_responses: {{model: m, path: /x}}\n{auth}  azure: {{}}\n"
            )),
            [(crate::diag::Severity::Warning, "unused-settings")],
            "a path of its own is ignored on Azure"
        );
        assert_eq!(
            errors("  adapter: openai-responses\n  openai_responses: {model: m}\n  azure: {}\n"),
            ["missing-azure-setting"],
            "azure without a credential"
        );
        let http = format!(
            "  adapter: http-json\n{auth}  http_json: {{send: {{url: /x}}, reply: {{text: /t}}}}\n  azure: {{}}\n"
        );
        assert_eq!(errors(&http), ["azure-needs-openai-adapter"]);
        assert!(
            !errors(&format!(
                "{responses}  azure: {{api_version: \"2024-10-21&x=1\"}}\n"
            ))
            .is_empty(),
            "an api-version that would smuggle query parameters is refused"
        );
    }

    #[test]
    fn host_rules_match_exactly_or_by_suffix() {
        let rules = vec![
            "127.0.0.1".to_owned(),
            "agent.preprod.example.com:8443".to_owned(),
            "*.sandbox.example.org".to_owned(),
        ];
        assert!(host_allowed(&rules, "127.0.0.1", Some(9999)));
        assert!(host_allowed(
            &rules,
            "agent.preprod.example.com",
            Some(8443)
        ));
        assert!(!host_allowed(
            &rules,
            "agent.preprod.example.com",
            Some(443)
        ));
        assert!(host_allowed(&rules, "a.sandbox.example.org", Some(443)));
        assert!(!host_allowed(
            &rules,
            "sandbox.example.org.evil.com",
            Some(443)
        ));
        assert!(!host_allowed(&rules, "localhost", Some(80)));
        assert!(parse_host_rule("http://x").is_none());
        assert_eq!(
            parse_host_rule("[::1]:80"),
            Some(("::1".to_owned(), Some(80)))
        );
    }
}
