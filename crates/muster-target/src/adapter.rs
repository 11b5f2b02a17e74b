//! The adapters: one way of holding a conversation per agent interface.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use muster_model::agent::{
    AdapterKind, AgentManifest, AnthropicMessagesTarget, Auth, CommandTarget, HttpJsonTarget,
    HttpRequest, IdentityPlacement, OpenAiChatTarget, OpenAiModelTarget, OpenAiResponsesTarget,
    SessionPlacement,
};
use muster_model::scenario::ScriptedResult;
use muster_model::template::{Vars, render_json, render_str};
use serde_json::{Value, json};
use url::Url;

use crate::bedrock::Bedrock;
use crate::exchange::{Exchange, Outgoing, Secrets, send};
use crate::interlock::Interlock;
use crate::reply::{
    AgentReply, ToolCall, arguments_value, flag_at, from_mapping, number_at, string_at,
};
use crate::traffic::{SharedPacing, Traffic};
use crate::{TargetError, TurnError};

/// A configured target: the manifest's adapter, credentials and interlock.
#[derive(Clone, Debug)]
pub struct Target {
    client: reqwest::Client,
    interlock: Interlock,
    base_url: Url,
    timeout: Duration,
    kind: AdapterKind,
    http_json: Option<HttpJsonTarget>,
    openai_chat: Option<OpenAiChatTarget>,
    bedrock: Option<Bedrock>,
    command: Option<CommandTarget>,
    anthropic_messages: Option<AnthropicMessagesTarget>,
    openai_responses: Option<OpenAiResponsesTarget>,
    /// Glass box: the model settings and the manifest's tools as function schemas.
    pub(crate) openai_model: Option<(OpenAiModelTarget, Vec<Value>)>,
    /// muster's own models (simulated customer, judge), under the same interlock.
    pub(crate) models: crate::model::Models,
    auth_header: Option<(String, String)>,
    secrets: Secrets,
    /// Shared by every clone, so the rate limit and in-flight cap hold across conversations.
    traffic: Arc<Traffic>,
}

/// One conversation with the agent.
#[derive(Clone, Debug)]
pub struct Conversation {
    /// The id the agent knows the conversation by (its own, or one muster made up).
    pub id: String,
    /// Placeholder values for this conversation: customer identity, scenario and drill ids.
    pub vars: Vars,
    /// Chat history, for interfaces that resend it every turn.
    pub(crate) history: Vec<Value>,
    /// The last response's id, for interfaces that keep the history themselves (Responses API).
    pub(crate) previous_response_id: Option<String>,
    /// The agent process, with the `command` adapter.
    pub(crate) process: Option<crate::command::SharedProcess>,
    /// Glass box: the results muster plays back for the model's tool calls, per tool name.
    pub(crate) tool_results: Arc<BTreeMap<String, Vec<ScriptedResult>>>,
}

impl Conversation {
    pub(crate) fn history(&self) -> &[Value] {
        &self.history
    }

    pub(crate) fn history_mut(&mut self) -> &mut Vec<Value> {
        &mut self.history
    }

    /// The scenario's scripted tool results, played back in a glass-box drill.
    pub fn play_tool_results(&mut self, results: BTreeMap<String, Vec<ScriptedResult>>) {
        self.tool_results = Arc::new(results);
    }
}

/// The secret an `auth` block names, from the environment; remembered for redaction.
pub(crate) fn read_secret(
    auth: &Auth,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
) -> Result<String, TargetError> {
    let secret = env(&auth.env).ok_or_else(|| TargetError::MissingSecret(auth.env.clone()))?;
    secrets.add(&secret);
    Ok(secret)
}

/// `header: scheme secret` for a manifest's `auth` block.
pub(crate) fn auth_header(auth: &Auth, secret: &str) -> (String, String) {
    if auth.scheme.is_empty() {
        (auth.header.clone(), secret.to_owned())
    } else {
        (auth.header.clone(), format!("{} {secret}", auth.scheme))
    }
}

