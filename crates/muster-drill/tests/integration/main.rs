//! The drill engine end to end over loopback HTTP: against a scripted agent (verdict rules,
//! fixtures, teardown, interruption) and against the reference agent (every planted flaw).

mod glassbox;
mod observe;
mod reference;
mod scripted;
