//! An exercise's state, folded from its log. Nothing here is stored: the log is the record, and
//! this is how the console (and the pack) reads it.

use std::collections::BTreeMap;

use muster_store::{ExerciseRecord, StoredEvent};
use schemars::JsonSchema;
use serde::Serialize;

use crate::exercise::{
    ActionStatus, Actor, ClockAction, Entry, ExerciseDefinition, OpenQuestion, Rating,
};
use crate::regulatory::{RegulatoryClock, regulatory_clocks};
use crate::roles::Role;

const NS_PER_MS: i64 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LoggedEntry {
    pub seq: u64,
    pub at_ns: i64,
    /// Where the exercise clock stood, in milliseconds from its start.
    pub exercise_ms: i64,
    /// `None` for what muster did itself (a scheduled inject, a drill's verdicts).
    pub actor: Option<Actor>,
    pub entry: Entry,
    pub digest: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    NotStarted,
    Running,
    Paused,
    Ended,
}

/// The exercise clock: wall time since the start, minus pauses, times the speed.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Clock {
    pub status: Status,
    pub speed: f64,
    pub started_at_ns: Option<i64>,
    pub paused_total_ns: i64,
    pub paused_since_ns: Option<i64>,
    pub ended_at_ns: Option<i64>,
}

impl Clock {
    pub fn new(speed: f64) -> Self {
        Self {
            status: Status::NotStarted,
            speed,
            started_at_ns: None,
            paused_total_ns: 0,
            paused_since_ns: None,
            ended_at_ns: None,
        }
    }

    /// Milliseconds of exercise time at wall time `now_ns`.
    pub fn exercise_ms(&self, now_ns: i64) -> i64 {
        let Some(start) = self.started_at_ns else {
            return 0;
        };
        let until = self.ended_at_ns.or(self.paused_since_ns).unwrap_or(now_ns);
        let running_ns = (until - start - self.paused_total_ns).max(0);
        ((running_ns as f64 / NS_PER_MS as f64) * self.speed) as i64
    }

    /// The wall time at which the clock will read `exercise_ms`, if it keeps running from `now_ns`.
    pub fn wall_time_of(&self, exercise_ms: i64, now_ns: i64) -> Option<i64> {
        if self.status != Status::Running || self.speed <= 0.0 {
            return None;
        }
        let ahead_ms = (exercise_ms - self.exercise_ms(now_ns)) as f64 / self.speed;
        Some(now_ns + (ahead_ms * NS_PER_MS as f64) as i64)
    }

    pub fn apply(&mut self, action: ClockAction, at_ns: i64) {
        match action {
            ClockAction::Start if self.status == Status::NotStarted => {
                self.started_at_ns = Some(at_ns);
                self.status = Status::Running;
            }
            ClockAction::Pause if self.status == Status::Running => {
                self.paused_since_ns = Some(at_ns);
                self.status = Status::Paused;
            }
            ClockAction::Resume if self.status == Status::Paused => {
                if let Some(since) = self.paused_since_ns.take() {
                    self.paused_total_ns += at_ns - since;
                }
                self.status = Status::Running;
            }
            ClockAction::End if self.status != Status::Ended => {
                if let Some(since) = self.paused_since_ns.take() {
                    self.paused_total_ns += at_ns - since;
                }
                self.ended_at_ns = Some(at_ns);
                self.status = Status::Ended;
            }
            _ => {}
        }
    }
}

