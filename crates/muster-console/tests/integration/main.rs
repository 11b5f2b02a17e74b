//! The console over real HTTP on loopback: access control over every served route, the exercise
//! flows, CSRF, the scheduler, the live stream and the log's integrity.

mod common;
mod flows;
mod notify;
mod permissions;
mod servers;
