//! How muster reaches the agent under test.
//!
//! * [`Interlock`] decides whether a URL may be contacted at all: only targets whose manifest says
//!   `pre-production` or `sandbox`, and only hosts the manifest declares. There is no override.
//! * [`Target`] speaks the agent's interface (an adapter per interface) and turns each reply into
//!   an [`AgentReply`]: text, executed tool calls, handover flag, confidence, content version.
//! * Every HTTP exchange is returned as an [`Exchange`] for the evidence store, with secrets
//!   redacted.
//!
//! **Invariants:** no request leaves without passing the interlock; no response is cached; redirects
//! are not followed; a transport error, timeout, error status or unreadable reply is an error
//! value (the drill calls it inconclusive), never a reply.

mod action;
mod adapter;
mod anthropic;
mod azure;
mod bedrock;
mod command;
pub mod eventstream;
mod exchange;
mod glassbox;
mod interlock;
mod model;
mod reply;
mod responses;
pub mod sigv4;
mod sse;
mod traffic;

pub use action::{ActionOutcome, run_action};
pub use adapter::{Conversation, Target, TurnOutcome};
pub use exchange::{Exchange, Secrets};
pub use interlock::{Interlock, InterlockError};
pub use model::{ModelAnswer, ModelRole};
pub use reply::{AgentReply, ToolCall};
pub use traffic::{SharedPacing, SlotFuture};

/// Why a turn produced no judgeable reply. Each of these makes the turn inconclusive.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum TurnError {
    #[error("no reply within {0:?}")]
    Timeout(std::time::Duration),
    #[error("could not reach the agent: {0}")]
    Transport(String),
    #[error("the agent answered HTTP {status}: {excerpt}")]
    Status { status: u16, excerpt: String },
    #[error("the agent's reply could not be read: {0}")]
    Malformed(String),
    #[error("refused by the safety interlock: {0}")]
    Refused(#[from] InterlockError),
    #[error("the request could not be built: {0}")]
    Request(String),
}

impl TurnError {
    /// The error in words that do not assume the agent was asked: for muster's own models.
    pub fn detail(&self) -> String {
        match self {
            TurnError::Status { status, excerpt } => format!("HTTP {status}: {excerpt}"),
            TurnError::Transport(m) => format!("could not connect: {m}"),
            TurnError::Malformed(m) => format!("unreadable answer: {m}"),
            other => other.to_string(),
        }
    }
}

/// Errors setting up a target, before any traffic.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Interlock(#[from] InterlockError),
    #[error("the manifest's credentials come from ${0}, which is not set")]
    MissingSecret(String),
    #[error("the `{adapter}` adapter needs a `target.{block}` block in the manifest")]
    MissingSettings {
        adapter: &'static str,
        block: &'static str,
    },
    #[error(
        "the `bedrock-converse` adapter signs for an AWS region: set `target.bedrock_converse.region` or $AWS_REGION"
    )]
    MissingRegion,
    #[error("the manifest's `azure` settings are incomplete: {0}")]
    Azure(&'static str),
    #[error("could not create the HTTP client: {0}")]
    Client(String),
    #[error(
        "`target.openai_model.system_prompt_file` ({0}) must be read when the manifest is loaded; this caller passed it unread"
    )]
    UnreadPromptFile(String),
    #[error("`models.{role}.url` ({url}) is not a URL muster can resolve: {reason}")]
    ModelUrl {
        role: &'static str,
        url: String,
        reason: String,
    },
}

/// Install the process-wide TLS crypto provider once (rustls with ring). Safe to call repeatedly.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
