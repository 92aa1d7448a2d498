//! Fault injection through `/__sim/faults`.

use std::time::{Duration, Instant};

use pxstream_px_sim::{API_KEY_HEADER, ApiKeyConfig, Permission, SimConfig, SubscriptionConfig};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};

use crate::common::{SUB, WRITE_KEY, error_body, start, start_config};

const PATH: &str = "/v1/admin/subscription";

#[tokio::test]
async fn an_injected_429_carries_retry_after_when_asked() {
    let sim = start().await;
    sim.set_faults(json!({"rate429": 1.0, "retryAfter": 7}))
        .await;
    let response = sim.get(PATH).await;
    assert_eq!(response.headers()[RETRY_AFTER], "7");
    error_body(response, 429, "TOO_MANY_REQUESTS").await;
    sim.set_faults(json!({"rate429": 1.0})).await;
    let response = sim.get(PATH).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().get(RETRY_AFTER).is_none());
}

#[tokio::test]
async fn an_injected_html_503_is_a_text_html_page() {
    let sim = start().await;
    sim.set_faults(json!({"rateHtml": 1.0})).await;
    let response = sim.get(PATH).await;
    assert_eq!(response.status(), 503);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(response.text().await.expect("body").contains("<html>"));
}

#[tokio::test]
async fn an_injected_html_page_can_be_a_502_or_504() {
    let sim = start().await;
    sim.set_faults(json!({"rateHtml": 1.0, "htmlStatus": 504}))
        .await;
    assert_eq!(sim.get(PATH).await.status(), 504);
}

#[tokio::test]
async fn an_injected_5xx_has_the_json_error_body() {
    let sim = start().await;
    sim.set_faults(json!({"rate5xx": 1.0, "status5xx": 502}))
        .await;
    error_body(sim.get(PATH).await, 502, "BAD_GATEWAY").await;
    sim.set_faults(json!({"rate5xx": 1.0})).await;
    error_body(sim.get(PATH).await, 500, "INTERNAL_SERVER_ERROR").await;
}

#[tokio::test]
async fn a_dropped_connection_yields_no_response_at_all() {
    let sim = start().await;
    sim.set_faults(json!({"rateDrop": 1.0})).await;
    let fresh = reqwest::Client::new();
    let result = fresh
        .get(sim.url(PATH))
        .header(API_KEY_HEADER, WRITE_KEY)
        .send()
        .await;
    assert!(result.is_err(), "no response expected, got {result:?}");
    let state = sim.handle.state();
    assert!(state.subscriptions[SUB].requests.by_status["dropped"] >= 1);
}

#[tokio::test]
async fn a_slow_fault_delays_the_answer_past_a_short_client_timeout() {
    let sim = start().await;
    sim.set_faults(json!({"rateSlow": 1.0, "slowMs": 300}))
        .await;
    let started = Instant::now();
    assert_eq!(sim.get(PATH).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let result = impatient
        .get(sim.url(PATH))
        .header(API_KEY_HEADER, WRITE_KEY)
        .send()
        .await;
    assert!(result.is_err_and(|err| err.is_timeout()));
}

#[tokio::test]
async fn seeded_partial_rates_mix_faults_and_successes() {
    let sim = start().await;
    sim.set_faults(json!({"rate429": 0.5, "seed": 42})).await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(sim.get(PATH).await.status().as_u16());
    }
    assert!(
        statuses.contains(&200) && statuses.contains(&429),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn faults_scoped_to_a_subscription_spare_the_others() {
    let mut other = SubscriptionConfig::new("sub-other");
    other.api_keys = vec![ApiKeyConfig {
        key: "other-key".into(),
        permission: Permission::Write,
    }];
    let mut config = SimConfig::demo();
    config.subscriptions.push(other);
    let sim = start_config(config).await;
    sim.set_faults(json!({"rate5xx": 1.0, "subscription": "sub-other"}))
        .await;
    assert_eq!(sim.get(PATH).await.status(), 200);
    let response = sim
        .http
        .get(sim.url(PATH))
        .header(API_KEY_HEADER, "other-key")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn faults_never_touch_the_simulator_endpoints() {
    let sim = start().await;
    sim.set_faults(json!({"rate429": 1.0, "rateSlow": 1.0, "slowMs": 2000}))
        .await;
    let started = Instant::now();
    for path in ["/__sim/health", "/__sim/state", "/__sim/faults"] {
        let response = sim.http.get(sim.url(path)).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{path}");
    }
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn unknown_fault_fields_and_bad_rates_are_refused() {
    let sim = start().await;
    for body in [
        json!({"rate_429": 1.0}),
        json!({"rate429": 2.0}),
        json!({"subscription": "nope"}),
    ] {
        let response = sim
            .http
            .post(sim.url("/__sim/faults"))
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn an_empty_fault_body_clears_the_faults() {
    let sim = start().await;
    sim.set_faults(json!({"rate5xx": 1.0})).await;
    assert_eq!(sim.get(PATH).await.status(), 500);
    let response = sim
        .http
        .post(sim.url("/__sim/faults"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.expect("json");
    assert_eq!(view["global"]["rate5xx"], 0.0);
    assert_eq!(sim.get(PATH).await.status(), 200);
}
