//! Evaluation: cues.
