//! Integration tests for the handover-queue adapters, over real HTTP on 127.0.0.1 only.

mod fake;
mod pull;
mod vendors;
mod webhook;
