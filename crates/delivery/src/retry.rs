//! How long to wait before trying PX again.
//!
//! PX documents no `Retry-After`, but proxies in front of it and future versions may send one: when present
//! it wins (seconds or HTTP-date), clamped so a hostile or broken value cannot park the pipeline for hours.
//! Otherwise the wait doubles from `retry_initial_ms` up to `retry_max_ms`, with jitter so that several
//! replicas that failed together do not come back together.

use std::time::{Duration, SystemTime};

use pxstream_core::config::DeliveryConfig;
use rand::Rng;

/// Backoff bounds for retryable PX answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
}

/// A 429 asks the client to slow down: even a `Retry-After: 0` waits at least this long, so a misbehaving
/// limiter cannot turn the client into a busy loop that keeps the limit tripped.
const RATE_LIMITED_FLOOR: Duration = Duration::from_millis(500);

impl RetryPolicy {
    pub fn from_config(config: &DeliveryConfig) -> Self {
        Self {
            initial: Duration::from_millis(config.retry_initial_ms),
            max: Duration::from_millis(config.retry_max_ms),
        }
    }

    /// The wait before retry number `attempt` (0 for the first retry).
    ///
    /// `retry_after` is the server's hint, if any; `rate_limited` is true for a 429.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rate_limited: bool,
    ) -> Duration {
        let floor = if rate_limited {
            RATE_LIMITED_FLOOR.min(self.max)
        } else {
            Duration::ZERO
        };
        match retry_after {
            Some(hint) => hint.clamp(floor, self.max),
            None => self.backoff(attempt).max(floor),
        }
    }

    /// Exponential backoff with "equal jitter": somewhere in the upper half of the doubled wait, so the
    /// wait still grows while replicas spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempt.min(31)))
            .min(self.max);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            rand::rng().random_range(0..=spread)
        };
        half + Duration::from_micros(jitter)
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the past
/// means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }

    #[test]
    fn retry_after_comes_in_seconds_or_as_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn a_retry_after_hint_wins_but_is_clamped_to_the_maximum() {
        let p = policy();
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3)), false),
            Duration::from_secs(3)
        );
        assert_eq!(p.delay(0, Some(Duration::from_secs(3600)), true), p.max);
    }

    #[test]
    fn a_rate_limited_answer_waits_at_least_the_floor() {
        let p = policy();
        assert_eq!(p.delay(0, Some(Duration::ZERO), true), RATE_LIMITED_FLOOR);
        assert!(p.delay(0, None, true) >= RATE_LIMITED_FLOOR);
        assert_eq!(p.delay(0, Some(Duration::ZERO), false), Duration::ZERO);
    }

    #[test]
    fn backoff_grows_from_the_initial_wait_and_stays_under_the_maximum() {
        let p = policy();
        for _ in 0..100 {
            let first = p.delay(0, None, false);
            assert!(first >= p.initial / 2 && first <= p.initial, "{first:?}");
            let third = p.delay(2, None, false);
            assert!(
                third >= 2 * p.initial && third <= 4 * p.initial,
                "{third:?}"
            );
            assert!(p.delay(40, None, false) <= p.max);
            assert!(p.delay(40, None, false) >= p.max / 2);
        }
    }
}
