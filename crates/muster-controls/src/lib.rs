//! The control map: every framework edition muster knows (`library/controls/*.yaml`, embedded),
//! indexed by key `framework@edition:id`, and muster's own concepts (`muster@1`) mapped onto them.
//!
//! **Invariants:** a [`Catalogue`] only exists when every file loaded without errors, every key is
//! unique, and every `maps_to` key resolves; so a key handed out by the catalogue always explains
//! itself. Concept keys the code relies on (failure modes, control checks, governance controls)
//! are checked by this crate's tests.

use std::collections::BTreeMap;

use muster_model::common::Mode;
use muster_model::controls::{ControlEntry, ControlMap};
use muster_model::diag::Diagnostic;
use serde::Serialize;

/// The framework whose entries are muster's own concepts.
pub const MUSTER_FRAMEWORK: &str = "muster";

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{path}: {}", summarise(.diagnostics))]
    Invalid {
        path: String,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("{path}: key `{key}` is defined twice")]
    Duplicate { path: String, key: String },
    #[error("{path}: `{from}` maps to `{to}`, which no control map defines")]
    Dangling {
        path: String,
        from: String,
        to: String,
    },
}

fn summarise(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| match &d.span {
            Some(span) => format!("{}:{}: {}", span.start.line, span.start.column, d.message),
            None => d.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One entry with the map it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Located<'c> {
    pub key: &'c str,
    pub map: &'c ControlMap,
    pub entry: &'c ControlEntry,
}

#[derive(Debug)]
pub struct Catalogue {
    maps: Vec<ControlMap>,
    /// key → (map index, entry index)
    index: BTreeMap<String, (usize, usize)>,
}

/// A framework edition, as listed by `muster controls`.
#[derive(Clone, Debug, Serialize)]
pub struct FrameworkSummary {
    pub prefix: String,
    pub title: String,
    pub publisher: Option<String>,
    pub source: Option<String>,
    pub entries: usize,
}

impl Catalogue {
    /// The built-in control maps.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        let files: Vec<(String, String)> = muster_library::controls()
            .into_iter()
            .map(|f| (format!("library/{}", f.path), f.text.to_owned()))
            .collect();
        Catalogue::from_texts(&files)
    }

    /// Control maps from `(path, text)` pairs.
    pub fn from_texts(files: &[(String, String)]) -> Result<Catalogue, CatalogueError> {
        let mut maps = Vec::new();
        let mut paths = Vec::new();
        for (path, text) in files {
            let loaded = muster_model::load_control_map(text);
            match loaded.value {
                Some(map) if !loaded.has_errors() => {
                    maps.push(map);
                    paths.push(path.clone());
                }
                _ => {
                    return Err(CatalogueError::Invalid {
                        path: path.clone(),
                        diagnostics: loaded.diagnostics,
                    });
                }
            }
        }
        let mut index = BTreeMap::new();
        for (m, map) in maps.iter().enumerate() {
            for (e, entry) in map.entries.iter().enumerate() {
                let key = map.key(entry);
                if index.insert(key.clone(), (m, e)).is_some() {
                    return Err(CatalogueError::Duplicate {
                        path: paths[m].clone(),
                        key,
                    });
                }
            }
        }
        for (m, map) in maps.iter().enumerate() {
            for entry in &map.entries {
                if let Some(to) = entry.maps_to.iter().find(|k| !index.contains_key(*k)) {
                    return Err(CatalogueError::Dangling {
                        path: paths[m].clone(),
                        from: map.key(entry),
                        to: to.clone(),
                    });
                }
            }
        }
        Ok(Catalogue { maps, index })
    }

    pub fn get(&self, key: &str) -> Option<Located<'_>> {
        let (k, &(m, e)) = self.index.get_key_value(key)?;
        Some(Located {
            key: k,
            map: &self.maps[m],
            entry: &self.maps[m].entries[e],
        })
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<&str> {
        self.index.keys().map(String::as_str).collect()
    }

    pub fn frameworks(&self) -> Vec<FrameworkSummary> {
        let mut out: Vec<FrameworkSummary> = self
            .maps
            .iter()
            .map(|m| FrameworkSummary {
                prefix: m.prefix(),
                title: m.title.clone(),
                publisher: m.publisher.clone(),
                source: m.source.clone(),
                entries: m.entries.len(),
            })
            .collect();
        out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        out
    }

    /// Entries of one framework edition (`owasp-llm@2025`) or of every edition of a framework
    /// (`owasp-llm`).
    pub fn entries_of(&self, framework: &str) -> Vec<Located<'_>> {
        self.index
            .keys()
            .filter_map(|k| self.get(k))
            .filter(|l| l.map.prefix() == framework || l.map.framework == framework)
            .collect()
    }

    /// The framework keys a muster concept maps to; the concept's own key comes first.
    pub fn expand(&self, concept: &str) -> Vec<String> {
        let mut out = vec![concept.to_owned()];
        if let Some(l) = self.get(concept) {
            out.extend(l.entry.maps_to.iter().cloned());
        }
        out
    }

    /// The muster concepts that map to `key`.
    pub fn concepts_mapping_to(&self, key: &str) -> Vec<Located<'_>> {
        self.entries_of(MUSTER_FRAMEWORK)
            .into_iter()
            .filter(|l| l.entry.maps_to.iter().any(|k| k == key))
            .collect()
    }
}

/// The concept key of a failure mode, e.g. `muster@1:failure-mode/advice`.
pub fn failure_mode_key(mode: Mode) -> String {
    format!("muster@1:failure-mode/{}", mode.as_str())
}

/// The concept key of the prompt-injection vector.
pub const PROMPT_INJECTION_KEY: &str = "muster@1:vector/prompt-injection";

/// The concept key of a measured control check, e.g. `muster@1:control/kill-switch`.
pub fn control_check_key(control: &str) -> String {
    format!("muster@1:control/{control}")
}
