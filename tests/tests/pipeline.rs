//! The main job end to end: real broker, real processes, PX simulator's final state.

use pxstream_e2e::{
    fixture_expected, fixture_lines, run_through, service_logs, shuffled, start_stack,
};
use pxstream_stack::config_file::DemoAuth;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_ends_in_exactly_the_expected_px_state_and_a_replay_changes_nothing() {
    let mut stack = start_stack(
        env!("CARGO_TARGET_TMPDIR"),
        "fixture_and_replay",
        DemoAuth::ApiKey,
    )
    .await;
    let lines = fixture_lines();
    let expected = fixture_expected();

    run_through(&mut stack, &lines).await;
    let first = stack.px_state().await.unwrap();
    let differences = first.differences(&expected);
    assert!(
        differences.is_empty(),
        "{differences:#?}\n{}",
        service_logs(&stack)
    );
    assert!(
        !first
            .names
            .contains_key("a9964aef-15c1-4751-a9e8-68224735af1c"),
        "the custom-upload audience never reaches PX"
    );
    assert!(first.membership_calls > 0);

    run_through(&mut stack, &lines).await;
    let replayed = stack.px_state().await.unwrap();
    assert_eq!(
        replayed.members, first.members,
        "a replay leaves PX's members unchanged"
    );
    assert_eq!(replayed.names, first.names);
    assert_eq!(
        replayed.membership_calls, first.membership_calls,
        "a replay makes no membership call"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_shuffled_ends_in_the_same_state_with_oauth_credentials() {
    let mut stack = start_stack(
        env!("CARGO_TARGET_TMPDIR"),
        "shuffled_oauth",
        DemoAuth::OauthPassword,
    )
    .await;
    let lines = shuffled(&fixture_lines(), 0x5eed);
    run_through(&mut stack, &lines).await;
    let state = stack.px_state().await.unwrap();
    let differences = state.differences(&fixture_expected());
    assert!(
        differences.is_empty(),
        "{differences:#?}\n{}",
        service_logs(&stack)
    );
    assert!(
        state.token_calls >= 1,
        "delivery authenticated with the password grant"
    );
    assert!(
        state.token_calls <= 3,
        "the token is cached, not fetched per call ({} token calls)",
        state.token_calls
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_records_are_dead_lettered_and_the_rest_still_arrives() {
    let mut stack = start_stack(
        env!("CARGO_TARGET_TMPDIR"),
        "dead_letters",
        DemoAuth::ApiKey,
    )
    .await;
    let mut lines = fixture_lines();
    let bad = [
        "not json at all".to_owned(),
        "[1, 2, 3]".to_owned(),
        r#"{"identityMap":{"crmId":[{"id":"CRM-999999"}]},"segmentMembership":{"ups":{"segmentid-feature-x":{"status":"maybe","lastQualificationTime":"2026-11-30T08:00:00Z"}}}}"#.to_owned(),
        r#"{"identityMap":{"crmId":[{"id":"CRM-999998"}]},"segmentMembership":{"ups":{"segmentid-feature-x":{"status":"realized","lastQualificationTime":"30/11/2026"}}}}"#.to_owned(),
    ];
    for (i, line) in bad.iter().enumerate() {
        lines.insert(i * 500, line.clone());
    }
    run_through(&mut stack, &lines).await;
    assert_eq!(
        stack.dead_letter_count().unwrap(),
        bad.len() as i64,
        "every bad record is on the dead-letter topic"
    );
    let state = stack.px_state().await.unwrap();
    let differences = state.differences(&fixture_expected());
    assert!(
        differences.is_empty(),
        "{differences:#?}\n{}",
        service_logs(&stack)
    );
    stack.stop().await;
}
