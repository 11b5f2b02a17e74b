//! The JSON API's handlers. Write routes also take the pages' form posts (see `input`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use muster_store::{AccessRecord, ConsoleUser, ExerciseRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::{AppState, now_ns};
use crate::auth::{SESSION_COOKIE, hash_password, random_token, token_digest, verify_password};
use crate::error::{ConsoleError, Result};
use crate::evidence::{EvidenceView, evidence_view};
use crate::exercise::{
    ActionStatus, AiActIncident, ClockAction, Entry, ExerciseDefinition, Inject, OpenQuestion,
    Rating, RegulatoryScope, ScenarioBrief, default_capabilities, default_injects, default_phases,
};
use crate::input::{Input, Reply, flag, lines, required};
use crate::roles::Role;
use crate::routes::{Caller, Current};
use crate::severity::{SeverityLevel, current_model};
use crate::state::{ExerciseNow, Status};

fn page_of(id: &str) -> String {
    format!("/exercises/{id}")
}

fn short_id(prefix: &str) -> String {
    let uuid = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}-{}", &uuid[uuid.len() - 8..])
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

// ---- session ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionInfo {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub is_admin: bool,
    /// Send this in the `X-CSRF-Token` header of every write.
    pub csrf_token: String,
}

pub async fn login(State(state): State<AppState>, input: Input<LoginRequest>) -> Result<Response> {
    let Input { value, from_form } = input;
    let user = state
        .store()
        .user_by_username(value.username.trim())
        .await?;
    // The same answer, after the same work, whether the account exists or not: an unknown name
    // is checked against a throwaway hash so the time taken does not tell names apart.
    let verified = match &user {
        Some(u) => verify_password(&value.password, &u.password_hash),
        None => {
            verify_password(&value.password, crate::auth::decoy_hash());
            false
        }
    };
    let Some(user) = user.filter(|_| verified) else {
        if from_form {
            return Ok(Redirect::to("/login?failed=1").into_response());
        }
        return Err(ConsoleError::Unauthenticated);
    };
    let role = Role::parse(&user.role).ok_or_else(|| {
        ConsoleError::Internal(format!("account {} has an unknown role", user.username))
    })?;
    let token = random_token()?;
    let csrf = random_token()?;
    let now = now_ns();
    let ttl = i64::try_from(state.config.session_ttl.as_nanos()).unwrap_or(i64::MAX);
    state
        .store()
        .create_session(
            &token_digest(&token),
            &user.id,
            &csrf,
            now,
            now.saturating_add(ttl),
        )
        .await?;
    let mut cookie = cookie::Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(state.config.secure_cookies)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(state.config.session_ttl.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
        .to_string();
    cookie.retain(|c| c != '\n');
    let set_cookie = HeaderValue::from_str(&cookie)
        .map_err(|e| ConsoleError::Internal(format!("cannot set the session cookie: {e}")))?;
    let info = SessionInfo {
        username: user.username,
        display_name: user.display_name,
        role,
        is_admin: user.is_admin,
        csrf_token: csrf,
    };
    let mut response = if from_form {
        Redirect::to("/").into_response()
    } else {
        Json(info).into_response()
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie);
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    input: Input<Value>,
) -> Result<Response> {
    let token = crate::routes::cookie_token(&headers);
    if let Some(token) = token {
        state.store().delete_session(&token_digest(&token)).await?;
    }
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = if input.from_form {
        Redirect::to("/login").into_response()
    } else {
        Json(json!({"signed_out": caller.username})).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&expired) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

pub async fn me(caller: Caller) -> Json<Value> {
    Json(json!({
        "username": caller.username,
        "display_name": caller.display_name,
        "role": caller.account_role,
        "is_admin": caller.is_admin,
        "csrf_token": caller.csrf_token,
    }))
}

// ---- accounts ----

#[derive(Debug, Serialize, JsonSchema)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub is_admin: bool,
}

pub async fn list_accounts(State(state): State<AppState>) -> Result<Json<Vec<Account>>> {
    Ok(Json(
        state
            .store()
            .users()
            .await?
            .into_iter()
            .map(|u| Account {
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                is_admin: u.is_admin,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// At least 12 characters.
    pub password: String,
}

pub async fn create_account(
    State(state): State<AppState>,
    input: Input<NewAccount>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let user = new_user(
        &value.username,
        &value.display_name,
        value.role,
        &value.password,
        false,
    )?;
    state.store().create_user(&user).await?;
    Ok(Reply::new(
        &Account {
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            is_admin: false,
        },
        from_form,
        "/accounts",
    )
    .created())
}

/// A new account, checked: a username of letters, digits, `.`, `-` or `_`, a display name and a
/// password of at least 12 characters.
pub fn new_user(
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    is_admin: bool,
) -> Result<ConsoleUser> {
    let username = required("username", username)?;
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(ConsoleError::BadRequest(
            "a username may hold letters, digits, `.`, `-` and `_` only".into(),
        ));
    }
    Ok(ConsoleUser {
        id: uuid::Uuid::now_v7().to_string(),
        display_name: required("display_name", display_name)?,
        username,
        password_hash: hash_password(password)?,
        role: role.key().to_owned(),
        is_admin,
        created_at_ns: now_ns(),
    })
}

// ---- exercises ----

pub async fn scenarios(State(state): State<AppState>) -> Json<Vec<ScenarioBrief>> {
    Json(state.config.scenarios.clone())
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExerciseSummary {
    pub id: String,
    pub title: String,
    pub scenario: String,
    pub created_by: String,
    pub created_at_ns: i64,
}

pub async fn list_exercises(State(state): State<AppState>) -> Result<Json<Vec<ExerciseSummary>>> {
    Ok(Json(
        state
            .store()
            .exercises()
            .await?
            .into_iter()
            .map(|r| ExerciseSummary {
                scenario: r
                    .definition
                    .pointer("/scenario/id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                id: r.id,
                title: r.title,
                created_by: r.created_by,
                created_at_ns: r.created_at_ns,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NewExercise {
    /// A scenario id from `GET /api/scenarios`.
    pub scenario: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lines")]
    pub objectives: Vec<String>,
    /// Exercise minutes per wall-clock minute (1 = real time; 6 = a day in four hours).
    #[serde(default)]
    pub clock_speed: Option<f64>,
    /// Injects, one per line as `MINUTES | title | body`; the defaults when empty.
    #[serde(default, deserialize_with = "lines")]
    pub injects: Vec<String>,
    #[serde(default, deserialize_with = "flag")]
    pub personal_data_breach: bool,
    #[serde(default)]
    pub ai_act: Option<String>,
    #[serde(default)]
    pub comms_target_minutes: Option<u32>,
    /// A drill whose evidence the exercise reviews.
    #[serde(default)]
    pub drill_id: Option<String>,
}

fn parse_injects(lines: &[String]) -> Result<Vec<Inject>> {
    if lines.is_empty() {
        return Ok(default_injects());
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut parts = line.splitn(3, '|').map(str::trim);
            let (Some(minutes), Some(title)) = (parts.next(), parts.next()) else {
                return Err(ConsoleError::BadRequest(format!(
                    "inject line {}: write it as `MINUTES | title | body`",
                    i + 1
                )));
            };
            let at_minutes = minutes.parse().map_err(|_| {
                ConsoleError::BadRequest(format!(
                    "inject line {}: `{minutes}` is not a whole number of minutes",
                    i + 1
                ))
            })?;
            Ok(Inject {
                id: format!("inject-{}", i + 1),
                at_minutes,
                title: required("inject title", title)?,
                body: parts.next().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

pub async fn create_exercise(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<NewExercise>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let scenario = state
        .config
        .scenarios
        .iter()
        .find(|s| s.id == value.scenario)
        .cloned()
        .ok_or_else(|| {
            ConsoleError::BadRequest(format!(
                "no scenario `{}`; GET /api/scenarios lists them",
                value.scenario
            ))
        })?;
    let clock_speed = value.clock_speed.unwrap_or(1.0);
    if !(clock_speed > 0.0 && clock_speed <= 1440.0) {
        return Err(ConsoleError::BadRequest(
            "clock_speed must be above 0 and at most 1440 (a day a minute)".into(),
        ));
    }
    let ai_act = match non_empty(value.ai_act).as_deref() {
        None | Some("none") => None,
        Some("serious") => Some(AiActIncident::Serious),
        Some("death") => Some(AiActIncident::Death),
        Some("widespread-or-critical-infrastructure") => {
            Some(AiActIncident::WidespreadOrCriticalInfrastructure)
        }
        Some(other) => {
            return Err(ConsoleError::BadRequest(format!(
                "ai_act `{other}`: use none, serious, death or widespread-or-critical-infrastructure"
            )));
        }
    };
    if let Some(drill) = non_empty(value.drill_id.clone()) {
        state
            .store()
            .drill(&drill)
            .await
            .map_err(|e| ConsoleError::BadRequest(format!("drill_id `{drill}`: {e}")))?;
    }
    let objectives = if value.objectives.is_empty() {
        vec![
            format!("Contain \"{}\" within the first 15 minutes", scenario.title),
            "Decide on customer remediation with the facts known at the time".into(),
            "Assess notification duties and approve external communications on time".into(),
        ]
    } else {
        value.objectives
    };
    let definition = ExerciseDefinition {
        objectives,
        phases: default_phases(),
        injects: parse_injects(&value.injects)?,
        clock_speed,
        regulatory: RegulatoryScope {
            personal_data_breach: value.personal_data_breach,
            ai_act,
        },
        comms_target_minutes: value.comms_target_minutes.unwrap_or(60),
        capabilities: default_capabilities(),
        drill_id: non_empty(value.drill_id),
        scenario,
    };
    let title = non_empty(value.title)
        .unwrap_or_else(|| format!("Exercise: {}", definition.scenario.title));
    let record = ExerciseRecord {
        id: short_id("ex"),
        title,
        created_at_ns: now_ns(),
        created_by: caller.username.clone(),
        definition: serde_json::to_value(&definition)
            .map_err(|e| ConsoleError::Internal(e.to_string()))?,
    };
    state.store().create_exercise(&record).await?;
    // The creator facilitates unless someone else takes the seat.
    let exercise = state.exercise(&record.id).await?;
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::SeatTaken {
                role: Role::Facilitator,
                username: caller.username.clone(),
                handed_over_from: None,
            },
            None,
        )
        .await?;
    Ok(Reply::new(
        &json!({"id": record.id, "title": record.title}),
        from_form,
        page_of(&record.id),
    )
    .created())
}

pub async fn get_exercise(
    State(state): State<AppState>,
    current: Current,
    Path(id): Path<String>,
) -> Result<Response> {
    let json = state.state_json(&current.get(&id)?)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LogQuery {
    /// Only entries after this position (`seq`).
    #[serde(default)]
    pub after: Option<u64>,
    /// At most this many entries (default 200, at most 1,000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of the log, serialised straight from the cached entries.
#[derive(Serialize)]
struct LogPage<'a> {
    entries: &'a [crate::state::LoggedEntry],
    more: bool,
    unreadable: &'a [String],
}

pub async fn exercise_log(
    current: Current,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<LogQuery>,
) -> Result<Response> {
    let exercise = current.get(&id)?;
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    // In log order, so the page starts where `seq` passes `after`.
    let start = query.after.map_or(0, |after| {
        exercise.entries.partition_point(|e| e.seq <= after)
    });
    let end = start.saturating_add(limit).min(exercise.entries.len());
    let page = LogPage {
        entries: &exercise.entries[start..end],
        more: end < exercise.entries.len(),
        unreadable: &exercise.unreadable,
    };
    Ok(Json(page).into_response())
}

fn writable(exercise: ExerciseNow, id: &str) -> Result<ExerciseNow> {
    if exercise.status() == Status::Ended {
        return Err(ConsoleError::Conflict(format!(
            "exercise {id} has ended; its record is closed"
        )));
    }
    Ok(exercise)
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ClockRequest {
    pub action: ClockAction,
}

pub async fn clock(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<ClockRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    let allowed = matches!(
        (exercise.status(), value.action),
        (Status::NotStarted, ClockAction::Start)
            | (Status::Running, ClockAction::Pause | ClockAction::End)
            | (Status::Paused, ClockAction::Resume | ClockAction::End)
    );
    if !allowed {
        return Err(ConsoleError::Conflict(format!(
            "cannot {:?} a clock that is {:?}",
            value.action,
            exercise.status()
        )));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::Clock {
                action: value.action,
            },
            None,
        )
        .await?;
    let after = state.exercise(&id).await?;
    Ok(Reply::new(&after.clock, from_form, page_of(&id)))
}

pub async fn release_inject(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path((id, inject_id)): Path<(String, String)>,
    input: Input<Value>,
) -> Result<Reply> {
    let exercise = writable(current.get(&id)?, &id)?;
    let inject = exercise
        .definition
        .injects
        .iter()
        .find(|i| i.id == inject_id)
        .cloned()
        .ok_or_else(|| {
            ConsoleError::NotFound(format!("exercise {id} has no inject `{inject_id}`"))
        })?;
    let early = exercise.now_exercise_ms < i64::from(inject.at_minutes) * 60_000;
    let released = state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::InjectReleased {
                inject_id: inject.id.clone(),
                title: inject.title,
                body: inject.body,
                scheduled_minutes: inject.at_minutes,
                early,
            },
            Some(&format!("inject:{}", inject.id)),
        )
        .await?;
    if !released && !input.from_form {
        return Err(ConsoleError::Conflict(format!(
            "inject `{inject_id}` was already released"
        )));
    }
    Ok(Reply::new(
        &json!({"released": released}),
        input.from_form,
        page_of(&id),
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SeatRequest {
    pub role: Role,
    pub username: String,
}

pub async fn assign_seat(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<SeatRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    let username = required("username", &value.username)?;
    if state.store().user_by_username(&username).await?.is_none() {
        return Err(ConsoleError::BadRequest(format!("no account `{username}`")));
    }
    let holder = exercise
        .seats
        .get(value.role.key())
        .and_then(|spells| spells.last())
        .filter(|s| s.until.is_none())
        .map(|s| s.username.clone());
    if holder.as_deref() == Some(username.as_str()) {
        return Err(ConsoleError::Conflict(format!(
            "{username} already holds {}",
            value.role.label()
        )));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::SeatTaken {
                role: value.role,
                username,
                handed_over_from: holder,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DecisionRequest {
    pub title: String,
    pub decision: String,
    /// The role that owns the decision.
    pub owner: Role,
    pub rationale: String,
    #[serde(default)]
    pub phase: Option<String>,
    /// Facts known when the decision was taken.
    #[serde(default, deserialize_with = "lines")]
    pub facts: Vec<String>,
    /// What was not known; each can be answered later.
    #[serde(default, deserialize_with = "lines")]
    pub open_questions: Vec<String>,
    #[serde(default, deserialize_with = "lines")]
    pub assumptions: Vec<String>,
}

pub async fn log_decision(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<DecisionRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    let decision_id = short_id("d");
    let entry = Entry::DecisionLogged {
        decision_id: decision_id.clone(),
        phase: non_empty(value.phase),
        title: required("title", &value.title)?,
        decision: required("decision", &value.decision)?,
        owner: value.owner,
        rationale: value.rationale.trim().to_owned(),
        facts: value.facts,
        open_questions: value
            .open_questions
            .into_iter()
            .enumerate()
            .map(|(i, text)| OpenQuestion {
                id: format!("q{}", i + 1),
                text,
            })
            .collect(),
        assumptions: value.assumptions,
    };
    state
        .append(&exercise, Some(&caller.actor()), &entry, None)
        .await?;
    Ok(Reply::new(
        &json!({"decision_id": decision_id}),
        from_form,
        page_of(&id),
    )
    .created())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnswerRequest {
    pub answer: String,
}

pub async fn answer_question(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path((id, decision_id, question_id)): Path<(String, String, String)>,
    input: Input<AnswerRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    let question = exercise
        .decisions
        .iter()
        .filter(|d| d.decision_id == decision_id)
        .flat_map(|d| &d.questions)
        .find(|q| q.id == question_id)
        .ok_or_else(|| {
            ConsoleError::NotFound(format!(
                "no question {question_id} on decision {decision_id}"
            ))
        })?;
    if question.answer.is_some() {
        return Err(ConsoleError::Conflict(format!(
            "question {question_id} is already answered"
        )));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::QuestionAnswered {
                decision_id,
                question_id,
                answer: required("answer", &value.answer)?,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SeverityRequest {
    /// A level of the current severity model, e.g. `SEV2`.
    pub level: String,
    pub rationale: String,
}

pub async fn set_severity(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<SeverityRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    let (version, levels) = current_model(state.store()).await?;
    if !levels.iter().any(|l| l.level == value.level) {
        return Err(ConsoleError::BadRequest(format!(
            "`{}` is not a level of the severity model (version {version}): {}",
            value.level,
            levels
                .iter()
                .map(|l| l.level.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::SeveritySet {
                level: value.level,
                model_version: version,
                rationale: required("rationale", &value.rationale)?,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AwarenessRequest {
    /// What the organisation learned, and how.
    pub basis: String,
}

pub async fn became_aware(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<AwarenessRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    if exercise.became_aware.is_some() {
        return Err(ConsoleError::Conflict(
            "awareness is already recorded; the regulatory clocks run from that time".into(),
        ));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::BecameAware {
                basis: required("basis", &value.basis)?,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CommsDraft {
    /// Who it is for, e.g. "affected customer", "ICO", "press".
    pub audience: String,
    /// `customer`, `public`, `press`, `internal` or `regulator` (an approved `regulator` draft
    /// meets the regulatory clocks).
    pub channel: String,
    pub body: String,
}

pub async fn draft_comms(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<CommsDraft>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = writable(current.get(&id)?, &id)?;
    let channel = required("channel", &value.channel)?.to_ascii_lowercase();
    if !["customer", "public", "press", "internal", "regulator"].contains(&channel.as_str()) {
        return Err(ConsoleError::BadRequest(format!(
            "channel `{channel}`: use customer, public, press, internal or regulator"
        )));
    }
    let comms_id = short_id("c");
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::CommsDrafted {
                comms_id: comms_id.clone(),
                audience: required("audience", &value.audience)?,
                channel,
                body: required("body", &value.body)?,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"comms_id": comms_id}), from_form, page_of(&id)).created())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CommsReview {
    pub comment: String,
    #[serde(default, deserialize_with = "flag")]
    pub changes_requested: bool,
}

fn comms_item(exercise: ExerciseNow, id: &str, comms_id: &str) -> Result<ExerciseNow> {
    let exercise = writable(exercise, id)?;
    match exercise.comms.iter().find(|c| c.comms_id == comms_id) {
        None => Err(ConsoleError::NotFound(format!(
            "no draft {comms_id} in exercise {id}"
        ))),
        Some(c) if c.approved.is_some() => Err(ConsoleError::Conflict(format!(
            "draft {comms_id} is already approved"
        ))),
        Some(_) => Ok(exercise),
    }
}

pub async fn review_comms(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path((id, comms_id)): Path<(String, String)>,
    input: Input<CommsReview>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = comms_item(current.get(&id)?, &id, &comms_id)?;
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::CommsReviewed {
                comms_id,
                comment: required("comment", &value.comment)?,
                changes_requested: value.changes_requested,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

pub async fn approve_comms(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path((id, comms_id)): Path<(String, String)>,
    input: Input<Value>,
) -> Result<Reply> {
    let exercise = comms_item(current.get(&id)?, &id, &comms_id)?;
    let draft = exercise.comms.iter().find(|c| c.comms_id == comms_id);
    let drafted_by = draft.and_then(|c| c.drafted.by.clone());
    let audience = draft.map(|c| c.audience.clone()).unwrap_or_default();
    if drafted_by.as_deref() == Some(caller.username.as_str()) {
        return Err(ConsoleError::Conflict(
            "a draft is approved by someone other than its author".into(),
        ));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::CommsApproved { comms_id, audience },
            None,
        )
        .await?;
    Ok(Reply::new(
        &json!({"ok": true}),
        input.from_form,
        page_of(&id),
    ))
}

// ---- drills ----

pub async fn start_drill(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<Value>,
) -> Result<Reply> {
    let exercise = writable(current.get(&id)?, &id)?;
    let launcher = state.config.drill_launcher.clone().ok_or_else(|| {
        ConsoleError::Conflict(
            "this console cannot start drills: serve it with `muster serve --agent AGENT.yaml --scenarios PATH`, or run `muster drill --exercise ID` yourself".into(),
        )
    })?;
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::DrillStarted {
                drill_id: None,
                detail: format!("requested from the console by {}", caller.username),
            },
            None,
        )
        .await?;
    crate::live::launch_drill(state.clone(), launcher, id.clone());
    Ok(Reply::new(
        &json!({"started": true}),
        input.from_form,
        page_of(&id),
    ))
}

// ---- evidence ----

pub async fn evidence(
    State(state): State<AppState>,
    current: Current,
    Path(id): Path<String>,
) -> Result<Json<EvidenceView>> {
    let exercise = current.get(&id)?;
    Ok(Json(evidence_view(state.store(), &exercise, false).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RawRequest {
    /// Why the raw content is needed; recorded in the access audit.
    pub reason: String,
}

pub async fn raw_evidence(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<RawRequest>,
) -> Result<Response> {
    let Input { value, from_form } = input;
    let reason = required("reason", &value.reason)?;
    let exercise = current.get(&id)?;
    let what = format!(
        "exercise {id}: drill {} conversation content",
        exercise.definition.drill_id.as_deref().unwrap_or("(none)")
    );
    // Audited before anything is read.
    state
        .store()
        .record_access(&AccessRecord {
            at_ns: now_ns(),
            who: caller.username.clone(),
            command: "console".into(),
            what: what.clone(),
            why: reason.clone(),
        })
        .await?;
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::RawEvidenceViewed { what, reason },
            None,
        )
        .await?;
    let view = evidence_view(state.store(), &exercise, true).await?;
    if from_form {
        return Ok(crate::pages::evidence_page(&caller, &exercise, &view).into_response());
    }
    Ok(Json(view).into_response())
}

pub async fn access_audit(State(state): State<AppState>) -> Result<Json<Value>> {
    let log = state.store().access_log().await?;
    Ok(Json(Value::Array(
        log.into_iter()
            .map(|r| json!({"at_ns": r.at_ns, "who": r.who, "command": r.command, "what": r.what, "why": r.why}))
            .collect(),
    )))
}

// ---- severity model ----

pub async fn severity_model(State(state): State<AppState>) -> Result<Json<Value>> {
    let (version, levels) = current_model(state.store()).await?;
    let history = state.store().severity_models().await?;
    Ok(Json(json!({
        "version": version,
        "levels": levels,
        "history": history.iter().map(|v| json!({"version": v.version, "edited_by": v.edited_by, "edited_at_ns": v.edited_at_ns})).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SeverityModelRequest {
    /// Form posts send the levels as lines of `LEVEL | name | definition`.
    #[serde(default)]
    pub levels: Option<Vec<SeverityLevel>>,
    #[serde(default, deserialize_with = "lines")]
    pub level_lines: Vec<String>,
}

pub async fn save_severity_model(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<SeverityModelRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let levels = match value.levels {
        Some(levels) => levels,
        None => crate::severity::parse_lines(&value.level_lines)?,
    };
    crate::severity::check(&levels)?;
    let json = serde_json::to_value(&levels).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let version = state
        .store()
        .save_severity_model(&json, &caller.username, now_ns())
        .await?;
    Ok(Reply::new(
        &json!({"version": version}),
        from_form,
        "/severity-model",
    ))
}

// ---- hot wash ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RatingRequest {
    pub capability: String,
    pub rating: Rating,
    #[serde(default)]
    pub notes: String,
}

pub async fn rate_capability(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<RatingRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = current.get(&id)?;
    if !exercise.definition.capabilities.contains(&value.capability) {
        return Err(ConsoleError::BadRequest(format!(
            "`{}` is not a capability of this exercise",
            value.capability
        )));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::CapabilityRated {
                capability: value.capability,
                rating: value.rating,
                notes: value.notes.trim().to_owned(),
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FindingRequest {
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub capability: Option<String>,
}

pub async fn record_finding(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<FindingRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = current.get(&id)?;
    let finding_id = short_id("f");
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::FindingRecorded {
                finding_id: finding_id.clone(),
                capability: non_empty(value.capability),
                title: required("title", &value.title)?,
                detail: value.detail.trim().to_owned(),
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"finding_id": finding_id}), from_form, page_of(&id)).created())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ActionRequest {
    pub title: String,
    pub owner: String,
    /// A date, `YYYY-MM-DD`.
    pub due: String,
}

pub async fn record_action(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path(id): Path<String>,
    input: Input<ActionRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = current.get(&id)?;
    let due: jiff::civil::Date = value.due.trim().parse().map_err(|_| {
        ConsoleError::BadRequest(format!("due `{}`: write a date as YYYY-MM-DD", value.due))
    })?;
    let action_id = short_id("a");
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::ActionRecorded {
                action_id: action_id.clone(),
                title: required("title", &value.title)?,
                owner: required("owner", &value.owner)?,
                due: due.to_string(),
                status: ActionStatus::Open,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"action_id": action_id}), from_form, page_of(&id)).created())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ActionStatusRequest {
    pub status: ActionStatus,
}

pub async fn update_action(
    State(state): State<AppState>,
    current: Current,
    caller: Caller,
    Path((id, action_id)): Path<(String, String)>,
    input: Input<ActionStatusRequest>,
) -> Result<Reply> {
    let Input { value, from_form } = input;
    let exercise = current.get(&id)?;
    if !exercise.actions.iter().any(|a| a.action_id == action_id) {
        return Err(ConsoleError::NotFound(format!(
            "no action {action_id} in exercise {id}"
        )));
    }
    state
        .append(
            &exercise,
            Some(&caller.actor()),
            &Entry::ActionUpdated {
                action_id,
                status: value.status,
            },
            None,
        )
        .await?;
    Ok(Reply::new(&json!({"ok": true}), from_form, page_of(&id)))
}

// ---- the record ----

pub async fn record(
    State(state): State<AppState>,
    current: Current,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let exercise = current.get(&id)?;
    let verify = state.store().verify_exercise_log(&id).await?;
    Ok(Json(json!({
        "exercise": exercise,
        "entries": exercise.entries,
        "log": {"entries": verify.entries, "head": verify.head, "intact": verify.problems.is_empty(), "problems": verify.problems},
    })))
}

pub async fn openapi_document(State(state): State<AppState>) -> Response {
    match state.openapi.get() {
        Some(doc) => Json(doc.clone()).into_response(),
        None => {
            ConsoleError::Internal("the OpenAPI document is not built yet".into()).into_response()
        }
    }
}
