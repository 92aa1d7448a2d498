//! The service's metrics. Labels are low-cardinality names (method, gRPC code); never identity values.

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

use crate::resolver::Resolution;

pub const PROFILES: &str = "pxstream_mapping_profiles_total";
pub const RESOLVED: &str = "pxstream_mapping_resolved_total";
pub const HELD_NOW: &str = "pxstream_mapping_held_changes";
pub const LEASED_NOW: &str = "pxstream_mapping_released_unacknowledged";
pub const HELD: &str = "pxstream_mapping_held_total";
pub const RELEASED: &str = "pxstream_mapping_released_total";
pub const REOFFERED: &str = "pxstream_mapping_reoffered_total";
pub const CAUGHT_UP: &str = "pxstream_mapping_caught_up_total";
pub const ACKNOWLEDGED: &str = "pxstream_mapping_acknowledged_total";
pub const FANOUT_PROFILES: &str = "pxstream_mapping_fanout_profiles_total";
pub const MERGES: &str = "pxstream_mapping_component_merges_total";
pub const REQUESTS: &str = "pxstream_mapping_requests_total";
pub const REQUEST_DURATION: &str = "pxstream_mapping_request_duration_seconds";

/// Registers descriptions, so `/metrics` explains each series. Harmless to call more than once.
pub fn describe() {
    describe_counter!(PROFILES, "Profiles received in ResolveBatch calls");
    describe_counter!(
        RESOLVED,
        "Membership changes resolved directly, one per (PX user, change)"
    );
    describe_gauge!(
        HELD_NOW,
        "Changes held now, released but unacknowledged ones included"
    );
    describe_gauge!(
        LEASED_NOW,
        "Released changes offered to ingest and not yet acknowledged"
    );
    describe_counter!(
        HELD,
        "Audience changes that resolved to no PX user and were held"
    );
    describe_counter!(
        RELEASED,
        "Held changes released for the first time because a link resolved them"
    );
    describe_counter!(
        REOFFERED,
        "Released changes offered again after their lease ran out unacknowledged"
    );
    describe_counter!(
        CAUGHT_UP,
        "Earlier audience states offered again because their profile gained a PX user"
    );
    describe_counter!(ACKNOWLEDGED, "Released changes acknowledged and forgotten");
    describe_counter!(
        FANOUT_PROFILES,
        "Profiles whose changes resolved to more than one PX user"
    );
    describe_counter!(MERGES, "Identity graph components folded into another");
    describe_counter!(REQUESTS, "gRPC calls by method and status code");
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "gRPC call latency by method"
    );
}

/// Sets the held gauges from the store's counts, at start.
pub fn set_held(held: u64, leased: u64) {
    gauge!(HELD_NOW).set(held as f64);
    gauge!(LEASED_NOW).set(leased as f64);
}

pub fn record_request(method: &'static str, code: tonic::Code, elapsed: Duration) {
    counter!(REQUESTS, "method" => method, "code" => code_name(code)).increment(1);
    histogram!(REQUEST_DURATION, "method" => method).record(elapsed.as_secs_f64());
}

pub fn record_resolution(resolution: &Resolution) {
    counter!(PROFILES).increment(resolution.profiles.len() as u64);
    let mut resolved = 0u64;
    let mut held = 0u64;
    let mut fanout = 0u64;
    for profile in &resolution.profiles {
        resolved += profile.resolved.len() as u64;
        held += u64::from(profile.held);
        fanout += u64::from(profile.fanout > 1);
    }
    counter!(RESOLVED).increment(resolved);
    counter!(HELD).increment(held);
    counter!(FANOUT_PROFILES).increment(fanout);
    let (first, again): (Vec<_>, Vec<_>) = resolution.released.iter().partition(|r| r.first_offer);
    counter!(RELEASED).increment(first.len() as u64);
    gauge!(LEASED_NOW).increment(first.len() as f64);
    counter!(REOFFERED).increment(again.len() as u64);
    counter!(MERGES).increment(resolution.merges as u64);
    counter!(CAUGHT_UP).increment(resolution.caught_up);
    let gauge = gauge!(HELD_NOW);
    gauge.increment(resolution.newly_held as f64);
    gauge.decrement(resolution.held_dropped as f64);
}

pub fn record_acknowledged(count: u64) {
    counter!(ACKNOWLEDGED).increment(count);
    gauge!(HELD_NOW).decrement(count as f64);
    gauge!(LEASED_NOW).decrement(count as f64);
}

fn code_name(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Ok => "ok",
        tonic::Code::InvalidArgument => "invalid_argument",
        tonic::Code::Unavailable => "unavailable",
        tonic::Code::Cancelled => "cancelled",
        tonic::Code::DeadlineExceeded => "deadline_exceeded",
        tonic::Code::ResourceExhausted => "resource_exhausted",
        _ => "other",
    }
}
