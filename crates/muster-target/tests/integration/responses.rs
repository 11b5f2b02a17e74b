//! The `openai-responses` adapter and the Azure settings against a loopback server that serves
//! OpenAI's documented example payloads and checks the documented request.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use muster_model::agent::AgentManifest;
use muster_model::template::Vars;
use muster_target::{Target, TurnError, TurnOutcome};
use serde_json::{Value, json};

const SECRET: &str = "sk-resp-secret-123";

// --- Documented payloads, verbatim -------------------------------------------------------------

/// "Text input" example response, https://platform.openai.com/docs/api-reference/responses/create
const TEXT_EXAMPLE: &str = r#"{
  "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
  "object": "response",
  "created_at": 1741476542,
  "status": "completed",
  "completed_at": 1741476543,
  "error": null,
  "incomplete_details": null,
  "instructions": null,
  "max_output_tokens": null,
  "model": "gpt-4.1-2025-04-14",
  "output": [
    {
      "type": "message",
      "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
      "status": "completed",
      "role": "assistant",
      "content": [
        {
          "type": "output_text",
          "text": "In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool that reflected the stars. As she dipped her horn into the water, the pool began to shimmer, revealing a pathway to a magical realm of endless night skies. Filled with wonder, Lumina whispered a wish for all who dream to find their own hidden magic, and as she glanced back, her hoofprints sparkled like stardust.",
          "annotations": []
        }
      ]
    }
  ],
  "parallel_tool_calls": true,
  "previous_response_id": null,
  "reasoning": {
    "effort": null,
    "summary": null
  },
  "store": true,
  "temperature": 1.0,
  "text": {
    "format": {
      "type": "text"
    }
  },
  "tool_choice": "auto",
  "tools": [],
  "top_p": 1.0,
  "truncation": "disabled",
  "usage": {
    "input_tokens": 36,
    "input_tokens_details": {
      "cached_tokens": 0
    },
    "output_tokens": 87,
    "output_tokens_details": {
      "reasoning_tokens": 0
    },
    "total_tokens": 123
  },
  "user": null,
  "metadata": {}
}"#;

/// "Functions" example response, https://platform.openai.com/docs/api-reference/responses/create
const FUNCTION_EXAMPLE: &str = r#"{
  "id": "resp_67ca09c5efe0819096d0511c92b8c890096610f474011cc0",
  "object": "response",
  "created_at": 1741294021,
  "status": "completed",
  "completed_at": 1741294022,
  "error": null,
  "incomplete_details": null,
  "instructions": null,
  "max_output_tokens": null,
  "model": "gpt-4.1-2025-04-14",
  "output": [
    {
      "type": "function_call",
      "id": "fc_67ca09c6bedc8190a7abfec07b1a1332096610f474011cc0",
      "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k",
      "name": "get_current_weather",
      "arguments": "{\"location\":\"Boston, MA\",\"unit\":\"celsius\"}",
      "status": "completed"
    }
  ],
  "parallel_tool_calls": true,
  "previous_response_id": null,
  "reasoning": {
    "effort": null,
    "summary": null
  },
  "store": true,
  "temperature": 1.0,
  "text": {
    "format": {
      "type": "text"
    }
  },
  "tool_choice": "auto",
  "tools": [
    {
      "type": "function",
      "description": "Get the current weather in a given location",
      "name": "get_current_weather",
      "parameters": {
        "type": "object",
        "properties": {
          "location": {
            "type": "string",
            "description": "The city and state, e.g. San Francisco, CA"
          },
          "unit": {
            "type": "string",
            "enum": [
              "celsius",
              "fahrenheit"
            ]
          }
        },
        "required": [
          "location",
          "unit"
        ]
      },
      "strict": true
    }
  ],
  "top_p": 1.0,
  "truncation": "disabled",
  "usage": {
    "input_tokens": 291,
    "output_tokens": 23,
    "output_tokens_details": {
      "reasoning_tokens": 0
    },
    "total_tokens": 314
  },
  "user": null,
  "metadata": {}
}"#;

