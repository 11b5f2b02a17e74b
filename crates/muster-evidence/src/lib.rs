//! Evidence integrity for muster: every recorded event gets a digest that can be checked offline,
//! without trusting the store it came from.
//!
//! * Each **field** of an event is hashed on its own (`field_digest`), over RFC 8785 canonical JSON.
//!   A field's value can later be redacted or expired while its digest stays, and the event still
//!   verifies.
//! * Each **event** digest commits to its stream, position, time, kind, the previous event's digest
//!   and its field digests — so events form a hash chain per conversation stream.
//! * A drill's streams are sealed into one **root** digest over every stream's length and head.
//!
//! **Invariant:** nothing outside this crate computes or compares evidence digests. It does no I/O.

mod chain;
mod digest;
mod verify;

pub use chain::{EventDraft, Field, PreparedEvent, SealedEvent, StreamChain};
pub use digest::{
    Digest, DigestParseError, content_digest, event_digest, field_digest, genesis, root_digest,
};
pub use verify::{Problem, ProblemKind, StreamHead, VerifyReport, verify_chain_from, verify_drill};
