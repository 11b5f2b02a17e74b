//! The `muster` binary end to end, in a scratch directory, with a deterministic environment (no
//! colour, fixed width, no inherited store).

mod common;
mod console_browser;
mod test_console;
mod test_demo;
mod test_drill;
mod test_evidence;
mod test_gate;
mod test_ingest_formats;
mod test_postgres;
mod test_pull;
mod test_replay;
mod test_scan;
mod test_scenarios;
mod test_store;
mod test_validate;
mod test_workers;
