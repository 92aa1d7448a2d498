//! Fault injection, set at run time with `POST /__sim/faults` or `SimHandle::set_faults`.
//!
//! Faults apply to the PX API only, never to `/__sim/*`. A spec either applies to every request
//! (no `subscription`) or to the requests attributed to one subscription; a scoped spec replaces
//! the global one for that subscription rather than adding to it, so a test can reason about one
//! spec at a time. Each POST replaces the whole spec of its scope: `{}` clears it.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// One fault-injection setting. Rates are probabilities in `[0, 1]`, rolled independently per
/// request in this order: slow (a delay, then the request goes on), drop, 429, 5xx, HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FaultSpec {
    /// Answer 429 TOO_MANY_REQUESTS (JSON error body).
    #[serde(rename = "rate429")]
    pub rate_429: f64,
    /// Answer `status5xx` with a JSON error body.
    #[serde(rename = "rate5xx")]
    pub rate_5xx: f64,
    #[serde(rename = "status5xx")]
    pub status_5xx: u16,
    /// Answer `htmlStatus` with a `text/html` page, as an edge proxy does.
    pub rate_html: f64,
    pub html_status: u16,
    /// Wait `slowMs` before handling the request.
    pub rate_slow: f64,
    pub slow_ms: u64,
    /// Close the connection without writing a single byte of response.
    pub rate_drop: f64,
    /// `Retry-After` on 429 and 503 answers (injected or from the rate limiter): `false` (PX's
    /// documented behaviour, none), `true` (seconds until the limit window reopens, 1 for injected
    /// faults) or a number of seconds.
    pub retry_after: RetryAfter,
    /// One-shot action: expire every access token of the scope now (refresh tokens stay valid).
    pub token_expiry: bool,
    /// Switch the external-segment feature off (403 on the external_segment endpoints).
    pub feature_off: bool,
    /// Scope: a subscription id, or absent for all requests.
    pub subscription: Option<String>,
    /// Reseed the fault dice for reproducible runs.
    pub seed: Option<u64>,
}

impl Default for FaultSpec {
    fn default() -> Self {
        Self {
            rate_429: 0.0,
            rate_5xx: 0.0,
            status_5xx: 500,
            rate_html: 0.0,
            html_status: 503,
            rate_slow: 0.0,
            slow_ms: 5000,
            rate_drop: 0.0,
            retry_after: RetryAfter::Flag(false),
            token_expiry: false,
            feature_off: false,
            subscription: None,
            seed: None,
        }
    }
}

/// `retryAfter`: a flag or a fixed number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RetryAfter {
    Flag(bool),
    Seconds(u64),
}

impl Default for RetryAfter {
    fn default() -> Self {
        Self::Flag(false)
    }
}

impl RetryAfter {
    /// The header value to send, if any, given when the refusing condition naturally ends.
    pub(crate) fn seconds(self, natural: Duration) -> Option<u64> {
        match self {
            Self::Flag(false) => None,
            Self::Flag(true) => Some(natural.as_secs_f64().ceil().max(1.0) as u64),
            Self::Seconds(seconds) => Some(seconds),
        }
    }
}

impl FaultSpec {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let rates = [
            ("rate429", self.rate_429),
            ("rate5xx", self.rate_5xx),
            ("rateHtml", self.rate_html),
            ("rateSlow", self.rate_slow),
            ("rateDrop", self.rate_drop),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        if !(500..=599).contains(&self.status_5xx) {
            return Err("status5xx must be a 5xx status".into());
        }
        if !(500..=599).contains(&self.html_status) {
            return Err("htmlStatus must be a 5xx status".into());
        }
        Ok(())
    }
}

/// What the dice decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultOutcome {
    Drop,
    TooMany,
    Json(StatusCode),
    Html(StatusCode),
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FaultRoll {
    pub delay: Option<Duration>,
    pub outcome: Option<FaultOutcome>,
    pub retry_after: RetryAfter,
}

/// The live fault settings and their dice.
#[derive(Debug)]
pub(crate) struct FaultState {
    global: FaultSpec,
    scoped: BTreeMap<String, FaultSpec>,
    rng: StdRng,
}

impl Default for FaultState {
    fn default() -> Self {
        Self {
            global: FaultSpec::default(),
            scoped: BTreeMap::new(),
            rng: StdRng::from_os_rng(),
        }
    }
}

