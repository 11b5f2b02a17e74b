//! Evaluation: injection.
