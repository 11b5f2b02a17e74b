//! What every command needs from its surroundings: the project configuration (found by walking up
//! from the working directory), the evidence store's location, and whether to use colour.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use muster_model::config::{CONFIG_FILE_NAME, ProjectConfig};
use muster_store::{Store, StoreLocation};

use crate::cli::{Cli, ColorChoice};
use crate::error::CliError;
use crate::render::diagnostics::render_file_diagnostics;

pub struct Context {
    /// The evidence store: a SQLite file (the default) or a PostgreSQL database.
    pub store: StoreLocation,
    /// The folder for what is kept beside the store on this machine (packs, received exports,
    /// the signing key): the SQLite file's folder, else `.muster` beside muster.toml or here.
    pub local_dir: PathBuf,
    pub color: bool,
    pub stderr_is_terminal: bool,
    pub config: Option<(PathBuf, ProjectConfig)>,
}

impl Context {
    pub fn new(cli: &Cli) -> Result<Self, CliError> {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::runtime(format!("cannot read the working directory: {e}")))?;
        let config = find_config(&cwd)
            .map(|path| load_config(&path, color))
            .transpose()?;
        let store = match (&cli.store, &config) {
            (Some(given), _) => StoreLocation::parse(given),
            (None, Some((path, cfg))) => {
                let base = path.parent().unwrap_or(Path::new("."));
                match (&cfg.store.path, &cfg.store.url) {
                    (Some(p), _) => StoreLocation::Sqlite(base.join(p)),
                    (None, Some(url)) => match StoreLocation::parse(url) {
                        StoreLocation::Sqlite(p) if url.starts_with("sqlite://") => {
                            StoreLocation::Sqlite(base.join(p))
                        }
                        StoreLocation::Sqlite(_) => {
                            return Err(CliError::input(format!(
                                "`[store] url = \"{url}\"` in {}: not a store URL",
                                path.display()
                            ))
                            .hint("use `sqlite://PATH`, `postgres://HOST/DATABASE`, or `path = \".muster/evidence.db\"`"));
                        }
                        pg => pg,
                    },
                    (None, None) => StoreLocation::Sqlite(base.join(".muster/evidence.db")),
                }
            }
            (None, None) => StoreLocation::Sqlite(PathBuf::from(".muster/evidence.db")),
        };
        let local_dir = match &store {
            StoreLocation::Sqlite(path) => path.parent().unwrap_or(Path::new(".")).to_owned(),
            StoreLocation::Postgres(_) => config
                .as_ref()
                .and_then(|(path, _)| path.parent())
                .unwrap_or(Path::new("."))
                .join(".muster"),
        };
        Ok(Self {
            store,
            local_dir,
            color,
            stderr_is_terminal,
            config,
        })
    }

    /// Conversations at once: the flag, else `[drill] concurrency`, else 4.
    pub fn concurrency(&self, flag: Option<usize>) -> usize {
        flag.or_else(|| {
            self.config
                .as_ref()
                .and_then(|(_, c)| c.drill.concurrency)
                .map(|c| c as usize)
        })
        .unwrap_or(4)
        .max(1)
    }

    /// The pass policy: muster's defaults with `[drill.policy]` from muster.toml.
    pub fn policy(&self) -> muster_drill::PassPolicy {
        match &self.config {
            Some((_, c)) => muster_drill::PassPolicy::from_config(&c.drill.policy),
            None => muster_drill::PassPolicy::default(),
        }
    }

    /// `muster.lock`: the flag, else beside muster.toml, else in the working directory.
    pub fn lock_path(&self, flag: Option<&Path>) -> PathBuf {
        match (flag, &self.config) {
            (Some(p), _) => p.to_owned(),
            (None, Some((path, _))) => path
                .parent()
                .unwrap_or(Path::new("."))
                .join(muster_assess::LOCK_FILE_NAME),
            (None, None) => PathBuf::from(muster_assess::LOCK_FILE_NAME),
        }
    }

    pub async fn open_store(&self) -> Result<Arc<dyn Store>, CliError> {
        Ok(self.store.open().await?)
    }

    /// For commands that read an existing store: a missing SQLite file is bad input, not an
    /// empty store to create.
    pub fn require_store(&self) -> Result<(), CliError> {
        if self.store.exists() {
            return Ok(());
        }
        Err(CliError::input(format!(
            "there is no evidence store at {}",
            self.store.describe()
        ))
        .hint("run a drill first (`muster demo`), or pass --store PATH|URL"))
    }
}

/// `muster.toml` in `start` or the nearest folder above it.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(CONFIG_FILE_NAME))
        .find(|p| p.is_file())
}

fn load_config(path: &Path, color: bool) -> Result<(PathBuf, ProjectConfig), CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::runtime(format!("cannot read {}: {e}", path.display())))?;
    let loaded = muster_model::load_config(&text);
    if loaded.has_errors() {
        eprint!(
            "{}",
            render_file_diagnostics(
                &path.display().to_string(),
                &text,
                &loaded.diagnostics,
                color,
                100
            )
        );
        return Err(CliError::input(format!(
            "{} has problems (shown above)",
            path.display()
        )));
    }
    match loaded.value {
        Some(cfg) => Ok((path.to_owned(), cfg)),
        None => Err(CliError::input(format!(
            "{} could not be read",
            path.display()
        ))),
    }
}
