//! A format-neutral document tree that remembers where every key and value came from.
//!
//! YAML and TOML are both read into this tree; validation runs on the tree (so every problem can be
//! located), and only a tree without problems is converted to JSON for serde to build the typed model.

use std::collections::BTreeMap;

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn new(span: Span, value: Value) -> Self {
        Self { span, value }
    }

    /// What a person would call this kind of value, for messages like "expected a list, found text".
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "true/false",
            Value::Int(_) => "a whole number",
            Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping of keys",
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Where a value (and its key, for mapping entries) sits in the source, by JSON pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    pub key: Option<Span>,
    pub value: Span,
}

/// JSON pointer → source location for every node of a document, so checks that run on the typed
/// model after parsing can still point at the exact place in the file.
#[derive(Clone, Debug, Default)]
pub struct SpanIndex {
    by_pointer: BTreeMap<String, Located>,
}

impl SpanIndex {
    pub fn build(root: &Node) -> Self {
        let mut index = Self::default();
        index.visit(root, String::new(), None);
        index
    }

    fn visit(&mut self, node: &Node, pointer: String, key: Option<Span>) {
        self.by_pointer.insert(
            pointer.clone(),
            Located {
                key,
                value: node.span,
            },
        );
        match &node.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.visit(item, format!("{pointer}/{i}"), None);
                }
            }
            Value::Map(entries) => {
                for entry in entries {
                    let child = format!("{pointer}/{}", escape_pointer_token(&entry.key));
                    self.visit(&entry.value, child, Some(entry.key_span));
                }
            }
            _ => {}
        }
    }

    pub fn get(&self, pointer: &str) -> Option<Located> {
        self.by_pointer.get(pointer).copied()
    }

    /// The value's span at `pointer`, or the nearest ancestor's when the pointer names something
    /// absent (a missing key is reported where its parent is).
    pub fn value_span(&self, pointer: &str) -> Option<Span> {
        let mut p = pointer;
        loop {
            if let Some(found) = self.by_pointer.get(p) {
                return Some(found.value);
            }
            match p.rfind('/') {
                Some(cut) => p = &p[..cut],
                None => return None,
            }
        }
    }

    /// The key's span when the pointer names a mapping entry, else the value's.
    pub fn key_or_value_span(&self, pointer: &str) -> Option<Span> {
        match self.by_pointer.get(pointer) {
            Some(Located { key: Some(k), .. }) => Some(*k),
            Some(Located { value, .. }) => Some(*value),
            None => self.value_span(pointer),
        }
    }
}

pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `/expect/0/must_not_say/pattern` → `expect[0].must_not_say.pattern`: how people name keys.
pub fn pointer_to_key_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_read_like_yaml() {
        assert_eq!(
            pointer_to_key_path("/expect/0/must_not_say/pattern"),
            "expect[0].must_not_say.pattern"
        );
        assert_eq!(pointer_to_key_path(""), "");
        assert_eq!(pointer_to_key_path("/a~1b"), "a/b");
    }
}
