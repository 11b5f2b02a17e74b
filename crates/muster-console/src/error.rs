//! Errors a request can end in, and how each is shown: JSON for the API, a page for people.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("your roles do not allow this ({0})")]
    Forbidden(String),
    #[error("the form or request is missing its CSRF token, or it does not match your session")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the evidence store failed: {0}")]
    Store(#[from] muster_store::StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ConsoleError {
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ConsoleError::Forbidden(_) | ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Store(muster_store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
            ConsoleError::Store(_) | ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ConsoleError::Unauthenticated => "unauthenticated",
            ConsoleError::Forbidden(_) => "forbidden",
            ConsoleError::Csrf => "csrf",
            ConsoleError::NotFound(_) => "not-found",
            ConsoleError::BadRequest(_) => "bad-request",
            ConsoleError::Conflict(_) => "conflict",
            ConsoleError::Store(muster_store::StoreError::Conflict(_)) => "conflict",
            ConsoleError::Store(_) => "store",
            ConsoleError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (
            self.status(),
            axum::Json(json!({"error": self.code(), "message": self.to_string()})),
        )
            .into_response()
    }
}

pub type Result<T, E = ConsoleError> = std::result::Result<T, E>;
