//! OTLP/HTTP responses: `Export{Trace,Logs}ServiceResponse` on success (with `partial_success`
//! when records were rejected) and `google.rpc.Status` on failure, in the request's encoding.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message as _;
use serde_json::json;

use crate::Signal;

/// How a request (and so its response) is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// From a `Content-Type` header, parameters ignored.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let media = value.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Encoding::Protobuf)
        } else if media.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// `ExportTracePartialSuccess` and `ExportLogsPartialSuccess` share this wire shape:
/// `rejected_spans` / `rejected_log_records` (1) and `error_message` (2).
#[derive(Clone, PartialEq, prost::Message)]
struct PartialSuccess {
    #[prost(int64, tag = "1")]
    rejected: i64,
    #[prost(string, tag = "2")]
    error_message: String,
}

/// `ExportTraceServiceResponse` / `ExportLogsServiceResponse`.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<PartialSuccess>,
}

/// `google.rpc.Status` (details omitted).
#[derive(Clone, PartialEq, prost::Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn body(encoding: Encoding, status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, encoding.content_type())],
        bytes,
    )
        .into_response()
}

/// The success response; `rejected` holds the reason of each record that was quarantined.
pub(crate) fn export_ok(signal: Signal, encoding: Encoding, rejected: &[String]) -> Response {
    let message = match rejected {
        [] => String::new(),
        [one] => format!("quarantined: {one}"),
        [first, rest @ ..] => format!("quarantined: {first} (and {} more)", rest.len()),
    };
    let count = rejected.len() as i64;
    let bytes = match encoding {
        Encoding::Protobuf => ExportResponse {
            partial_success: (count > 0).then_some(PartialSuccess {
                rejected: count,
                error_message: message,
            }),
        }
        .encode_to_vec(),
        Encoding::Json => {
            let field = match signal {
                Signal::Traces => "rejectedSpans",
                Signal::Logs => "rejectedLogRecords",
            };
            let value = if count > 0 {
                // proto3 JSON writes int64 as a string.
                json!({"partialSuccess": {field: count.to_string(), "errorMessage": message}})
            } else {
                json!({})
            };
            value.to_string().into_bytes()
        }
    };
    body(encoding, StatusCode::OK, bytes)
}

/// A failure response carrying a `google.rpc.Status` with `message`.
pub(crate) fn status(status: StatusCode, encoding: Encoding, message: &str) -> Response {
    // google.rpc.Code: INVALID_ARGUMENT 3, RESOURCE_EXHAUSTED 8, UNAVAILABLE 14.
    let code = match status {
        StatusCode::SERVICE_UNAVAILABLE => 14,
        StatusCode::PAYLOAD_TOO_LARGE => 8,
        _ => 3,
    };
    let bytes = match encoding {
        Encoding::Protobuf => Status {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        Encoding::Json => json!({"code": code, "message": message})
            .to_string()
            .into_bytes(),
    };
    body(encoding, status, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_matched_without_parameters_or_case() {
        assert_eq!(
            Encoding::from_content_type("application/x-protobuf"),
            Some(Encoding::Protobuf)
        );
        assert_eq!(
            Encoding::from_content_type("Application/JSON; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
        assert_eq!(Encoding::from_content_type(""), None);
    }

    #[test]
    fn a_partial_success_is_encoded_as_the_specification_defines() {
        let wire = ExportResponse {
            partial_success: Some(PartialSuccess {
                rejected: 2,
                error_message: "x".into(),
            }),
        }
        .encode_to_vec();
        // field 1, length-delimited; inside: field 1 varint 2, field 2 string "x".
        assert_eq!(wire, [0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, b'x']);
        assert!(ExportResponse::default().encode_to_vec().is_empty());
    }
}
