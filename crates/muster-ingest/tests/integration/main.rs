//! Integration tests for muster-ingest.
