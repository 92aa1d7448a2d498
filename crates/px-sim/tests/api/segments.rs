//! External segment metadata: create, idempotent create, rename, feature gating.

use pxstream_px_sim::{API_KEY_HEADER, SimConfig, SubscriptionConfig};
use serde_json::{Value, json};

use crate::common::{SUB, WRITE_KEY, error_body, start, start_config, start_with};

const METADATA: &str = "/v1/external_segment/metadata";

#[tokio::test]
async fn creating_a_segment_answers_the_stored_object_with_a_px_id() {
    let sim = start().await;
    let response = sim
        .post(
            "/v1/external_segment/metadata?failIfExists=false",
            &json!({"externalId": "aud-1", "name": "Audience 1", "description": "from AEP"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["externalId"], "aud-1");
    assert_eq!(body["name"], "Audience 1");
    assert_eq!(body["description"], "from AEP");
    let id = body["id"].as_str().expect("px id");
    assert!(!id.is_empty());
    assert_eq!(
        sim.handle.state().subscriptions[SUB].segments["aud-1"].id,
        id
    );
}

#[tokio::test]
async fn creating_an_existing_segment_with_fail_if_exists_false_is_idempotent() {
    let sim = start().await;
    let first = sim.create_segment("aud-1").await;
    let again = sim
        .post(
            "/v1/external_segment/metadata?failIfExists=false",
            &json!({"externalId": "aud-1", "name": "Other name", "description": "x"}),
        )
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first, "the stored object, unchanged");
    assert_eq!(sim.handle.state().subscriptions[SUB].segments.len(), 1);
}

#[tokio::test]
async fn creating_an_existing_segment_with_fail_if_exists_true_or_absent_answers_400_possible_duplicate()
 {
    let sim = start().await;
    sim.create_segment("aud-1").await;
    for path in ["/v1/external_segment/metadata?failIfExists=true", METADATA] {
        let response = sim
            .post(
                path,
                &json!({"externalId": "aud-1", "name": "A", "description": ""}),
            )
            .await;
        let error = error_body(response, 400, "BAD_REQUEST").await;
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("possible duplicate"))
        );
    }
}

#[tokio::test]
async fn a_segment_without_external_id_or_name_answers_400_with_sub_errors() {
    let sim = start().await;
    let response = sim.post(METADATA, &json!({"description": "no ids"})).await;
    let error = error_body(response, 400, "BAD_REQUEST").await;
    assert_eq!(error["subErrors"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_body_without_a_json_content_type_answers_415() {
    let sim = start().await;
    let response = sim
        .http
        .post(sim.url(METADATA))
        .header(API_KEY_HEADER, WRITE_KEY)
        .body(r#"{"externalId":"a","name":"A"}"#)
        .send()
        .await
        .expect("sent");
    error_body(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn renaming_through_put_changes_name_and_description_and_keeps_the_id() {
    let sim = start().await;
    let created = sim.create_segment("aud-1").await;
    let response = sim
        .put(
            METADATA,
            &json!({"externalId": "aud-1", "name": "Renamed", "description": "new"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["name"], "Renamed");
    assert_eq!(body["description"], "new");
    assert_eq!(body["id"], created["id"]);
    let state = sim.handle.state();
    assert_eq!(state.subscriptions[SUB].segments["aud-1"].name, "Renamed");
}

#[tokio::test]
async fn renaming_an_unknown_segment_answers_404_with_the_error_body() {
    let sim = start().await;
    let response = sim
        .put(
            METADATA,
            &json!({"externalId": "nope", "name": "X", "description": ""}),
        )
        .await;
    let error = error_body(response, 404, "NOT_FOUND").await;
    assert_eq!(error["debugMessage"], Value::Null);
    assert_eq!(error["subErrors"], Value::Null);
}

#[tokio::test]
async fn a_subscription_without_the_feature_answers_403_on_external_segment_endpoints() {
    let sim = start_with(|sub| sub.feature_enabled = false).await;
    let response = sim
        .post(
            METADATA,
            &json!({"externalId": "a", "name": "A", "description": ""}),
        )
        .await;
    let error = error_body(response, 403, "FORBIDDEN").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("External segments"))
    );
    let membership = sim
        .membership(&json!({"identityType": "IDENTIFY_ID", "add": [], "remove": []}))
        .await;
    assert_eq!(membership.status(), 403);
    // The users fallback does not need the feature.
    assert_eq!(
        sim.get("/v1/admin/model/user/attributes").await.status(),
        200
    );
}

#[tokio::test]
async fn the_feature_off_fault_turns_external_segments_off_at_run_time() {
    let sim = start().await;
    sim.create_segment("aud-1").await;
    sim.set_faults(json!({"featureOff": true})).await;
    let response = sim
        .post(
            METADATA,
            &json!({"externalId": "aud-2", "name": "A", "description": ""}),
        )
        .await;
    assert_eq!(response.status(), 403);
    sim.set_faults(json!({})).await;
    sim.create_segment("aud-2").await;
}

#[tokio::test]
async fn segments_of_two_subscriptions_are_kept_apart() {
    let mut other = SubscriptionConfig::new("sub-other");
    other.api_keys = vec![pxstream_px_sim::ApiKeyConfig {
        key: "other-key".into(),
        permission: pxstream_px_sim::Permission::Write,
    }];
    let mut config = SimConfig::demo();
    config.subscriptions.push(other);
    let sim = start_config(config).await;
    sim.create_segment("aud-1").await;
    let response = sim
        .http
        .post(sim.url("/v1/external_segment/metadata?failIfExists=false"))
        .header(API_KEY_HEADER, "other-key")
        .json(&json!({"externalId": "aud-2", "name": "B", "description": ""}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let state = sim.handle.state();
    assert_eq!(
        state.subscriptions[SUB].segments.keys().collect::<Vec<_>>(),
        ["aud-1"]
    );
    assert_eq!(
        state.subscriptions["sub-other"]
            .segments
            .keys()
            .collect::<Vec<_>>(),
        ["aud-2"]
    );
    assert_eq!(
        state.subscriptions["sub-other"]
            .requests
            .endpoint("metadata"),
        1
    );
}
