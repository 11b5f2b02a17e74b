//! The `bedrock-converse` adapter against a Converse stand-in on 127.0.0.1 that checks every
//! request's SigV4 signature the way AWS does: from the bytes, path and headers it *received*.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_target::sigv4::{Credentials, Request, sign};
use muster_target::{Target, TargetError, TurnError};
use serde_json::{Value, json};

const KEY_ID: &str = "AKIDTESTBEDROCK";
const SECRET: &str = "bedrock-secret-key-that-must-never-leak";
const TOKEN: &str = "session-token-that-must-never-leak-either";
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// The model id as AWS's SDKs put it in the path: `:` encoded.
const PATH: &str = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";

#[derive(Clone, Copy)]
enum Mode {
    Text,
    Tool,
    Throttled,
    Invalid,
    Malformed,
    /// ConverseStream: text in two pieces, then a tool use whose input arrives in two pieces.
    Stream,
    /// ConverseStream that fails part-way with an exception event.
    StreamException,
}

/// One ConverseStream event frame (payload shapes as the ConverseStream API reference gives them;
/// the values are made up).
fn event(kind: &str, payload: Value) -> Vec<u8> {
    muster_target::eventstream::encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

fn stream_body(fail: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(event("messageStart", json!({"role": "assistant"})));
    out.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "Let me look "}}),
    ));
    out.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "that up."}}),
    ));
    out.extend(event("contentBlockStop", json!({"contentBlockIndex": 0})));
    if fail {
        out.extend(muster_target::eventstream::encode(
            &[
                (":exception-type", "modelStreamErrorException"),
                (":content-type", "application/json"),
                (":message-type", "exception"),
            ],
            json!({"message": "The model stream failed."})
                .to_string()
                .as_bytes(),
        ));
        return out;
    }
    out.extend(event("contentBlockStart", json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_20Z9zl0BQWSXjFuLKdTJcA", "name": "top_song"}}})));
    out.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"sign\": "}}}),
    ));
    out.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"WZPZ\"}"}}}),
    ));
    out.extend(event("contentBlockStop", json!({"contentBlockIndex": 1})));
    out.extend(event("messageStop", json!({"stopReason": "tool_use"})));
    out.extend(event("metadata", json!({"usage": {"inputTokens": 390, "outputTokens": 53, "totalTokens": 443}, "metrics": {"latencyMs": 1043}})));
    out
}

/// Each request's JSON body, and the verdict on its signature.
type Seen = Arc<Mutex<Vec<(Value, Result<(), String>)>>>;

#[derive(Clone)]
struct Stand {
    mode: Mode,
    token: Option<&'static str>,
    seen: Seen,
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bedrock")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Check the signature as Bedrock would: recompute it from what arrived, with the same secret.
fn verify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    token: Option<&str>,
) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| format!("no `{name}` header"))
    };
    let authorization = header("authorization")?;
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let fields: HashMap<&str, &str> = rest.split(", ").filter_map(|f| f.split_once('=')).collect();
    let credential = fields.get("Credential").ok_or("no Credential")?;
    let signed_headers = fields.get("SignedHeaders").ok_or("no SignedHeaders")?;
    let signature = fields.get("Signature").ok_or("no Signature")?;
    let amz_date = header("x-amz-date")?;
    // x-amz-date must be now (AWS allows five minutes of skew) and agree with the scope.
    let at = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", &amz_date)
        .and_then(|d| jiff::tz::TimeZone::UTC.to_timestamp(d))
        .map_err(|e| format!("bad x-amz-date `{amz_date}`: {e}"))?;
    let skew = (jiff::Timestamp::now().as_second() - at.as_second()).abs();
    if skew > 300 {
        return Err(format!("x-amz-date is {skew}s off"));
    }
    let expected_scope = format!("{KEY_ID}/{}/eu-west-2/bedrock/aws4_request", &amz_date[..8]);
    if *credential != expected_scope {
        return Err(format!(
            "credential scope `{credential}`, expected `{expected_scope}`"
        ));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !names.contains(&required) {
            return Err(format!("`{required}` is not signed"));
        }
    }
    let sent_token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    let token_signed = names.contains(&"x-amz-security-token");
    match (token, sent_token) {
        (Some(t), Some(sent)) if sent == t && token_signed => {}
        (None, None) => {}
        _ => return Err("session token missing, unexpected or unsigned".to_owned()),
    }
    let signed: Vec<(String, String)> = names
        .iter()
        .map(|n| header(n).map(|v| ((*n).to_owned(), v)))
        .collect::<Result<_, _>>()?;
    let credentials = Credentials {
        access_key_id: KEY_ID.to_owned(),
        secret_access_key: SECRET.to_owned(),
        session_token: token.map(str::to_owned),
    };
    let recomputed = sign(
        &Request {
            method: method.as_str(),
            path: uri.path(),
            query: uri.query().unwrap_or_default(),
            headers: &signed,
            payload: body,
        },
        &credentials,
        "eu-west-2",
        "bedrock",
        &amz_date,
    )
    .map_err(|e| e.to_string())?;
    if recomputed.signature != *signature {
        return Err(format!(
            "signature mismatch; the server's canonical request was:\n{}",
            recomputed.canonical_request
        ));
    }
    Ok(())
}

