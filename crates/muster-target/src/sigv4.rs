//! AWS Signature Version 4 (header signing), for targets behind AWS APIs such as Bedrock.
//!
//! The steps follow AWS's "Create a signed AWS API request": canonical request, string to sign,
//! signing key derived from the secret, signature, `Authorization` header. The clock is not read
//! here: the caller passes the time, so signing is reproducible (and checked against AWS's
//! published test suite in `tests/fixtures/sigv4`).
//!
//! Only what a non-S3 service needs is implemented: the path is encoded once more on top of how it
//! is sent (AWS's "double encoding"), and the payload is always hashed (no unsigned payloads). Dot
//! segments are not removed here: the adapter's URLs come from `url::Url`, which already has.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name written into the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// AWS credentials. `Debug` never shows the secret or the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Present for temporary credentials; sent (and signed) as `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The parts of a request that are signed.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path exactly as it is sent on the request line (already percent-encoded, if it is).
    pub path: &'a str,
    /// The query as sent, without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header to sign, including `host` and `x-amz-date` (and `x-amz-security-token`).
    pub headers: &'a [(String, String)],
    pub payload: &'a [u8],
}

/// Each intermediate step, so tests can compare them with AWS's published ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Lower-case hex.
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    #[error("`{0}` is not an AWS timestamp (YYYYMMDDTHHMMSSZ)")]
    BadTimestamp(String),
    #[error("the signing key was refused by HMAC")]
    Key,
}

/// The `x-amz-date` form of a time: `YYYYMMDDTHHMMSSZ`, in UTC.
pub fn amz_date(at: jiff::Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Lower-case hex SHA-256, as the canonical request and `x-amz-content-sha256` use it.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Sign `request` for `region` and `service` at `amz_date` (`YYYYMMDDTHHMMSSZ`, the value of the
/// request's `x-amz-date` header).
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Result<Signed, SigV4Error> {
    let date = date_of(amz_date)?;
    let (canonical_headers, signed_headers) = canonical_headers(request.headers);
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_path(request.path),
        canonical_query(request.query),
        canonical_headers,
        signed_headers,
        sha256_hex(request.payload),
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut key = hmac_sha256(
        format!("AWS4{}", credentials.secret_access_key).as_bytes(),
        date.as_bytes(),
    )?;
    for part in [region, service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes())?;
    }
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes())?);
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );
    Ok(Signed {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    })
}

/// The headers to add to a request to `url` so that AWS accepts it: `x-amz-date`,
/// `x-amz-security-token` (temporary credentials) and `authorization`. `host` is signed as the
/// HTTP client will send it (with the port when it is not the scheme's default).
pub fn signing_headers(
    method: &str,
    url: &url::Url,
    payload: &[u8],
    credentials: &Credentials,
    region: &str,
    service: &str,
    at: jiff::Timestamp,
) -> Result<Vec<(String, String)>, SigV4Error> {
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(port)) => format!("{h}:{port}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    let date = amz_date(at);
    let mut added = vec![("x-amz-date".to_owned(), date.clone())];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut signed = added.clone();
    signed.push(("host".to_owned(), host));
    let result = sign(
        &Request {
            method,
            path: url.path(),
            query: url.query().unwrap_or_default(),
            headers: &signed,
            payload,
        },
        credentials,
        region,
        service,
        &date,
    )?;
    added.push(("authorization".to_owned(), result.authorization));
    Ok(added)
}

/// The `YYYYMMDD` of a `YYYYMMDDTHHMMSSZ` timestamp, which must be exactly that shape: a wrong
/// date in the scope would only show up as AWS refusing every request.
fn date_of(amz_date: &str) -> Result<&str, SigV4Error> {
    let bytes = amz_date.as_bytes();
    let shaped = bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[9..15].iter().all(u8::is_ascii_digit);
    if shaped {
        Ok(&amz_date[..8])
    } else {
        Err(SigV4Error::BadTimestamp(amz_date.to_owned()))
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, SigV4Error> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| SigV4Error::Key)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// SigV4's URI encoding: every byte except the unreserved characters (`A-Z a-z 0-9 - _ . ~`)
/// becomes `%XY` with upper-case hex; `/` is kept only where the caller says so (paths).
fn uri_encode(input: &[u8], keep_slash: bool, out: &mut String) {
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The path encoded once more on top of how it is sent: non-S3 services sign the doubly encoded
/// form, so a model id sent as `v1%3A0` is signed as `v1%253A0`.
fn canonical_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(path.len());
    uri_encode(path.as_bytes(), true, &mut out);
    out
}

/// Percent-decode (a `+` stays a `+`: in SigV4 it is a literal plus, not a space). Malformed
/// escapes are kept as they are.
fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(text, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Each `name=value` decoded, re-encoded the SigV4 way and sorted by name, then value; a
/// parameter without `=` has an empty value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            let mut n = String::new();
            uri_encode(&percent_decode(name), false, &mut n);
            let mut v = String::new();
            uri_encode(&percent_decode(value), false, &mut v);
            (n, v)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case names, values trimmed with inner runs of spaces collapsed, repeated headers joined
/// by commas, sorted by name. Returns the canonical block (each line ending in `\n`) and the
/// signed-headers list.
fn canonical_headers(headers: &[(String, String)]) -> (String, String) {
    let mut merged: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    for (name, value) in headers {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        merged
            .entry(name.trim().to_ascii_lowercase())
            .or_default()
            .push(value);
    }
    let mut block = String::new();
    for (name, values) in &merged {
        block.push_str(name);
        block.push(':');
        block.push_str(&values.join(","));
        block.push('\n');
    }
    let signed = merged.keys().cloned().collect::<Vec<_>>().join(";");
    (block, signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_double_encoded_in_the_canonical_path() {
        assert_eq!(
            canonical_path("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"),
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse"
        );
        assert_eq!(canonical_path(""), "/");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(canonical_query("b=2&a=%7e&a=1&c"), "a=1&a=~&b=2&c=");
        assert_eq!(canonical_query("x=a%20b+c"), "x=a%20b%2Bc");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn timestamps_must_be_the_amz_shape() {
        assert_eq!(date_of("20150830T123600Z"), Ok("20150830"));
        for bad in [
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "2015083aT123600Z",
            "",
        ] {
            assert!(date_of(bad).is_err(), "{bad}");
        }
        let at: jiff::Timestamp = "2015-08-30T12:36:00Z".parse().unwrap_or_default();
        assert_eq!(amz_date(at), "20150830T123600Z");
    }

    #[test]
    fn debug_hides_the_secret_and_token() {
        let c = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "s3cr3t-key".into(),
            session_token: Some("t0ken-value".into()),
        };
        let shown = format!("{c:?}");
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("s3cr3t-key") && !shown.contains("t0ken-value"));
    }
}
