//! pxstream's identity mapping service: turns the identities of AEP profile exports into PX user ids
//! (`IDENTIFY_ID`s), learning the identity graph as records arrive.
//!
//! Invariants this crate keeps:
//! - A change is never dropped: it is resolved, or held durably until a link resolves it, and a released
//!   change is forgotten only after the caller acknowledges it. A released change whose lease runs out
//!   unacknowledged is offered again, so a caller that crashes between receiving and emitting loses
//!   nothing; duplicates are legal, loss is not.
//! - One `ResolveBatch` is one store transaction: the links it learns, the changes it holds and the
//!   releases it leases are committed together before the answer leaves, or not at all.
//! - Identities seen together on one record belong to one component of the identity graph, forever;
//!   components only grow and merge, and a merge carries the held changes of both sides.
//! - A change resolves to every id of its destination's source namespace in its profile's component, so a
//!   profile linked to several PX users fans out to all of them.
//! - Holding is idempotent: the same change (component, destination, audience, status, time) is held once,
//!   however often a snapshot is replayed.
//! - Identity values are personal data: they never reach logs, metric labels or error messages.
//!
//! Errors map to gRPC codes by what the caller should do (see [`service`]): `INVALID_ARGUMENT` means the
//! request can never succeed (dead-letter the record), `UNAVAILABLE` means try again with the same input.

pub mod graph;
pub mod held;
pub mod metrics;
pub mod request;
pub mod resolver;
pub mod rules;
pub mod server;
pub mod service;
pub mod store;

pub use held::{HeldChange, ReleasedChange};
pub use request::{InvalidRequest, ProfileInput};
pub use resolver::{ProfileOutcome, Resolution, Resolver};
pub use rules::{MappingRules, RulesError};
pub use server::{serve, serve_with_readiness};
pub use service::MappingService;
pub use store::sqlite::SqliteStore;
pub use store::{ComponentId, IdentityKey, Store, StoreError, StoreTx};

/// The most held changes one `ResolveBatch` answer releases, so an answer stays small after a link
/// resolves a large backlog; the rest go out on the following calls.
pub const MAX_RELEASED_PER_RESPONSE: usize = 10_000;

/// Largest request the service accepts. A batch of a few thousand profiles is far below it.
pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// Largest answer the service sends; callers should accept at least this much.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
