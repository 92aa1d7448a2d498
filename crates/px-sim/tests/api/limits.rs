//! Per-subscription rate limits.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use serde_json::json;

use crate::common::{SUB, error_body, start_with};

const PATH: &str = "/v1/admin/subscription";

#[tokio::test]
async fn requests_past_the_per_second_limit_answer_429() {
    let sim = start_with(|sub| sub.limits.per_second = 3).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sim.get(PATH).await.status().as_u16());
    }
    assert_eq!(statuses[..3], [200, 200, 200]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let state = sim.handle.state();
    let requests = &state.subscriptions[SUB].requests;
    assert_eq!(requests.total, 6);
    assert_eq!(requests.status(200) + requests.status(429), 6);
}

#[tokio::test]
async fn the_429_has_the_error_body_and_no_retry_after_by_default() {
    let sim = start_with(|sub| sub.limits.per_second = 1).await;
    sim.get(PATH).await;
    let response = sim.get(PATH).await;
    assert!(response.headers().get(RETRY_AFTER).is_none());
    error_body(response, 429, "TOO_MANY_REQUESTS").await;
}

#[tokio::test]
async fn the_per_second_budget_reopens_after_a_second() {
    let sim = start_with(|sub| sub.limits.per_second = 1).await;
    assert_eq!(sim.get(PATH).await.status(), 200);
    assert_eq!(sim.get(PATH).await.status(), 429);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(sim.get(PATH).await.status(), 200);
}

#[tokio::test]
async fn the_per_day_limit_answers_429_after_its_budget() {
    let sim = start_with(|sub| {
        sub.limits.per_second = 0;
        sub.limits.per_day = 2;
    })
    .await;
    assert_eq!(sim.get(PATH).await.status(), 200);
    assert_eq!(sim.get(PATH).await.status(), 200);
    let error = error_body(sim.get(PATH).await, 429, "TOO_MANY_REQUESTS").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("Daily"))
    );
}

#[tokio::test]
async fn retry_after_is_sent_on_a_rate_limit_429_when_the_faults_ask_for_it() {
    let sim = start_with(|sub| sub.limits.per_second = 1).await;
    sim.set_faults(json!({"retryAfter": true})).await;
    sim.get(PATH).await;
    let response = sim.get(PATH).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()[RETRY_AFTER], "1");
}

#[tokio::test]
async fn token_requests_consume_the_same_budget() {
    let sim = start_with(|sub| sub.limits.per_second = 1).await;
    sim.token().await;
    assert_eq!(sim.get(PATH).await.status(), 429);
}
