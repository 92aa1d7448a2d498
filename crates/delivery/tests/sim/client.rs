//! The PX client: authentication, retries, and how refusals are classified.

use std::time::{Duration, Instant};

use pxstream_core::ErrorClass;
use pxstream_delivery::px::{MembershipBody, MembershipEntry, PxClient, SegmentMetadata};
use pxstream_px_sim::SimHandle;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::common::*;

fn body<'a>(segment: &'a str, identities: &[&'a str]) -> MembershipBody<'a> {
    MembershipBody {
        identity_type: "IDENTIFY_ID",
        add: vec![MembershipEntry {
            segment_id: segment,
            last_qualification_time: "2026-11-30T08:15:02.117Z".into(),
            identities: identities.to_vec(),
        }],
        remove: vec![],
    }
}

async fn with_segment(client: &PxClient, id: &str) {
    client
        .create_segment(&SegmentMetadata {
            external_id: id.into(),
            name: id.into(),
            description: String::new(),
        })
        .await
        .expect("segment created");
}

fn members(sim: &SimHandle, segment: &str) -> Vec<String> {
    sim.state().members(SUB, segment).into_keys().collect()
}

#[tokio::test]
async fn an_api_key_call_reaches_px() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, WRITE_KEY));
    with_segment(&client, "a").await;
    client
        .update_membership(&body("a", &["u-1", "u-2"]))
        .await
        .unwrap();
    assert_eq!(members(&sim, "a"), vec!["u-1", "u-2"]);
    assert_eq!(
        sim.state().members(SUB, "a")["u-1"],
        "2026-11-30T08:15:02.117Z"
    );
}

#[tokio::test]
async fn one_oauth_token_serves_every_call() {
    let sim = sim().await;
    let client = client(&oauth_destination(&sim, "demo-password"));
    with_segment(&client, "a").await;
    for user in ["u-1", "u-2", "u-3"] {
        client.update_membership(&body("a", &[user])).await.unwrap();
    }
    let requests = requests(&sim);
    assert_eq!(requests.endpoint("token"), 1);
    assert_eq!(requests.endpoint("update_membership"), 3);
    assert_eq!(members(&sim, "a").len(), 3);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    let sim = sim().await;
    let client = client(&oauth_destination(&sim, "demo-password"));
    with_segment(&client, "a").await;
    sim.set_faults(faults(json!({"tokenExpiry": true})))
        .unwrap();
    client
        .update_membership(&body("a", &["u-1"]))
        .await
        .unwrap();
    let requests = requests(&sim);
    assert_eq!(requests.status(401), 1, "{requests:?}");
    assert_eq!(requests.endpoint("token"), 2);
    assert_eq!(members(&sim, "a"), vec!["u-1"]);
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_px_refuses_it() {
    let sim = sim_with(|sub| sub.token_lifetime_secs = 1).await;
    let client = client(&oauth_destination(&sim, "demo-password"));
    with_segment(&client, "a").await;
    tokio::time::sleep(Duration::from_millis(850)).await;
    client
        .update_membership(&body("a", &["u-1"]))
        .await
        .unwrap();
    let requests = requests(&sim);
    assert_eq!(requests.status(401), 0, "{requests:?}");
    assert_eq!(requests.endpoint("token"), 2);
}

#[tokio::test]
async fn a_rate_limited_call_waits_as_long_as_retry_after_asks() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, WRITE_KEY));
    with_segment(&client, "a").await;
    sim.set_faults(faults(json!({"rate429": 1.0, "retryAfter": 1})))
        .unwrap();
    let started = Instant::now();
    let call = body("a", &["u-1"]);
    let (sent, ()) = tokio::join!(client.update_membership(&call), async {
        until(&sim, |r| r.status(429) >= 1).await;
        // Long enough for a client that ignores Retry-After (10 ms backoff here) to retry many times.
        tokio::time::sleep(Duration::from_millis(400)).await;
        sim.clear_faults();
    });
    sent.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&sim).status(429), 1);
    assert_eq!(members(&sim, "a"), vec!["u-1"]);
}

