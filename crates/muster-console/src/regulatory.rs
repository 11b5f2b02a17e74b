//! Regulatory clocks that start when the organisation becomes aware of an incident.
//!
//! UK GDPR Art. 33(1): notify the ICO of a personal data breach without undue delay and, where
//! feasible, within 72 hours of becoming aware. EU AI Act Art. 73: report a serious incident no
//! later than 15 days after becoming aware (73(2)); 2 days for a widespread infringement or a
//! serious and irreversible disruption of critical infrastructure (73(3)); 10 days in the event
//! of a death (73(4)). In an exercise the clocks run on exercise time.

use schemars::JsonSchema;
use serde::Serialize;

use crate::exercise::AiActIncident;
use crate::state::ExerciseState;

const HOUR_MS: i64 = 3_600_000;

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RegulatoryClock {
    pub regulation: String,
    pub article: String,
    pub notify: String,
    pub deadline_hours: i64,
    pub aware_exercise_ms: i64,
    pub due_exercise_ms: i64,
    /// Exercise milliseconds left (negative once overdue).
    pub remaining_exercise_ms: i64,
    /// When it falls due on the wall clock if the exercise clock keeps running.
    pub due_at_ns: Option<i64>,
    /// Met when a communication to the regulator was approved in time.
    pub status: ClockStatus,
    pub met_at_exercise_ms: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClockStatus {
    Running,
    Met,
    Overdue,
    MetLate,
}

struct Duty {
    regulation: &'static str,
    article: &'static str,
    notify: &'static str,
    hours: i64,
}

fn duties(state: &ExerciseState) -> Vec<Duty> {
    let scope = &state.definition.regulatory;
    let mut out = Vec::new();
    if scope.personal_data_breach {
        out.push(Duty {
            regulation: "UK GDPR",
            article: "Art. 33(1)",
            notify: "ICO",
            hours: 72,
        });
    }
    if let Some(kind) = scope.ai_act {
        let (article, hours) = match kind {
            AiActIncident::Serious => ("Art. 73(2)", 15 * 24),
            AiActIncident::Death => ("Art. 73(4)", 10 * 24),
            AiActIncident::WidespreadOrCriticalInfrastructure => ("Art. 73(3)", 2 * 24),
        };
        out.push(Duty {
            regulation: "EU AI Act",
            article,
            notify: "market surveillance authority",
            hours,
        });
    }
    out
}

/// The clocks that apply to `state`, read at wall time `now_ns`. Empty until awareness is recorded.
pub fn regulatory_clocks(state: &ExerciseState, now_ns: i64) -> Vec<RegulatoryClock> {
    let Some(aware) = &state.became_aware else {
        return Vec::new();
    };
    let now_ms = state.clock.exercise_ms(now_ns);
    // An approved communication on the `regulator` channel counts as the notification.
    let notified = state
        .comms
        .iter()
        .filter(|c| c.channel.eq_ignore_ascii_case("regulator"))
        .filter_map(|c| c.approved.as_ref().map(|a| a.exercise_ms))
        .filter(|ms| *ms >= aware.exercise_ms)
        .min();
    duties(state)
        .into_iter()
        .map(|duty| {
            let due = aware.exercise_ms + duty.hours * HOUR_MS;
            let status = match notified {
                Some(ms) if ms <= due => ClockStatus::Met,
                Some(_) => ClockStatus::MetLate,
                None if now_ms > due => ClockStatus::Overdue,
                None => ClockStatus::Running,
            };
            RegulatoryClock {
                regulation: duty.regulation.into(),
                article: duty.article.into(),
                notify: duty.notify.into(),
                deadline_hours: duty.hours,
                aware_exercise_ms: aware.exercise_ms,
                due_exercise_ms: due,
                remaining_exercise_ms: due - now_ms,
                due_at_ns: state.clock.wall_time_of(due, now_ns),
                status,
                met_at_exercise_ms: notified,
            }
        })
        .collect()
}
