//! Server-rendered pages (maud). They work without JavaScript: every form posts to the API
//! route of the same action, which redirects back. A few lines of script add the live
//! timeline (server-sent events) and a ticking clock.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{ConsoleError, Result};
use crate::evidence::{EvidenceView, evidence_view};
use crate::exercise::{ClockAction, Rating};
use crate::regulatory::ClockStatus;
use crate::roles::{Permission, Role};
use crate::routes::Caller;
use crate::severity::{SeverityLevel, current_model};
use crate::state::{ExerciseNow, ExerciseState, Stamp, Status, clock_label};

const STYLE: &str = include_str!("console.css");
const SCRIPT: &str = include_str!("console.js");

fn time(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn stamp(s: &Stamp) -> Markup {
    html! {
        span.stamp title=(time(s.at_ns)) {
            (clock_label(s.exercise_ms))
            @if let Some(by) = &s.by { " · " (by) }
        }
    }
}

fn layout(title: &str, caller: Option<&Caller>, body: Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · muster" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.top {
                    a.brand href="/" { "muster" }
                    span.sub { "exercise console" }
                    @if let Some(c) = caller {
                        nav {
                            a href="/" { "Exercises" }
                            a href="/severity-model" { "Severity model" }
                            @if c.may(Permission::ReadAccessAudit) { a href="/audit" { "Access audit" } }
                            @if c.may(Permission::ManageAccounts) { a href="/accounts" { "Accounts" } }
                        }
                        form.signout method="post" action="/api/session/end" {
                            input type="hidden" name="csrf" value=(c.csrf_token);
                            span.who { (c.display_name) " (" (c.account_role.label()) ")" }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    Html(page.into_string())
}

fn csrf(caller: &Caller) -> Markup {
    html! { input type="hidden" name="csrf" value=(caller.csrf_token); }
}

pub fn error_page(error: &ConsoleError) -> Response {
    message_page(error.status(), &error.to_string(), None)
}

/// An error as a page, with a way back to where the person was.
pub fn message_page(status: StatusCode, message: &str, back: Option<&str>) -> Response {
    let body = html! {
        section.card #error {
            h1 { "Not possible" }
            p.error role="alert" { (message) }
            p {
                @if let Some(back) = back { a href=(back) { "Go back" } " · " }
                a href="/" { "Exercises" } " · " a href="/login" { "Sign in as someone else" }
            }
        }
    };
    (status, layout("Not possible", None, body)).into_response()
}

/// Renders a page result, showing errors as a page rather than JSON.
fn page(result: Result<Html<String>>) -> Response {
    match result {
        Ok(html) => html.into_response(),
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    failed: Option<String>,
}

pub async fn login_page(Query(q): Query<LoginQuery>) -> Html<String> {
    let body = html! {
        section.card.narrow {
            h1 { "Sign in" }
            @if q.failed.is_some() { p.error role="alert" { "That username and password do not match an account." } }
            form method="post" action="/api/session" {
                label { "Username" input #username name="username" autocomplete="username" required; }
                label { "Password" input #password name="password" type="password" autocomplete="current-password" required; }
                button #sign-in type="submit" { "Sign in" }
            }
            p.hint { "Accounts are created by a facilitator, or the first one with " code { "muster console add-user --admin" } "." }
        }
    };
    layout("Sign in", None, body)
}

pub async fn home(State(state): State<AppState>, caller: Caller) -> Response {
    page(home_inner(&state, &caller).await)
}

async fn home_inner(state: &AppState, caller: &Caller) -> Result<Html<String>> {
    let exercises = state.store().exercises().await?;
    let drills = state.store().drills().await?;
    let body = html! {
        section.card {
            h1 { "Exercises" }
            @if exercises.is_empty() { p.muted { "No exercises yet." } }
            ul.list #exercises {
                @for e in &exercises {
                    li { a href={"/exercises/" (e.id)} { (e.title) } " " span.muted { "by " (e.created_by) " · " (time(e.created_at_ns)) } }
                }
            }
        }
        @if caller.may(Permission::ManageExercise) {
            section.card {
                h2 { "New exercise" }
                form #new-exercise method="post" action="/api/exercises" {
                    (csrf(caller))
                    label { "Scenario"
                        select name="scenario" required {
                            @for s in &state.config.scenarios {
                                option value=(s.id) { (s.title) " (" (s.mode) ", " (s.severity) ")" }
                            }
                        }
                    }
                    label { "Title (optional)" input name="title"; }
                    label { "Objectives, one per line (optional)" textarea name="objectives" rows="3" {} }
                    label { "Clock speed (exercise minutes per minute: 1 real time, 6 = a day in four hours)"
                        input name="clock_speed" type="number" step="any" min="0.1" value="1"; }
                    label { "Injects, one per line as MINUTES | title | body (empty: the standard three)"
                        textarea name="injects" rows="3" {} }
                    label.check { input type="checkbox" name="personal_data_breach"; " Personal data breach (UK GDPR Art. 33: 72 hours)" }
                    label { "EU AI Act Art. 73"
                        select name="ai_act" {
                            option value="none" { "Not a serious incident" }
                            option value="serious" { "Serious incident (15 days)" }
                            option value="death" { "A death (10 days)" }
                            option value="widespread-or-critical-infrastructure" { "Widespread infringement or critical infrastructure (2 days)" }
                        }
                    }
                    label { "Comms approval target (exercise minutes)" input name="comms_target_minutes" type="number" value="60"; }
                    label { "Drill whose evidence to review (optional)"
                        select name="drill_id" {
                            option value="" { "None" }
                            @for d in &drills {
                                option value=(d.header.id) { (d.header.id) " · " (d.header.agent) " · " (d.status.as_str()) }
                            }
                        }
                    }
                    button #create-exercise type="submit" { "Create exercise" }
                }
            }
        }
    };
    Ok(layout("Exercises", Some(caller), body))
}

pub async fn exercise_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    page(exercise_inner(&state, &caller, &id).await)
}

async fn exercise_inner(state: &AppState, caller: &Caller, id: &str) -> Result<Html<String>> {
    let exercise = state.exercise(id).await?;
    let (model_version, levels) = current_model(state.store()).await?;
    let accounts = state.store().users().await?;
    let can_drill = state.config.drill_launcher.is_some();
    let body = exercise_body(
        caller,
        &exercise,
        model_version,
        &levels,
        &accounts,
        can_drill,
    );
    Ok(layout(&exercise.title, Some(caller), body))
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::NotStarted => "not started",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Ended => "ended",
    }
}

fn exercise_body(
    caller: &Caller,
    x: &ExerciseNow,
    model_version: i64,
    levels: &[SeverityLevel],
    accounts: &[muster_store::ConsoleUser],
    can_drill: bool,
) -> Markup {
    let id = &x.id;
    let open = x.status() != Status::Ended;
    let act = |path: &str| format!("/api/exercises/{id}{path}");
    html! {
        section.card.head #exercise data-exercise=(id)
            data-status=(status_label(x.status()))
            data-ms=(x.now_exercise_ms) data-speed=(x.clock.speed) {
            h1 { (x.title) }
            p.muted { "Scenario " code { (x.definition.scenario.id) } " · " (x.definition.scenario.mode) " · " (x.definition.scenario.severity) }
            div.clockline {
                span #clock.clock { (clock_label(x.now_exercise_ms)) }
                span #status.badge { (status_label(x.status())) }
                span.muted { "×" (x.clock.speed) " speed" }
                @if caller.may(Permission::ManageExercise) && open {
                    @for (action, label) in clock_actions(x.status()) {
                        form.inline method="post" action=(act("/clock")) {
                            (csrf(caller))
                            input type="hidden" name="action" value=(action_key(action));
                            button id={"clock-" (action_key(action))} type="submit" { (label) }
                        }
                    }
                }
            }
            p #live-banner.banner hidden { "New entries arrived. " a href="" { "Reload" } " to see them everywhere." }
            div.cols {
                div {
                    h3 { "The ticket" }
                    blockquote.ticket { @for para in paragraphs(&x.definition.scenario.ticket) { p { (para) } } }
                }
                div {
                    h3 { "Objectives" }
                    ul { @for o in &x.definition.objectives { li { (o) } } }
                    p { a href={"/exercises/" (id) "/evidence"} #evidence-link { "Evidence" } " · you act as "
                        @for (i, r) in caller.roles.iter().enumerate() { @if i > 0 { ", " } (r.label()) } }
                }
            }
        }
        div.grid {
            section.card {
                h2 { "Timeline" }
                ol #timeline.timeline {
                    @for e in x.entries.iter().rev() {
                        li data-kind=(e.entry.kind()) {
                            span.stamp title=(time(e.at_ns)) { (clock_label(e.exercise_ms)) }
                            " " (e.entry.summary())
                            @if let Some(a) = &e.actor { span.muted { " — " (a.username) } }
                        }
                    }
                }
                @if !x.unreadable.is_empty() {
                    p.error { (x.unreadable.len()) " log entries could not be read: " (x.unreadable.join("; ")) }
                }
            }
            section.card {
                h2 { "Phases and questions" }
                @for p in &x.definition.phases {
                    h3 { (p.title) span.muted { " from " (clock_label(i64::from(p.starts_at_minutes) * 60_000)) } }
                    ul { @for q in &p.questions { li { (q) } } }
                }
                h2 { "Injects" }
                ul #injects {
                    @for i in &x.definition.injects {
                        @let released = x.released_injects.contains(&i.id);
                        li.released[released] data-inject=(i.id) {
                            strong { (clock_label(i64::from(i.at_minutes) * 60_000)) " " (i.title) }
                            @if released { " " span.badge.ok { "released" } p { (i.body) } }
                            @else {
                                " " span.badge { "scheduled" }
                                @if caller.may(Permission::ManageExercise) && open {
                                    form.inline method="post" action=(act(&format!("/injects/{}/release", i.id))) {
                                        (csrf(caller)) button type="submit" { "Release now" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card #decisions {
            h2 { "Decision log" }
            @for d in &x.decisions {
                article.decision data-decision=(d.decision_id) {
                    h3 { (d.title) " " span.muted { "owner: " (d.owner.label()) } }
                    p { strong { "Decision: " } (d.decision) }
                    @if !d.rationale.is_empty() { p { strong { "Rationale: " } (d.rationale) } }
                    p.muted { "Logged " (stamp(&d.logged)) @if let Some(p) = &d.phase {
                        " · " (x.definition.phases.iter().find(|ph| &ph.key == p).map_or(p.as_str(), |ph| ph.title.as_str())) } }
                    div.cols3 {
                        div { h4 { "Known" } ul { @for f in &d.facts { li { (f) } } } }
                        div { h4 { "Not known" }
                            ul {
                                @for q in &d.questions {
                                    li.question data-question=(q.id) {
                                        (q.text)
                                        @if let (Some(a), Some(at)) = (&q.answer, &q.answered) {
                                            div.answer { "Answered " (stamp(at)) ": " (a) }
                                        } @else if caller.may(Permission::AnswerQuestion) && open {
                                            form.inline method="post" action=(act(&format!("/decisions/{}/questions/{}/answer", d.decision_id, q.id))) {
                                                (csrf(caller))
                                                input name="answer" placeholder="Answer" required;
                                                button type="submit" { "Answer" }
                                            }
                                        } @else { " " span.badge.warn { "open" } }
                                    }
                                }
                            }
                        }
                        div { h4 { "Assumed" } ul { @for a in &d.assumptions { li { (a) } } } }
                    }
                }
            }
            @if caller.may(Permission::LogDecision) && open {
                details #log-decision-form {
                    summary { "Log a decision" }
                    form #decision-form method="post" action=(act("/decisions")) {
                        (csrf(caller))
                        label { "Title" input name="title" required; }
                        label { "Decision" textarea name="decision" rows="2" required {} }
                        label { "Owner"
                            select name="owner" { @for r in Role::ALL { option value=(r.key()) selected[caller.roles.contains(&r)] { (r.label()) } } }
                        }
                        label { "Rationale" textarea name="rationale" rows="2" {} }
                        label { "Phase"
                            select name="phase" { @for p in &x.definition.phases { option value=(p.key) { (p.title) } } }
                        }
                        label { "Facts known (one per line)" textarea name="facts" rows="3" {} }
                        label { "Open questions (one per line)" textarea name="open_questions" rows="3" {} }
                        label { "Assumptions (one per line)" textarea name="assumptions" rows="2" {} }
                        button #log-decision type="submit" { "Log decision" }
                    }
                }
            }
        }
        div.grid {
            section.card #severity {
                h2 { "Severity" }
                @if let Some(now) = x.severity.last() {
                    p { span.badge.sev { (now.level) } " " (now.rationale) " " (stamp(&now.set)) }
                } @else { p.muted { "Not assessed yet." } }
                @if x.severity.len() > 1 {
                    h4 { "History" }
                    ol { @for s in &x.severity { li { (s.level) " (model v" (s.model_version) ") " (stamp(&s.set)) ": " (s.rationale) } } }
                }
                @if caller.may(Permission::SetSeverity) && open {
                    form method="post" action=(act("/severity")) {
                        (csrf(caller))
                        label { "Level (" (if model_version == 0 { "built-in severity model".to_owned() } else { format!("severity model v{model_version}") }) ")"
                            select name="level" { @for l in levels { option value=(l.level) { (l.level) " — " (l.name) } } }
                        }
                        label { "Rationale" input name="rationale" required; }
                        button type="submit" { "Set severity" }
                    }
                }
                h2 { "Regulatory clocks" }
                @if let Some(aware) = &x.became_aware {
                    p { "Became aware " (stamp(aware)) }
                    @if x.regulatory_clocks.is_empty() { p.muted { "No notification duty applies to this exercise's scope." } }
                    table #reg-clocks {
                        tr { th { "Duty" } th { "Notify" } th { "Due" } th { "Left" } th { "Status" } }
                        @for c in &x.regulatory_clocks {
                            tr {
                                td { (c.regulation) " " (c.article) }
                                td { (c.notify) }
                                td { (clock_label(c.due_exercise_ms)) }
                                td { (hours(c.remaining_exercise_ms)) }
                                td { span.badge.ok[c.status == ClockStatus::Met] .warn[c.status != ClockStatus::Met] { (format!("{:?}", c.status).to_lowercase()) } }
                            }
                        }
                    }
                } @else {
                    p.muted { "Clocks start when awareness is recorded." }
                    @if caller.may(Permission::DeclareAwareness) && open {
                        form method="post" action=(act("/awareness")) {
                            (csrf(caller))
                            label { "How did we become aware?" input name="basis" required; }
                            button type="submit" { "Record awareness" }
                        }
                    }
                }
            }
            section.card #comms {
                h2 { "Communications" }
                @for c in &x.comms {
                    article.comms data-comms=(c.comms_id) {
                        h4 { (c.audience) " " span.muted { "(" (c.channel) ")" } " "
                            @if c.approved.is_some() { span.badge.ok { "approved" } } @else { span.badge.warn { "draft" } } }
                        pre.body { (c.body) }
                        p.muted { "Drafted " (stamp(&c.drafted))
                            @if let (Some(a), Some(m)) = (&c.approved, c.minutes_to_approve) {
                                " · approved " (stamp(a)) " · " (format!("{m:.0}")) " min against a " (c.target_minutes) " min target"
                                @if c.within_target == Some(true) { " ✓" } @else { " ✗" }
                            }
                        }
                        @for r in &c.reviews { p.review { (stamp(&r.reviewed)) ": " (r.comment) @if r.changes_requested { " " span.badge.warn { "changes requested" } } } }
                        @if c.approved.is_none() && open {
                            @if caller.may(Permission::ReviewComms) {
                                form.inline method="post" action=(act(&format!("/comms/{}/review", c.comms_id))) {
                                    (csrf(caller))
                                    input name="comment" placeholder="Review comment" required;
                                    label.check { input type="checkbox" name="changes_requested"; " changes needed" }
                                    button type="submit" { "Review" }
                                }
                            }
                            @if caller.may(Permission::ApproveComms) {
                                form.inline method="post" action=(act(&format!("/comms/{}/approve", c.comms_id))) {
                                    (csrf(caller)) button.approve type="submit" { "Approve" }
                                }
                            }
                        }
                    }
                }
                @if caller.may(Permission::DraftComms) && open {
                    details {
                        summary { "Draft a communication" }
                        form #comms-form method="post" action=(act("/comms")) {
                            (csrf(caller))
                            label { "Audience" input name="audience" required; }
                            label { "Channel"
                                select name="channel" { @for ch in ["customer", "public", "press", "internal", "regulator"] { option value=(ch) { (ch) } } }
                            }
                            label { "Text" textarea name="body" rows="4" required {} }
                            button #draft-comms type="submit" { "Save draft" }
                        }
                    }
                }
            }
        }
        div.grid {
            section.card #seats {
                h2 { "Roles" }
                table {
                    tr { th { "Role" } th { "Held by" } th { "Since" } th { "Before" } }
                    @for r in Role::ALL {
                        @let spells = x.seats.get(r.key());
                        tr {
                            td { (r.label()) }
                            @match spells.and_then(|s| s.last()) {
                                Some(now) if now.until.is_none() => { td { (now.username) } td { (stamp(&now.from)) } }
                                _ => {
                                    td.muted {
                                        @let holders: Vec<&str> = accounts.iter().filter(|a| a.role == r.key()).map(|a| a.username.as_str()).collect();
                                        @if holders.is_empty() { "—" } @else { (holders.join(", ")) " (by account role)" }
                                    }
                                    td {}
                                }
                            }
                            td.muted { @if let Some(s) = spells { @for old in s.iter().filter(|s| s.until.is_some()) {
                                (old.username) " (" (clock_label(old.from.exercise_ms)) "–" (old.until.as_ref().map(|u| clock_label(u.exercise_ms)).unwrap_or_default()) ") "
                            } } }
                        }
                    }
                }
                @if caller.may(Permission::ManageExercise) && open {
                    form.inline method="post" action=(act("/seats")) {
                        (csrf(caller))
                        select name="role" { @for r in Role::ALL { option value=(r.key()) { (r.label()) } } }
                        select name="username" { @for a in accounts { option value=(a.username) { (a.display_name) } } }
                        button type="submit" { "Assign / hand over" }
                    }
                }
            }
            section.card #drills {
                h2 { "Live technical drill" }
                @if x.drills.is_empty() { p.muted { "No drill has reported into this exercise." } }
                table {
                    @for d in &x.drills {
                        tr { td { code { (if d.drill_id.is_empty() { "(failed to start)" } else { d.drill_id.as_str() }) } }
                             td { (d.pass) " pass" } td { (d.fail) " fail" } td { (d.inconclusive) " inconclusive" }
                             td { @if d.finished { "finished" } @else { "running" } } }
                    }
                }
                @if caller.may(Permission::RunDrill) && open && can_drill {
                    form method="post" action=(act("/drills")) { (csrf(caller)) button #start-drill type="submit" { "Start the project's drill" } }
                } @else if caller.may(Permission::RunDrill) && open {
                    p.muted { "Stream a drill in with " code { "muster drill --agent … --scenarios … --exercise " (id) } "." }
                }
            }
        }
        section.card #hotwash {
            h2 { "Hot wash and after-action" }
            table {
                tr { th { "Capability" } th { "Rating" } th { "Notes" } }
                @for cap in &x.definition.capabilities {
                    @let rated = x.ratings.iter().find(|r| &r.capability == cap);
                    tr { td { (cap) } td { @if let Some(r) = rated { (r.rating.label()) } @else { span.muted { "not rated" } } }
                         td { @if let Some(r) = rated { (r.notes) } } }
                }
            }
            @if caller.may(Permission::RecordHotWash) {
                form.inline method="post" action=(act("/hotwash/ratings")) {
                    (csrf(caller))
                    select name="capability" { @for cap in &x.definition.capabilities { option { (cap) } } }
                    select name="rating" { @for r in Rating::ALL { option value=(r.key()) { (r.label()) } } }
                    input name="notes" placeholder="Notes";
                    button type="submit" { "Rate" }
                }
            }
            h3 { "Findings" }
            ul { @for f in &x.findings { li { strong { (f.title) } " " (f.detail) " " (stamp(&f.recorded)) } } }
            @if caller.may(Permission::RecordHotWash) {
                form.inline method="post" action=(act("/hotwash/findings")) {
                    (csrf(caller)) input name="title" placeholder="Finding" required; input name="detail" placeholder="Detail";
                    button type="submit" { "Add finding" }
                }
            }
            h3 { "Remediation actions" }
            table {
                tr { th { "Action" } th { "Owner" } th { "Due" } th { "Status" } }
                @for a in &x.actions {
                    tr { td { (a.title) } td { (a.owner) } td { (a.due) } td { (format!("{:?}", a.status)) } }
                }
            }
            @if caller.may(Permission::RecordHotWash) {
                form.inline method="post" action=(act("/hotwash/actions")) {
                    (csrf(caller)) input name="title" placeholder="Action" required; input name="owner" placeholder="Owner" required;
                    input name="due" type="date" required;
                    button type="submit" { "Add action" }
                }
            }
        }
    }
}

