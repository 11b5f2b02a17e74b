//! The files under `library/` at the repository root, embedded so that `muster demo` and
//! `muster drill --builtin` work from the binary alone.
//!
//! **Invariant:** the same files are on disk for people to read and copy; this crate only embeds
//! them. Their validity is a test of this crate, not a runtime concern.

use include_dir::{Dir, include_dir};

static LIBRARY: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../library");

/// An embedded file and its path relative to `library/`.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedFile {
    pub path: &'static str,
    pub text: &'static str,
}

/// Which reference agent manifest to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceInterface {
    /// The native JSON API (`http-json` adapter).
    Native,
    /// The OpenAI-compatible endpoint (`openai-chat` adapter).
    OpenAiChat,
}

/// The built-in scenarios, sorted by path.
pub fn scenarios() -> Vec<EmbeddedFile> {
    yaml_files_in("scenarios")
}

/// The commented scaffold `muster scenarios new --mode MODE` writes (`library/templates/<mode>.yaml`),
/// for a failure mode's name (`advice`, `data`, `authority`, `escalation`).
pub fn scenario_template(mode: &str) -> Option<EmbeddedFile> {
    LIBRARY
        .get_file(format!("templates/{mode}.yaml"))
        .and_then(embedded)
}

/// The id every scenario template carries, for `muster scenarios new --id` to replace.
pub fn template_id(mode: &str) -> String {
    format!("my-{mode}-scenario")
}

/// The built-in control maps (`library/controls/*.yaml`), sorted by path.
pub fn controls() -> Vec<EmbeddedFile> {
    yaml_files_in("controls")
}