/// Renders exercise milliseconds as `T+hh:mm` (or `T+Nd hh:mm`).
pub fn clock_label(exercise_ms: i64) -> String {
    let minutes = exercise_ms.max(0) / 60_000;
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    if days > 0 {
        format!("T+{days}d {hours:02}:{mins:02}")
    } else {
        format!("T+{hours:02}:{mins:02}")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Stamp {
    pub at_ns: i64,
    pub exercise_ms: i64,
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct SeatSpell {
    pub username: String,
    pub from: Stamp,
    pub until: Option<Stamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct QuestionState {
    pub id: String,
    pub text: String,
    pub answer: Option<String>,
    pub answered: Option<Stamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DecisionState {
    pub decision_id: String,
    pub phase: Option<String>,
    pub title: String,
    pub decision: String,
    pub owner: Role,
    pub rationale: String,
    pub facts: Vec<String>,
    pub assumptions: Vec<String>,
    pub questions: Vec<QuestionState>,
    pub logged: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct SeverityChange {
    pub level: String,
    pub model_version: i64,
    pub rationale: String,
    pub set: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Review {
    pub comment: String,
    pub changes_requested: bool,
    pub reviewed: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CommsState {
    pub comms_id: String,
    pub audience: String,
    pub channel: String,
    pub body: String,
    pub drafted: Stamp,
    pub reviews: Vec<Review>,
    pub approved: Option<Stamp>,
    /// Exercise minutes from draft to approval.
    pub minutes_to_approve: Option<f64>,
    pub target_minutes: u32,
    pub within_target: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RatingState {
    pub capability: String,
    pub rating: Rating,
    pub notes: String,
    pub rated: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FindingState {
    pub finding_id: String,
    pub capability: Option<String>,
    pub title: String,
    pub detail: String,
    pub recorded: Stamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ActionState {
    pub action_id: String,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub status: ActionStatus,
    pub recorded: Stamp,
    pub updated: Option<Stamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct DrillTally {
    pub drill_id: String,
    pub pass: u32,
    pub fail: u32,
    pub inconclusive: u32,
    pub finished: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ExerciseState {
    pub id: String,
    pub title: String,
    pub created_by: String,
    pub created_at_ns: i64,
    pub definition: ExerciseDefinition,
    pub clock: Clock,
    pub released_injects: Vec<String>,
    /// Seat history per role; the last spell without `until` is the current holder.
    pub seats: BTreeMap<String, Vec<SeatSpell>>,
    pub decisions: Vec<DecisionState>,
    pub severity: Vec<SeverityChange>,
    pub became_aware: Option<Stamp>,
    pub comms: Vec<CommsState>,
    pub drills: Vec<DrillTally>,
    pub ratings: Vec<RatingState>,
    pub findings: Vec<FindingState>,
    pub actions: Vec<ActionState>,
    /// How many entries the log holds (they are at `GET /api/exercises/{id}/log`).
    pub entry_count: usize,
    /// The log's entries, in order. Not in the state's JSON: read them from the log route,
    /// which pages through them.
    #[serde(skip)]
    pub entries: Vec<LoggedEntry>,
    /// Log entries that could not be read (a corrupted record); shown, never skipped silently.
    pub unreadable: Vec<String>,
}

impl ExerciseState {
    /// Seats `username` holds right now.
    pub fn seats_of(&self, username: &str) -> Vec<Role> {
        self.seats
            .iter()
            .filter(|(_, spells)| {
                spells
                    .last()
                    .is_some_and(|s| s.until.is_none() && s.username == username)
            })
            .filter_map(|(role, _)| Role::parse(role))
            .collect()
    }

    pub fn status(&self) -> Status {
        self.clock.status
    }

    pub fn open_question_count(&self) -> usize {
        self.decisions
            .iter()
            .flat_map(|d| &d.questions)
            .filter(|q| q.answer.is_none())
            .count()
    }
}

/// Reads one stored log event.
pub fn read_entry(event: &StoredEvent) -> Result<LoggedEntry, String> {
    let e = &event.event;
    let entry_value = e
        .value("entry")
        .ok_or_else(|| format!("entry {}: no `entry` field", e.seq))?;
    let entry: Entry = serde_json::from_value(entry_value.clone())
        .map_err(|err| format!("entry {}: {err}", e.seq))?;
    let actor = match e.value("actor") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|err| format!("entry {}: actor: {err}", e.seq))?,
        ),
    };
    let exercise_ms = e
        .value("exercise_ms")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    Ok(LoggedEntry {
        seq: e.seq,
        at_ns: e.time_ns,
        exercise_ms,
        actor,
        entry,
        digest: e.digest.to_hex(),
    })
}

/// An exercise with nothing in its log yet.
pub fn empty(record: &ExerciseRecord, definition: ExerciseDefinition) -> ExerciseState {
    ExerciseState {
        id: record.id.clone(),
        title: record.title.clone(),
        created_by: record.created_by.clone(),
        created_at_ns: record.created_at_ns,
        clock: Clock::new(definition.clock_speed),
        definition,
        released_injects: Vec::new(),
        seats: BTreeMap::new(),
        decisions: Vec::new(),
        severity: Vec::new(),
        became_aware: None,
        comms: Vec::new(),
        drills: Vec::new(),
        ratings: Vec::new(),
        findings: Vec::new(),
        actions: Vec::new(),
        entry_count: 0,
        entries: Vec::new(),
        unreadable: Vec::new(),
    }
}

/// Applies log events that follow what `state` has seen, in order.
pub fn apply_events(state: &mut ExerciseState, log: &[StoredEvent]) {
    for event in log {
        match read_entry(event) {
            Ok(logged) => {
                apply(state, &logged);
                state.entries.push(logged);
                state.entry_count = state.entries.len();
            }
            Err(problem) => state.unreadable.push(problem),
        }
    }
}

/// The chain position the next log event of this exercise will take.
pub fn next_seq(state: &ExerciseState) -> u64 {
    (state.entries.len() + state.unreadable.len()) as u64
}

/// An exercise read at a moment: its folded state (shared, never copied) and what depends on the
/// wall clock — the exercise clock's reading and the regulatory clocks.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExerciseNow {
    #[serde(flatten)]
    pub state: std::sync::Arc<ExerciseState>,
    /// The exercise clock's reading when this was read.
    pub now_exercise_ms: i64,
    pub regulatory_clocks: Vec<RegulatoryClock>,
}

impl ExerciseNow {
    pub fn at(state: std::sync::Arc<ExerciseState>, now_ns: i64) -> Self {
        Self {
            now_exercise_ms: state.clock.exercise_ms(now_ns),
            regulatory_clocks: regulatory_clocks(&state, now_ns),
            state,
        }
    }
}

impl std::ops::Deref for ExerciseNow {
    type Target = ExerciseState;
    fn deref(&self) -> &ExerciseState {
        &self.state
    }
}

/// Folds an exercise's whole log into its state.
pub fn fold(
    record: &ExerciseRecord,
    definition: ExerciseDefinition,
    log: &[StoredEvent],
) -> ExerciseState {
    let mut state = empty(record, definition);
    apply_events(&mut state, log);
    state
}

fn stamp(logged: &LoggedEntry) -> Stamp {
    Stamp {
        at_ns: logged.at_ns,
        exercise_ms: logged.exercise_ms,
        by: logged.actor.as_ref().map(|a| a.username.clone()),
    }
}

fn drill_tally<'a>(state: &'a mut ExerciseState, drill_id: &str) -> &'a mut DrillTally {
    let at = match state.drills.iter().position(|d| d.drill_id == drill_id) {
        Some(at) => at,
        None => {
            state.drills.push(DrillTally {
                drill_id: drill_id.to_owned(),
                ..DrillTally::default()
            });
            state.drills.len() - 1
        }
    };
    &mut state.drills[at]
}

fn apply(state: &mut ExerciseState, logged: &LoggedEntry) {
    let at = stamp(logged);
    match &logged.entry {
        Entry::Clock { action } => state.clock.apply(*action, logged.at_ns),
        Entry::InjectReleased { inject_id, .. } => state.released_injects.push(inject_id.clone()),
        Entry::SeatTaken { role, username, .. } => {
            let spells = state.seats.entry(role.key().to_owned()).or_default();
            if let Some(open) = spells.last_mut().filter(|s| s.until.is_none()) {
                open.until = Some(at.clone());
            }
            spells.push(SeatSpell {
                username: username.clone(),
                from: at,
                until: None,
            });
        }
        Entry::DecisionLogged {
            decision_id,
            phase,
            title,
            decision,
            owner,
            rationale,
            facts,
            open_questions,
            assumptions,
        } => state.decisions.push(DecisionState {
            decision_id: decision_id.clone(),
            phase: phase.clone(),
            title: title.clone(),
            decision: decision.clone(),
            owner: *owner,
            rationale: rationale.clone(),
            facts: facts.clone(),
            assumptions: assumptions.clone(),
            questions: open_questions
                .iter()
                .map(|OpenQuestion { id, text }| QuestionState {
                    id: id.clone(),
                    text: text.clone(),
                    answer: None,
                    answered: None,
                })
                .collect(),
            logged: at,
        }),
        Entry::QuestionAnswered {
            decision_id,
            question_id,
            answer,
        } => {
            if let Some(q) = state
                .decisions
                .iter_mut()
                .filter(|d| &d.decision_id == decision_id)
                .flat_map(|d| d.questions.iter_mut())
                .find(|q| &q.id == question_id && q.answer.is_none())
            {
                q.answer = Some(answer.clone());
                q.answered = Some(at);
            }
        }
        Entry::SeveritySet {
            level,
            model_version,
            rationale,
        } => state.severity.push(SeverityChange {
            level: level.clone(),
            model_version: *model_version,
            rationale: rationale.clone(),
            set: at,
        }),
        Entry::BecameAware { .. } => {
            if state.became_aware.is_none() {
                state.became_aware = Some(at);
            }
        }
        Entry::CommsDrafted {
            comms_id,
            audience,
            channel,
            body,
        } => state.comms.push(CommsState {
            comms_id: comms_id.clone(),
            audience: audience.clone(),
            channel: channel.clone(),
            body: body.clone(),
            drafted: at,
            reviews: Vec::new(),
            approved: None,
            minutes_to_approve: None,
            target_minutes: state.definition.comms_target_minutes,
            within_target: None,
        }),
        Entry::CommsReviewed {
            comms_id,
            comment,
            changes_requested,
        } => {
            if let Some(c) = state.comms.iter_mut().find(|c| &c.comms_id == comms_id) {
                c.reviews.push(Review {
                    comment: comment.clone(),
                    changes_requested: *changes_requested,
                    reviewed: at,
                });
            }
        }
        Entry::CommsApproved { comms_id, .. } => {
            if let Some(c) = state
                .comms
                .iter_mut()
                .find(|c| &c.comms_id == comms_id && c.approved.is_none())
            {
                let minutes = (at.exercise_ms - c.drafted.exercise_ms) as f64 / 60_000.0;
                c.minutes_to_approve = Some(minutes);
                c.within_target = Some(minutes <= f64::from(c.target_minutes));
                c.approved = Some(at);
            }
        }
        Entry::DrillStarted { drill_id, .. } => {
            if let Some(id) = drill_id {
                drill_tally(state, id);
            }
        }
        Entry::DrillVerdict {
            drill_id, verdict, ..
        } => {
            let tally = drill_tally(state, drill_id);
            match verdict.as_str() {
                "pass" => tally.pass += 1,
                "fail" => tally.fail += 1,
                _ => tally.inconclusive += 1,
            }
        }
        Entry::ControlTiming { drill_id, .. } => {
            drill_tally(state, drill_id);
        }
        Entry::DrillFinished { drill_id, .. } => drill_tally(state, drill_id).finished = true,
        Entry::RawEvidenceViewed { .. } => {}
        Entry::CapabilityRated {
            capability,
            rating,
            notes,
        } => {
            state.ratings.retain(|r| &r.capability != capability);
            state.ratings.push(RatingState {
                capability: capability.clone(),
                rating: *rating,
                notes: notes.clone(),
                rated: at,
            });
        }
        Entry::FindingRecorded {
            finding_id,
            capability,
            title,
            detail,
        } => state.findings.push(FindingState {
            finding_id: finding_id.clone(),
            capability: capability.clone(),
            title: title.clone(),
            detail: detail.clone(),
            recorded: at,
        }),
        Entry::ActionRecorded {
            action_id,
            title,
            owner,
            due,
            status,
        } => state.actions.push(ActionState {
            action_id: action_id.clone(),
            title: title.clone(),
            owner: owner.clone(),
            due: due.clone(),
            status: *status,
            recorded: at,
            updated: None,
        }),
        Entry::ActionUpdated { action_id, status } => {
            if let Some(a) = state.actions.iter_mut().find(|a| &a.action_id == action_id) {
                a.status = *status;
                a.updated = Some(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn clock_excludes_pauses_and_applies_speed() {
        let mut clock = Clock::new(6.0);
        clock.apply(ClockAction::Start, 0);
        clock.apply(ClockAction::Pause, 60 * S);
        clock.apply(ClockAction::Resume, 600 * S);
        // 60 s before the pause and 30 s after it, at six times real time: 9 minutes.
        assert_eq!(clock.exercise_ms(630 * S), 9 * 60_000);
        clock.apply(ClockAction::End, 640 * S);
        assert_eq!(clock.exercise_ms(10_000 * S), 10 * 60_000);
    }

    #[test]
    fn clock_ignores_out_of_order_actions() {
        let mut clock = Clock::new(1.0);
        clock.apply(ClockAction::Pause, 5 * S);
        assert_eq!(clock.status, Status::NotStarted);
        clock.apply(ClockAction::Start, 10 * S);
        clock.apply(ClockAction::Resume, 20 * S);
        assert_eq!(clock.exercise_ms(70 * S), 60_000);
    }

    #[test]
    fn labels() {
        assert_eq!(clock_label(0), "T+00:00");
        assert_eq!(clock_label(42 * 60_000), "T+00:42");
        assert_eq!(clock_label((26 * 60 + 5) * 60_000), "T+1d 02:05");
    }
}
