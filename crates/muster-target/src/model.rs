//! muster's own models: the simulated customer and the judge of `graded` expectations, each an
//! OpenAI-compatible chat-completions endpoint declared in the manifest's `models`.
//!
//! They go through the same machinery as the agent's requests — the interlock (pre-production or
//! sandbox manifest, declared hosts), no redirects, no cache, secrets redacted from every recorded
//! exchange — because what they are sent is the drill's conversation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use muster_model::agent::{AgentManifest, ModelEndpoint};
use serde_json::Value;
use url::Url;

use crate::adapter::{Target, auth_header, chat_body, read_chat_message, read_secret};
use crate::exchange::{Exchange, Outgoing, Secrets, send};
use crate::interlock::Interlock;
use crate::traffic::Traffic;
use crate::{TargetError, TurnError};

/// Which of muster's models to ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelRole {
    /// Plays the customer (`models.customer`).
    Customer,
    /// Grades `graded` expectations (`models.judge`).
    Judge,
}

impl ModelRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelRole::Customer => "customer",
            ModelRole::Judge => "judge",
        }
    }
}

/// One question to one of muster's models: every exchange it took, and the answer's text.
#[derive(Clone, Debug)]
pub struct ModelAnswer {
    pub exchanges: Vec<Exchange>,
    pub text: Result<String, TurnError>,
}

/// A configured endpoint.
#[derive(Clone, Debug)]
pub(crate) struct ModelClient {
    url: Url,
    model: String,
    parameters: BTreeMap<String, Value>,
    auth_header: Option<(String, String)>,
    timeout: Duration,
    /// Its own pacing: the agent's rate limit is about the agent.
    traffic: Arc<Traffic>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Models {
    customer: Option<ModelClient>,
    judge: Option<ModelClient>,
}

impl Models {
    /// Read both endpoints and their keys. A URL on an undeclared host, or a key whose variable is
    /// not set, stops the drill before anything is sent.
    pub(crate) fn from_manifest(
        manifest: &AgentManifest,
        base_url: &Url,
        interlock: &Interlock,
        env: &dyn Fn(&str) -> Option<String>,
        secrets: &mut Secrets,
    ) -> Result<Self, TargetError> {
        let mut client = |role: ModelRole, endpoint: &Option<ModelEndpoint>| {
            endpoint
                .as_ref()
                .map(|e| ModelClient::new(role, e, base_url, interlock, env, secrets))
                .transpose()
        };
        Ok(Models {
            customer: client(ModelRole::Customer, &manifest.models.customer)?,
            judge: client(ModelRole::Judge, &manifest.models.judge)?,
        })
    }

    fn get(&self, role: ModelRole) -> Option<&ModelClient> {
        match role {
            ModelRole::Customer => self.customer.as_ref(),
            ModelRole::Judge => self.judge.as_ref(),
        }
    }
}

impl ModelClient {
    fn new(
        role: ModelRole,
        endpoint: &ModelEndpoint,
        base_url: &Url,
        interlock: &Interlock,
        env: &dyn Fn(&str) -> Option<String>,
        secrets: &mut Secrets,
    ) -> Result<Self, TargetError> {
        let bad = |reason: String| TargetError::ModelUrl {
            role: role.as_str(),
            url: endpoint.url.clone(),
            reason,
        };
        let url = if endpoint.url.contains("://") {
            Url::parse(&endpoint.url).map_err(|e| bad(e.to_string()))?
        } else {
            base_url
                .join(&endpoint.url)
                .map_err(|e| bad(e.to_string()))?
        };
        interlock.check(&url)?;
        let auth_header = match &endpoint.auth {
            None => None,
            Some(auth) => Some(auth_header(auth, &read_secret(auth, env, secrets)?)),
        };
        Ok(ModelClient {
            url,
            model: endpoint.model.clone(),
            parameters: endpoint.parameters.clone(),
            auth_header,
            timeout: endpoint.timeout.0,
            traffic: Arc::new(Traffic::new(None, None, 2)),
        })
    }
}

impl Target {
    /// Whether the manifest declares this model.
    pub fn has_model(&self, role: ModelRole) -> bool {
        self.models.get(role).is_some()
    }

    /// Ask one of muster's models: `messages` as chat-completions messages; the answer is the
    /// first choice's text. An answer without text (tool calls only, empty) is malformed.
    pub async fn ask_model(&self, role: ModelRole, messages: Vec<Value>) -> ModelAnswer {
        let Some(client) = self.models.get(role) else {
            return ModelAnswer {
                exchanges: Vec::new(),
                text: Err(TurnError::Request(format!(
                    "the manifest declares no `models.{}`",
                    role.as_str()
                ))),
            };
        };
        let body = chat_body(&client.model, messages, &client.parameters);
        let (headers, secret_headers) = match &client.auth_header {
            Some((name, value)) => (vec![(name.clone(), value.clone())], vec![name.clone()]),
            None => (Vec::new(), Vec::new()),
        };
        let out = Outgoing {
            method: reqwest::Method::POST,
            url: client.url.clone(),
            headers,
            secret_headers,
            body: Some(Value::Object(body)),
            timeout: client.timeout,
            decode: None,
            event_stream: false,
        };
        let (exchanges, doc) = send(
            self.client(),
            self.interlock(),
            self.secrets(),
            &client.traffic,
            out,
        )
        .await;
        let text = doc.and_then(|doc| {
            let message = read_chat_message(&doc)?;
            if message.text.trim().is_empty() {
                return Err(TurnError::Malformed(
                    "the model's answer has no text".to_owned(),
                ));
            }
            Ok(message.text)
        });
        ModelAnswer { exchanges, text }
    }
}
