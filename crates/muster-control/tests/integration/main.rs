//! The control drills end to end over loopback HTTP against the reference agent: hardened (every
//! control passes within its claim), flawed (the in-flight kill-switch gap and the context-less
//! handover are caught), interrupted (every rollback ran and was recorded), custom experiments,
//! queues that fail, and approvals of the customer notice.

mod approvals;
mod common;
mod experiments;
mod interrupted;
mod queue;
mod reference;
