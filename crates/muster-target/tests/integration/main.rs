//! The adapters and the interlock against real HTTP servers on 127.0.0.1.

mod adapters;
mod anthropic;
mod bedrock;
mod command;
mod eventstream;
mod glassbox;
mod responses;
mod server;
mod sigv4;
