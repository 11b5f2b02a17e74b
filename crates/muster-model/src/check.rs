//! Structural validation of a [`Node`] tree against the JSON Schema generated from the Rust model.
//!
//! The schema comes from `schemars` on the same types serde deserialises into, so the editor
//! schema, the validator and the model cannot drift apart. Validation runs on the span tree rather
//! than on JSON so that every problem — not just the first — is reported at its line and column.
//! Only the keywords `schemars` emits are understood; `unsupported_keywords` lets a test prove that
//! no generated schema uses anything else.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value as Json};

use crate::diag::{Diagnostic, nearest};
use crate::tree::{Node, Value, escape_pointer_token};

/// Keywords this validator acts on, plus annotations it may safely ignore.
const UNDERSTOOD: &[&str] = &[
    "$ref",
    "$defs",
    "$schema",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    // annotations
    "title",
    "description",
    "default",
    "examples",
    "format",
    "deprecated",
    "readOnly",
    "writeOnly",
];

pub struct Checker<'s> {
    root: &'s Json,
    patterns: HashMap<String, Option<Regex>>,
}

impl<'s> Checker<'s> {
    pub fn new(root: &'s Json) -> Self {
        Self {
            root,
            patterns: HashMap::new(),
        }
    }

    pub fn check(&mut self, node: &Node) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        self.check_node(node, self.root, "", &mut out);
        out
    }

    fn resolve(&self, schema: &'s Json) -> &'s Json {
        let mut current = schema;
        for _ in 0..32 {
            let Some(reference) = current.get("$ref").and_then(Json::as_str) else {
                return current;
            };
            let Some(name) = reference.strip_prefix("#/$defs/") else {
                return current;
            };
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => current = target,
                None => return current,
            }
        }
        current
    }

    fn check_node(
        &mut self,
        node: &Node,
        schema: &'s Json,
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let schema = self.resolve(schema);
        let obj = match schema {
            Json::Bool(true) => return,
            Json::Bool(false) => {
                out.push(
                    Diagnostic::error("not-allowed", "no value is allowed here")
                        .at(node.span)
                        .with_pointer(pointer),
                );
                return;
            }
            Json::Object(obj) => obj,
            _ => return,
        };

        if let Some(all) = obj.get("allOf").and_then(Json::as_array) {
            for sub in all {
                self.check_node(node, sub, pointer, out);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(variants) = obj.get(key).and_then(Json::as_array) {
                self.check_variants(node, variants, pointer, out);
            }
        }

        if !self.type_matches(node, obj, pointer, out) {
            return;
        }
        self.check_enum_and_const(node, obj, pointer, out);
        match &node.value {
            Value::Str(s) => self.check_string(node, s, obj, pointer, out),
            Value::Int(_) | Value::Float(_) => check_number(node, obj, pointer, out),
            Value::Seq(items) => self.check_seq(node, items, obj, pointer, out),
            Value::Map(_) => self.check_map(node, obj, pointer, out),
            Value::Null | Value::Bool(_) => {}
        }
    }

    fn type_matches(
        &self,
        node: &Node,
        obj: &Map<String, Json>,
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) -> bool {
        let Some(ty) = obj.get("type") else {
            return true;
        };
        let allowed: Vec<&str> = match ty {
            Json::String(s) => vec![s.as_str()],
            Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
            _ => return true,
        };
        let ok = allowed.iter().any(|t| match (*t, &node.value) {
            ("null", Value::Null)
            | ("boolean", Value::Bool(_))
            | ("integer", Value::Int(_))
            | ("number", Value::Int(_) | Value::Float(_))
            | ("string", Value::Str(_))
            | ("array", Value::Seq(_))
            | ("object", Value::Map(_)) => true,
            ("integer", Value::Float(f)) => f.fract() == 0.0,
            _ => false,
        });
        if !ok {
            let expected: Vec<&str> = allowed
                .iter()
                .filter(|t| **t != "null")
                .map(|t| human_type(t))
                .collect();
            let expected = if expected.is_empty() {
                "nothing".to_owned()
            } else {
                expected.join(" or ")
            };
            let mut d = Diagnostic::error(
                "wrong-type",
                format!("expected {expected}, found {}", node.kind_name()),
            )
            .at(node.span)
            .with_pointer(pointer);
            if let Some(desc) = description(obj) {
                d = d.with_hint(desc);
            } else if matches!(node.value, Value::Str(_)) && allowed.contains(&"array") {
                d = d.with_hint("write a list: one `- item` per line, or `[a, b]`");
            }
            out.push(d);
        }
        ok
    }

    fn check_enum_and_const(
        &self,
        node: &Node,
        obj: &Map<String, Json>,
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let json = node.to_json();
        if let Some(options) = obj.get("enum").and_then(Json::as_array)
            && !options.contains(&json)
        {
            out.push(not_one_of(
                node,
                options.iter().filter_map(Json::as_str),
                pointer,
            ));
        }
        if let Some(expected) = obj.get("const")
            && *expected != json
        {
            out.push(
                Diagnostic::error(
                    "invalid-value",
                    format!("expected `{}`", display_json(expected)),
                )
                .at(node.span)
                .with_pointer(pointer),
            );
        }
    }

    fn check_string(
        &mut self,
        node: &Node,
        s: &str,
        obj: &Map<String, Json>,
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let chars = s.chars().count() as u64;
        if let Some(min) = obj.get("minLength").and_then(Json::as_u64)
            && chars < min
        {
            let what = if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            };
            out.push(
                Diagnostic::error("too-short", what)
                    .at(node.span)
                    .with_pointer(pointer),
            );
        }
        if let Some(max) = obj.get("maxLength").and_then(Json::as_u64)
            && chars > max
        {
            out.push(
                Diagnostic::error("too-long", format!("must be at most {max} characters"))
                    .at(node.span)
                    .with_pointer(pointer),
            );
        }
        if let Some(pattern) = obj.get("pattern").and_then(Json::as_str) {
            let compiled = self
                .patterns
                .entry(pattern.to_owned())
                .or_insert_with(|| Regex::new(pattern).ok());
            if let Some(re) = compiled
                && !re.is_match(s)
            {
                let mut d = Diagnostic::error(
                    "invalid-format",
                    format!("`{s}` is not in the expected format"),
                )
                .at(node.span)
                .with_pointer(pointer);
                if let Some(desc) = description(obj) {
                    d = d.with_hint(desc);
                }
                out.push(d);
            }
        }
    }

    fn check_seq(
        &mut self,
        node: &Node,
        items: &[Node],
        obj: &'s Map<String, Json>,
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let len = items.len() as u64;
        if let Some(min) = obj.get("minItems").and_then(Json::as_u64)
            && len < min
        {
            let plural = if min == 1 { "" } else { "s" };
            out.push(
                Diagnostic::error(
                    "too-few-items",
                    format!("needs at least {min} item{plural}"),
                )
                .at(node.span)
                .with_pointer(pointer),
            );
        }
        if let Some(max) = obj.get("maxItems").and_then(Json::as_u64)
            && len > max
        {
            out.push(
                Diagnostic::error("too-many-items", format!("takes at most {max} items"))
                    .at(node.span)
                    .with_pointer(pointer),
            );
        }
        if let Some(item_schema) = obj.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check_node(item, item_schema, &format!("{pointer}/{i}"), out);
            }
        }
    }

    fn check_map(
        &mut self,
        node: &Node,
        obj: &'s Map<String, Json>,
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let Value::Map(entries) = &node.value else {
            return;
        };
        let properties = obj.get("properties").and_then(Json::as_object);
        let additional = obj.get("additionalProperties");
        for entry in entries {
            let child = format!("{pointer}/{}", escape_pointer_token(&entry.key));
            if let Some(prop) = properties.and_then(|p| p.get(&entry.key)) {
                self.check_node(&entry.value, prop, &child, out);
                continue;
            }
            match additional {
                Some(Json::Bool(false)) => {
                    let names = properties
                        .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    out.push(unknown_key(&entry.key, entry.key_span, &names, &child));
                }
                Some(schema @ Json::Object(_)) => {
                    self.check_node(&entry.value, schema, &child, out);
                }
                _ => {}
            }
        }
        if let Some(required) = obj.get("required").and_then(Json::as_array) {
            for name in required.iter().filter_map(Json::as_str) {
                if node.get(name).is_none() {
                    let mut d =
                        Diagnostic::error("missing-key", format!("missing required key `{name}`"))
                            .at(crate::span::Span::point(node.span.start))
                            .with_pointer(format!("{pointer}/{}", escape_pointer_token(name)));
                    if let Some(desc) = properties
                        .and_then(|p| p.get(name))
                        .map(|s| self.resolve(s))
                        .and_then(Json::as_object)
                        .and_then(description)
                    {
                        d = d.with_hint(format!("`{name}`: {desc}"));
                    }
                    out.push(d);
                }
            }
        }
    }

    /// `oneOf`/`anyOf`: accept when a variant fits; otherwise report against the variant the author
    /// evidently meant (the one named by the mapping's single key), not a wall of alternatives.
    fn check_variants(
        &mut self,
        node: &Node,
        variants: &'s [Json],
        pointer: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let mut attempts: Vec<Vec<Diagnostic>> = Vec::with_capacity(variants.len());
        for variant in variants {
            let mut diags = Vec::new();
            self.check_node(node, variant, pointer, &mut diags);
            if diags.is_empty() {
                return;
            }
            attempts.push(diags);
        }

        // A plain string against a set of named options (unit enum variants).
        let consts: Vec<&str> = variants
            .iter()
            .map(|v| self.resolve(v))
            .filter_map(|v| {
                v.get("const")
                    .and_then(Json::as_str)
                    .or_else(|| single_enum(v))
            })
            .collect();
        if let Value::Str(_) = node.value
            && !consts.is_empty()
        {
            out.push(not_one_of(node, consts.into_iter(), pointer));
            return;
        }

        // An externally tagged variant: `- must_not_say: {...}`.
        let tags: Vec<(&str, &Json)> = variants
            .iter()
            .filter_map(|v| {
                let v = self.resolve(v);
                let required = v.get("required")?.as_array()?;
                let props = v.get("properties")?.as_object()?;
                if required.len() == 1 && props.len() == 1 {
                    let name = required[0].as_str()?;
                    Some((name, v))
                } else {
                    None
                }
            })
            .collect();
        if tags.len() == variants.len()
            && let Value::Map(entries) = &node.value
        {
            let names: Vec<&str> = tags.iter().map(|(n, _)| *n).collect();
            match entries.as_slice() {
                [only] => {
                    if let Some((_, variant)) = tags.iter().find(|(n, _)| *n == only.key) {
                        self.check_node(node, variant, pointer, out);
                    } else {
                        out.push(unknown_key(
                            &only.key,
                            only.key_span,
                            &names,
                            &format!("{pointer}/{}", escape_pointer_token(&only.key)),
                        ));
                    }
                }
                [] => out.push(
                    Diagnostic::error(
                        "empty-choice",
                        "expected one of the keys listed below, found an empty mapping",
                    )
                    .at(node.span)
                    .with_pointer(pointer)
                    .with_hint(format!("one of: {}", names.join(", "))),
                ),
                [first, ..] => {
                    let known: Vec<&str> = entries
                        .iter()
                        .map(|e| e.key.as_str())
                        .filter(|k| names.contains(k))
                        .collect();
                    out.push(
                        Diagnostic::error(
                            "several-choices",
                            format!(
                                "write exactly one of {} per item; found {}",
                                names.join(", "),
                                entries.len()
                            ),
                        )
                        .at(first.key_span)
                        .with_pointer(pointer)
                        .with_hint(if known.len() > 1 {
                            "split them into separate list items".to_owned()
                        } else {
                            "options such as `why:` go inside the chosen key's mapping".to_owned()
                        }),
                    );
                }
            }
            return;
        }

        // Otherwise: the problems of the closest variant of the right shape.
        let wrong_shape = |diags: &Vec<Diagnostic>| {
            diags.len() == 1 && diags[0].code == "wrong-type" && diags[0].pointer == pointer
        };
        if attempts.iter().all(wrong_shape) {
            let expected: Vec<String> = attempts
                .iter()
                .filter_map(|d| {
                    d[0].message
                        .strip_prefix("expected ")
                        .and_then(|m| m.split(", found").next())
                        .map(str::to_owned)
                })
                .filter(|m| m != "nothing")
                .collect();
            out.push(
                Diagnostic::error(
                    "wrong-type",
                    format!(
                        "expected {}, found {}",
                        expected.join(" or "),
                        node.kind_name()
                    ),
                )
                .at(node.span)
                .with_pointer(pointer),
            );
            return;
        }
        if let Some(best) = attempts
            .into_iter()
            .filter(|d| !wrong_shape(d))
            .min_by_key(Vec::len)
        {
            out.extend(best);
        }
    }

    /// Keywords in `schema` (recursively) that this validator would silently ignore.
    pub fn unsupported_keywords(schema: &Json) -> Vec<String> {
        let mut found = Vec::new();
        collect_unsupported(schema, &mut found, false);
        found.sort();
        found.dedup();
        found
    }
}

