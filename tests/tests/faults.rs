//! Crashes and PX faults mid-stream: the pipeline must still end in exactly the expected PX state.

use std::time::Duration;

use pxstream_e2e::{
    changes_topic_differences, fixture_expected, fixture_lines, service_logs, start_stack,
};
use pxstream_stack::config_file::DemoAuth;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_killed_mid_stream_under_px_faults_still_end_in_the_expected_state() {
    let mut stack = start_stack(
        env!("CARGO_TARGET_TMPDIR"),
        "killed_mid_stream",
        DemoAuth::ApiKey,
    )
    .await;
    // PX answers a third of the calls with 429 (with Retry-After) or 503 pages: delivery must retry them.
    stack
        .set_px_faults(json!({"rate429": 0.2, "rateHtml": 0.15, "htmlStatus": 503, "retryAfter": 1, "seed": 7}))
        .await
        .unwrap();
    let lines = fixture_lines();
    stack.produce_exports(&lines, |_| {}).await.unwrap();

    // Wait (bounded) until PX has seen the first membership calls, then crash ingest and delivery.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while stack.px_state().await.unwrap().membership_calls == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no membership call arrived\n{}",
            service_logs(&stack)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack.stop_service("delivery", true).await;
    stack.stop_service("ingest", true).await;
    stack.start_service("ingest").await.unwrap();
    stack.start_service("delivery").await.unwrap();

    // No replay: what the crashed processes had read but not settled must come back from Kafka.
    if let Err(error) = stack
        .wait_settled(Duration::from_secs(300), |_, _| {})
        .await
    {
        panic!("{error:#}\n{}", service_logs(&stack));
    }
    let state = stack.px_state().await.unwrap();
    let differences = state.differences(&fixture_expected());
    if !differences.is_empty() {
        let upstream = changes_topic_differences(&stack, &fixture_expected());
        panic!(
            "PX differs from the expected state: {differences:#?}\nthe changes topic alone differs by: {upstream:#?}\n{}",
            service_logs(&stack)
        );
    }
    let rejected = stack
        .metrics("delivery")
        .await
        .unwrap()
        .sum("pxstream_delivery_retries_total", &[]);
    assert!(rejected > 0.0, "the injected faults were met and retried");
    stack.stop().await;
}
