//! The one error type of the command line: what went wrong, what kind of problem it is (which
//! decides the exit code), and hints on what to do.

use std::fmt;

/// Exit codes, documented in `docs/cli.md`.
pub mod exit {
    /// Everything passed / was valid / verified.
    pub const OK: u8 = 0;
    /// The drill found failures; the demo missed a planted flaw; verification found tampering.
    pub const FAILED: u8 = 1;
    /// Bad input: command-line usage, or a file with problems.
    pub const INPUT: u8 = 2;
    /// No failures, but some scenarios were inconclusive (target errors or timeouts).
    pub const INCONCLUSIVE: u8 = 3;
    /// Refused by the safety interlock (not pre-production, or an undeclared host).
    pub const REFUSED: u8 = 4;
    /// The environment stopped us: store unavailable, secret missing, port in use, interrupted.
    pub const RUNTIME: u8 = 5;
    /// A bug in muster.
    pub const INTERNAL: u8 = 70;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Input,
    Refused,
    Runtime,
    Internal,
}

#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CliError {
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Input,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Runtime,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Refused,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Internal,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Input => exit::INPUT,
            Kind::Refused => exit::REFUSED,
            Kind::Runtime => exit::RUNTIME,
            Kind::Internal => exit::INTERNAL,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for hint in &self.hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl From<muster_store::StoreError> for CliError {
    fn from(e: muster_store::StoreError) -> Self {
        use muster_store::StoreError as E;
        match &e {
            E::DrillNotFound(_) => CliError::input(e.to_string())
                .hint("`muster store list` shows the drills in this store"),
            E::AmbiguousDrill { .. } | E::Conflict(_) => CliError::input(e.to_string()),
            E::Open { .. } | E::CreateDir { .. } => CliError::runtime(e.to_string())
                .hint("pass --store PATH, or set [store] path in muster.toml"),
            E::Migrate(_) => CliError::runtime(e.to_string()).hint(
                "this store was written by a newer muster; use that version, or start a new store",
            ),
            E::SchemaBehind { .. } => CliError::input(e.to_string()).hint(
                "`muster db migrate --store URL` applies the migrations (once per database, by whoever administers it)",
            ),
            E::SchemaUnknown { .. } => CliError::input(e.to_string()),
            _ => CliError::runtime(e.to_string()),
        }
    }
}

impl From<muster_console::ConsoleError> for CliError {
    fn from(e: muster_console::ConsoleError) -> Self {
        use muster_console::ConsoleError as E;
        match e {
            E::Store(store) => store.into(),
            E::Internal(_) => CliError::internal(e.to_string()),
            _ => CliError::input(e.to_string()),
        }
    }
}

impl From<muster_target::TargetError> for CliError {
    fn from(e: muster_target::TargetError) -> Self {
        use muster_target::TargetError as E;
        match &e {
            E::Interlock(_) => CliError::refused(e.to_string()).hint("drills send traffic only to targets the manifest declares as pre-production or sandbox, on hosts it lists"),
            E::MissingSecret(var) => CliError::runtime(e.to_string()).hint(format!("export {var}=… before running the drill; muster never stores it")),
            E::MissingSettings { .. } | E::Azure(_) | E::ModelUrl { .. } => {
                CliError::input(e.to_string())
            }
            E::UnreadPromptFile(_) => CliError::internal(e.to_string()),
            E::MissingRegion => CliError::runtime(e.to_string()).hint("export AWS_REGION=… or set `target.bedrock_converse.region`"),
            E::Client(_) => CliError::internal(e.to_string()),
        }
    }
}

impl From<muster_drill::DrillError> for CliError {
    fn from(e: muster_drill::DrillError) -> Self {
        match e {
            muster_drill::DrillError::Target(t) => t.into(),
            muster_drill::DrillError::Store(s) => CliError::runtime(format!(
                "evidence could not be recorded, so the drill stopped: {s}"
            )),
            muster_drill::DrillError::Task(t) => {
                CliError::internal(format!("a conversation task failed: {t}"))
            }
            muster_drill::DrillError::Observe(o) => CliError::runtime(o.to_string()).hint(
                "is something else (an OpenTelemetry collector?) on that port? change `target.observe.traces.listen`",
            ),
        }
    }
}