impl FaultState {
    /// Stores a spec for its scope; one-shot actions are not stored.
    pub(crate) fn set(&mut self, mut spec: FaultSpec) {
        if let Some(seed) = spec.seed {
            self.rng = StdRng::seed_from_u64(seed);
        }
        spec.token_expiry = false;
        match spec.subscription.clone() {
            Some(id) => {
                self.scoped.insert(id, spec);
            }
            None => self.global = spec,
        }
    }

    pub(crate) fn effective(&self, subscription: Option<&str>) -> &FaultSpec {
        subscription
            .and_then(|id| self.scoped.get(id))
            .unwrap_or(&self.global)
    }

    pub(crate) fn roll(&mut self, subscription: Option<&str>) -> FaultRoll {
        let spec = subscription
            .and_then(|id| self.scoped.get(id))
            .unwrap_or(&self.global)
            .clone();
        let rng = &mut self.rng;
        let mut hit = |rate: f64| rate > 0.0 && rng.random::<f64>() < rate;
        let delay = hit(spec.rate_slow).then(|| Duration::from_millis(spec.slow_ms));
        let outcome = if hit(spec.rate_drop) {
            Some(FaultOutcome::Drop)
        } else if hit(spec.rate_429) {
            Some(FaultOutcome::TooMany)
        } else if hit(spec.rate_5xx) {
            Some(FaultOutcome::Json(status(spec.status_5xx)))
        } else if hit(spec.rate_html) {
            Some(FaultOutcome::Html(status(spec.html_status)))
        } else {
            None
        };
        FaultRoll {
            delay,
            outcome,
            retry_after: spec.retry_after,
        }
    }

    /// `{"global": spec, "subscriptions": {id: spec}}` for `GET /__sim/faults`.
    pub(crate) fn view(&self) -> serde_json::Value {
        serde_json::json!({ "global": self.global, "subscriptions": self.scoped })
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Adds `Retry-After` to a 429 or 503 answer when the fault settings ask for it.
pub(crate) fn add_retry_after(response: &mut Response, retry_after: RetryAfter, natural: Duration) {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return;
    }
    if let Some(seconds) = retry_after.seconds(natural) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
}

/// The answer for an injected fault other than a drop.
pub(crate) fn fault_response(outcome: FaultOutcome, retry_after: RetryAfter) -> Response {
    let mut response = match outcome {
        FaultOutcome::TooMany => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests, please slow down",
        )
        .into_response(),
        FaultOutcome::Json(code) => {
            ApiError::new(code, "An unexpected error occurred").into_response()
        }
        FaultOutcome::Html(code) => (code, Html(html_page(code))).into_response(),
        // Drops never reach here; answering a bare 502 keeps this total.
        FaultOutcome::Drop => StatusCode::BAD_GATEWAY.into_response(),
    };
    add_retry_after(&mut response, retry_after, Duration::from_secs(1));
    response
}

fn html_page(code: StatusCode) -> String {
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fault_json_accepts_a_flag_or_seconds_for_retry_after() {
        let spec: FaultSpec =
            serde_json::from_str(r#"{"rate429":1.0,"retryAfter":7}"#).expect("valid");
        assert_eq!(spec.retry_after, RetryAfter::Seconds(7));
        let spec: FaultSpec = serde_json::from_str(r#"{"retryAfter":true}"#).expect("valid");
        assert_eq!(spec.retry_after, RetryAfter::Flag(true));
        assert!(serde_json::from_str::<FaultSpec>(r#"{"rate_429":1.0}"#).is_err());
    }

    #[test]
    fn a_scoped_spec_replaces_the_global_one_for_its_subscription() {
        let mut faults = FaultState::default();
        faults.set(FaultSpec {
            rate_429: 1.0,
            ..FaultSpec::default()
        });
        faults.set(FaultSpec {
            subscription: Some("quiet".into()),
            ..FaultSpec::default()
        });
        assert_eq!(faults.roll(Some("quiet")).outcome, None);
        assert_eq!(
            faults.roll(Some("other")).outcome,
            Some(FaultOutcome::TooMany)
        );
        assert_eq!(faults.roll(None).outcome, Some(FaultOutcome::TooMany));
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let spec = FaultSpec {
            rate_drop: 1.5,
            ..FaultSpec::default()
        };
        assert!(spec.validate().is_err());
    }
}