/// "Streaming" example response, https://platform.openai.com/docs/api-reference/responses/create —
/// including the documentation's own `...` line where it elides further deltas (an SSE line with no
/// colon: a field named `...`, which readers ignore).
const STREAM_TEXT_EXAMPLE: &str = r#"event: response.created
data: {"type":"response.created","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

event: response.in_progress
data: {"type":"response.in_progress","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

event: response.output_item.added
data: {"type":"response.output_item.added","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"in_progress","role":"assistant","content":[]}}

event: response.content_part.added
data: {"type":"response.content_part.added","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi"}

...

event: response.output_text.done
data: {"type":"response.output_text.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"text":"Hi there! How can I assist you today?"}

event: response.content_part.done
data: {"type":"response.content_part.done","item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}}

event: response.output_item.done
data: {"type":"response.output_item.done","output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}}

event: response.completed
data: {"type":"response.completed","response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":37,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48},"user":null,"metadata":{}}}
"#;

/// "Streaming" output events of the function-calling guide,
/// https://platform.openai.com/docs/guides/function-calling#streaming — the event objects
/// verbatim (the guide prints them one per line, as the SDK yields them). The `data:` framing and
/// the final `response.completed` event are ours: the guide shows neither.
const STREAM_FUNCTION_EVENTS: &str = r#"{"type":"response.output_item.added","response_id":"resp_1234xyz","output_index":0,"item":{"type":"function_call","id":"fc_1234xyz","call_id":"call_1234xyz","name":"get_weather","arguments":""}}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"{\""}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"location"}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"\":\""}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"Paris"}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":","}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":" France"}
{"type":"response.function_call_arguments.delta","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"delta":"\"}"}
{"type":"response.function_call_arguments.done","response_id":"resp_1234xyz","item_id":"fc_1234xyz","output_index":0,"arguments":"{\"location\":\"Paris, France\"}"}
{"type":"response.output_item.done","response_id":"resp_1234xyz","output_index":0,"item":{"type":"function_call","id":"fc_1234xyz","call_id":"call_2345abc","name":"get_weather","arguments":"{\"location\":\"Paris, France\"}"}}"#;

// --- Reproductions of documented shapes (not verbatim examples) --------------------------------

/// A `response.completed` closing the function-call stream above (constructed).
const COMPLETED_FUNCTION_EVENT: &str = r#"{"type":"response.completed","response":{"id":"resp_1234xyz","object":"response","status":"completed","error":null,"output":[]}}"#;

/// The deltas of the guide's function call with no `.done` events and an empty completed `output`
/// (constructed): the arguments can only come from the deltas.
const STREAM_DELTAS_ONLY: &str = r#"data: {"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"issue_credit","arguments":""}}

data: {"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"amount\""}

data: {"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":": 20}"}

data: {"type":"response.completed","response":{"id":"resp_2","object":"response","status":"completed","error":null,"output":[]}}

"#;

/// A stream that stops before `response.completed` (constructed).
const STREAM_CUT: &str = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Your refund of\"}\n\n";

/// The `error` event of https://platform.openai.com/docs/api-reference/responses-streaming/error
/// (reproduced), after a delta.
const STREAM_ERROR: &str = "data: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Sure\"}\n\nevent: error\ndata: {\"type\":\"error\",\"code\":\"ERR_SOMETHING\",\"message\":\"Something went wrong\",\"param\":null,\"sequence_number\":1}\n\n";

/// `response.failed` as documented at
/// https://platform.openai.com/docs/api-reference/responses-streaming/response/failed (reproduced).
const STREAM_FAILED: &str = "data: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_123\",\"object\":\"response\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model failed to generate a response.\"},\"output\":[]}}\n\n";

fn failed_response() -> Value {
    json!({"id": "resp_f", "object": "response", "status": "failed",
           "error": {"code": "server_error", "message": "The model failed to generate a response."},
           "incomplete_details": null, "output": []})
}

fn incomplete_response() -> Value {
    json!({"id": "resp_i", "object": "response", "status": "incomplete", "error": null,
           "incomplete_details": {"reason": "max_output_tokens"},
           "output": [{"type": "message", "id": "msg_i", "status": "incomplete", "role": "assistant",
                       "content": [{"type": "output_text", "text": "Your refund of £", "annotations": []}]}]})
}

/// A service built on the Responses shape reporting what it executed: the call, its result as a
/// `function_call_output` item, and a handover flag of its own (constructed).
fn executed_call_response() -> Value {
    json!({"id": "resp_x", "object": "response", "status": "completed", "error": null,
           "output": [
               {"type": "function_call", "id": "fc_9", "call_id": "call_9", "name": "issue_credit",
                "arguments": "{\"amount\": 20}", "status": "completed"},
               {"type": "function_call_output", "call_id": "call_9", "output": "{\"credited\": 20}"},
               {"type": "message", "id": "msg_9", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": "I've credited £20.", "annotations": []}]}
           ],
           "larkspur": {"handover": false, "kb": "kb-12"}})
}

// --- The server ---------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<(String, HeaderMap, Value)>>>,
}

impl Seen {
    fn all(&self) -> Vec<(String, HeaderMap, Value)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_body(text: &str) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        text.to_owned(),
    )
        .into_response()
}

fn event_stream(text: String) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/event-stream")],
        text,
    )
        .into_response()
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": why, "type": "invalid_request_error"}})),
    )
        .into_response()
}

