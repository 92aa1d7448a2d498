//! A whole pxstream pipeline on one machine, every part a separate process talking over loopback: a
//! Kafka-protocol broker (tansu), the PX simulator, and the mapping, delivery and ingest services.
//!
//! The demo and the end-to-end tests both drive pxstream through this crate, so what the demo shows is what
//! the tests assert.
//!
//! Invariants:
//! - Everything a `Stack` starts, it stops: processes are killed when the stack is dropped, even on panic.
//! - Only loopback addresses are used, and every wait is bounded by a deadline.
//! - "Done" means both consumer groups have committed up to the end of their topics, so the report reads
//!   PX's state after the pipeline has settled, not while it is still moving.

pub mod broker;
pub mod check;
pub mod config_file;
pub mod exports_file;
pub mod implied;
pub mod kafka_io;
pub mod metrics_text;
pub mod process;
pub mod shutdown;
pub mod stack;
pub mod tools;
pub mod workdir;

pub use stack::{Stack, StackOptions};
