//! The safety interlock: drills only ever reach declared pre-production hosts.

use muster_model::agent::{AgentManifest, Environment};
use muster_model::host_allowed;
use url::Url;

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum InterlockError {
    #[error(
        "the manifest says `environment: {0}`; muster drills only `pre-production` or `sandbox` targets, and this cannot be overridden"
    )]
    Environment(&'static str),
    #[error("`{host}` is not among the manifest's declared hosts ({declared}); nothing was sent")]
    UndeclaredHost { host: String, declared: String },
    #[error("`{0}` is not an http(s) URL with a host")]
    BadUrl(String),
}

/// Checks every destination before anything is sent.
#[derive(Clone, Debug)]
pub struct Interlock {
    hosts: Vec<String>,
}

impl Interlock {
    pub fn for_manifest(manifest: &AgentManifest) -> Result<Self, InterlockError> {
        if !manifest.environment.is_drillable() {
            return Err(InterlockError::Environment(manifest.environment.as_str()));
        }
        debug_assert!(matches!(
            manifest.environment,
            Environment::PreProduction | Environment::Sandbox
        ));
        Ok(Self {
            hosts: manifest.hosts.clone(),
        })
    }

    pub fn check(&self, url: &Url) -> Result<(), InterlockError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(InterlockError::BadUrl(url.to_string()));
        }
        let host = url
            .host_str()
            .ok_or_else(|| InterlockError::BadUrl(url.to_string()))?;
        if host_allowed(&self.hosts, host, url.port_or_known_default()) {
            Ok(())
        } else {
            Err(InterlockError::UndeclaredHost {
                host: match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                },
                declared: self.hosts.join(", "),
            })
        }
    }
}