fn collect_unsupported(schema: &Json, found: &mut Vec<String>, in_names: bool) {
    match schema {
        Json::Object(obj) => {
            for (key, value) in obj {
                if !in_names && !UNDERSTOOD.contains(&key.as_str()) {
                    found.push(key.clone());
                }
                let names_follow = !in_names && matches!(key.as_str(), "properties" | "$defs");
                let is_annotation =
                    !in_names && matches!(key.as_str(), "default" | "examples" | "const" | "enum");
                if !is_annotation {
                    collect_unsupported(value, found, names_follow);
                }
            }
        }
        Json::Array(items) => {
            for item in items {
                collect_unsupported(item, found, false);
            }
        }
        _ => {}
    }
}

fn single_enum(v: &Json) -> Option<&str> {
    match v.get("enum")?.as_array()?.as_slice() {
        [only] => only.as_str(),
        _ => None,
    }
}

fn check_number(node: &Node, obj: &Map<String, Json>, pointer: &str, out: &mut Vec<Diagnostic>) {
    let value = match node.value {
        Value::Int(i) => i as f64,
        Value::Float(f) => f,
        _ => return,
    };
    let bound = |key: &str| obj.get(key).and_then(Json::as_f64);
    let mut fail = |msg: String| {
        out.push(
            Diagnostic::error("out-of-range", msg)
                .at(node.span)
                .with_pointer(pointer),
        );
    };
    if let Some(min) = bound("minimum")
        && value < min
    {
        fail(format!("must be at least {min}"));
    }
    if let Some(max) = bound("maximum")
        && value > max
    {
        fail(format!("must be at most {max}"));
    }
    if let Some(min) = bound("exclusiveMinimum")
        && value <= min
    {
        fail(format!("must be greater than {min}"));
    }
    if let Some(max) = bound("exclusiveMaximum")
        && value >= max
    {
        fail(format!("must be less than {max}"));
    }
}

