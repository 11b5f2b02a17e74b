//! YAML → [`Node`] tree, built from the parser's events so every key and value keeps its span.
//!
//! Deliberately strict where YAML is surprising: duplicate keys, several documents in one file,
//! non-scalar keys and unknown tags are errors; aliases are expanded under a budget so an
//! alias bomb is refused rather than exhausting memory.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan, Tag};

use crate::diag::Diagnostic;
use crate::span::{LineIndex, Span};
use crate::tree::{Entry, Node, Value};

/// Most nodes a document may expand to (after aliases). Real manifests have a few thousand.
const NODE_BUDGET: usize = 200_000;
/// Deepest nesting accepted; protects the recursive walkers downstream.
const DEPTH_LIMIT: usize = 64;

/// Parse one YAML document. On failure returns the problems found (syntax errors stop parsing, so
/// there is usually one; structural problems such as duplicate keys are all collected).
pub fn parse(text: &str) -> Result<Node, Vec<Diagnostic>> {
    let index = LineIndex::new(text);
    let mut builder = Builder {
        index: &index,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
        nodes: 0,
        problems: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => {
                if let Err(fatal) = builder.on_event(event, span) {
                    builder.problems.push(*fatal);
                    return Err(builder.problems);
                }
            }
            Err(scan) => {
                let marker = scan.marker();
                let pos = index.pos_at_char(marker.index());
                builder.problems.push(
                    Diagnostic::error("yaml-syntax", format!("YAML syntax error: {}", scan.info()))
                        .at(Span::point(pos))
                        .with_hint("check indentation and quoting on this line or the one before"),
                );
                return Err(builder.problems);
            }
        }
    }
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    Ok(builder.root.unwrap_or_else(|| {
        Node::new(
            Span::point(crate::span::Pos {
                line: 1,
                column: 1,
                offset: 0,
            }),
            Value::Null,
        )
    }))
}

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<Entry>,
        pending_key: Option<(String, Span)>,
    },
}

struct Builder<'a> {
    index: &'a LineIndex<'a>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    problems: Vec<Diagnostic>,
}

impl Builder<'_> {
    fn span(&self, span: YamlSpan) -> Span {
        self.index
            .span_of_chars(span.start.index(), span.end.index())
    }

    fn on_event(&mut self, event: Event<'_>, yspan: YamlSpan) -> Result<(), Box<Diagnostic>> {
        let span = self.span(yspan);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::error(
                        "yaml-multiple-documents",
                        "this file holds more than one YAML document",
                    )
                    .at(span)
                    .with_hint("put each scenario or manifest in its own file (remove the `---`)")
                    .into());
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_ref()).map_err(|msg| {
                    Diagnostic::error("yaml-tag", msg)
                        .at(span)
                        .with_hint("muster files use plain YAML values; remove the `!tag`")
                })?;
                self.count(span, 1)?;
                let node = Node::new(span, value);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_node(node, &text)
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(Diagnostic::error(
                        "yaml-alias",
                        "alias refers to an unknown anchor",
                    )
                    .at(span)
                    .into());
                };
                self.count(span, count_nodes(&node))?;
                let key_text = match &node.value {
                    Value::Str(s) => s.clone(),
                    _ => String::new(),
                };
                let mut node = node;
                node.span = span;
                self.push_node(node, &key_text)
            }
            Event::SequenceStart(anchor, tag) => {
                reject_collection_tag(tag.as_ref(), span)?;
                self.enter(span)?;
                self.stack.push(Frame::Seq {
                    start: span,
                    anchor,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                reject_collection_tag(tag.as_ref(), span)?;
                self.enter(span)?;
                self.stack.push(Frame::Map {
                    start: span,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    start,
                    anchor,
                    items,
                }) => {
                    self.count(start, 1)?;
                    let node = Node::new(
                        Span::new(start.start, span.end.max(start.end)),
                        Value::Seq(items),
                    );
                    self.close(node, anchor)
                }
                _ => Err(
                    Diagnostic::error("yaml-structure", "unexpected end of list")
                        .at(span)
                        .into(),
                ),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    start,
                    anchor,
                    entries,
                    ..
                }) => {
                    self.count(start, 1)?;
                    let node = Node::new(
                        Span::new(start.start, span.end.max(start.end)),
                        Value::Map(entries),
                    );
                    self.close(node, anchor)
                }
                _ => Err(
                    Diagnostic::error("yaml-structure", "unexpected end of mapping")
                        .at(span)
                        .into(),
                ),
            },
        }
    }

    fn enter(&self, span: Span) -> Result<(), Box<Diagnostic>> {
        if self.stack.len() >= DEPTH_LIMIT {
            return Err(Diagnostic::error(
                "yaml-too-deep",
                format!("nesting deeper than {DEPTH_LIMIT} levels"),
            )
            .at(span)
            .into());
        }
        Ok(())
    }

    fn count(&mut self, span: Span, n: usize) -> Result<(), Box<Diagnostic>> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > NODE_BUDGET {
            return Err(Diagnostic::error(
                "yaml-too-large",
                format!("document expands to more than {NODE_BUDGET} values"),
            )
            .at(span)
            .with_hint("aliases (`*name`) that repeat large blocks can explode a document; write the values out").into());
        }
        Ok(())
    }

    fn close(&mut self, node: Node, anchor: usize) -> Result<(), Box<Diagnostic>> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push_node(node, "")
    }

    /// Attach a finished node to its parent: as a list item, a mapping key, a mapping value or the root.
    fn push_node(&mut self, node: Node, key_text: &str) -> Result<(), Box<Diagnostic>> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let key = match &node.value {
                        Value::Str(_)
                        | Value::Int(_)
                        | Value::Float(_)
                        | Value::Bool(_)
                        | Value::Null => key_text.to_owned(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(Diagnostic::error(
                                "yaml-complex-key",
                                "a key must be plain text, not a list or mapping",
                            )
                            .at(node.span)
                            .into());
                        }
                    };
                    if let Some(first) = entries.iter().find(|e| e.key == key) {
                        self.problems.push(
                            Diagnostic::error(
                                "yaml-duplicate-key",
                                format!("duplicate key `{key}`"),
                            )
                            .at(node.span)
                            .with_hint(format!(
                                "`{key}` is already set at line {}; keep one of them",
                                first.key_span.start.line
                            )),
                        );
                    }
                    *pending_key = Some((key, node.span));
                    Ok(())
                }
                Some((key, key_span)) => {
                    entries.push(Entry {
                        key,
                        key_span,
                        value: node,
                    });
                    Ok(())
                }
            },
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|e| 1 + count_nodes(&e.value))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn reject_collection_tag(tag: Option<&Cow<'_, Tag>>, span: Span) -> Result<(), Box<Diagnostic>> {
    match tag {
        Some(t) if !(t.is_yaml_core_schema() && (t.suffix == "map" || t.suffix == "seq")) => Err(
            Diagnostic::error("yaml-tag", format!("unsupported YAML tag `{t}`"))
                .at(span)
                .with_hint("muster files use plain YAML values; remove the `!tag`")
                .into(),
        ),
        _ => Ok(()),
    }
}