/// The outcome of one turn: every exchange it took, and the reply or why there is none.
#[derive(Clone, Debug)]
pub struct TurnOutcome {
    pub exchanges: Vec<Exchange>,
    pub reply: Result<AgentReply, TurnError>,
}

impl TurnOutcome {
    /// A turn that failed before anything was sent.
    pub(crate) fn unsent(error: TurnError) -> Self {
        TurnOutcome {
            exchanges: Vec::new(),
            reply: Err(error),
        }
    }
}

/// Puts the signed-in customer's reference and the conversation id where the manifest says, in a
/// chat-style request: a top-level body field, a header, or the body's `metadata` object.
pub(crate) fn place_identity(
    identity: &IdentityPlacement,
    session: Option<&SessionPlacement>,
    customer: String,
    conversation_id: &str,
    body: &mut serde_json::Map<String, Value>,
    headers: &mut Vec<(String, String)>,
) {
    let mut metadata = BTreeMap::new();
    match identity {
        IdentityPlacement::User => {
            body.insert("user".into(), Value::String(customer));
        }
        IdentityPlacement::SafetyIdentifier => {
            body.insert("safety_identifier".into(), Value::String(customer));
        }
        IdentityPlacement::Header(name) => headers.push((name.clone(), customer)),
        IdentityPlacement::Metadata(key) => {
            metadata.insert(key.clone(), customer);
        }
    }
    match session {
        Some(SessionPlacement::Header(name)) => {
            headers.push((name.clone(), conversation_id.to_owned()));
        }
        Some(SessionPlacement::Metadata(key)) => {
            metadata.insert(key.clone(), conversation_id.to_owned());
        }
        None => {}
    }
    if !metadata.is_empty() {
        body.insert("metadata".into(), json!(metadata));
    }
}