async fn converse(
    axum::extract::State(stand): axum::extract::State<Stand>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verdict = verify(&method, &uri, &headers, &body, stand.token);
    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let expected_path = match stand.mode {
        Mode::Stream | Mode::StreamException => PATH.replace("/converse", "/converse-stream"),
        _ => PATH.to_owned(),
    };
    let bad_path = uri.path() != expected_path;
    if let Ok(mut seen) = stand.seen.lock() {
        seen.push((doc, verdict.clone()));
    }
    if bad_path || verdict.is_err() {
        // What Bedrock answers to a bad signature.
        return (
            StatusCode::FORBIDDEN,
            [("x-amzn-errortype", "InvalidSignatureException")],
            json!({"message": format!("path {} / {verdict:?}", uri.path())}).to_string(),
        )
            .into_response();
    }
    let json_body = |status: StatusCode, error: Option<&str>, text: String| {
        let mut response = (status, [("content-type", "application/json")], text).into_response();
        if let Some(kind) = error.and_then(|k| k.parse().ok()) {
            response.headers_mut().insert("x-amzn-errortype", kind);
        }
        response
    };
    match stand.mode {
        Mode::Text => json_body(StatusCode::OK, None, fixture("converse-text.json")),
        Mode::Tool => json_body(StatusCode::OK, None, fixture("converse-tool-use.json")),
        Mode::Throttled => json_body(
            StatusCode::TOO_MANY_REQUESTS,
            Some("ThrottlingException"),
            json!({"message": "Too many requests, please wait before trying again."}).to_string(),
        ),
        Mode::Invalid => json_body(
            StatusCode::BAD_REQUEST,
            Some("ValidationException"),
            json!({"message": "The provided model identifier is invalid."}).to_string(),
        ),
        Mode::Stream | Mode::StreamException => (
            StatusCode::OK,
            [("content-type", "application/vnd.amazon.eventstream")],
            stream_body(matches!(stand.mode, Mode::StreamException)),
        )
            .into_response(),
        Mode::Malformed => json_body(
            StatusCode::OK,
            None,
            json!({"output": {"message": {"role": "assistant", "content": "not a list"}}, "stopReason": "end_turn"}).to_string(),
        ),
    }
}

async fn start(mode: Mode, token: Option<&'static str>) -> (String, Stand) {
    let stand = Stand {
        mode,
        token,
        seen: Arc::default(),
    };
    let app = Router::new().fallback(converse).with_state(stand.clone());
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), stand)
}

fn manifest(base: &str, extra: &str) -> AgentManifest {
    let yaml = format!(
        r#"version: 1
kind: agent
name: t
owner: {{name: Test}}
environment: sandbox
hosts: [127.0.0.1]
model: {{provider: anthropic, name: claude-3-haiku, version: "20240307"}}
target:
  adapter: bedrock-converse
  base_url: {base}
  timeout: 2s
  retries: 2
  bedrock_converse:
    model_id: {MODEL}
    system_prompt: You are the support agent for Example Bank.
    inference_config: {{maxTokens: 512, temperature: 0.2}}
{extra}"#
    );
    let loaded = muster_model::load_agent(&yaml);
    match loaded.value {
        Some(m) => m,
        None => panic!("test manifest invalid: {:#?}", loaded.diagnostics),
    }
}

fn env_with(token: Option<&'static str>, region: bool) -> impl Fn(&str) -> Option<String> {
    move |name: &str| match name {
        "AWS_ACCESS_KEY_ID" => Some(KEY_ID.to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some(SECRET.to_owned()),
        "AWS_SESSION_TOKEN" => token.map(str::to_owned),
        "AWS_REGION" if region => Some("eu-west-2".to_owned()),
        _ => None,
    }
}

fn target(base: &str, token: Option<&'static str>) -> Target {
    match Target::with_env(&manifest(base, ""), None, &env_with(token, true)) {
        Ok(t) => t,
        Err(e) => panic!("target: {e}"),
    }
}

fn vars() -> Vars {
    let mut v = Vars::new();
    v.insert("customer.ref".into(), json!("LM-100004"));
    v
}

fn no_secrets(exchanges: &[muster_target::Exchange]) {
    for e in exchanges {
        let recorded = e.to_json().to_string();
        assert!(
            !recorded.contains(SECRET),
            "secret key in evidence: {recorded}"
        );
        assert!(
            !recorded.contains(TOKEN),
            "session token in evidence: {recorded}"
        );
        let authorization = e
            .request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str());
        assert_eq!(authorization, Some("[redacted]"));
    }
}

