//! Loading a file: text → span tree → structural check against the schema → typed model →
//! semantic checks. Never fails: the result carries the model (when usable) and every problem.

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::agent::AgentManifest;
use crate::check::Checker;
use crate::config::ProjectConfig;
use crate::controls::ControlMap;
use crate::diag::Diagnostic;
use crate::scenario::Scenario;
use crate::tree::{Node, SpanIndex, Value};
use crate::validate::{Problems, check_agent, check_control_map, check_scenario};

/// The format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The kinds of file muster reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Scenario,
    Config,
    ControlMap,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Agent, Kind::Scenario, Kind::Config, Kind::ControlMap];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Scenario => "scenario",
            Kind::Config => "config",
            Kind::ControlMap => "control-map",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// The outcome of loading one file.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The model, present when there were no errors (warnings allowed).
    pub value: Option<T>,
    pub diagnostics: Vec<Diagnostic>,
    /// Where every key and value sits, for checks made later (e.g. against a manifest).
    pub spans: SpanIndex,
}

impl<T> Loaded<T> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    fn failed(diagnostics: Vec<Diagnostic>, spans: SpanIndex) -> Self {
        Self {
            value: None,
            diagnostics,
            spans,
        }
    }
}

/// JSON Schema of a format, generated from the model types.
pub fn schema(kind: Kind) -> Json {
    let schema = match kind {
        Kind::Agent => schemars::schema_for!(AgentManifest),
        Kind::Scenario => schemars::schema_for!(Scenario),
        Kind::Config => schemars::schema_for!(ProjectConfig),
        Kind::ControlMap => schemars::schema_for!(ControlMap),
    };
    let mut json = schema.to_value();
    // Pin `version` and `kind` so editors complete them; the loader reports them specially.
    if let Some(props) = json.get_mut("properties").and_then(Json::as_object_mut) {
        if let Some(v) = props.get_mut("version").and_then(Json::as_object_mut) {
            v.insert("const".into(), Json::from(FORMAT_VERSION));
        }
        if kind != Kind::Config
            && let Some(v) = props.get_mut("kind").and_then(Json::as_object_mut)
        {
            v.insert("const".into(), Json::from(kind.as_str()));
        }
    }
    json
}

/// Which kind a YAML file declares with its `kind:` key.
pub fn detect_kind(text: &str) -> Option<Kind> {
    let root = crate::yaml::parse(text).ok()?;
    match root.get("kind")?.value.as_str()? {
        "agent" => Some(Kind::Agent),
        "scenario" => Some(Kind::Scenario),
        "control-map" => Some(Kind::ControlMap),
        _ => None,
    }
}

pub fn load_agent(text: &str) -> Loaded<AgentManifest> {
    load_yaml(text, Kind::Agent, |m: &AgentManifest, p| check_agent(m, p))
}

pub fn load_scenario(text: &str) -> Loaded<Scenario> {
    load_yaml(text, Kind::Scenario, |s: &Scenario, p| check_scenario(s, p))
}

pub fn load_control_map(text: &str) -> Loaded<ControlMap> {
    load_yaml(text, Kind::ControlMap, |m: &ControlMap, p| {
        check_control_map(m, p);
    })
}

pub fn load_config(text: &str) -> Loaded<ProjectConfig> {
    match crate::toml_tree::parse(text) {
        Ok(root) => load_tree(&root, Kind::Config, crate::validate::check_config),
        Err(diagnostics) => Loaded::failed(diagnostics, SpanIndex::default()),
    }
}