/// The signed-in customer's reference, as the adapters send it.
pub(crate) fn customer_ref(vars: &Vars) -> String {
    vars.get("customer.ref")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Target {
    /// Set up a target from its manifest, reading credentials from the process environment.
    /// Refuses production targets before anything is sent.
    pub fn new(
        manifest: &AgentManifest,
        base_url_override: Option<&str>,
    ) -> Result<Self, TargetError> {
        Self::with_env(manifest, base_url_override, &|name| {
            std::env::var(name).ok()
        })
    }

    /// As [`Target::new`], with environment lookups supplied by the caller (tests, embedding).
    pub fn with_env(
        manifest: &AgentManifest,
        base_url_override: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, TargetError> {
        let interlock = Interlock::for_manifest(manifest)?;
        let base = base_url_override.unwrap_or(&manifest.target.base_url);
        let base_url =
            Url::parse(base).map_err(|_| crate::InterlockError::BadUrl(base.to_owned()))?;
        interlock.check(&base_url)?;
        let mut secrets = Secrets::default();
        let auth_header = match &manifest.target.auth {
            None => None,
            Some(auth) => {
                let secret = read_secret(auth, env, &mut secrets)?;
                match &manifest.target.azure {
                    // Azure names its own header (`api-key`) or a bearer token, whatever
                    // `auth.header`/`auth.scheme` say.
                    Some(azure) => Some(crate::azure::auth_header(azure, &secret)),
                    // Anthropic's API takes the bare key in `x-api-key`; the manifest's default
                    // `Authorization: Bearer` suits the other adapters, so it gives way here.
                    None if manifest.target.adapter == AdapterKind::AnthropicMessages
                        && auth.header.eq_ignore_ascii_case("authorization") =>
                    {
                        Some(("x-api-key".to_owned(), secret))
                    }
                    None => Some(auth_header(auth, &secret)),
                }
            }
        };
        match manifest.target.adapter {
            AdapterKind::HttpJson if manifest.target.http_json.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "http-json",
                    block: "http_json",
                });
            }
            AdapterKind::OpenaiChat if manifest.target.openai_chat.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "openai-chat",
                    block: "openai_chat",
                });
            }
            AdapterKind::OpenaiResponses if manifest.target.openai_responses.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "openai-responses",
                    block: "openai_responses",
                });
            }
            AdapterKind::AnthropicMessages if manifest.target.anthropic_messages.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "anthropic-messages",
                    block: "anthropic_messages",
                });
            }
            AdapterKind::Command if manifest.target.command.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "command",
                    block: "command",
                });
            }
            AdapterKind::BedrockConverse if manifest.target.bedrock_converse.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "bedrock-converse",
                    block: "bedrock_converse",
                });
            }
            AdapterKind::OpenaiModel if manifest.target.openai_model.is_none() => {
                return Err(TargetError::MissingSettings {
                    adapter: "openai-model",
                    block: "openai_model",
                });
            }
            _ => {}
        }
        let openai_model = match (&manifest.target.adapter, &manifest.target.openai_model) {
            (AdapterKind::OpenaiModel, Some(o)) => Some((
                crate::glassbox::settings(o)?,
                crate::glassbox::tools(manifest),
            )),
            _ => None,
        };
        let models = crate::model::Models::from_manifest(
            manifest,
            &base_url,
            &interlock,
            env,
            &mut secrets,
        )?;
        let bedrock = match (&manifest.target.adapter, &manifest.target.bedrock_converse) {
            (AdapterKind::BedrockConverse, Some(settings)) => {
                Some(Bedrock::from_env(settings, env, &mut secrets)?)
            }
            _ => None,
        };
        // On Azure the endpoint paths are fixed by the deployment and API version.
        let mut openai_chat = manifest.target.openai_chat.clone();
        let mut openai_responses = manifest.target.openai_responses.clone();
        if let Some(azure) = &manifest.target.azure {
            if let Some(o) = openai_chat.as_mut() {
                o.path = crate::azure::chat_path(azure).ok_or(TargetError::Azure(
                    "chat completions need `azure.deployment` and `azure.api_version`",
                ))?;
            }
            if let Some(o) = openai_responses.as_mut() {
                o.path = crate::azure::responses_path(azure);
            }
        }
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "muster/",
                env!("CARGO_PKG_VERSION"),
                " (incident drill; pre-production only)"
            ))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| TargetError::Client(e.to_string()))?;
        Ok(Self {
            client,
            interlock,
            base_url,
            timeout: manifest.target.timeout.0,
            kind: manifest.target.adapter,
            http_json: manifest.target.http_json.clone(),
            openai_chat,
            openai_responses,
            anthropic_messages: manifest.target.anthropic_messages.clone(),
            bedrock,
            command: manifest.target.command.clone(),
            openai_model,
            models,
            auth_header,
            secrets,
            traffic: Arc::new(Traffic::new(
                manifest.target.rate_limit,
                manifest.target.max_in_flight,
                manifest.target.retries,
            )),
        })
    }

    pub fn adapter(&self) -> AdapterKind {
        self.kind
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The AWS region requests are signed for, with the `bedrock-converse` adapter.
    pub fn aws_region(&self) -> Option<&str> {
        self.bedrock.as_ref().map(Bedrock::region)
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) fn interlock(&self) -> &Interlock {
        &self.interlock
    }

    pub(crate) fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// Keep the manifest's rate limit across processes from now on: every request to the agent
    /// (and every fixture action) first takes a slot from `pacing`, keyed by the target's base
    /// URL, so workers on many machines together stay under the limit. Applies to every clone.
    /// `false` if a shared pacer was already set.
    pub fn share_rate_limit(&self, pacing: Arc<dyn SharedPacing>) -> bool {
        self.traffic.share(self.base_url.to_string(), pacing)
    }

    /// Resolve a manifest URL (absolute, or a path against the base URL) after filling placeholders.
    pub(crate) fn resolve(&self, template: &str, vars: &Vars) -> Result<Url, TurnError> {
        let text = render_str(template, vars).map_err(|e| TurnError::Request(e.to_string()))?;
        if text.contains("://") {
            Url::parse(&text).map_err(|e| TurnError::Request(format!("`{text}` is not a URL: {e}")))
        } else {
            self.base_url.join(&text).map_err(|e| {
                TurnError::Request(format!(
                    "`{text}` cannot be resolved against {}: {e}",
                    self.base_url
                ))
            })
        }
    }

    pub(crate) fn outgoing(
        &self,
        method: reqwest::Method,
        url: Url,
        mut headers: Vec<(String, String)>,
        body: Option<Value>,
    ) -> Outgoing {
        let mut secret_headers = Vec::new();
        if let Some((name, value)) = &self.auth_header {
            headers.push((name.clone(), value.clone()));
            secret_headers.push(name.clone());
        }
        Outgoing {
            method,
            url,
            headers,
            secret_headers,
            body,
            timeout: self.timeout,
            decode: None,
            event_stream: false,
        }
    }

    /// Fill a request template's placeholders and resolve its URL. `with_auth` adds the target's
    /// credentials (agent requests); operational actions carry only their own headers.
    pub(crate) fn render_request(
        &self,
        method: muster_model::agent::HttpMethod,
        url: &str,
        headers: &BTreeMap<String, String>,
        body: Option<&Value>,
        vars: &Vars,
        with_auth: bool,
    ) -> Result<Outgoing, TurnError> {
        let url = self.resolve(url, vars)?;
        let headers = headers
            .iter()
            .map(|(name, value)| render_str(value, vars).map(|v| (name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TurnError::Request(e.to_string()))?;
        let body = body
            .map(|b| render_json(b, vars))
            .transpose()
            .map_err(|e| TurnError::Request(e.to_string()))?;
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::POST);
        Ok(if with_auth {
            self.outgoing(method, url, headers, body)
        } else {
            Outgoing {
                method,
                url,
                headers,
                secret_headers: Vec::new(),
                body,
                decode: None,
                timeout: self.timeout,
                event_stream: false,
            }
        })
    }

    /// Send one of the agent's requests, paced, retried and recorded as the target's traffic rules say.
    pub(crate) async fn post(&self, out: Outgoing) -> (Vec<Exchange>, Result<Value, TurnError>) {
        send(
            &self.client,
            &self.interlock,
            &self.secrets,
            &self.traffic,
            out,
        )
        .await
    }

    async fn send_template(
        &self,
        req: &HttpRequest,
        vars: &Vars,
    ) -> (Vec<Exchange>, Result<Value, TurnError>) {
        match self.render_request(
            req.method,
            &req.url,
            &req.headers,
            req.body.as_ref(),
            vars,
            true,
        ) {
            Err(e) => (Vec::new(), Err(e)),
            Ok(out) => self.post(out).await,
        }
    }

    /// Open a conversation. For `http-json` with `open_session`, the agent supplies the id; otherwise
    /// muster makes one up and sends it however the manifest says.
    pub async fn open(&self, vars: Vars) -> (Vec<Exchange>, Result<Conversation, TurnError>) {
        let mut conversation = Conversation {
            id: uuid::Uuid::now_v7().to_string(),
            vars,
            history: Vec::new(),
            previous_response_id: None,
            process: None,
            tool_results: Arc::default(),
        };
        if let (AdapterKind::Command, Some(c)) = (self.kind, &self.command) {
            return match crate::command::spawn(c, &conversation.vars) {
                Ok(process) => {
                    conversation.process = Some(process);
                    (Vec::new(), Ok(conversation))
                }
                Err(e) => (Vec::new(), Err(e)),
            };
        }
        if let (AdapterKind::HttpJson, Some(open)) = (
            self.kind,
            self.http_json
                .as_ref()
                .and_then(|h| h.open_session.as_ref()),
        ) {
            let (exchanges, result) = self.send_template(&open.request, &conversation.vars).await;
            let doc = match result {
                Ok(doc) => doc,
                Err(e) => return (exchanges, Err(e)),
            };
            let id = match open.conversation_id.select_one(&doc) {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return (
                        exchanges,
                        Err(TurnError::Malformed(format!(
                            "no conversation id at `{}` in the session-opening response",
                            open.conversation_id.as_str()
                        ))),
                    );
                }
            };
            conversation.id = id;
            return (exchanges, Ok(conversation));
        }
        (Vec::new(), Ok(conversation))
    }

    /// Send one customer message and read the reply.
    pub async fn send(
        &self,
        conversation: &mut Conversation,
        message: &str,
        turn: u32,
    ) -> TurnOutcome {
        let mut vars = conversation.vars.clone();
        vars.insert("message".into(), Value::String(message.to_owned()));
        vars.insert("session_id".into(), Value::String(conversation.id.clone()));
        vars.insert("turn".into(), Value::from(turn));
        if let (AdapterKind::AnthropicMessages, Some(a)) = (self.kind, &self.anthropic_messages) {
            return self.send_anthropic(a, conversation, message, &vars).await;
        }
        if let (AdapterKind::Command, Some(c)) = (self.kind, &self.command) {
            return self.send_command(c, conversation, message, turn).await;
        }
        if let (AdapterKind::OpenaiModel, Some((o, tools))) = (self.kind, &self.openai_model) {
            return self
                .send_glass_box(o, tools, conversation, message, &vars)
                .await;
        }
        match (
            self.kind,
            &self.http_json,
            &self.openai_chat,
            &self.openai_responses,
        ) {
            (AdapterKind::HttpJson, Some(h), _, _) => {
                let (exchanges, result) = self.send_template(&h.send, &vars).await;
                TurnOutcome {
                    exchanges,
                    reply: result.and_then(|doc| from_mapping(&doc, &h.reply)),
                }
            }
            (AdapterKind::OpenaiChat, _, Some(o), _) => {
                self.send_openai(o, conversation, message, &vars).await
            }
            (AdapterKind::OpenaiResponses, _, _, Some(o)) => {
                self.send_responses(o, conversation, message, &vars).await
            }
            _ => match (self.kind, &self.bedrock) {
                (AdapterKind::BedrockConverse, Some(b)) => {
                    self.send_bedrock(b, conversation, message, &vars).await
                }
                _ => TurnOutcome::unsent(TurnError::Request("the adapter has no settings".into())),
            },
        }
    }

    async fn send_command(
        &self,
        c: &CommandTarget,
        conversation: &Conversation,
        message: &str,
        turn: u32,
    ) -> TurnOutcome {
        let Some(process) = &conversation.process else {
            return TurnOutcome::unsent(TurnError::Request(
                "the conversation has no agent process".into(),
            ));
        };
        let request = json!({
            "type": "message",
            "conversation_id": conversation.id,
            "customer_ref": conversation.vars.get("customer.ref").cloned().unwrap_or(Value::Null),
            "turn": turn,
            "message": message,
        });
        let (exchange, result) =
            crate::command::exchange(process, &request, self.timeout, &self.secrets).await;
        TurnOutcome {
            exchanges: vec![exchange],
            reply: result.and_then(|doc| from_mapping(&doc, &c.reply)),
        }
    }

    async fn send_openai(
        &self,
        o: &OpenAiChatTarget,
        conversation: &mut Conversation,
        message: &str,
        vars: &Vars,
    ) -> TurnOutcome {
        let url = match self.resolve(&o.path, vars) {
            Ok(u) => u,
            Err(e) => return TurnOutcome::unsent(e),
        };
        let customer = customer_ref(vars);
        let mut messages = Vec::new();
        if let Some(system) = &o.system_prompt {
            messages.push(json!({"role": "system", "content": system}));
        }
        messages.extend(conversation.history.iter().cloned());
        messages.push(json!({"role": "user", "content": message}));
        let mut body = chat_body(&o.model, messages, &BTreeMap::new());
        let mut headers = Vec::new();
        place_identity(
            &o.identity,
            o.session.as_ref(),
            customer,
            &conversation.id,
            &mut body,
            &mut headers,
        );
        let body = Value::Object(body);
        let (exchanges, result) = self
            .post(self.outgoing(reqwest::Method::POST, url, headers, Some(body)))
            .await;
        let reply = result.and_then(|doc| read_chat_completion(&doc, o));
        if let Ok(r) = &reply {
            conversation
                .history
                .push(json!({"role": "user", "content": message}));
            conversation
                .history
                .push(json!({"role": "assistant", "content": r.text}));
        }
        TurnOutcome { exchanges, reply }
    }
}