/// A ticket's text as paragraphs: blank lines separate them, and the hard line breaks of the
/// YAML it came from are joined (the first line, the ticket's header, stays on its own).
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, block) in text.split("\n\n").enumerate() {
        let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty());
        if i == 0
            && let Some(header) = lines.next()
        {
            out.push(header.to_owned());
        }
        let joined = lines.collect::<Vec<_>>().join(" ");
        if !joined.is_empty() {
            out.push(joined);
        }
    }
    out
}

fn hours(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let minutes = ms.abs() / 60_000;
    format!("{sign}{}h {:02}m", minutes / 60, minutes % 60)
}

fn clock_actions(status: Status) -> Vec<(ClockAction, &'static str)> {
    match status {
        Status::NotStarted => vec![(ClockAction::Start, "Start")],
        Status::Running => vec![
            (ClockAction::Pause, "Pause"),
            (ClockAction::End, "End exercise"),
        ],
        Status::Paused => vec![
            (ClockAction::Resume, "Resume"),
            (ClockAction::End, "End exercise"),
        ],
        Status::Ended => vec![],
    }
}

fn action_key(a: ClockAction) -> &'static str {
    match a {
        ClockAction::Start => "start",
        ClockAction::Pause => "pause",
        ClockAction::Resume => "resume",
        ClockAction::End => "end",
    }
}

