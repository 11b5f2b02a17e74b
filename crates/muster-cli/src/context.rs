//! What every command needs from its surroundings: the project configuration (found by walking up
//! from the working directory), the evidence store's location, and whether to use colour.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use muster_model::config::{CONFIG_FILE_NAME, ProjectConfig};

use crate::cli::{Cli, ColorChoice};
use crate::error::CliError;
use crate::render::diagnostics::render_file_diagnostics;

pub struct Context {
    pub store_path: PathBuf,
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
        let store_path = match (&cli.store, &config) {
            (Some(p), _) => p.clone(),
            (None, Some((path, cfg))) => {
                let base = path.parent().unwrap_or(Path::new("."));
                match (&cfg.store.path, &cfg.store.url) {
                    (Some(p), _) => base.join(p),
                    (None, Some(url)) => match url.strip_prefix("sqlite://") {
                        Some(p) => PathBuf::from(p),
                        None => {
                            return Err(CliError::input(format!("`[store] url = \"{url}\"` in {}: only sqlite:// stores are supported by this version", path.display()))
                                .hint("the PostgreSQL store is not built yet; use `path = \".muster/evidence.db\"`"));
                        }
                    },
                    (None, None) => base.join(".muster/evidence.db"),
                }
            }
            (None, None) => PathBuf::from(".muster/evidence.db"),
        };
        Ok(Self {
            store_path,
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

    pub async fn open_store(&self) -> Result<muster_store::SqliteStore, CliError> {
        Ok(muster_store::SqliteStore::open(&self.store_path).await?)
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