/// The first choice's message of a `chat.completion`: its text, its tool calls (without
/// results) and the message itself, as a glass-box drill sends it back.
pub(crate) struct ChatMessage {
    pub text: String,
    pub calls: Vec<ToolCall>,
    pub message: Value,
}

/// Read the first choice of a `chat.completion`. An `error` object, a missing message, content
/// that is not text, or a call without a function name is a [`TurnError::Malformed`].
pub(crate) fn read_chat_message(doc: &Value) -> Result<ChatMessage, TurnError> {
    if let Some(error) = doc.get("error").filter(|e| !e.is_null()) {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unspecified error");
        return Err(TurnError::Malformed(format!(
            "the completion carries an error: {message}"
        )));
    }
    let message = doc.pointer("/choices/0/message").ok_or_else(|| {
        TurnError::Malformed("the completion has no `choices[0].message`".to_owned())
    })?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        Some(_) => {
            return Err(TurnError::Malformed(
                "`choices[0].message.content` is neither text nor null".to_owned(),
            ));
        }
    };
    let mut calls = Vec::new();
    if let Some(list) = message.get("tool_calls").filter(|v| !v.is_null()) {
        let Value::Array(list) = list else {
            return Err(TurnError::Malformed(
                "`tool_calls` is not a list".to_owned(),
            ));
        };
        for (i, call) in list.iter().enumerate() {
            let name = call
                .pointer("/function/name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    TurnError::Malformed(format!("tool call #{} has no `function.name`", i + 1))
                })?;
            calls.push(ToolCall {
                id: call.get("id").and_then(Value::as_str).map(str::to_owned),
                name: name.to_owned(),
                arguments: arguments_value(call.pointer("/function/arguments")),
                result: None,
            });
        }
    }
    Ok(ChatMessage {
        text,
        calls,
        message: message.clone(),
    })
}

