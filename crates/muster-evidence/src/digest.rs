//! The digest constructions. Every input is length-prefixed and domain-separated, so no two
//! different inputs can be framed into the same bytes.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A SHA-256 digest, shown as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn to_hex(&self) -> String {
        // A table lookup per byte: `hex::encode` goes through a char iterator, and ingest writes
        // ~15 digests an event as hex (a few percent of its CPU in the profile).
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        out
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a SHA-256 digest (64 hex digits)")]
pub struct DigestParseError(pub String);

impl FromStr for Digest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| DigestParseError(s.chars().take(80).collect()))?;
        Ok(Digest(out))
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

struct Hasher(Sha256);

impl Hasher {
    fn new(domain: &str) -> Self {
        let mut h = Sha256::new();
        h.update(domain.as_bytes());
        h.update(b"\n");
        Self(h)
    }

    fn bytes(&mut self, data: &[u8]) -> &mut Self {
        self.0.update((data.len() as u64).to_be_bytes());
        self.0.update(data);
        self
    }

    fn u64(&mut self, n: u64) -> &mut Self {
        self.0.update(n.to_be_bytes());
        self
    }

    fn i64(&mut self, n: i64) -> &mut Self {
        self.0.update(n.to_be_bytes());
        self
    }

    fn digest(&mut self, d: &Digest) -> &mut Self {
        self.0.update(d.0);
        self
    }

    fn finish(self) -> Digest {
        Digest(self.0.finalize().into())
    }
}

/// Canonical JSON (RFC 8785) of a value. Numbers that JCS cannot represent (none reach here from
/// `serde_json::Value`) fall back to serde_json's own text so hashing never fails.
///
/// Written straight from the `Value`, byte for byte what `serde_json_canonicalizer` writes (a
/// property test compares the two): that crate boxes a writer for every token and re-parses every
/// object key to sort it, which made canonicalising a drill's evidence a fifth of the drill's own
/// CPU time.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    match write_canonical(&mut out, value) {
        Some(()) => out,
        None => value.to_string().into_bytes(),
    }
}

/// `None` for a number JCS cannot write (not finite).
fn write_canonical(out: &mut Vec<u8>, value: &serde_json::Value) -> Option<()> {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // JSON numbers are IEEE doubles (integers too), written as ECMAScript writes them.
        Value::Number(n) => {
            let n = n.as_f64().filter(|f| f.is_finite())?;
            out.extend_from_slice(ryu_js::Buffer::new().format_finite(n).as_bytes());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Properties in the order of their names' UTF-16 code units.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write_canonical(out, item)?;
            }
            out.push(b'}');
        }
    }
    Some(())
}

/// A JSON string as JCS writes it: only `"`, `\` and control characters escaped (the short forms
/// where JSON has them, else `\u00xx`) — serde_json's compact escaping exactly.
fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Digest of one named field's value.
pub fn field_digest(name: &str, value: &serde_json::Value) -> Digest {
    let mut h = Hasher::new("muster/field/v1");
    h.bytes(name.as_bytes()).bytes(&canonical_json(value));
    h.finish()
}

/// The chain's starting point for a stream of a drill.
pub fn genesis(drill_id: &str, stream: &str) -> Digest {
    let mut h = Hasher::new("muster/genesis/v1");
    h.bytes(drill_id.as_bytes()).bytes(stream.as_bytes());
    h.finish()
}

/// Digest of an event. `fields` must be sorted by name (as [`crate::Field`] lists are).
pub fn event_digest(
    drill_id: &str,
    stream: &str,
    seq: u64,
    time_ns: i64,
    kind: &str,
    prev: &Digest,
    fields: &[(&str, Digest)],
) -> Digest {
    let mut h = Hasher::new("muster/event/v1");
    h.bytes(drill_id.as_bytes())
        .bytes(stream.as_bytes())
        .u64(seq)
        .i64(time_ns)
        .bytes(kind.as_bytes())
        .digest(prev)
        .u64(fields.len() as u64);
    for (name, digest) in fields {
        h.bytes(name.as_bytes()).digest(digest);
    }
    h.finish()
}

/// Digest of an event's contents, independent of where it sits in a chain: its kind, time and
/// field digests (sorted by name). Ingest uses it with the raw pointer as a record's identity, so
/// re-reading the same input is recognised whatever chain position the first copy got.
pub fn content_digest(time_ns: i64, kind: &str, fields: &[(&str, Digest)]) -> Digest {
    let mut h = Hasher::new("muster/content/v1");
    h.i64(time_ns)
        .bytes(kind.as_bytes())
        .u64(fields.len() as u64);
    for (name, digest) in fields {
        h.bytes(name.as_bytes()).digest(digest);
    }
    h.finish()
}