/// YAML 1.2 core schema resolution for plain scalars; quoted and block scalars are always text.
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Cow<'_, Tag>>,
) -> Result<Value, String> {
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(format!("unsupported YAML tag `{tag}`"));
        }
        return match tag.suffix.as_str() {
            "str" => Ok(Value::Str(text.to_owned())),
            "null" => Ok(Value::Null),
            "bool" => parse_bool(text)
                .map(Value::Bool)
                .ok_or_else(|| format!("`{text}` is not true or false")),
            "int" => parse_int(text)
                .map(Value::Int)
                .ok_or_else(|| format!("`{text}` is not a whole number")),
            "float" => parse_float(text)
                .or_else(|| parse_int(text).map(|i| i as f64))
                .map(Value::Float)
                .ok_or_else(|| format!("`{text}` is not a number")),
            other => Err(format!("unsupported YAML tag `!!{other}`")),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(text.to_owned()));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = parse_bool(text) {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = parse_int(text) {
        return Ok(Value::Int(i));
    }
    if let Some(f) = parse_float(text) {
        return Ok(Value::Float(f));
    }
    Ok(Value::Str(text.to_owned()))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let looks_numeric = !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && (body.starts_with(|c: char| c.is_ascii_digit()) || body.starts_with('.'));
    if looks_numeric {
        text.parse::<f64>().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        match parse(text) {
            Ok(node) => node,
            Err(d) => panic!("unexpected problems: {d:?}"),
        }
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        let root = parse_ok("a: 1\nb: 1.5\nc: yes\nd: true\ne: '1'\nf: ~\ng: 0x10\n");
        let json = root.to_json();
        assert_eq!(json["a"], 1);
        assert_eq!(json["b"], 1.5);
        assert_eq!(json["c"], "yes");
        assert_eq!(json["d"], true);
        assert_eq!(json["e"], "1");
        assert!(json["f"].is_null());
        assert_eq!(json["g"], 16);
    }

    #[test]
    fn keys_and_values_keep_their_positions() {
        let root = parse_ok("name: demo\nturns:\n  - say: hello\n");
        let turns = root.get("turns").map(|e| e.key_span.start);
        assert_eq!(turns.map(|p| (p.line, p.column)), Some((2, 1)));
        let Some(entry) = root.get("name") else {
            panic!("name missing")
        };
        assert_eq!(
            (entry.value.span.start.line, entry.value.span.start.column),
            (1, 7)
        );
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_places() {
        let Err(problems) = parse("a: 1\nb: 2\na: 3\n") else {
            panic!("duplicate accepted")
        };
        assert_eq!(problems[0].code, "yaml-duplicate-key");
        let at = problems[0].span.map(|s| (s.start.line, s.start.column));
        assert_eq!(at, Some((3, 1)));
        assert!(problems[0].hint.as_deref().unwrap_or("").contains("line 1"));
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let Err(problems) = parse("a: [1, 2\nb: 3\n") else {
            panic!("bad yaml accepted")
        };
        assert_eq!(problems[0].code, "yaml-syntax");
        assert!(problems[0].span.is_some());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let Err(problems) = parse(&text) else {
            panic!("alias bomb accepted")
        };
        assert_eq!(problems[0].code, "yaml-too-large");
    }

    #[test]
    fn a_second_document_is_an_error() {
        let Err(problems) = parse("a: 1\n---\nb: 2\n") else {
            panic!("two documents accepted")
        };
        assert_eq!(problems[0].code, "yaml-multiple-documents");
    }
}
