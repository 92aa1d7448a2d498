//! The metrics delivery exports. Labels are low-cardinality by construction: outcomes, endpoints, status
//! codes and partition numbers; never a user, an audience or a destination value from the data.

use reqwest::StatusCode;

use crate::px::Endpoint;

pub const CHANGES: &str = "pxstream_delivery_changes_total";
pub const PX_REQUESTS: &str = "pxstream_delivery_px_requests_total";
pub const BATCH_IDENTITIES: &str = "pxstream_delivery_batch_identities";
pub const RETRIES: &str = "pxstream_delivery_retries_total";
pub const COMMITTED_OFFSET: &str = "pxstream_delivery_committed_offset";

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// PX answered 200 to a call carrying it.
    Sent,
    /// Newer than what was applied but changes nothing in PX: only the store learned it.
    Remembered,
    /// Older than, or a duplicate of, what was applied or of another change in its batch.
    Stale,
    /// Set aside on the dead-letter topic with its reason.
    DeadLettered,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Remembered => "remembered",
            Outcome::Stale => "stale",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

pub fn changes(outcome: Outcome, count: usize) {
    if count > 0 {
        metrics::counter!(CHANGES, "outcome" => outcome.as_str()).increment(count as u64);
    }
}

/// One request to PX; `None` when no answer came (timeout, connection failure).
pub fn px_request(endpoint: Endpoint, status: Option<StatusCode>) {
    let status = match status {
        Some(status) => status.as_str().to_owned(),
        None => "none".to_owned(),
    };
    metrics::counter!(PX_REQUESTS, "endpoint" => endpoint.as_str(), "status" => status)
        .increment(1);
}

pub fn retry() {
    metrics::counter!(RETRIES).increment(1);
}

pub fn batch_identities(count: usize) {
    metrics::histogram!(BATCH_IDENTITIES).record(count as f64);
}

pub fn committed_offset(partition: i32, offset: i64) {
    metrics::gauge!(COMMITTED_OFFSET, "partition" => partition.to_string()).set(offset as f64);
}
