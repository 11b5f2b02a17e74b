//! The reference agent over real HTTP on 127.0.0.1: its API shapes and errors, every flaw switched
//! on and off through both interfaces, fixtures, determinism, the synthetic data, and model mode
//! against a scripted OpenAI-compatible server.

mod api;
mod common;
mod conversation;
mod flaws;
mod model;
