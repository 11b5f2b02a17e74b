//! Evaluation: personal.
