//! `{{placeholder}}` substitution in request templates and fixture parameters.
//!
//! Deliberately tiny: a fixed set of names per context, validated at load time, so a typo in a
//! manifest is an error at `file:line:column` rather than a literal `{{sesion_id}}` sent to an agent.

use std::collections::BTreeMap;

use serde_json::Value;

/// Names a template may use, and their values at run time.
pub type Vars = BTreeMap<String, Value>;

/// Every placeholder name in `text`, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        names.push(after[..close].trim());
        rest = &after[close + 2..];
    }
    names
}

/// Every placeholder in the strings of a JSON value, with the JSON pointer of the string.
pub fn placeholders_in(value: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => out.extend(
            placeholders(s)
                .into_iter()
                .map(|n| (pointer.to_owned(), n.to_owned())),
        ),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                placeholders_in(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                placeholders_in(
                    v,
                    &format!("{pointer}/{}", crate::tree::escape_pointer_token(k)),
                    out,
                );
            }
        }
        _ => {}
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown placeholder `{{{{{0}}}}}`")]
pub struct UnknownPlaceholder(pub String);

/// Substitute into text. Non-string values are written as JSON.
pub fn render_str(text: &str, vars: &Vars) -> Result<String, UnknownPlaceholder> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push_str(&rest[..open]);
        let name = after[..close].trim();
        match vars.get(name) {
            Some(Value::String(s)) => out.push_str(s),
            Some(other) => out.push_str(&other.to_string()),
            None => return Err(UnknownPlaceholder(name.to_owned())),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Substitute into every string of a JSON value. A string that is exactly one placeholder takes the
/// variable's JSON value, so numbers and objects keep their type.
pub fn render_json(value: &Value, vars: &Vars) -> Result<Value, UnknownPlaceholder> {
    Ok(match value {
        Value::String(s) => {
            let trimmed = s.trim();
            let single = trimmed.starts_with("{{")
                && trimmed.ends_with("}}")
                && placeholders(trimmed).len() == 1
                && trimmed.matches("{{").count() == 1;
            if single {
                let name = trimmed[2..trimmed.len() - 2].trim();
                vars.get(name)
                    .cloned()
                    .ok_or_else(|| UnknownPlaceholder(name.to_owned()))?
            } else {
                Value::String(render_str(s, vars)?)
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_json(v, vars)?)))
                .collect::<Result<_, UnknownPlaceholder>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.insert("message".into(), json!("hi \"there\""));
        v.insert("turn".into(), json!(2));
        v
    }

    #[test]
    fn whole_placeholders_keep_their_json_type() {
        let out = render_json(
            &json!({"t": "{{turn}}", "m": "{{ message }}", "s": "turn {{turn}}"}),
            &vars(),
        );
        assert_eq!(out, Ok(json!({"t": 2, "m": "hi \"there\"", "s": "turn 2"})));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            render_str("{{nope}}", &vars()),
            Err(UnknownPlaceholder("nope".into()))
        );
        assert_eq!(placeholders("a {{x}} b {{ y.z }}"), vec!["x", "y.z"]);
    }
}
