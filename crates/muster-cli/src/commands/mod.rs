//! One module per command.

pub mod approve;
pub mod assess;
pub mod audit_evidence;
pub mod console;
pub mod controls;
pub mod db;
pub mod demo;
pub mod drill;
pub mod evidence;
pub mod gate;
pub mod incident;
pub mod ingest;
pub mod pack;
pub mod pull;
pub mod receive;
pub mod refagent;
pub mod replay;
pub mod scan;
pub mod scenarios;
pub mod schema;
pub mod serve;
pub mod store;
pub mod validate;
pub mod worker;
