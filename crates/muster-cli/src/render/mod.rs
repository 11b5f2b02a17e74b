//! Everything the command line shows people: tables, diagnostics, summaries. Pure functions from
//! results to strings, so they can be snapshot-tested at a fixed width without colour.

pub mod controls;
pub mod diagnostics;
pub mod junit;
pub mod sarif;
pub mod table;
pub mod timeline_html;
