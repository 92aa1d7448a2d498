//! Errors are classified by what the caller should do with them, not by where they came from.

use std::time::Duration;

/// What to do with the work that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient (timeouts, 429, 5xx, a broker or peer away): try again later, keep the input.
    Retry { after: Option<Duration> },
    /// This input can never succeed (malformed record, refused by PX as invalid): set it aside in a
    /// dead-letter place with its reason and carry on with the rest.
    DeadLetter,
    /// Nothing will succeed until an operator acts (bad credentials, feature disabled, bad config): stop
    /// loudly rather than dead-letter everything.
    FailFast,
}

impl ErrorClass {
    pub const RETRY: ErrorClass = ErrorClass::Retry { after: None };

    /// A stable, low-cardinality name for metrics labels and dead-letter headers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Retry { .. } => "retry",
            ErrorClass::DeadLetter => "dead_letter",
            ErrorClass::FailFast => "fail_fast",
        }
    }
}

/// Implemented by every error that crosses a stage boundary.
pub trait Classify {
    fn class(&self) -> ErrorClass;
}