/// Checks what OpenAI and Azure document for each route, then answers by the customer's words.
async fn handle(State(seen): State<Seen>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let target = uri
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    if let Ok(mut r) = seen.requests.lock() {
        r.push((target.clone(), headers.clone(), body.clone()));
    }
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    let bearer = format!("Bearer {SECRET}");
    let bearer_ok = header(&headers, "authorization") == Some(bearer.as_str());
    // Azure takes a resource key in `api-key` or an Entra ID token as a bearer token.
    let authorised = if path.starts_with("/openai/") {
        header(&headers, "api-key") == Some(SECRET) || bearer_ok
    } else {
        bearer_ok
    };
    if !authorised {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong credential");
    }
    let versioned = path == "/openai/responses" || path.starts_with("/openai/deployments/");
    if versioned && !query.starts_with("api-version=") {
        return refuse(StatusCode::NOT_FOUND, "api-version query parameter missing");
    }
    if path.ends_with("/chat/completions") {
        // A chat completion in the documented shape (constructed).
        return Json(
            json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
            "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Hello from the deployment"}}]}),
        )
        .into_response();
    }
    let said = match body["input"].as_array().and_then(|i| i.last()) {
        Some(last) if last["role"] == "user" => last["content"].as_str().unwrap_or_default(),
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "input must end with a user message",
            );
        }
    };
    if !body["model"].is_string() {
        return refuse(StatusCode::BAD_REQUEST, "model is required");
    }
    let said = said.to_owned();
    if body["stream"] == true {
        return event_stream(match said.as_str() {
            s if s.contains("hello") => STREAM_TEXT_EXAMPLE.to_owned(),
            s if s.contains("weather") => STREAM_FUNCTION_EVENTS
                .lines()
                .chain([COMPLETED_FUNCTION_EVENT])
                .map(|event| format!("data: {event}\n\n"))
                .collect(),
            s if s.contains("credit") => STREAM_DELTAS_ONLY.to_owned(),
            s if s.contains("cut") => STREAM_CUT.to_owned(),
            s if s.contains("oops") => STREAM_ERROR.to_owned(),
            _ => STREAM_FAILED.to_owned(),
        });
    }
    match said.as_str() {
        s if s.contains("story") => json_body(TEXT_EXAMPLE),
        s if s.contains("weather") => json_body(FUNCTION_EXAMPLE),
        s if s.contains("credit") => Json(executed_call_response()).into_response(),
        s if s.contains("failed") => Json(failed_response()).into_response(),
        s if s.contains("incomplete") => Json(incomplete_response()).into_response(),
        s if s.contains("garbage") => Json(json!({"object": "response", "status": "completed",
            "output": "not a list"}))
        .into_response(),
        s if s.contains("html") => (StatusCode::OK, "<html>maintenance</html>").into_response(),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "The server had an error", "type": "server_error"}})),
        )
            .into_response(),
    }
}

