//! One integration-test binary: tiers and controls over manifest variants, the gate over each
//! trigger, and the reference agent's assessment as a snapshot.

mod common;
mod gate;
mod tiers;
