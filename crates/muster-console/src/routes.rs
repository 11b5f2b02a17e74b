//! The route table. Each route is declared once with its method, path, permission and schemas;
//! the router, its access guard and the OpenAPI document are all built from that declaration,
//! so what is enforced is what is published.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::handler::Handler;
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, on};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::app::{AppState, now_ns};
use crate::auth::{CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, same_secret, token_digest};
use crate::error::ConsoleError;
use crate::exercise::Actor;
use crate::input::{BODY_LIMIT, is_form};
use crate::roles::{Permission, Role, any_grants};

/// Pages answer people (HTML); the API answers programs (JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Page,
    Api,
}

pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

#[derive(Clone, Debug)]
pub struct RouteSpec {
    pub method: Method,
    /// In axum's syntax, e.g. `/api/exercises/{id}`.
    pub path: &'static str,
    pub permission: Permission,
    pub surface: Surface,
    pub summary: &'static str,
    pub request: Option<(&'static str, SchemaFn)>,
    pub response: Option<(&'static str, SchemaFn)>,
    /// `text/event-stream` rather than JSON.
    pub event_stream: bool,
}

pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The caller, as the guard established it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub account_role: Role,
    pub is_admin: bool,
    /// Account role plus seats held in the exercise the route is about.
    pub roles: Vec<Role>,
    pub csrf_token: String,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            roles: self.roles.clone(),
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        any_grants(&self.roles, permission)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ConsoleError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ConsoleError::Unauthenticated)
    }
}

/// The exercise named by the route's `{id}`, as the guard read it for this request.
#[derive(Clone, Debug)]
pub struct Current(pub Option<crate::state::ExerciseNow>);

impl Current {
    pub fn get(&self, id: &str) -> Result<crate::state::ExerciseNow, ConsoleError> {
        self.0
            .clone()
            .ok_or_else(|| ConsoleError::NotFound(format!("no exercise `{id}`")))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Current {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Current(
            parts.extensions.get::<crate::state::ExerciseNow>().cloned(),
        ))
    }
}

/// Collects routes and their declarations.
pub struct Table {
    router: Router<AppState>,
    pub specs: Vec<RouteSpec>,
    state: AppState,
}

impl Table {
    pub fn new(state: AppState) -> Self {
        Self {
            router: Router::new(),
            specs: Vec::new(),
            state,
        }
    }

    pub fn add<H, T>(mut self, spec: RouteSpec, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match spec.method {
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        };
        let guard = middleware::from_fn_with_state(
            (self.state.clone(), spec.permission, spec.surface),
            guard,
        );
        self.router = self
            .router
            .route(spec.path, on(filter, handler).route_layer(guard));
        self.specs.push(spec);
        self
    }

    pub fn finish(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.specs)
    }
}

/// The session token from the request's cookies.
pub fn cookie_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

fn deny(surface: Surface, method: &Method, error: ConsoleError) -> Response {
    if surface == Surface::Page
        && *method == Method::GET
        && matches!(error, ConsoleError::Unauthenticated)
    {
        return Redirect::to("/login").into_response();
    }
    if surface == Surface::Page {
        return crate::pages::error_page(&error).into_response();
    }
    error.into_response()
}

/// Establishes who is calling, checks CSRF on writes and the route's permission, then hands on.
async fn guard(
    State((state, permission, surface)): State<(AppState, Permission, Surface)>,
    Path(params): Path<HashMap<String, String>>,
    req: Request,
    next: Next,
) -> Response {
    if permission == Permission::Public {
        return next.run(req).await;
    }
    let method = req.method().clone();
    match admit(&state, permission, &params, req).await {
        Ok(req) => next.run(req).await,
        Err(error) => deny(surface, &method, error),
    }
}

async fn admit(
    state: &AppState,
    permission: Permission,
    params: &HashMap<String, String>,
    req: Request,
) -> Result<Request, ConsoleError> {
    let token = cookie_token(req.headers()).ok_or(ConsoleError::Unauthenticated)?;
    let session = state
        .store()
        .session(&token_digest(&token), now_ns())
        .await?
        .ok_or(ConsoleError::Unauthenticated)?;
    let account_role = Role::parse(&session.user.role).ok_or_else(|| {
        ConsoleError::Internal(format!(
            "account {} has an unknown role",
            session.user.username
        ))
    })?;
    let mut roles = vec![account_role];
    let mut current = None;
    if let Some(id) = params.get("id")
        && let Some(exercise) = state.try_exercise(id).await?
    {
        for seat in exercise.seats_of(&session.user.username) {
            if !roles.contains(&seat) {
                roles.push(seat);
            }
        }
        current = Some(exercise);
    }
    let caller = Caller {
        user_id: session.user.id.clone(),
        username: session.user.username.clone(),
        display_name: session.user.display_name.clone(),
        account_role,
        is_admin: session.user.is_admin,
        roles,
        csrf_token: session.csrf_token.clone(),
    };
    let req = if req.method() == Method::GET || req.method() == Method::HEAD {
        req
    } else {
        check_csrf(req, &session.csrf_token).await?
    };
    if !any_grants(&caller.roles, permission) {
        return Err(ConsoleError::Forbidden(format!(
            "needs `{}`; you act as {}",
            permission.key(),
            caller
                .roles
                .iter()
                .map(|r| r.key())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut req = req;
    req.extensions_mut().insert(caller);
    // The handler reads the exercise the guard just read instead of reading it again.
    if let Some(exercise) = current {
        req.extensions_mut().insert(exercise);
    }
    Ok(req)
}

/// The token comes in the `X-CSRF-Token` header (API) or the form's `csrf` field (pages).
async fn check_csrf(req: Request, expected: &str) -> Result<Request, ConsoleError> {
    if let Some(given) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if same_secret(given, expected) {
            Ok(req)
        } else {
            Err(ConsoleError::Csrf)
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !is_form(content_type.as_deref()) {
        return Err(ConsoleError::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|e| ConsoleError::BadRequest(format!("cannot read the request body: {e}")))?;
    let given = form_field(&bytes, CSRF_FIELD);
    if !given.is_some_and(|g| same_secret(&g, expected)) {
        return Err(ConsoleError::Csrf);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn form_field(bytes: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A browser's form post that fails gets an error page with a way back, not the API's JSON.
pub async fn form_errors_as_pages(req: Request, next: Next) -> Response {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !is_form(content_type) {
        return next.run(req).await;
    }
    // Only the path of the referring page: a link back can never leave the console.
    let back = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<axum::http::Uri>().ok())
        .map(|uri| uri.path().to_owned());
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), BODY_LIMIT)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    crate::pages::message_page(status, &message, back.as_deref())
}
