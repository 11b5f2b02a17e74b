//! TOML → [`Node`] tree (for `muster.toml`), keeping byte spans from the `toml` parser.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::Diagnostic;
use crate::span::{LineIndex, Span};
use crate::tree::{Entry, Node, Value};

pub fn parse(text: &str) -> Result<Node, Vec<Diagnostic>> {
    let index = LineIndex::new(text);
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| {
                let span = e.span().map(|r| index.span_of_bytes(r));
                Diagnostic::error(
                    "toml-syntax",
                    format!("TOML syntax error: {}", e.message().trim()),
                )
                .at_opt(span)
            })
            .collect());
    }
    let span = index.span_of_bytes(table.span());
    Ok(Node::new(
        span,
        Value::Map(convert_table(&index, table.get_ref())),
    ))
}

fn convert_table(index: &LineIndex<'_>, table: &DeTable<'_>) -> Vec<Entry> {
    table
        .iter()
        .map(|(key, value)| Entry {
            key: key.get_ref().to_string(),
            key_span: index.span_of_bytes(key.span()),
            value: convert(index, value),
        })
        .collect()
}

fn convert(index: &LineIndex<'_>, value: &Spanned<DeValue<'_>>) -> Node {
    let span: Span = index.span_of_bytes(value.span());
    let converted = match value.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            let (negative, digits) = match digits.strip_prefix('-') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, digits.trim_start_matches('+').to_owned()),
            };
            let body = digits
                .strip_prefix("0x")
                .or_else(|| digits.strip_prefix("0o"))
                .or_else(|| digits.strip_prefix("0b"))
                .unwrap_or(&digits);
            match i64::from_str_radix(body, i.radix()) {
                Ok(n) => Value::Int(if negative { -n } else { n }),
                Err(_) => Value::Str(i.as_str().to_owned()),
            }
        }
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => Value::Str(f.as_str().to_owned()),
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Str(d.to_string()),
        DeValue::Array(items) => {
            Value::Seq(items.iter().map(|item| convert(index, item)).collect())
        }
        DeValue::Table(table) => Value::Map(convert_table(index, table)),
    };
    Node::new(span, converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_keep_key_positions() {
        let text = "version = 1\n\n[store]\npath = \".muster/evidence.db\"\n";
        let root = match parse(text) {
            Ok(r) => r,
            Err(d) => panic!("{d:?}"),
        };
        let json = root.to_json();
        assert_eq!(json["store"]["path"], ".muster/evidence.db");
        let Some(store) = root.get("store") else {
            panic!("no store")
        };
        let Some(path) = store.value.get("path") else {
            panic!("no path")
        };
        assert_eq!(
            (path.key_span.start.line, path.key_span.start.column),
            (4, 1)
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let Err(problems) = parse("version = \n") else {
            panic!("accepted")
        };
        assert!(problems[0].span.is_some());
    }
}
