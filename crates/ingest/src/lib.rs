//! ingest: AEP profile exports on Kafka → membership changes on the changes topic.
//!
//! Invariants:
//! - An exports offset is committed only after everything its record produced is durable: its changes are
//!   acknowledged by the broker on the changes topic, or the record itself is on the dead-letter topic.
//!   A crash therefore replays records (duplicates are legal downstream), never loses them.
//! - Only Segmentation Service (`ups`) audiences activated to a destination are forwarded; custom uploads
//!   (`CustomerAudienceUpload`) are counted and never forwarded.
//! - A record that can never be parsed goes to the dead-letter topic with its reason in a header, and the
//!   pipeline keeps going; a record is never dropped silently.
//! - Every record's identities reach the mapping service, even when it has no activated audience, so the
//!   identity graph learns every link AEP shows us.
//! - Held changes released by the mapping service are acknowledged only after they are on the changes topic.
//! - Identity values are never logged; dead-letter reasons name fields, not values.

pub mod activations;
pub mod attributes;
pub mod batch;
pub mod mapping_client;
pub mod metrics;
pub mod pipeline;
pub mod record;

pub use pipeline::run;
