//! Delivery against the PX simulator: the client, segment metadata, and whole batches (no Kafka needed).

mod client;
mod common;
mod delivery;
mod segments;