/// Read a `chat.completion`: the first choice's text and tool calls, plus the service's extensions.
fn read_chat_completion(doc: &Value, o: &OpenAiChatTarget) -> Result<AgentReply, TurnError> {
    let ChatMessage {
        text, mut calls, ..
    } = read_chat_message(doc)?;
    let results: Vec<&Value> = match o.tool_results.as_ref().and_then(|p| p.select_one(doc)) {
        Some(Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    for call in &mut calls {
        call.result = results
            .iter()
            .find(|r| {
                call.id.is_some()
                    && r.get("tool_call_id").and_then(Value::as_str) == call.id.as_deref()
            })
            .map(|r| r.get("content").cloned().unwrap_or(Value::Null));
    }
    if text.is_empty() && calls.is_empty() {
        return Err(TurnError::Malformed(
            "the completion has neither text nor tool calls".to_owned(),
        ));
    }
    Ok(AgentReply {
        text,
        tool_calls: calls,
        handover: flag_at(doc, o.handover.as_ref())?,
        confidence: number_at(doc, o.confidence.as_ref()),
        content_version: string_at(doc, o.content_version.as_ref()),
    })
}

/// A chat-completions request body: `model`, `messages`, no streaming, then `parameters` (which
/// cannot replace the first three).
pub(crate) fn chat_body(
    model: &str,
    messages: Vec<Value>,
    parameters: &BTreeMap<String, Value>,
) -> serde_json::Map<String, Value> {
    let mut body = serde_json::Map::new();
    for (key, value) in parameters {
        body.insert(key.clone(), value.clone());
    }
    body.insert("model".into(), Value::String(model.to_owned()));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), Value::Bool(false));
    body
}
