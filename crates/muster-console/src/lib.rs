//! muster's exercise console: the team's tabletop and live drill in the browser.
//!
//! `muster serve` builds a [`ConsoleConfig`] and calls [`serve`]. Pages are server-rendered
//! (maud) and work without JavaScript; the JSON API is described by the OpenAPI document it
//! serves at `/api/openapi.json`; live updates go out as server-sent events.
//!
//! **Invariants:**
//! - Every route is declared once in [`router`]'s table with the permission it needs; the guard
//!   enforces it and the OpenAPI document publishes it (`x-muster-permission`). Nothing else
//!   decides access. The matrix itself is [`roles::grants`].
//! - What happens in an exercise is only ever appended to its log (`muster-store`'s exercise log,
//!   hash-chained); the state shown is folded from the log on every read ([`state::fold`]).
//! - Every state-changing request carries the session's CSRF token (header or form field).
//! - Raw conversation content is shown only to a role granted it, and only after the read is
//!   written to the access audit with a reason.

pub mod api;
pub mod app;
pub mod auth;
pub mod error;
pub mod evidence;
pub mod exercise;
pub mod input;
pub mod live;
pub mod openapi;
pub mod pages;
pub mod regulatory;
pub mod roles;
pub mod routes;
pub mod severity;
pub mod state;

use std::net::SocketAddr;

use axum::Router;
use axum::http::Method;

pub use app::{AppState, Backend, ConsoleConfig, DrillLauncher, append_entry, state_of};
pub use error::ConsoleError;
pub use exercise::{Actor, Entry, ExerciseDefinition, ScenarioBrief};
pub use routes::{RouteSpec, Surface};

use crate::roles::Permission as P;
use crate::routes::{RouteSpec as R, Table, schema_of};

fn spec(
    method: Method,
    path: &'static str,
    permission: P,
    surface: Surface,
    summary: &'static str,
) -> R {
    R {
        method,
        path,
        permission,
        surface,
        summary,
        request: None,
        response: None,
        event_stream: false,
    }
}

fn api(method: Method, path: &'static str, permission: P, summary: &'static str) -> R {
    spec(method, path, permission, Surface::Api, summary)
}

fn page(path: &'static str, permission: P, summary: &'static str) -> R {
    spec(Method::GET, path, permission, Surface::Page, summary)
}

