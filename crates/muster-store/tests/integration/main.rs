//! Integration tests of the SQLite evidence store, including tampering done the way an attacker
//! with the file would do it (triggers dropped, rows edited).

mod ingest;
mod tamper;
