//! The inspection interface: state shape, reset, health.

use serde_json::{Value, json};

use crate::common::{SUB, changes, entry, start};

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn the_state_has_the_contract_shape() {
    let sim = start().await;
    sim.create_segment("aud").await;
    let body = changes(
        vec![entry("aud", "2026-11-30T08:15:02.117Z", &["u-1"])],
        vec![],
    );
    sim.membership(&body).await;

    let state = sim.state_json().await;
    assert_eq!(keys(&state), ["subscriptions"]);
    let sub = &state["subscriptions"][SUB];
    assert_eq!(
        keys(sub),
        ["membershipChangesReceived", "requests", "segments"]
    );
    let segment = &sub["segments"]["aud"];
    assert_eq!(keys(segment), ["description", "id", "members", "name"]);
    assert_eq!(
        segment["members"],
        json!({"u-1": "2026-11-30T08:15:02.117Z"})
    );
    let requests = &sub["requests"];
    assert_eq!(keys(requests), ["byEndpoint", "byStatus", "total"]);
    assert_eq!(
        requests["byEndpoint"],
        json!({"update_membership": 1, "metadata": 1, "token": 0, "users": 0})
    );
    assert_eq!(requests["byStatus"], json!({"200": 2}));
    assert_eq!(requests["total"], 2);
    assert_eq!(sub["membershipChangesReceived"], 1);
}

#[tokio::test]
async fn the_handle_state_matches_the_http_state() {
    let sim = start().await;
    sim.create_segment("aud").await;
    let over_http: pxstream_px_sim::SimState =
        serde_json::from_value(sim.state_json().await).expect("typed state");
    assert_eq!(over_http, sim.handle.state());
}

#[tokio::test]
async fn reset_clears_segments_members_and_counters_but_keeps_credentials_and_tokens() {
    let sim = start().await;
    let token = sim.token().await;
    sim.create_segment("aud").await;
    sim.set_faults(json!({"featureOff": true})).await;
    let response = sim
        .http
        .post(sim.url("/__sim/reset"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);

    let state = sim.handle.state();
    let sub = &state.subscriptions[SUB];
    assert!(sub.segments.is_empty());
    assert_eq!(sub.requests.total, 0);
    assert_eq!(sub.membership_changes_received, 0);

    let access = token["access_token"].as_str().expect("access token");
    let response = sim
        .http
        .post(sim.url("/v1/external_segment/metadata?failIfExists=false"))
        .bearer_auth(access)
        .json(&json!({"externalId": "aud", "name": "A", "description": ""}))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response.status(),
        200,
        "token still valid and faults cleared"
    );
}

#[tokio::test]
async fn the_handle_reset_does_what_the_endpoint_does() {
    let sim = start().await;
    sim.create_segment("aud").await;
    sim.handle.reset();
    assert!(sim.handle.state().subscriptions[SUB].segments.is_empty());
}

#[tokio::test]
async fn health_answers_200() {
    let sim = start().await;
    let response = sim
        .http
        .get(sim.url("/__sim/health"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = start().await;
    let url = sim.url("/__sim/health");
    sim.handle.shutdown().await;
    let result = reqwest::Client::new().get(url).send().await;
    assert!(result.is_err());
}
