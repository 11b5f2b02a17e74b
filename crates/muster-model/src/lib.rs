//! muster's file formats: the agent manifest, the scenario, the project configuration and the
//! control map.
//!
//! **Invariant:** this crate does no I/O. Callers hand it text and get back a typed model and every
//! problem found, each located at `line:column` with a hint. Loading never panics and never stops at
//! the first problem.

pub mod agent;
mod check;
pub mod common;
pub mod config;
pub mod controls;
pub mod diag;
mod document;
pub mod experiment;
pub mod scenario;
pub mod span;
pub mod template;
mod toml_tree;
pub mod tree;
mod validate;
mod yaml;

pub use check::Checker;
pub use document::{
    FORMAT_VERSION, Kind, Loaded, detect_kind, load_agent, load_config, load_control_map,
    load_scenario, schema,
};
pub use validate::{
    LINK_KEYS, check_keys_known, check_scenario_against, host_allowed, parse_host_rule,
};

/// Parse YAML into a located tree (exposed for tools that want spans of arbitrary YAML).
pub fn parse_yaml(text: &str) -> Result<tree::Node, Vec<diag::Diagnostic>> {
    yaml::parse(text)
}