#[tokio::test]
async fn server_errors_and_html_pages_are_retried_until_px_accepts() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, WRITE_KEY));
    with_segment(&client, "a").await;
    for (spec, status) in [
        (json!({"rate5xx": 1.0, "status5xx": 500}), 500),
        (json!({"rateHtml": 1.0, "htmlStatus": 502}), 502),
    ] {
        sim.set_faults(faults(spec)).unwrap();
        let call = body("a", &["u-1"]);
        let (sent, ()) = tokio::join!(client.update_membership(&call), async {
            until(&sim, |r| r.status(status) >= 2).await;
            sim.clear_faults();
        });
        sent.unwrap();
    }
    assert_eq!(members(&sim, "a"), vec!["u-1"]);
}

#[tokio::test]
async fn timeouts_and_dropped_connections_are_retried() {
    let sim = sim().await;
    let mut settings = settings();
    settings.request_timeout = Duration::from_millis(300);
    let client = client_with(
        &api_key_destination(&sim, WRITE_KEY),
        &settings,
        CancellationToken::new(),
    );
    with_segment(&client, "a").await;

    sim.set_faults(faults(json!({"rateDrop": 1.0}))).unwrap();
    let call = body("a", &["u-1"]);
    let (sent, ()) = tokio::join!(client.update_membership(&call), async {
        until(&sim, |r| {
            r.by_status.get("dropped").copied().unwrap_or(0) >= 2
        })
        .await;
        sim.clear_faults();
    });
    sent.unwrap();

    sim.set_faults(faults(json!({"rateSlow": 1.0, "slowMs": 1000})))
        .unwrap();
    let started = Instant::now();
    let call = body("a", &["u-2"]);
    let (sent, ()) = tokio::join!(client.update_membership(&call), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sim.clear_faults();
    });
    sent.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(members(&sim, "a"), vec!["u-1", "u-2"]);
}

#[tokio::test]
async fn a_wrong_api_key_fails_fast_without_echoing_the_key() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, "not-a-key-of-px"));
    let error = client
        .update_membership(&body("a", &["u-1"]))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::FailFast);
    assert_eq!(error.status.map(|s| s.as_u16()), Some(401));
    assert!(
        error.message.contains("loginAwareAuthentication"),
        "{error}"
    );
    assert!(!error.to_string().contains("not-a-key-of-px"), "{error}");
}

#[tokio::test]
async fn a_read_only_key_fails_fast() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, "demo-read-key"));
    let error = client
        .update_membership(&body("a", &["u-1"]))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::FailFast);
    assert_eq!(error.status.map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn a_subscription_without_external_segments_fails_fast() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, WRITE_KEY));
    sim.set_faults(faults(json!({"featureOff": true}))).unwrap();
    let error = client
        .update_membership(&body("a", &["u-1"]))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::FailFast);
    assert_eq!(error.status.map(|s| s.as_u16()), Some(403));
    assert!(error.message.contains("not enabled"), "{error}");
}

#[tokio::test]
async fn refused_oauth_credentials_fail_fast_without_echoing_them() {
    let sim = sim().await;
    let client = client(&oauth_destination(&sim, "wrong-password-123"));
    let error = client
        .update_membership(&body("a", &["u-1"]))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::FailFast);
    assert!(error.message.contains("invalid_grant"), "{error}");
    assert!(!error.to_string().contains("wrong-password-123"));
    assert!(!error.to_string().contains("demo-client-secret"));
}

#[tokio::test]
async fn a_refused_call_is_a_dead_letter_class_error() {
    let sim = sim().await;
    let client = client(&api_key_destination(&sim, WRITE_KEY));
    let error = client
        .update_membership(&body("missing", &["u-1"]))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::DeadLetter);
    assert!(error.message.contains("no external segment"), "{error}");
}

#[tokio::test]
async fn shutdown_stops_the_retries_of_a_call() {
    let sim = sim().await;
    let stop = CancellationToken::new();
    let client = client_with(
        &api_key_destination(&sim, WRITE_KEY),
        &settings(),
        stop.clone(),
    );
    with_segment(&client, "a").await;
    sim.set_faults(faults(json!({"rate5xx": 1.0}))).unwrap();
    let call = body("a", &["u-1"]);
    let (result, ()) = tokio::join!(client.update_membership(&call), async {
        until(&sim, |r| r.status(500) >= 2).await;
        stop.cancel();
    });
    let error = result.unwrap_err();
    assert!(matches!(error.class, ErrorClass::Retry { .. }), "{error:?}");
    assert!(error.message.contains("stopped retrying"), "{error}");
}
