//! `update_membership`: validation, ordering, keep_newest, caps and counting.

use std::collections::BTreeMap;

use serde_json::json;

use crate::common::{SUB, changes, entry, error_body, start, start_with};

const T1: &str = "2026-11-30T08:15:02.117Z";
const T2: &str = "2026-11-30T08:16:40Z";
const T3: &str = "2026-11-30T09:00:00Z";

fn members(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(id, time)| ((*id).to_owned(), (*time).to_owned()))
        .collect()
}

#[tokio::test]
async fn an_accepted_call_answers_200_with_an_empty_body() {
    let sim = start().await;
    sim.create_segment("aud").await;
    let response = sim
        .membership(&changes(vec![entry("aud", T1, &["u-1", "u-2"])], vec![]))
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.expect("body").is_empty());
    assert_eq!(
        sim.handle.state().members(SUB, "aud"),
        members(&[("u-1", T1), ("u-2", T1)])
    );
}

#[tokio::test]
async fn changes_apply_in_the_order_received_whatever_their_times() {
    let sim = start().await;
    sim.create_segment("aud").await;
    // A newer removal, then a stale add: by default the stale add wins because it came last.
    sim.membership(&changes(vec![entry("aud", T2, &["u-1"])], vec![]))
        .await;
    sim.membership(&changes(vec![], vec![entry("aud", T3, &["u-1"])]))
        .await;
    assert!(sim.handle.state().members(SUB, "aud").is_empty());
    sim.membership(&changes(vec![entry("aud", T1, &["u-1"])], vec![]))
        .await;
    assert_eq!(
        sim.handle.state().members(SUB, "aud"),
        members(&[("u-1", T1)])
    );
}

#[tokio::test]
async fn within_one_call_the_add_list_applies_before_the_remove_list() {
    let sim = start().await;
    sim.create_segment("aud").await;
    let response = sim
        .membership(&changes(
            vec![entry("aud", T2, &["u-1", "u-2"])],
            vec![entry("aud", T1, &["u-1"])],
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        sim.handle.state().members(SUB, "aud"),
        members(&[("u-2", T2)])
    );
}

#[tokio::test]
async fn keep_newest_keeps_the_newest_change_per_identity() {
    let sim = start_with(|sub| sub.keep_newest = true).await;
    sim.create_segment("aud").await;
    sim.membership(&changes(vec![entry("aud", T1, &["u-1", "u-2"])], vec![]))
        .await;
    sim.membership(&changes(vec![], vec![entry("aud", T3, &["u-1"])]))
        .await;
    // Both stale: the add of u-1 is older than its removal, the add of u-2 older than its add.
    sim.membership(&changes(vec![entry("aud", T2, &["u-1"])], vec![]))
        .await;
    sim.membership(&changes(
        vec![],
        vec![entry("aud", "2026-11-30T08:00:00Z", &["u-2"])],
    ))
    .await;
    assert_eq!(
        sim.handle.state().members(SUB, "aud"),
        members(&[("u-2", T1)])
    );
    assert_eq!(
        sim.handle.state().subscriptions[SUB].membership_changes_received,
        5
    );
}

#[tokio::test]
async fn identities_are_case_sensitive() {
    let sim = start().await;
    sim.create_segment("aud").await;
    sim.membership(&changes(
        vec![entry("aud", T1, &["User-1", "user-1"])],
        vec![],
    ))
    .await;
    sim.membership(&changes(vec![], vec![entry("aud", T2, &["USER-1"])]))
        .await;
    assert_eq!(sim.handle.state().members(SUB, "aud").len(), 2);
}

#[tokio::test]
async fn a_missing_add_or_remove_list_answers_400() {
    let sim = start().await;
    sim.create_segment("aud").await;
    for body in [
        json!({"identityType": "IDENTIFY_ID", "add": []}),
        json!({"identityType": "IDENTIFY_ID", "remove": []}),
    ] {
        let error = error_body(sim.membership(&body).await, 400, "BAD_REQUEST").await;
        assert!(error["subErrors"].is_array());
    }
}

#[tokio::test]
async fn an_unknown_identity_type_answers_400() {
    let sim = start().await;
    let body = json!({"identityType": "EMAIL", "add": [], "remove": []});
    error_body(sim.membership(&body).await, 400, "BAD_REQUEST").await;
    let global = json!({"identityType": "GLOBAL_ID", "add": [], "remove": []});
    assert_eq!(sim.membership(&global).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_segment_or_a_bad_time_answers_400_and_changes_nothing() {
    let sim = start().await;
    sim.create_segment("aud").await;
    let unknown = changes(
        vec![
            entry("aud", T1, &["u-1"]),
            entry("no-such-segment", T1, &["u-2"]),
        ],
        vec![],
    );
    error_body(sim.membership(&unknown).await, 400, "BAD_REQUEST").await;
    let bad_time = changes(vec![entry("aud", "30/11/2026", &["u-1"])], vec![]);
    error_body(sim.membership(&bad_time).await, 400, "BAD_REQUEST").await;
    let state = sim.handle.state();
    assert!(state.members(SUB, "aud").is_empty());
    assert_eq!(state.subscriptions[SUB].membership_changes_received, 0);
}

#[tokio::test]
async fn malformed_json_answers_400_with_the_error_body() {
    let sim = start().await;
    let body = json!({"identityType": "IDENTIFY_ID", "add": [{"segmentId": 7}], "remove": []});
    error_body(sim.membership(&body).await, 400, "BAD_REQUEST").await;
}

#[tokio::test]
async fn more_identities_than_the_cap_answers_413() {
    let sim = start_with(|sub| sub.limits.max_identities_per_call = 3).await;
    sim.create_segment("aud").await;
    let at_cap = changes(
        vec![entry("aud", T1, &["a", "b"])],
        vec![entry("aud", T1, &["c"])],
    );
    assert_eq!(sim.membership(&at_cap).await.status(), 200);
    let over = changes(
        vec![entry("aud", T1, &["a", "b", "c"])],
        vec![entry("aud", T1, &["d"])],
    );
    error_body(sim.membership(&over).await, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn a_body_larger_than_the_cap_answers_413() {
    let sim = start_with(|sub| sub.limits.max_body_bytes = 200).await;
    sim.create_segment("aud").await;
    let many: Vec<String> = (0..50).map(|i| format!("user-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let body = changes(vec![entry("aud", T1, &many)], vec![]);
    error_body(sim.membership(&body).await, 413, "PAYLOAD_TOO_LARGE").await;
    assert!(sim.handle.state().members(SUB, "aud").is_empty());
}

#[tokio::test]
async fn membership_changes_received_counts_identity_segment_pairs() {
    let sim = start().await;
    sim.create_segment("a").await;
    sim.create_segment("b").await;
    let body = changes(
        vec![entry("a", T1, &["u-1", "u-2"]), entry("b", T1, &["u-1"])],
        vec![entry("a", T2, &["u-3"])],
    );
    assert_eq!(sim.membership(&body).await.status(), 200);
    let state = sim.handle.state();
    let sub = &state.subscriptions[SUB];
    assert_eq!(sub.membership_changes_received, 4);
    assert_eq!(sub.requests.endpoint("update_membership"), 1);
}