/// Digest sealing a drill: every stream's id, length and head, in stream-id order.
pub fn root_digest(drill_id: &str, streams: &[(String, u64, Digest)]) -> Digest {
    let mut sorted: Vec<&(String, u64, Digest)> = streams.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Hasher::new("muster/root/v1");
    h.bytes(drill_id.as_bytes()).u64(sorted.len() as u64);
    for (id, length, head) in sorted {
        h.bytes(id.as_bytes()).u64(*length).digest(head);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Any JSON value: every kind of number (integers past 2^53, tiny and huge floats, negative
    /// zero), strings with escapes, control characters and characters outside the BMP, and object
    /// keys that sort differently by UTF-8 bytes and by UTF-16 code units.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let text = prop_oneof![
            "[a-zA-Z0-9 _.-]{0,12}",
            "\\PC{0,8}",
            prop::collection::vec(
                prop_oneof![
                    Just('"'),
                    Just('\\'),
                    Just('/'),
                    Just('\u{0}'),
                    Just('\u{1f}'),
                    Just('\u{7f}'),
                    Just('\n'),
                    Just('\t'),
                    Just('\u{8}'),
                    Just('\u{c}'),
                    Just('é'),
                    Just('\u{2028}'),
                    Just('\u{e000}'),
                    Just('\u{ff61}'),
                    Just('\u{1f600}'),
                    Just('\u{10ffff}'),
                    Just('a'),
                ],
                0..6,
            )
            .prop_map(|c| c.into_iter().collect::<String>()),
        ];
        let number = prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            prop::sample::select(vec![
                0.0,
                -0.0,
                1e21,
                1e-7,
                123e-20,
                1.5e300,
                5e-324,
                9007199254740993.0,
                0.1,
                -1.25,
                1e20,
                333333333.3333333,
            ])
            .prop_map(serde_json::Value::from),
        ];
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            number,
            text.clone().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec((text.clone(), inner), 0..6)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The canonical JSON every digest is over is byte for byte the reference
        /// implementation's, so no stored digest changes meaning.
        #[test]
        fn canonical_json_is_the_reference_implementations(value in any_json()) {
            let reference = serde_json_canonicalizer::to_vec(&value)
                .unwrap_or_else(|_| value.to_string().into_bytes());
            let ours = canonical_json(&value);
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&reference));
        }
    }

    #[test]
    fn canonical_json_matches_the_rfc_examples() {
        // RFC 8785, 3.2.2 and 3.2.3 (property order by UTF-16 code units; numbers as ECMAScript).
        let value: serde_json::Value = serde_json::from_str(
            r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals": [null, true, false]}"#,
        )
        .unwrap_or_default();
        assert_eq!(
            String::from_utf8(canonical_json(&value)).unwrap_or_default(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        let sorting = json!({
            "\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control", "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let keys: Vec<String> =
            serde_json::from_slice::<serde_json::Value>(&canonical_json(&sorting))
                .ok()
                .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
                .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "\r",
                "1",
                "\u{80}",
                "\u{f6}",
                "\u{20ac}",
                "\u{1f600}",
                "\u{fb33}"
            ]
        );
    }

    #[test]
    fn field_digests_ignore_key_order_and_whitespace() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": [1, 2.0]}"#).unwrap_or_default();
        let b = json!({"a": [1, 2], "b": 1});
        assert_eq!(field_digest("x", &a), field_digest("x", &b));
        assert_ne!(field_digest("x", &b), field_digest("y", &b));
    }

    #[test]
    fn framing_prevents_ambiguity() {
        assert_ne!(genesis("ab", "c"), genesis("a", "bc"));
    }

    #[test]
    fn hex_is_lower_case_and_matches_the_hex_crate() {
        let d = Digest(std::array::from_fn(|i| (i * 37 + 5) as u8));
        assert_eq!(d.to_hex(), hex::encode(d.0));
        assert_eq!(Digest([0xab; 32]).to_hex(), "ab".repeat(32));
    }

    #[test]
    fn digests_round_trip_through_hex() {
        let d = genesis("d", "s");
        assert_eq!(d.to_hex().parse::<Digest>(), Ok(d));
        assert!("zz".parse::<Digest>().is_err());
    }
}