#[tokio::test]
async fn text_replies_are_read_and_history_is_resent_signed() {
    let (base, stand) = start(Mode::Text, Some(TOKEN)).await;
    let target = target(&base, Some(TOKEN));
    assert_eq!(target.aws_region(), Some("eu-west-2"));
    let (_, opened) = target.open(vars()).await;
    let mut conversation = match opened {
        Ok(c) => c,
        Err(e) => panic!("open: {e}"),
    };
    let first = target
        .send(&mut conversation, "Where is my refund for order 1042?", 1)
        .await;
    let reply = match &first.reply {
        Ok(r) => r.clone(),
        Err(e) => panic!("turn 1: {e}"),
    };
    assert!(
        reply
            .text
            .starts_with("I can help with that. Your order 1042 was refunded")
    );
    assert!(reply.tool_calls.is_empty());
    let second = target
        .send(&mut conversation, "Thanks. Anything else?", 2)
        .await;
    assert!(second.reply.is_ok(), "{:?}", second.reply);

    let seen = stand.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 2);
    for (_, verdict) in &seen {
        assert_eq!(verdict, &Ok(()), "signature");
    }
    let (turn1, _) = &seen[0];
    assert_eq!(
        turn1["system"],
        json!([{"text": "You are the support agent for Example Bank."}])
    );
    assert_eq!(
        turn1["inferenceConfig"],
        json!({"maxTokens": 512, "temperature": 0.2})
    );
    assert_eq!(
        turn1["messages"],
        json!([{"role": "user", "content": [{"text": "Where is my refund for order 1042?"}]}])
    );
    // Turn 2 resends turn 1 and the assistant's message as Bedrock returned it.
    let (turn2, _) = &seen[1];
    let messages = turn2["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0], turn1["messages"][0]);
    let documented: Value =
        serde_json::from_str(&fixture("converse-text.json")).unwrap_or_default();
    assert_eq!(messages[1], documented["output"]["message"]);
    assert_eq!(
        messages[2],
        json!({"role": "user", "content": [{"text": "Thanks. Anything else?"}]})
    );
    no_secrets(&first.exchanges);
    no_secrets(&second.exchanges);
    // Nor in a debug print of the target (its credentials and secret list included).
    let printed = format!("{target:?}");
    assert!(
        !printed.contains(SECRET) && !printed.contains(TOKEN),
        "{printed}"
    );
    let token_header = first.exchanges[0]
        .request_headers
        .iter()
        .find(|(n, _)| n == "x-amz-security-token")
        .map(|(_, v)| v.clone());
    assert_eq!(token_header.as_deref(), Some("[redacted]"));
}

#[tokio::test]
async fn tool_use_blocks_become_tool_calls() {
    let (base, stand) = start(Mode::Tool, None).await;
    let target = target(&base, None);
    let (_, opened) = target.open(vars()).await;
    let Ok(mut conversation) = opened else {
        panic!("open failed")
    };
    let outcome = target
        .send(
            &mut conversation,
            "What is the most popular song on WZPZ?",
            1,
        )
        .await;
    let reply = match outcome.reply {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(call.id.as_deref(), Some("tooluse_20Z9zl0BQWSXjFuLKdTJcA"));
    assert_eq!(call.name, "top_song");
    assert_eq!(call.arguments, json!({"sign": "WZPZ"}));
    assert_eq!(call.result, None);
    assert_eq!(reply.text, "");
    let seen = stand.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen[0].1, Ok(()));
    no_secrets(&outcome.exchanges);
}

#[tokio::test]
async fn throttling_is_retried_then_inconclusive() {
    let (base, stand) = start(Mode::Throttled, None).await;
    let target = target(&base, None);
    let Ok(mut conversation) = target.open(vars()).await.1 else {
        panic!("open failed")
    };
    let outcome = target.send(&mut conversation, "hello", 1).await;
    // retries: 2, so three attempts, each freshly verified.
    assert_eq!(outcome.exchanges.len(), 3);
    match &outcome.reply {
        Err(TurnError::Status { status, excerpt }) => {
            assert_eq!(*status, 429);
            assert!(excerpt.contains("Too many requests"));
        }
        other => panic!("expected a 429 error, got {other:?}"),
    }
    let seen = stand.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|(_, v)| v.is_ok()));
    no_secrets(&outcome.exchanges);
}