fn unknown_key(key: &str, span: crate::span::Span, valid: &[&str], pointer: &str) -> Diagnostic {
    let d = Diagnostic::error("unknown-key", format!("unknown key `{key}`"))
        .at(span)
        .with_pointer(pointer);
    match nearest(key, valid.iter().copied()) {
        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
        None if valid.is_empty() => d.with_hint("no keys are allowed here"),
        None => d.with_hint(format!("valid keys here: {}", valid.join(", "))),
    }
}

fn not_one_of<'a>(
    node: &Node,
    options: impl Iterator<Item = &'a str>,
    pointer: &str,
) -> Diagnostic {
    let options: Vec<&str> = options.collect();
    let shown = match &node.value {
        Value::Str(s) => s.clone(),
        _ => display_json(&node.to_json()),
    };
    let d = Diagnostic::error("invalid-value", format!("`{shown}` is not a valid value"))
        .at(node.span)
        .with_pointer(pointer);
    match nearest(&shown, options.iter().copied()) {
        Some(best) => d.with_hint(format!(
            "did you mean `{best}`? (one of: {})",
            options.join(", ")
        )),
        None => d.with_hint(format!("one of: {}", options.join(", "))),
    }
}

fn description(obj: &Map<String, Json>) -> Option<String> {
    let text = obj.get("description").and_then(Json::as_str)?;
    let first = text.split("\n\n").next().unwrap_or(text).replace('\n', " ");
    Some(first.trim().to_owned())
}

fn human_type(t: &str) -> &'static str {
    match t {
        "boolean" => "true or false",
        "integer" => "a whole number",
        "number" => "a number",
        "string" => "text",
        "array" => "a list",
        "object" => "a mapping of keys",
        _ => "nothing",
    }
}

fn display_json(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