trait SpecExt {
    fn takes<T: schemars::JsonSchema>(self) -> Self;
    fn gives<T: schemars::JsonSchema>(self, description: &'static str) -> Self;
    fn streams(self) -> Self;
}

impl SpecExt for R {
    fn takes<T: schemars::JsonSchema>(mut self) -> Self {
        self.request = Some((std::any::type_name::<T>(), schema_of::<T>));
        self
    }
    fn gives<T: schemars::JsonSchema>(mut self, description: &'static str) -> Self {
        self.response = Some((description, schema_of::<T>));
        self
    }
    fn streams(mut self) -> Self {
        self.event_stream = true;
        self
    }
}

/// The console's router and the declaration of every route in it.
pub fn router(state: AppState) -> (Router, Vec<RouteSpec>) {
    use crate::api as h;
    use crate::state::ExerciseNow;
    use Method as M;
    use api as a;
    let (router, specs) = Table::new(state.clone())
        // pages
        .add(page("/login", P::Public, "Sign-in page"), pages::login_page)
        .add(page("/", P::ViewExercise, "Exercises"), pages::home)
        .add(
            page("/exercises/{id}", P::ViewExercise, "An exercise"),
            pages::exercise_page,
        )
        .add(
            page(
                "/exercises/{id}/evidence",
                P::ViewExercise,
                "An exercise's evidence, redacted",
            ),
            pages::evidence_page_route,
        )
        .add(
            page("/audit", P::ReadAccessAudit, "The access audit"),
            pages::audit_page,
        )
        .add(
            page("/accounts", P::ManageAccounts, "Accounts"),
            pages::accounts_page,
        )
        .add(
            page(
                "/severity-model",
                P::ViewExercise,
                "The incident severity model",
            ),
            pages::severity_page,
        )
        .add(page("/health", P::Public, "Liveness"), pages::health)
        // API
        .add(
            a(M::GET, "/api/openapi.json", P::Public, "This document"),
            h::openapi_document,
        )
        .add(
            a(
                M::POST,
                "/api/session",
                P::Public,
                "Sign in; sets the session cookie and returns the CSRF token",
            )
            .takes::<h::LoginRequest>()
            .gives::<h::SessionInfo>("The session"),
            h::login,
        )
        .add(
            a(M::POST, "/api/session/end", P::SignedIn, "Sign out"),
            h::logout,
        )
        .add(
            a(M::GET, "/api/me", P::SignedIn, "The signed-in account"),
            h::me,
        )
        .add(
            a(M::GET, "/api/accounts", P::ManageAccounts, "Accounts")
                .gives::<Vec<h::Account>>("Accounts"),
            h::list_accounts,
        )
        .add(
            a(
                M::POST,
                "/api/accounts",
                P::ManageAccounts,
                "Add an account",
            )
            .takes::<h::NewAccount>()
            .gives::<h::Account>("The account"),
            h::create_account,
        )
        .add(
            a(
                M::GET,
                "/api/scenarios",
                P::ViewExercise,
                "Scenarios an exercise can be built from",
            )
            .gives::<Vec<ScenarioBrief>>("Scenarios"),
            h::scenarios,
        )
        .add(
            a(M::GET, "/api/exercises", P::ViewExercise, "Exercises")
                .gives::<Vec<h::ExerciseSummary>>("Exercises"),
            h::list_exercises,
        )
        .add(
            a(
                M::POST,
                "/api/exercises",
                P::ManageExercise,
                "Create an exercise from a scenario",
            )
            .takes::<h::NewExercise>(),
            h::create_exercise,
        )
        .add(
            a(
                M::GET,
                "/api/exercises/{id}",
                P::ViewExercise,
                "An exercise's state, folded from its log",
            )
            .gives::<ExerciseNow>("The exercise"),
            h::get_exercise,
        )
        .add(
            a(
                M::GET,
                "/api/exercises/{id}/log",
                P::ViewExercise,
                "An exercise's log entries",
            ),
            h::exercise_log,
        )
        .add(
            a(
                M::GET,
                "/api/exercises/{id}/stream",
                P::ViewExercise,
                "New log entries as server-sent events",
            )
            .streams(),
            live::stream,
        )
        .add(
            a(
                M::GET,
                "/api/exercises/{id}/record",
                P::ExportRecord,
                "The whole record with its chain check (the pack's input)",
            ),
            h::record,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/clock",
                P::ManageExercise,
                "Start, pause, resume or end the exercise clock",
            )
            .takes::<h::ClockRequest>(),
            h::clock,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/injects/{inject}/release",
                P::ManageExercise,
                "Release an inject now",
            ),
            h::release_inject,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/seats",
                P::ManageExercise,
                "Give a role to a participant (hands it over from its holder)",
            )
            .takes::<h::SeatRequest>(),
            h::assign_seat,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/decisions",
                P::LogDecision,
                "Log a decision with what was known, not known and assumed",
            )
            .takes::<h::DecisionRequest>(),
            h::log_decision,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/decisions/{decision}/questions/{question}/answer",
                P::AnswerQuestion,
                "Answer an open question",
            )
            .takes::<h::AnswerRequest>(),
            h::answer_question,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/severity",
                P::SetSeverity,
                "Set the incident severity",
            )
            .takes::<h::SeverityRequest>(),
            h::set_severity,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/awareness",
                P::DeclareAwareness,
                "Record becoming aware (starts the regulatory clocks)",
            )
            .takes::<h::AwarenessRequest>(),
            h::became_aware,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/comms",
                P::DraftComms,
                "Draft a communication",
            )
            .takes::<h::CommsDraft>(),
            h::draft_comms,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/comms/{comms}/review",
                P::ReviewComms,
                "Review a draft",
            )
            .takes::<h::CommsReview>(),
            h::review_comms,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/comms/{comms}/approve",
                P::ApproveComms,
                "Approve a draft (not its author)",
            ),
            h::approve_comms,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/drills",
                P::RunDrill,
                "Start the project's drill, streaming into this exercise",
            ),
            h::start_drill,
        )
        .add(
            a(
                M::GET,
                "/api/exercises/{id}/evidence",
                P::ViewExercise,
                "The exercise's evidence, personal data redacted",
            )
            .gives::<evidence::EvidenceView>("Evidence"),
            h::evidence,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/evidence/raw",
                P::ViewRawEvidence,
                "The evidence unredacted; audited with the reason",
            )
            .takes::<h::RawRequest>()
            .gives::<evidence::EvidenceView>("Evidence"),
            h::raw_evidence,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/hotwash/ratings",
                P::RecordHotWash,
                "Rate a capability",
            )
            .takes::<h::RatingRequest>(),
            h::rate_capability,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/hotwash/findings",
                P::RecordHotWash,
                "Record a finding",
            )
            .takes::<h::FindingRequest>(),
            h::record_finding,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/hotwash/actions",
                P::RecordHotWash,
                "Record a remediation action",
            )
            .takes::<h::ActionRequest>(),
            h::record_action,
        )
        .add(
            a(
                M::POST,
                "/api/exercises/{id}/hotwash/actions/{action}/status",
                P::RecordHotWash,
                "Update an action's status",
            )
            .takes::<h::ActionStatusRequest>(),
            h::update_action,
        )
        .add(
            a(
                M::GET,
                "/api/audit/access",
                P::ReadAccessAudit,
                "Every read of raw content",
            ),
            h::access_audit,
        )
        .add(
            a(
                M::GET,
                "/api/severity-model",
                P::ViewExercise,
                "The incident severity model and its versions",
            ),
            h::severity_model,
        )
        .add(
            a(
                M::PUT,
                "/api/severity-model",
                P::ManageExercise,
                "Save a new version of the severity model",
            )
            .takes::<h::SeverityModelRequest>(),
            h::save_severity_model,
        )
        .add(
            a(
                M::POST,
                "/api/severity-model",
                P::ManageExercise,
                "Save a new version of the severity model (form post)",
            )
            .takes::<h::SeverityModelRequest>(),
            h::save_severity_model,
        )
        .finish();
    let _ = state.openapi.set(openapi::document(&specs));
    let router = router
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(routes::form_errors_as_pages))
        .with_state(state);
    (router, specs)
}

/// Serve the console on `listener` until `shutdown` resolves.
pub async fn serve(
    config: ConsoleConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(config);
    live::start(&state);
    let (router, _) = router(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