async fn start() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/responses", post(handle))
        .route("/openai/v1/responses", post(handle))
        .route("/openai/responses", post(handle))
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(handle),
        )
        .with_state(seen.clone());
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
    (format!("http://{addr}"), seen)
}

// --- Helpers ------------------------------------------------------------------------------------

fn manifest(base: &str, target: &str) -> AgentManifest {
    let yaml = format!(
        r#"version: 1
kind: agent
name: t
owner: {{name: Test}}
environment: pre-production
hosts: ["127.0.0.1"]
model: {{provider: test, name: scripted, version: "1"}}
target:
  base_url: {base}
  timeout: 2s
  retries: 0
  auth: {{env: MUSTER_TEST_RESPONSES_KEY}}
{target}"#
    );
    let loaded = muster_model::load_agent(&yaml);
    match loaded.value {
        Some(m) => m,
        None => panic!("test manifest invalid: {:#?}", loaded.diagnostics),
    }
}

fn target(base: &str, settings: &str) -> Target {
    let env = |name: &str| (name == "MUSTER_TEST_RESPONSES_KEY").then(|| SECRET.to_owned());
    match Target::with_env(&manifest(base, settings), None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn vars() -> Vars {
    let mut v = Vars::new();
    v.insert("customer.ref".into(), json!("LM-100004"));
    v
}

/// Send `messages` in one conversation; the outcome of each turn.
async fn converse(target: &Target, messages: &[&str]) -> Vec<TurnOutcome> {
    let (_, opened) = target.open(vars()).await;
    let mut conversation = match opened {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let mut outcomes = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let turn = u32::try_from(i + 1).unwrap_or(u32::MAX);
        outcomes.push(target.send(&mut conversation, message, turn).await);
    }
    outcomes
}

/// Every exchange recorded for these outcomes, as the evidence store would write it.
fn recorded(outcomes: &[TurnOutcome]) -> String {
    outcomes
        .iter()
        .flat_map(|o| o.exchanges.iter())
        .map(|e| e.to_json().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

const RESPONSES: &str = "  adapter: openai-responses\n  openai_responses:\n    model: gpt-4.1\n    instructions: You are Larkspur's support agent.\n";

// --- Tests --------------------------------------------------------------------------------------

#[tokio::test]
async fn text_reply_then_previous_response_id_on_turn_two() {
    let (base, seen) = start().await;
    let t = target(&base, RESPONSES);
    let outcomes = converse(&t, &["tell me a story", "another story"]).await;
    for o in &outcomes {
        match &o.reply {
            Ok(r) => assert!(r.text.starts_with("In a peaceful grove"), "{}", r.text),
            Err(e) => panic!("{e}"),
        }
    }
    let requests = seen.all();
    assert_eq!(requests.len(), 2);
    let (path, headers, first) = &requests[0];
    assert_eq!(path, "/v1/responses");
    assert_eq!(
        header(headers, "authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(first["model"], "gpt-4.1");
    assert_eq!(first["instructions"], "You are Larkspur's support agent.");
    assert_eq!(first["safety_identifier"], "LM-100004");
    assert_eq!(first["stream"], false);
    assert_eq!(
        first["input"],
        json!([{"role": "user", "content": "tell me a story"}])
    );
    assert!(first.get("previous_response_id").is_none());
    let second = &requests[1].2;
    assert_eq!(
        second["previous_response_id"],
        "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"
    );
    assert_eq!(
        second["input"],
        json!([{"role": "user", "content": "another story"}]),
        "with previous_response_id only the new turn is sent"
    );
    assert_eq!(
        second["instructions"], "You are Larkspur's support agent.",
        "instructions are not carried over by the API, so they are resent"
    );
    let evidence = recorded(&outcomes);
    assert!(!evidence.contains(SECRET), "{evidence}");
    assert!(evidence.contains("[redacted]"));
}

#[tokio::test]
async fn resend_input_sends_the_whole_conversation() {
    let (base, seen) = start().await;
    let t = target(
        &base,
        &format!("{RESPONSES}    conversation: resend-input\n    identity: user\n"),
    );
    let outcomes = converse(&t, &["tell me a story", "another story"]).await;
    assert!(outcomes.iter().all(|o| o.reply.is_ok()));
    let second = &seen.all()[1].2;
    assert!(second.get("previous_response_id").is_none());
    assert_eq!(second["user"], "LM-100004");
    let input = second["input"].as_array().cloned().unwrap_or_default();
    assert_eq!(input.len(), 3, "{input:?}");
    assert_eq!(
        input[0],
        json!({"role": "user", "content": "tell me a story"})
    );
    assert_eq!(input[1]["role"], "assistant");
    assert!(
        input[1]["content"]
            .as_str()
            .is_some_and(|t| t.contains("Lumina"))
    );
    assert_eq!(
        input[2],
        json!({"role": "user", "content": "another story"})
    );
}

#[tokio::test]
async fn a_function_call_item_is_a_tool_call() {
    let (base, _) = start().await;
    let outcomes = converse(&target(&base, RESPONSES), &["what's the weather?"]).await;
    let reply = match &outcomes[0].reply {
        Ok(r) => r.clone(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(reply.text, "");
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(call.name, "get_current_weather");
    assert_eq!(call.id.as_deref(), Some("call_unLAR8MvFNptuiZK6K6HCy5k"));
    assert_eq!(
        call.arguments,
        json!({"location": "Boston, MA", "unit": "celsius"})
    );
    assert_eq!(call.result, None);
}

#[tokio::test]
async fn executed_results_and_service_extensions_are_read() {
    let (base, _) = start().await;
    let settings =
        format!("{RESPONSES}    handover: /larkspur/handover\n    content_version: /larkspur/kb\n");
    let outcomes = converse(&target(&base, &settings), &["credit me please"]).await;
    let reply = match &outcomes[0].reply {
        Ok(r) => r.clone(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(reply.text, "I've credited £20.");
    assert_eq!(reply.tool_calls[0].number_argument("amount"), Some(20.0));
    assert_eq!(
        reply.tool_calls[0].result,
        Some(json!("{\"credited\": 20}"))
    );
    assert_eq!(reply.handover, Some(false));
    assert_eq!(reply.content_version.as_deref(), Some("kb-12"));
}

#[tokio::test]
async fn a_streamed_reply_is_judged_once_complete() {
    let (base, seen) = start().await;
    let t = target(&base, &format!("{RESPONSES}    stream: true\n"));
    let outcomes = converse(&t, &["hello", "what's the weather in Paris?", "credit"]).await;
    let text = match &outcomes[0].reply {
        Ok(r) => r.text.clone(),
        Err(e) => panic!("{e}"),
    };
    // The documented stream elides deltas after "Hi"; the finished item has the whole text.
    assert_eq!(text, "Hi there! How can I assist you today?");
    let call = match &outcomes[1].reply {
        Ok(r) => r.tool_calls[0].clone(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(call.name, "get_weather");
    assert_eq!(call.arguments, json!({"location": "Paris, France"}));
    assert_eq!(call.id.as_deref(), Some("call_2345abc"));
    let assembled = match &outcomes[2].reply {
        Ok(r) => r.tool_calls[0].clone(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        assembled.arguments,
        json!({"amount": 20}),
        "from the deltas alone"
    );
    let requests = seen.all();
    assert_eq!(requests[0].2["stream"], true);
    assert_eq!(header(&requests[0].1, "accept"), Some("text/event-stream"));
    assert_eq!(
        requests[1].2["previous_response_id"],
        "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
        "the id comes from response.completed"
    );
    // The stream itself is the evidence, with the secret nowhere in it.
    let evidence = recorded(&outcomes);
    assert!(evidence.contains("response.output_text.delta"));
    assert!(!evidence.contains(SECRET));
}

async fn one_turn_error(settings: &str, message: &str) -> (TurnError, String) {
    let (base, _) = start().await;
    let outcomes = converse(&target(&base, settings), &[message]).await;
    assert_eq!(
        outcomes[0].exchanges.len(),
        1,
        "the failed exchange is still recorded"
    );
    match &outcomes[0].reply {
        Ok(r) => panic!("`{message}` produced a reply: {r:?}"),
        Err(e) => (e.clone(), recorded(&outcomes)),
    }
}

#[tokio::test]
async fn failed_incomplete_broken_and_garbled_replies_are_turn_errors() {
    let streamed = format!("{RESPONSES}    stream: true\n");
    for (settings, message, expect) in [
        (
            RESPONSES,
            "failed",
            "The model failed to generate a response.",
        ),
        (RESPONSES, "incomplete", "max_output_tokens"),
        (RESPONSES, "garbage", "no `output` list"),
        (RESPONSES, "html", "not JSON"),
        (streamed.as_str(), "cut", "without `response.completed`"),
        (streamed.as_str(), "oops", "Something went wrong"),
        (
            streamed.as_str(),
            "failed",
            "The model failed to generate a response.",
        ),
    ] {
        let (error, evidence) = one_turn_error(settings, message).await;
        assert!(
            matches!(&error, TurnError::Malformed(m) if m.contains(expect)),
            "`{message}`: {error}"
        );
        assert!(!evidence.contains(SECRET));
    }
    let (error, _) = one_turn_error(RESPONSES, "boom").await;
    assert!(
        matches!(error, TurnError::Status { status: 500, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_wrong_credential_is_an_http_error() {
    let (base, _) = start().await;
    let env = |name: &str| (name == "MUSTER_TEST_RESPONSES_KEY").then(|| "sk-wrong-key".to_owned());
    let t = match Target::with_env(&manifest(&base, RESPONSES), None, &env) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let outcomes = converse(&t, &["tell me a story"]).await;
    assert!(
        matches!(
            outcomes[0].reply,
            Err(TurnError::Status { status: 401, .. })
        ),
        "{:?}",
        outcomes[0].reply
    );
}

#[tokio::test]
async fn azure_responses_v1_sends_the_api_key_header() {
    let (base, seen) = start().await;
    let settings =
        "  adapter: openai-responses\n  openai_responses: {model: larkspur-gpt-41}\n  azure: {}\n";
    let outcomes = converse(&target(&base, settings), &["tell me a story"]).await;
    assert!(outcomes[0].reply.is_ok(), "{:?}", outcomes[0].reply);
    let (path, headers, body) = &seen.all()[0];
    assert_eq!(path, "/openai/v1/responses");
    assert_eq!(header(headers, "api-key"), Some(SECRET));
    assert_eq!(header(headers, "authorization"), None);
    assert_eq!(body["model"], "larkspur-gpt-41", "the deployment name");
    let evidence = recorded(&outcomes);
    assert!(!evidence.contains(SECRET), "{evidence}");
}

#[tokio::test]
async fn azure_preview_responses_and_chat_carry_the_api_version() {
    let (base, seen) = start().await;
    let responses = "  adapter: openai-responses\n  openai_responses: {model: larkspur-gpt-41}\n  azure: {api_version: 2025-03-01-preview, auth: bearer}\n";
    let chat = "  adapter: openai-chat\n  openai_chat: {model: gpt-4o, identity: safety-identifier}\n  azure: {deployment: larkspur-4o, api_version: 2024-10-21}\n";
    let first = converse(&target(&base, responses), &["tell me a story"]).await;
    let second = converse(&target(&base, chat), &["hello"]).await;
    assert!(first[0].reply.is_ok(), "{:?}", first[0].reply);
    match &second[0].reply {
        Ok(r) => assert_eq!(r.text, "Hello from the deployment"),
        Err(e) => panic!("{e}"),
    }
    let requests = seen.all();
    assert_eq!(
        requests[0].0,
        "/openai/responses?api-version=2025-03-01-preview"
    );
    assert_eq!(
        header(&requests[0].1, "authorization"),
        Some(format!("Bearer {SECRET}").as_str()),
        "an Entra ID token goes as a bearer token"
    );
    assert_eq!(
        requests[1].0,
        "/openai/deployments/larkspur-4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(header(&requests[1].1, "api-key"), Some(SECRET));
    assert_eq!(requests[1].2["safety_identifier"], "LM-100004");
    assert!(requests[1].2.get("user").is_none());
    assert!(!recorded(&second).contains(SECRET));
}
