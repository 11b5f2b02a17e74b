//! The SigV4 signer against AWS's published test suite (`tests/fixtures/sigv4`, see SOURCE.md).

use std::path::{Path, PathBuf};

use muster_target::sigv4::{Credentials, Request, sign};

const DATE: &str = "20150830T123600Z";
const REGION: &str = "us-east-1";
const SERVICE: &str = "service";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigv4")
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn credentials(token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        session_token: token.map(str::to_owned),
    }
}

/// A suite request file: request line, `Name:value` headers, blank line, body.
struct Parsed {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn parse(text: &str) -> Parsed {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Parsed {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.to_owned(),
    }
}

/// Sign a suite's signed request without its `Authorization` header; return that header and ours.
fn resign(name: &str) -> (String, String) {
    let text = read(&dir().join(name).join("header-signed-request.txt"));
    let parsed = parse(&text);
    let expected = parsed
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    assert!(
        !expected.is_empty(),
        "{name}: no Authorization in the vector"
    );
    let headers: Vec<(String, String)> = parsed
        .headers
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
        .collect();
    let token = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-security-token"))
        .map(|(_, v)| v.trim().to_owned());
    let signed = sign(
        &Request {
            method: &parsed.method,
            path: &parsed.path,
            query: &parsed.query,
            headers: &headers,
            payload: parsed.body.as_bytes(),
        },
        &credentials(token.as_deref()),
        REGION,
        SERVICE,
        DATE,
    );
    match signed {
        Ok(s) => (expected, s.authorization),
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn every_vector_signs_to_the_published_authorization() {
    for name in [
        "get-vanilla-query-order-key-case",
        "post-vanilla",
        "get-vanilla-with-session-token",
        "get-utf8",
        "get-header-value-trim",
        "get-unreserved",
        "get-vanilla-utf8-query",
        "get-query-plus",
    ] {
        let (expected, ours) = resign(name);
        assert_eq!(ours, expected, "{name}");
    }
}

#[test]
fn get_query_plus_matches_every_published_step() {
    let case = dir().join("get-query-plus");
    let parsed = parse(&read(&case.join("request.txt")));
    // request.txt has no date; the suite signs at its fixed time, adding `X-Amz-Date`.
    let mut headers = parsed.headers.clone();
    headers.push(("X-Amz-Date".to_owned(), DATE.to_owned()));
    let signed = match sign(
        &Request {
            method: &parsed.method,
            path: &parsed.path,
            query: &parsed.query,
            headers: &headers,
            payload: b"",
        },
        &credentials(None),
        REGION,
        SERVICE,
        DATE,
    ) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    // The suite's files end with a newline that is not part of the canonical request.
    assert_eq!(
        signed.canonical_request,
        read(&case.join("header-canonical-request.txt")).trim_end_matches('\n')
    );
    assert_eq!(
        signed.string_to_sign,
        read(&case.join("header-string-to-sign.txt")).trim_end_matches('\n')
    );
    let published = parse(&read(&case.join("header-signed-request.txt")));
    let authorization = published
        .headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    assert_eq!(signed.authorization, authorization);
    assert!(authorization.ends_with(&format!("Signature={}", signed.signature)));
}

#[test]
fn the_session_token_vector_uses_the_suites_context() {
    // The token in the signed request must be the one the suite's context.json declares, or the
    // vector would prove nothing about token handling.
    let context: serde_json::Value = serde_json::from_str(&read(
        &dir().join("get-vanilla-with-session-token/context.json"),
    ))
    .unwrap_or_default();
    let token = context["credentials"]["token"].as_str().unwrap_or_default();
    assert!(!token.is_empty());
    let text = read(&dir().join("get-vanilla-with-session-token/header-signed-request.txt"));
    assert!(text.contains(&format!("X-Amz-Security-Token:{token}")));
    assert_eq!(context["credentials"]["access_key_id"], "AKIDEXAMPLE");
    assert_eq!(context["timestamp"], "2015-08-30T12:36:00Z");
}

#[test]
fn a_wrong_secret_or_time_changes_the_signature() {
    let (expected, _) = resign("post-vanilla");
    let headers = vec![
        ("Host".to_owned(), "example.amazonaws.com".to_owned()),
        ("X-Amz-Date".to_owned(), DATE.to_owned()),
    ];
    let request = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: b"",
    };
    let mut wrong = credentials(None);
    wrong.secret_access_key.push('x');
    let other = sign(&request, &wrong, REGION, SERVICE, DATE)
        .map(|s| s.authorization)
        .unwrap_or_default();
    assert_ne!(other, expected);
    assert!(sign(&request, &credentials(None), REGION, SERVICE, "2015-08-30").is_err());
}
