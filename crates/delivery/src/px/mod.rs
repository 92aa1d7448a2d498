//! Gainsight PX's REST API, as delivery uses it: external segment metadata and membership.

mod auth;
mod client;
mod error;
mod membership;

pub use client::{ClientSettings, PxClient, SegmentMetadata, StoredSegment};
pub use error::{Endpoint, PxError};
pub use membership::{MembershipBody, MembershipEntry};
