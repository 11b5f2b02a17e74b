//! The drill engine.
//!
//! A [`DrillPlan`] (a manifest and scenarios, already validated) is run by [`run_drill`] against the
//! manifest's target: for each scenario, plant its faults through the manifest's fixtures, drive the
//! conversation turn by turn, judge every expectation against the replies and tool calls, remove
//! the faults again (always), and give the scenario a verdict. Every request, reply, tool call,
//! judgement and timing is appended to the evidence store as it happens; the drill is sealed at
//! the end (or when interrupted) into one root digest.
//!
//! **Invariants:** a scenario passes only if every expectation was judged on a real reply and
//! held; a target error or timeout makes it inconclusive, never a pass. Teardown runs whatever
//! happened. The engine never prints; it reports progress through a channel.

mod adaptive;
mod distributed;
mod engine;
mod graded;
mod judge;
mod observe;
mod patterns;
mod plan;
mod policy;
mod replay;
mod report;
mod simulate;
mod stats;

pub use distributed::run_queued;
pub use engine::{
    Attempt, ConversationOutcome, DrillError, DrillPart, DrillSession, DrillWorker, Progress,
    Retain, RunOptions, exchange_events, run_drill,
};
pub use judge::{Excerpt, ExpectationResult, Status, TurnRecord, judge};
pub use observe::{ObserveError, ObservedCall};
pub use plan::{DrillPlan, PlannedScenario, digest_text};
pub use policy::{PassPolicy, ScenarioSummary, percent, summarise};
pub use replay::{
    RecordedConversation, RecordedTurn, ReplayError, ReplayOrigin, TranscriptMessage,
    plan_drill_replay, plan_transcript_replay, recorded_conversations, replay_scenario,
    transcript_turns, turns_digest,
};
pub use report::{Counts, DrillReport, ScenarioResult, Timing, TurnSummary, Verdict};
pub use stats::{Percentiles, failure_rate_upper_95, wilson_95};
