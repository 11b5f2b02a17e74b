//! One extractor for both callers of a write route: the JSON API and the pages' HTML forms. A
//! form post gets a redirect back to the page (so the pages work without JavaScript); a JSON
//! call gets JSON.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;

/// Largest request body the console reads.
pub const BODY_LIMIT: usize = 256 * 1024;

pub struct Input<T> {
    pub value: T,
    pub from_form: bool,
}

pub fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Input<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|e| ConsoleError::BadRequest(format!("cannot read the request body: {e}")))?;
        if is_form(content_type.as_deref()) {
            let value = serde_urlencoded_from(&bytes)?;
            return Ok(Input {
                value,
                from_form: true,
            });
        }
        let body: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        let value = serde_json::from_slice(body).map_err(|e| {
            ConsoleError::BadRequest(format!(
                "the request body is not the JSON this route takes: {e} (see /api/openapi.json)"
            ))
        })?;
        Ok(Input {
            value,
            from_form: false,
        })
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ConsoleError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ConsoleError::BadRequest(format!("the form is incomplete: {e}")))
}

/// What a write route answers.
pub struct Reply {
    pub json: serde_json::Value,
    pub from_form: bool,
    pub back_to: String,
    pub created: bool,
}

impl Reply {
    pub fn new<T: Serialize>(value: &T, from_form: bool, back_to: impl Into<String>) -> Self {
        Self {
            json: serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
            from_form,
            back_to: back_to.into(),
            created: false,
        }
    }

    pub fn created(mut self) -> Self {
        self.created = true;
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        if self.from_form {
            Redirect::to(&self.back_to).into_response()
        } else if self.created {
            (StatusCode::CREATED, Json(self.json)).into_response()
        } else {
            Json(self.json).into_response()
        }
    }
}

/// A list given as a JSON array, or as a form textarea with one item per line.
pub fn lines<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => Vec::new(),
        Some(Either::List(items)) => items,
        Some(Either::Text(text)) => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// A checkbox: present (any value) in a form, or a JSON boolean.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => false,
        Some(Either::Bool(b)) => b,
        Some(Either::Text(t)) => !matches!(t.as_str(), "" | "false" | "off" | "0"),
    })
}

/// A required text field, trimmed and not empty.
pub fn required(name: &str, value: &str) -> Result<String, ConsoleError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(ConsoleError::BadRequest(format!("`{name}` is required")))
    } else {
        Ok(trimmed.to_owned())
    }
}