#[tokio::test]
async fn validation_errors_and_malformed_replies_are_inconclusive() {
    let (base, _) = start(Mode::Invalid, None).await;
    let target = target(&base, None);
    let Ok(mut conversation) = target.open(vars()).await.1 else {
        panic!("open failed")
    };
    let outcome = target.send(&mut conversation, "hello", 1).await;
    assert_eq!(outcome.exchanges.len(), 1, "a 400 is not retried");
    assert!(
        matches!(&outcome.reply, Err(TurnError::Status { status: 400, excerpt }) if excerpt.contains("model identifier")),
        "{:?}",
        outcome.reply
    );

    let (base, _) = start(Mode::Malformed, None).await;
    let target2 = self::target(&base, None);
    let Ok(mut conversation) = target2.open(vars()).await.1 else {
        panic!("open failed")
    };
    let outcome = target2.send(&mut conversation, "hello", 1).await;
    assert!(
        matches!(&outcome.reply, Err(TurnError::Malformed(m)) if m.contains("content")),
        "{:?}",
        outcome.reply
    );
    // A failed turn leaves no half-remembered history behind.
    let again = target2.send(&mut conversation, "hello again", 2).await;
    let body = again.exchanges[0].request_body.clone().unwrap_or_default();
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_signature_check() {
    // The stand-in knows SECRET; a target signing with another key must fail verification, or
    // the check in the other tests would prove nothing.
    let (base, stand) = start(Mode::Text, None).await;
    let env = |name: &str| match name {
        "AWS_ACCESS_KEY_ID" => Some(KEY_ID.to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some("some-other-secret-key".to_owned()),
        "AWS_REGION" => Some("eu-west-2".to_owned()),
        _ => None,
    };
    let target = match Target::with_env(&manifest(&base, ""), None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let Ok(mut conversation) = target.open(vars()).await.1 else {
        panic!("open failed")
    };
    let outcome = target.send(&mut conversation, "hello", 1).await;
    assert!(matches!(
        outcome.reply,
        Err(TurnError::Status { status: 403, .. })
    ));
    let seen = stand.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(matches!(&seen[0].1, Err(m) if m.contains("signature mismatch")));
}

#[tokio::test]
async fn missing_credentials_or_region_name_what_to_set() {
    let base = "http://127.0.0.1:9";
    for missing in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let env = |name: &str| {
            if name == missing {
                None
            } else {
                env_with(None, true)(name)
            }
        };
        match Target::with_env(&manifest(base, ""), None, &env) {
            Err(e @ TargetError::MissingSecret(_)) => {
                assert!(e.to_string().contains(missing), "{e}");
            }
            other => panic!("expected a missing {missing}, got {:?}", other.map(|_| ())),
        }
    }
    match Target::with_env(&manifest(base, ""), None, &env_with(None, false)) {
        Err(e @ TargetError::MissingRegion) => assert!(e.to_string().contains("AWS_REGION")),
        other => panic!("expected a missing region, got {:?}", other.map(|_| ())),
    }
    // A region in the manifest needs no AWS_REGION.
    let with_region = format!("{}    region: eu-west-2\n", "");
    let m = manifest(base, &with_region);
    let t = Target::with_env(&m, None, &env_with(None, false));
    assert_eq!(
        t.ok()
            .and_then(|t| t.aws_region().map(str::to_owned))
            .as_deref(),
        Some("eu-west-2")
    );
}

#[tokio::test]
async fn converse_stream_is_assembled_into_one_reply() {
    let (base, stand) = start(Mode::Stream, None).await;
    let target = match Target::with_env(
        &manifest(&base, "    stream: true\n"),
        None,
        &env_with(None, true),
    ) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let Ok(mut conversation) = target.open(vars()).await.1 else {
        panic!("open failed")
    };
    let outcome = target.send(&mut conversation, "Top song on WZPZ?", 1).await;
    let reply = match &outcome.reply {
        Ok(r) => r.clone(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(reply.text, "Let me look that up.");
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].name, "top_song");
    assert_eq!(reply.tool_calls[0].arguments, json!({"sign": "WZPZ"}));
    // The evidence holds the assembled reply, not undecodable bytes.
    let recorded = outcome.exchanges[0]
        .response_body
        .clone()
        .unwrap_or_default();
    assert_eq!(recorded["stopReason"], "tool_use");
    assert_eq!(recorded["streamEvents"], 10);
    let seen = stand.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen[0].1, Ok(()));
    no_secrets(&outcome.exchanges);
}

#[tokio::test]
async fn an_exception_inside_the_stream_is_inconclusive() {
    let (base, _) = start(Mode::StreamException, None).await;
    let target = match Target::with_env(
        &manifest(&base, "    stream: true\n"),
        None,
        &env_with(None, true),
    ) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let Ok(mut conversation) = target.open(vars()).await.1 else {
        panic!("open failed")
    };
    let outcome = target.send(&mut conversation, "hello", 1).await;
    assert!(
        matches!(&outcome.reply, Err(TurnError::Malformed(m)) if m.contains("modelStreamErrorException")),
        "{:?}",
        outcome.reply
    );
}
