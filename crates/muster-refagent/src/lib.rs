//! The reference agent: "Larkspur Mobile", a fictional UK telecoms and devices retailer's
//! customer-support agent, for muster to drill against.
//!
//! It has a SQLite CRM of synthetic customers, a versioned knowledge base, tools with limits, an
//! escalation route and a handover queue — and switchable planted flaws ([`Flaw`]) matching the
//! failures the product rehearses. [`FlawSet::none`] is the hardened agent. It needs no model and no
//! network; an optional OpenAI-compatible model can drive the same tools and policies instead.
//!
//! **Invariant:** flaws fire from the customer's intent, their CRM state, the knowledge-base version
//! and policy — never from a scenario's wording or id. Phrasing varies with the seed.

mod brain;
mod crm;
mod exports;
mod flaws;
mod helpdesk;
mod intent;
mod kb;
mod model;
mod phrasing;
mod server;
mod telemetry;
mod tools;

pub(crate) fn now_ns() -> i64 {
    jiff::Timestamp::now()
        .as_nanosecond()
        .try_into()
        .unwrap_or(i64::MAX)
}

/// A nanosecond timestamp as RFC 3339 (UTC), the way the admin API reports times.
pub(crate) fn rfc3339(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

use std::net::SocketAddr;

pub use crm::{Address, Bereavement, Customer, Plan};
pub use flaws::{Flaw, FlawSet};
pub use server::{AppState, router, router_with_reply_delay};
pub use telemetry::{BATCH_DELAY, Telemetry, TelemetryConfig, TelemetryStats};

/// The synthetic customer base as the agent loads it today (personas first, `LM-100001` on), so
/// tests and scenario authors can read it without starting a server.
pub fn customers() -> Vec<Customer> {
    crm::seeded_customers(today())
}

/// Dates in the CRM (deliveries, deaths, contract ends) are relative to the day the agent starts,
/// unless [`RefAgentConfig::today`] pins it.
fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// How to run the agent.
#[derive(Clone, Debug)]
pub struct RefAgentConfig {
    /// Phrasing seed.
    pub seed: u64,
    pub flaws: FlawSet,
    /// Chance that each configured flaw is active in a given conversation (1.0: always). Below 1 the
    /// agent is stochastic, as a real one is: each new conversation draws its own flaws from the
    /// seed, so a drill's repeats estimate the rate.
    pub flaw_rate: f64,
    /// Let a real model drive the tools instead of the rule brain.
    pub model: Option<ModelConfig>,
    /// Pin the agent's calendar (its CRM dates are relative to "today"), for reproducible output.
    pub today: Option<jiff::civil::Date>,
    /// Export each turn as OpenTelemetry GenAI spans (OTLP/HTTP, or a JSON Lines file).
    pub telemetry: TelemetryConfig,
}

#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// OpenAI-compatible base URL, e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RefAgentError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the CRM could not be created: {0}")]
    Crm(#[from] sqlx::Error),
    #[error("the HTTP client for the model could not be created: {0}")]
    Http(String),
}

/// A running agent.
pub struct RunningRefAgent {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRefAgent {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (an agent bound to every interface is reached through loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Stop serving and wait for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serve until Ctrl-C (or until the server stops by itself), then shut down.
    pub async fn wait(mut self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = &mut self.task => return,
        }
        self.shutdown().await;
    }
}

/// Start the agent on `bind` (port 0 picks a free port).
pub async fn start(
    config: RefAgentConfig,
    bind: SocketAddr,
) -> Result<RunningRefAgent, RefAgentError> {
    start_with_reply_delay(config, bind, std::time::Duration::ZERO).await
}

/// As [`start`], each conversation reply held back by `delay` (a fixed model latency).
pub async fn start_with_reply_delay(
    config: RefAgentConfig,
    bind: SocketAddr,
    delay: std::time::Duration,
) -> Result<RunningRefAgent, RefAgentError> {
    let state = AppState::new(config).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|source| RefAgentError::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| RefAgentError::Bind { addr: bind, source })?;
    // Replies go out as soon as they are written (no Nagle delay behind an unacknowledged segment).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Peer addresses let the admin routes refuse callers that are not on this machine.
    let app = server::router_with_reply_delay(state, delay)
        .into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningRefAgent {
        addr,
        shutdown: Some(tx),
        task,
    })
}
