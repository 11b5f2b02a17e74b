//! The adapters and the interlock against real HTTP servers on 127.0.0.1.

mod adapters;
mod bedrock;
mod eventstream;
mod server;
mod sigv4;