fn load_yaml<T: DeserializeOwned>(
    text: &str,
    kind: Kind,
    semantic: impl Fn(&T, &mut Problems<'_>),
) -> Loaded<T> {
    match crate::yaml::parse(text) {
        Ok(root) => load_tree(&root, kind, semantic),
        Err(diagnostics) => Loaded::failed(diagnostics, SpanIndex::default()),
    }
}

fn load_tree<T: DeserializeOwned>(
    root: &Node,
    kind: Kind,
    semantic: impl Fn(&T, &mut Problems<'_>),
) -> Loaded<T> {
    let spans = SpanIndex::build(root);
    let mut diagnostics = header_problems(root, kind);
    if !diagnostics.is_empty() {
        return Loaded::failed(diagnostics, spans);
    }
    let schema = schema(kind);
    diagnostics.extend(Checker::new(&schema).check(root));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Loaded::failed(diagnostics, spans);
    }
    let value: T = match serde_json::from_value(root.to_json()) {
        Ok(v) => v,
        Err(e) => {
            // The schema check should make this unreachable; if the two ever disagree, say so plainly.
            diagnostics.push(
                Diagnostic::error(
                    "invalid-document",
                    format!("could not read the document: {e}"),
                )
                .at(root.span)
                .with_hint(
                    "this is a muster bug if the file passed every other check; please report it",
                ),
            );
            return Loaded::failed(diagnostics, spans);
        }
    };
    let mut problems = Problems::new(&spans);
    semantic(&value, &mut problems);
    diagnostics.extend(problems.out);
    let value = (!diagnostics.iter().any(Diagnostic::is_error)).then_some(value);
    Loaded {
        value,
        diagnostics,
        spans,
    }
}

/// `version` and `kind` first, with messages that say exactly what to write.
fn header_problems(root: &Node, kind: Kind) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Value::Map(_) = root.value else {
        let what = match kind {
            Kind::Agent => "an agent manifest",
            Kind::Scenario => "a scenario",
            Kind::Config => "a configuration",
            Kind::ControlMap => "a control map",
        };
        out.push(
            Diagnostic::error(
                "not-a-mapping",
                format!(
                    "expected {what} (a mapping of keys), found {}",
                    root.kind_name()
                ),
            )
            .at(root.span)
            .with_hint(if kind == Kind::Config {
                "start with `version = 1`"
            } else {
                "start with `version: 1` and `kind:`"
            }),
        );
        return out;
    };
    match root.get("version") {
        None => out.push(
            Diagnostic::error("missing-key", "missing `version`")
                .at(crate::span::Span::point(root.span.start))
                .with_pointer("/version")
                .with_hint(format!(
                    "add `version{}{FORMAT_VERSION}` at the top",
                    if kind == Kind::Config { " = " } else { ": " }
                )),
        ),
        Some(entry) => match entry.value.value {
            Value::Int(v) if v == i64::from(FORMAT_VERSION) => {}
            Value::Int(v) => out.push(
                Diagnostic::error("unsupported-version", format!("unsupported version {v}"))
                    .at(entry.value.span)
                    .with_pointer("/version")
                    .with_hint(format!(
                        "muster {} reads version {FORMAT_VERSION}",
                        env!("CARGO_PKG_VERSION")
                    )),
            ),
            _ => out.push(
                Diagnostic::error(
                    "wrong-type",
                    format!(
                        "expected a version number, found {}",
                        entry.value.kind_name()
                    ),
                )
                .at(entry.value.span)
                .with_pointer("/version")
                .with_hint(format!("write `version: {FORMAT_VERSION}`")),
            ),
        },
    }
    if kind != Kind::Config {
        match root.get("kind") {
            None => out.push(
                Diagnostic::error("missing-key", "missing `kind`")
                    .at(crate::span::Span::point(root.span.start))
                    .with_pointer("/kind")
                    .with_hint(format!("add `kind: {}`", kind.as_str())),
            ),
            Some(entry) if entry.value.as_str() == Some(kind.as_str()) => {}
            Some(entry) => {
                let found = entry
                    .value
                    .as_str()
                    .map_or_else(|| entry.value.kind_name().to_owned(), |s| format!("`{s}`"));
                out.push(
                    Diagnostic::error(
                        "wrong-kind",
                        format!("expected `kind: {}`, found {found}", kind.as_str()),
                    )
                    .at(entry.value.span)
                    .with_pointer("/kind")
                    .with_hint(match kind {
                        Kind::Agent => {
                            "agent manifests say `kind: agent`; scenarios go with `--scenarios`"
                        }
                        Kind::Scenario => {
                            "scenarios say `kind: scenario`; the manifest goes with `--agent`"
                        }
                        Kind::ControlMap => "control maps say `kind: control-map`",
                        Kind::Config => "",
                    }),
                );
            }
        }
    }
    out
}
