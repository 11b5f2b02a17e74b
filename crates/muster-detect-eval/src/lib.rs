//! Measures muster-detect against labelled data it was not written from.
//!
//! **Invariants:** every corpus is generated from a seed, so a run is reproducible; the word lists
//! the generators draw names and streets from are kept apart from the detectors' own gazetteers, so
//! a score measures generalisation rather than recall of a shared list.

pub mod cues;
pub mod injection;
pub mod personal;
