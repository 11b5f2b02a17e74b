//! The incident severity model (SEV1..SEV5 style), separate from a scenario's severity scale.
//! Editable; every edit is a new version, and a severity set in an exercise names its version.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::app::Backend;
use crate::error::{ConsoleError, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityLevel {
    /// Short key, e.g. `SEV1`.
    pub level: String,
    pub name: String,
    pub definition: String,
}

/// Version 0: the model muster ships with, used until someone saves their own.
pub fn default_levels() -> Vec<SeverityLevel> {
    [
        ("SEV1", "Critical", "Customers are being harmed at scale or a legal duty is being breached now; stop the agent."),
        ("SEV2", "Major", "Individual customers harmed, or commitments or personal data going out wrongly; contain within the hour."),
        ("SEV3", "Moderate", "Wrong answers without a commitment, data exposure or vulnerable customer; fix within a day."),
        ("SEV4", "Minor", "A quality problem with no customer detriment."),
        ("SEV5", "Informational", "A near miss or a drill finding; track to closure."),
    ]
    .into_iter()
    .map(|(level, name, definition)| SeverityLevel {
        level: level.into(),
        name: name.into(),
        definition: definition.into(),
    })
    .collect()
}

/// The current version and its levels.
pub async fn current_model(store: &dyn Backend) -> Result<(i64, Vec<SeverityLevel>)> {
    let versions = store.severity_models().await?;
    match versions.last() {
        None => Ok((0, default_levels())),
        Some(v) => {
            let levels = serde_json::from_value(v.levels.clone()).map_err(|e| {
                ConsoleError::Internal(format!(
                    "severity model version {} is unreadable: {e}",
                    v.version
                ))
            })?;
            Ok((v.version, levels))
        }
    }
}

/// Levels from form lines `LEVEL | name | definition`.
pub fn parse_lines(lines: &[String]) -> Result<Vec<SeverityLevel>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
            match parts.as_slice() {
                [level, name, definition] => Ok(SeverityLevel {
                    level: (*level).to_owned(),
                    name: (*name).to_owned(),
                    definition: (*definition).to_owned(),
                }),
                _ => Err(ConsoleError::BadRequest(format!(
                    "severity line {}: write it as `LEVEL | name | definition`",
                    i + 1
                ))),
            }
        })
        .collect()
}

pub fn check(levels: &[SeverityLevel]) -> Result<()> {
    if levels.len() < 2 {
        return Err(ConsoleError::BadRequest(
            "a severity model needs at least two levels".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for l in levels {
        if l.level.trim().is_empty() || l.name.trim().is_empty() || l.definition.trim().is_empty() {
            return Err(ConsoleError::BadRequest(
                "every severity level needs a key, a name and a definition".into(),
            ));
        }
        if !seen.insert(l.level.as_str()) {
            return Err(ConsoleError::BadRequest(format!(
                "severity level `{}` appears twice",
                l.level
            )));
        }
    }
    Ok(())
}