pub async fn evidence_page_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let exercise = state.exercise(&id).await?;
        let view = evidence_view(state.store(), &exercise, false).await?;
        Ok(evidence_page(&caller, &exercise, &view))
    }
    .await;
    page(result)
}

pub fn evidence_page(caller: &Caller, x: &ExerciseState, view: &EvidenceView) -> Html<String> {
    let body = html! {
        section.card {
            h1 { "Evidence · " (x.title) }
            p { a href={"/exercises/" (x.id)} { "Back to the exercise" } }
            @match &view.drill_id {
                None => { p.muted { "This exercise reviews no drill." } }
                Some(d) => {
                    p { "Drill " code { (d) } " · "
                        @if view.raw { span #raw-mode.badge.warn { "RAW — this view is recorded in the access audit" } }
                        @else { span #redacted-mode.badge { "personal data redacted" } } }
                }
            }
            @if !view.raw && view.drill_id.is_some() {
                @if caller.may(Permission::ViewRawEvidence) {
                    form #raw-form method="post" action={"/api/exercises/" (x.id) "/evidence/raw"} {
                        (csrf(caller))
                        label { "Reason for reading the raw content (recorded)" input #raw-reason name="reason" required; }
                        button #show-raw type="submit" { "Show raw content" }
                    }
                } @else {
                    p.muted #raw-denied { "Raw content is available to the DPO and the security lead only." }
                }
            }
            table #evidence {
                tr { th { "Conversation" } th { "Event" } th { "Content" } }
                @for e in &view.events {
                    tr { td.muted { (e.stream) } td { (e.kind) } td.content { (e.text) } }
                }
            }
            @if view.truncated { p.muted { "Showing the first events only; the pack holds the rest." } }
        }
    };
    layout("Evidence", Some(caller), body)
}

pub async fn audit_page(State(state): State<AppState>, caller: Caller) -> Response {
    let result = async {
        let log = state.store().access_log().await?;
        let body = html! {
            section.card {
                h1 { "Access audit" }
                p.muted { "Every read of raw content: who, when, what and why." }
                table #access-audit {
                    tr { th { "When" } th { "Who" } th { "Through" } th { "What" } th { "Why" } }
                    @for r in log.iter().rev() {
                        tr { td { (time(r.at_ns)) } td { (r.who) } td { (r.command) } td { (r.what) } td { (r.why) } }
                    }
                }
            }
        };
        Ok(layout("Access audit", Some(&caller), body))
    }
    .await;
    page(result)
}

pub async fn accounts_page(State(state): State<AppState>, caller: Caller) -> Response {
    let result = async {
        let users = state.store().users().await?;
        let body = html! {
            section.card {
                h1 { "Accounts" }
                table {
                    tr { th { "Username" } th { "Name" } th { "Role" } }
                    @for u in &users { tr { td { (u.username) } td { (u.display_name) } td { (u.role) @if u.is_admin { " (admin)" } } } }
                }
                h2 { "Add an account" }
                form method="post" action="/api/accounts" {
                    (csrf(&caller))
                    label { "Username" input name="username" required; }
                    label { "Name" input name="display_name" required; }
                    label { "Role" select name="role" { @for r in Role::ALL { option value=(r.key()) { (r.label()) } } } }
                    label { "Password (12+ characters)" input name="password" type="password" minlength="12" required; }
                    button type="submit" { "Add account" }
                }
            }
        };
        Ok(layout("Accounts", Some(&caller), body))
    }
    .await;
    page(result)
}

pub async fn severity_page(State(state): State<AppState>, caller: Caller) -> Response {
    let result = async {
        let (version, levels) = current_model(state.store()).await?;
        let history = state.store().severity_models().await?;
        let lines: Vec<String> = levels
            .iter()
            .map(|l| format!("{} | {} | {}", l.level, l.name, l.definition))
            .collect();
        let body = html! {
            section.card {
                h1 { "Incident severity model " span.muted { "v" (version) } }
                table { @for l in &levels { tr { td { strong { (l.level) } } td { (l.name) } td { (l.definition) } } } }
                @if !history.is_empty() {
                    h3 { "Versions" }
                    ul { @for v in &history { li { "v" (v.version) " by " (v.edited_by) " · " (time(v.edited_at_ns)) } } }
                }
                @if caller.may(Permission::ManageExercise) {
                    h2 { "Edit (saves a new version)" }
                    form method="post" action="/api/severity-model" {
                        (csrf(&caller))
                        textarea name="level_lines" rows="7" { (lines.join("\n")) }
                        button type="submit" { "Save version" }
                    }
                }
            }
        };
        Ok(layout("Severity model", Some(&caller), body))
    }
    .await;
    page(result)
}

pub async fn not_found() -> Response {
    error_page(&ConsoleError::NotFound("no such page".into()))
}

pub async fn health() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}
