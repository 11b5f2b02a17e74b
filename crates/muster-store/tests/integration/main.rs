//! Integration tests of the evidence store: one suite run on both backends (SQLite, and PostgreSQL
//! from `MUSTER_TEST_POSTGRES_URL`), including tampering done the way an attacker with the
//! database would do it (triggers dropped or off, rows edited).

mod console;
mod harness;
mod ingest;
mod postgres;
mod queue;
mod tamper;
