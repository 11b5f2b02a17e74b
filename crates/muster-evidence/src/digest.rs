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
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).unwrap_or_else(|_| value.to_string().into_bytes())
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
    use serde_json::json;

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
