//! pxstream's wire contracts, generated from `proto/pxstream.proto`.
//!
//! Invariants:
//! - The changes topic carries `MembershipChange` values encoded with these messages, keyed by
//!   `identify_id`, so every change of one PX user lands on one partition, in order.
//! - Field numbers are never reused: old records on a topic must stay decodable after an upgrade.

#![allow(missing_debug_implementations, clippy::all)]

pub mod v1 {
    tonic::include_proto!("pxstream.v1");
}
