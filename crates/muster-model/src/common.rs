//! Value types shared by the formats: durations, argument bounds, field paths and the small
//! vocabularies (failure modes, severities) every part of muster speaks.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The four failure modes of a customer-facing agent.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Inaccurate or over-confident answers: pricing, refunds, cancellation rights, debt, safety.
    Advice,
    /// Reveals, combines or stores personal data it cannot justify.
    Data,
    /// Uses a tool it should not: credits, refunds, address changes, complaint closure.
    Authority,
    /// Keeps a vulnerable, angry or high-risk customer inside automation.
    Escalation,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Advice, Mode::Data, Mode::Authority, Mode::Escalation];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Advice => "advice",
            Mode::Data => "data",
            Mode::Authority => "authority",
            Mode::Escalation => "escalation",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a failure of this scenario would be for customers.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A length of time written the way people write it: `250ms`, `30s`, `2m`, `1h30m`, `400d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

pub const DURATION_PATTERN: &str = r"^([0-9]+(ms|s|m|h|d|w))+$";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a duration; write e.g. 250ms, 30s, 2m, 1h30m, 400d or 2w")]
pub struct DurationError(pub String);

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || DurationError(text.to_owned());
        let mut total_ms: u64 = 0;
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(err());
        }
        while !rest.is_empty() {
            let digits_end = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
            if digits_end == 0 {
                return Err(err());
            }
            let amount: u64 = rest[..digits_end].parse().map_err(|_| err())?;
            rest = &rest[digits_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit_ms: u64 = match &rest[..unit_end] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                _ => return Err(err()),
            };
            rest = &rest[unit_end..];
            total_ms = amount
                .checked_mul(unit_ms)
                .and_then(|ms| total_ms.checked_add(ms))
                .ok_or_else(err)?;
        }
        Ok(Duration(std::time::Duration::from_millis(total_ms)))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [
            ("d", 86_400_000u128),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
        ] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration such as 250ms, 30s, 2m, 1h30m, 400d or 2w.",
        })
    }
}

/// Comparison in an argument bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
        }
    }

    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Lt => left < right,
            CompareOp::Le => left <= right,
            CompareOp::Gt => left > right,
            CompareOp::Ge => left >= right,
            CompareOp::Eq => (left - right).abs() < f64::EPSILON,
            CompareOp::Ne => (left - right).abs() >= f64::EPSILON,
        }
    }
}

/// A bound on a tool argument: `amount <= 50`, `refund.amount < 100.5`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    /// Dotted path into the call's arguments.
    pub argument: String,
    pub op: CompareOp,
    pub value: f64,
}

pub const BOUND_PATTERN: &str = r"^\s*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\s*(<=|>=|==|!=|<|>)\s*-?[0-9]+(\.[0-9]+)?\s*$";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a bound; write `ARGUMENT OP NUMBER`, e.g. `amount <= 50`")]
pub struct BoundError(pub String);

impl FromStr for Bound {
    type Err = BoundError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || BoundError(text.to_owned());
        let ops = [
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
            ("==", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
        ];
        let (at, symbol, op) = ops
            .iter()
            .filter_map(|(sym, op)| text.find(sym).map(|at| (at, *sym, *op)))
            .min_by_key(|(at, sym, _)| (*at, usize::MAX - sym.len()))
            .ok_or_else(err)?;
        let argument = text[..at].trim();
        let value_text = text[at + symbol.len()..].trim();
        let valid_path = !argument.is_empty()
            && argument.split('.').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !valid_path {
            return Err(err());
        }
        let value: f64 = value_text.parse().map_err(|_| err())?;
        if !value.is_finite() {
            return Err(err());
        }
        Ok(Bound {
            argument: argument.to_owned(),
            op,
            value,
        })
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.argument, self.op.symbol(), self.value)
    }
}

impl Serialize for Bound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Bound {
    fn schema_name() -> Cow<'static, str> {
        "Bound".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": BOUND_PATTERN,
            "description": "A bound on a tool argument: ARGUMENT OP NUMBER, e.g. `amount <= 50`.",
        })
    }
}

/// Where a value sits in a JSON document: a JSON pointer (`/reply/text`) or a JSONPath
/// (`$.choices[0].message.content`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldPath(pub String);

impl FieldPath {
    pub fn is_json_path(&self) -> bool {
        self.0.starts_with('$')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Check the syntax now, so a bad mapping is reported at load time, not mid-drill.
    pub fn validate(&self) -> Result<(), String> {
        if self.is_json_path() {
            serde_json_path::JsonPath::parse(&self.0)
                .map(|_| ())
                .map_err(|e| format!("invalid JSONPath: {e}"))
        } else if self.0.is_empty() || self.0.starts_with('/') {
            Ok(())
        } else {
            Err(
                "a field path is a JSON pointer starting with `/` or a JSONPath starting with `$`"
                    .to_owned(),
            )
        }
    }

    /// Every value the path selects (a pointer selects at most one).
    pub fn select<'v>(&self, doc: &'v serde_json::Value) -> Vec<&'v serde_json::Value> {
        if self.is_json_path() {
            match serde_json_path::JsonPath::parse(&self.0) {
                Ok(path) => path.query(doc).all(),
                Err(_) => Vec::new(),
            }
        } else {
            doc.pointer(&self.0).into_iter().collect()
        }
    }

    pub fn select_one<'v>(&self, doc: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.select(doc).into_iter().next()
    }
}

impl JsonSchema for FieldPath {
    fn schema_name() -> Cow<'static, str> {
        "FieldPath".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": r"^(/.*|\$.*)?$",
            "description": "A JSON pointer such as /reply or a JSONPath such as $.choices[0].message.content.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        let d: Duration = "1h30m"
            .parse()
            .unwrap_or(Duration(std::time::Duration::ZERO));
        assert_eq!(d.0.as_secs(), 5400);
        assert_eq!(d.to_string(), "1h30m");
        assert!("30".parse::<Duration>().is_err());
        assert!("s".parse::<Duration>().is_err());
        assert!("5y".parse::<Duration>().is_err());
        assert!("99999999999999999999d".parse::<Duration>().is_err());
        assert_eq!(
            "250ms".parse::<Duration>().map(|d| d.0.as_millis()),
            Ok(250)
        );
    }

    #[test]
    fn bounds_parse_with_or_without_spaces() {
        let b: Result<Bound, _> = "amount<=50".parse();
        assert_eq!(
            b.as_ref().map(|b| (b.argument.as_str(), b.op, b.value)),
            Ok(("amount", CompareOp::Le, 50.0))
        );
        let b: Result<Bound, _> = " refund.amount >= 10.5 ".parse();
        assert_eq!(
            b.map(|b| (b.argument, b.op)),
            Ok(("refund.amount".to_owned(), CompareOp::Ge))
        );
        assert!("<= 5".parse::<Bound>().is_err());
        assert!("amount <= fifty".parse::<Bound>().is_err());
        assert!("amount".parse::<Bound>().is_err());
    }

    #[test]
    fn the_bound_pattern_agrees_with_the_parser() {
        let re = regex::Regex::new(BOUND_PATTERN);
        let Ok(re) = re else { panic!("bad pattern") };
        for ok in ["amount <= 50", "a.b>1", "x != -2.5"] {
            assert!(re.is_match(ok) && ok.parse::<Bound>().is_ok(), "{ok}");
        }
        for bad in ["amount", "<= 5", "1a < 2"] {
            assert!(!re.is_match(bad) && bad.parse::<Bound>().is_err(), "{bad}");
        }
    }

    #[test]
    fn field_paths_select_by_pointer_or_json_path() {
        let doc = serde_json::json!({"choices": [{"message": {"content": "hi"}}]});
        let p = FieldPath("/choices/0/message/content".into());
        let j = FieldPath("$.choices[0].message.content".into());
        assert_eq!(p.select_one(&doc), Some(&serde_json::json!("hi")));
        assert_eq!(j.select_one(&doc), Some(&serde_json::json!("hi")));
        assert!(FieldPath("$[".into()).validate().is_err());
        assert!(FieldPath("reply".into()).validate().is_err());
    }
}
