//! Lenient pieces shared by the vendors' wire types: ids that arrive as numbers or strings,
//! lists that arrive as `null`, and the vendors' several timestamp encodings.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A scalar the vendors send as a number in one place and a string in another (ticket ids,
/// custom-field values, Intercom ids). Kept as its text, so comparisons never depend on which.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Scalar(pub String);

impl Scalar {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.0.trim().parse().ok()
    }

    /// The text of a JSON scalar; `None` for null, arrays and objects.
    pub fn from_value(value: &Value) -> Option<Scalar> {
        match value {
            Value::String(s) => Some(Scalar(s.clone())),
            Value::Number(n) => Some(Scalar(n.to_string())),
            Value::Bool(b) => Some(Scalar(b.to_string())),
            _ => None,
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Scalar::from_value(&value).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a string or a number, found {}",
                kind_of(&value)
            ))
        })
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// For lists and maps a vendor may send as `null`: null reads as empty.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads ISO 8601 / RFC 3339 (`2009-07-20T22:55:29Z`), Salesforce's offset without a colon
/// (`2024-01-01T10:00:00.000+0000`) and epoch seconds (Intercom, as number or text).
pub fn parse_timestamp(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    if let Ok(seconds) = text.parse::<i64>() {
        return jiff::Timestamp::from_second(seconds).ok();
    }
    // `+0000` → `+00:00`, which RFC 3339 requires.
    let bytes = text.as_bytes();
    if bytes.len() > 5 {
        let (head, tail) = text.split_at(text.len() - 5);
        let sign = tail.as_bytes()[0];
        if (sign == b'+' || sign == b'-') && tail[1..].bytes().all(|b| b.is_ascii_digit()) {
            return format!("{head}{}:{}", &tail[..3], &tail[3..])
                .parse::<jiff::Timestamp>()
                .ok();
        }
    }
    None
}

/// Plain text from the HTML the helpdesks store bodies in: tags dropped, block ends turned into
/// line breaks, the common entities decoded. Good enough to check a transcript reached the
/// ticket; not a renderer.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        let name = name
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(name, "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3")
            && (tag.starts_with('/') || name == "br")
        {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        id: Scalar,
        #[serde(default)]
        other: Option<Scalar>,
        #[serde(default, deserialize_with = "null_as_default")]
        tags: Vec<String>,
    }

    #[test]
    fn scalars_read_numbers_and_strings_alike() {
        let a: Holder = serde_json::from_str(r#"{"id": 35436, "other": null, "tags": null}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let b: Holder = serde_json::from_str(r#"{"id": "35436", "tags": ["x"]}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.id, b.id);
        assert_eq!(a.other, None);
        assert!(a.tags.is_empty());
        assert_eq!(b.tags, ["x"]);
        assert!(serde_json::from_str::<Holder>(r#"{"id": {"nested": 1}}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"id": null}"#).is_err());
    }

    #[test]
    fn timestamps_in_every_vendor_encoding() {
        let want: jiff::Timestamp = "2024-01-01T10:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse_timestamp("2024-01-01T10:00:00Z"), Some(want));
        assert_eq!(parse_timestamp("2024-01-01T10:00:00.000+0000"), Some(want));
        assert_eq!(parse_timestamp("2024-01-01T11:00:00+01:00"), Some(want));
        assert_eq!(parse_timestamp("1704103200"), Some(want));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn html_becomes_lines_of_text() {
        assert_eq!(
            html_to_text("<p>Hello &amp; welcome</p><p>Line<br>two</p>"),
            "Hello & welcome\nLine\ntwo"
        );
        assert_eq!(html_to_text("no tags"), "no tags");
        assert_eq!(html_to_text("broken <p"), "broken <p");
    }
}
