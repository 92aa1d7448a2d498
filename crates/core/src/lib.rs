//! pxstream's shared vocabulary: the types every stage agrees on.
//!
//! Invariants kept here, so no stage has to re-check them:
//! - An id newtype (`AudienceId`, `IdentifyId`, `Namespace`, `DestinationName`) is never empty, and a
//!   `Namespace` is case-folded, so `ECID` and `ecid` are one namespace everywhere.
//! - A `QualificationTime` is an instant in UTC with microsecond precision, within years 0000-9999 so it
//!   always prints as ISO-8601; every timestamp form AEP sends parses to the same instant, so comparing two
//!   versions of a membership is comparing two integers.
//! - A `Config` that exists has been validated: services never start on a half-valid file.
//! - Every error a caller can see carries an `ErrorClass` (retry, dead-letter, fail fast): what to do, not
//!   where it came from.
//! - Secrets and identity values never reach logs: `Secret` redacts itself, and `fingerprint` is the only
//!   form in which an identity value may be logged.

pub mod admin;
pub mod change;
pub mod config;
pub mod error;
pub mod ids;
pub mod kafka;
pub mod qualification_time;
pub mod redact;
pub mod service;
pub mod telemetry;

pub use change::{AudienceState, MembershipChange, MembershipStatus};
pub use error::{Classify, ErrorClass};
pub use ids::{AudienceId, DestinationName, IdentifyId, Namespace};
pub use qualification_time::QualificationTime;
pub use redact::{Secret, fingerprint};