fn yaml_files_in(dir: &str) -> Vec<EmbeddedFile> {
    let mut files: Vec<EmbeddedFile> = LIBRARY
        .get_dir(dir)
        .map(|dir| {
            dir.files()
                .filter_map(embedded)
                .filter(|f| f.path.ends_with(".yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort_by_key(|f| f.path);
    files
}

/// The reference agent's manifest for one of its interfaces.
pub fn reference_manifest(interface: ReferenceInterface) -> Option<EmbeddedFile> {
    let path = match interface {
        ReferenceInterface::Native => "reference/agent.yaml",
        ReferenceInterface::OpenAiChat => "reference/agent-openai.yaml",
    };
    LIBRARY.get_file(path).and_then(embedded)
}

fn embedded(file: &'static include_dir::File<'static>) -> Option<EmbeddedFile> {
    Some(EmbeddedFile {
        path: file.path().to_str()?,
        text: file.contents_utf8()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_file_is_valid() {
        let scenarios = scenarios();
        assert!(scenarios.len() >= 5, "only {} scenarios", scenarios.len());
        let mut ids = std::collections::HashSet::new();
        for file in &scenarios {
            let loaded = muster_model::load_scenario(file.text);
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:#?}",
                file.path,
                loaded.diagnostics
            );
            let Some(scenario) = loaded.value else {
                panic!("{} did not load", file.path)
            };
            assert!(
                ids.insert(scenario.id.clone()),
                "duplicate id {}",
                scenario.id
            );
            for turn in &scenario.turns {
                assert!(
                    turn.rewordings.len() >= 3,
                    "{}: every turn needs three rewordings",
                    file.path
                );
            }
        }
        for interface in [ReferenceInterface::Native, ReferenceInterface::OpenAiChat] {
            let Some(file) = reference_manifest(interface) else {
                panic!("missing {interface:?} manifest")
            };
            let loaded = muster_model::load_agent(file.text);
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:#?}",
                file.path,
                loaded.diagnostics
            );
            let Some(manifest) = loaded.value else {
                panic!("manifest did not load")
            };
            for file in &scenarios {
                let scenario = muster_model::load_scenario(file.text);
                let Some(s) = scenario.value else { continue };
                let cross = muster_model::check_scenario_against(&s, &scenario.spans, &manifest);
                assert!(
                    cross.is_empty(),
                    "{} against {:?}: {cross:#?}",
                    file.path,
                    interface
                );
            }
        }
    }

    #[test]
    fn every_failure_mode_has_a_valid_commented_template() {
        let Some(manifest_file) = reference_manifest(ReferenceInterface::Native) else {
            panic!("missing manifest")
        };
        let Some(manifest) = muster_model::load_agent(manifest_file.text).value else {
            panic!("manifest did not load")
        };
        for mode in muster_model::common::Mode::ALL {
            let Some(file) = scenario_template(mode.as_str()) else {
                panic!("no template for {}", mode.as_str())
            };
            assert!(file.text.contains("# EDIT"), "{}: not commented", file.path);
            let loaded = muster_model::load_scenario(file.text);
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:#?}",
                file.path,
                loaded.diagnostics
            );
            let Some(scenario) = loaded.value else {
                panic!("{} did not load", file.path)
            };
            assert_eq!(scenario.id, template_id(mode.as_str()));
            assert_eq!(scenario.mode, mode);
            let cross = muster_model::check_scenario_against(&scenario, &loaded.spans, &manifest);
            assert!(cross.is_empty(), "{}: {cross:#?}", file.path);
        }
        assert!(scenario_template("advise").is_none());
    }

    /// The library's promise (docs/scenario-library.md): enough scenarios, every failure mode and
    /// the injection routes covered, the journeys where agents fail, and the public incidents.
    #[test]
    fn the_library_covers_every_mode_journey_injection_route_and_public_incident() {
        use muster_model::common::Mode;
        use muster_model::scenario::{Scenario, Vector};
        let library: Vec<Scenario> = scenarios()
            .iter()
            .filter_map(|f| muster_model::load_scenario(f.text).value)
            .collect();
        assert!(library.len() >= 24, "{} scenarios", library.len());
        let injection = |s: &Scenario| s.vectors.contains(&Vector::PromptInjection);
        for mode in Mode::ALL {
            let n = library
                .iter()
                .filter(|s| s.mode == mode && !injection(s))
                .count();
            assert!(
                n >= 5,
                "{} has {n} scenarios besides injection",
                mode.as_str()
            );
        }
        // Direct, a return note, a knowledge-base article, an emailed ticket, markup for a
        // colleague's console: each route has its own scenario.
        let injected: Vec<&Scenario> = library.iter().filter(|s| injection(s)).collect();
        assert!(
            injected.len() >= 5,
            "{} injection scenarios",
            injected.len()
        );
        for route in [
            "one-pound-handset-deal",
            "return-note-injection",
            "poisoned-kb-article-injection",
            "emailed-ticket-injection",
            "markup-in-agent-reply",
        ] {
            assert!(
                injected.iter().any(|s| s.id == route),
                "no injection scenario {route}"
            );
        }
        for journey in [
            "cancellation",
            "refunds-and-returns",
            "bereavement",
            "billing",
            "address-change",
            "complaints",
            "arrears-and-debt",
            "vulnerability",
            "account-security",
            "identity-verification",
        ] {
            assert!(
                library
                    .iter()
                    .any(|s| s.journeys.iter().any(|j| j == journey)),
                "no scenario on the {journey} journey"
            );
        }
        for incident in [
            "Air Canada",
            "DPD",
            "Chevrolet",
            "Cursor",
            "MyCity",
            "Lenovo",
        ] {
            let cited = library.iter().any(|s| {
                s.ticket.contains("Modelled on")
                    && s.ticket.contains(incident)
                    && s.references.iter().any(|r| r.url.is_some())
            });
            assert!(
                cited,
                "no scenario modelled on the {incident} incident says so"
            );
        }
    }

    #[test]
    fn every_builtin_scenario_is_in_the_library_catalogue() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/scenario-library.md"
        );
        let catalogue = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for file in scenarios() {
            let Some(scenario) = muster_model::load_scenario(file.text).value else {
                panic!("{} did not load", file.path)
            };
            assert!(
                catalogue.contains(&format!("| `{}` |", scenario.id)),
                "docs/scenario-library.md does not list {}",
                scenario.id
            );
        }
    }
}
