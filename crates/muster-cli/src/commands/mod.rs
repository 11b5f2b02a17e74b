//! One module per command.

pub mod demo;
pub mod drill;
pub mod refagent;
pub mod schema;
pub mod store;
pub mod validate;
