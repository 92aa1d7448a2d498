//! Per-subscription request budgets: fixed windows of one second and one day.
//!
//! A window opens with the first request after the previous one closed. Only admitted requests
//! consume budget, so a client that keeps retrying through a 429 storm is not locked out for longer
//! than the window. PX documents no algorithm; fixed windows are the simplest thing that yields the
//! documented "about 200 per second" behaviour and make tests deterministic.

use std::time::{Duration, Instant};

use crate::config::Limits;

const SECOND: Duration = Duration::from_secs(1);
const DAY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Default, Clone)]
struct Window {
    start: Option<Instant>,
    count: u64,
}

impl Window {
    fn roll(&mut self, now: Instant, length: Duration) {
        let expired = self
            .start
            .is_none_or(|start| now.duration_since(start) >= length);
        if expired {
            self.start = Some(now);
            self.count = 0;
        }
    }

    /// Time until this window closes when it is full.
    fn full_for(&self, now: Instant, length: Duration, limit: u64) -> Option<Duration> {
        if limit == 0 || self.count < limit {
            return None;
        }
        let start = self.start.unwrap_or(now);
        Some((start + length).saturating_duration_since(now))
    }
}

/// Which budget refused a request and when it reopens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub per_day: bool,
    pub retry_in: Duration,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct RateLimiter {
    second: Window,
    day: Window,
}

impl RateLimiter {
    /// Admits one request, or says which limit it is over. A limit of 0 never refuses.
    pub(crate) fn try_acquire(&mut self, now: Instant, limits: &Limits) -> Result<(), Refusal> {
        self.second.roll(now, SECOND);
        self.day.roll(now, DAY);
        if let Some(retry_in) = self.day.full_for(now, DAY, limits.per_day) {
            return Err(Refusal {
                per_day: true,
                retry_in,
            });
        }
        if let Some(retry_in) = self
            .second
            .full_for(now, SECOND, u64::from(limits.per_second))
        {
            return Err(Refusal {
                per_day: false,
                retry_in,
            });
        }
        self.second.count += 1;
        self.day.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_second: u32, per_day: u64) -> Limits {
        Limits {
            per_second,
            per_day,
            ..Limits::default()
        }
    }

    #[test]
    fn the_per_second_window_refuses_past_its_budget_and_reopens() {
        let mut limiter = RateLimiter::default();
        let start = Instant::now();
        let limits = limits(2, 0);
        assert!(limiter.try_acquire(start, &limits).is_ok());
        assert!(limiter.try_acquire(start, &limits).is_ok());
        let refusal = limiter
            .try_acquire(start, &limits)
            .expect_err("over budget");
        assert!(!refusal.per_day);
        assert!(refusal.retry_in <= SECOND);
        assert!(limiter.try_acquire(start + SECOND, &limits).is_ok());
    }

    #[test]
    fn the_per_day_budget_outlives_the_second_window() {
        let mut limiter = RateLimiter::default();
        let start = Instant::now();
        let limits = limits(0, 1);
        assert!(limiter.try_acquire(start, &limits).is_ok());
        let refusal = limiter
            .try_acquire(start + 10 * SECOND, &limits)
            .expect_err("day budget spent");
        assert!(refusal.per_day);
    }
}
