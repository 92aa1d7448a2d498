//! The users fallback path and admin look-ups.

use serde_json::{Value, json};

use crate::common::{SUB, error_body, start};

const ATTRIBUTE: &str = "pxstreamDemoAudience";

async fn create_user(sim: &crate::common::Sim, id: &str) {
    let response = sim
        .post(
            "/v1/users",
            &json!({"identifyId": id, "email": "someone@example.com"}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn a_created_user_reads_back_and_a_second_create_is_a_possible_duplicate() {
    let sim = start().await;
    create_user(&sim, "u-1").await;
    let read = sim.get("/v1/users/u-1").await;
    assert_eq!(read.status(), 200);
    let user: Value = read.json().await.expect("json");
    assert_eq!(user["identifyId"], "u-1");
    assert!(user["createDate"].is_i64(), "dates are epoch milliseconds");
    let again = sim.post("/v1/users", &json!({"identifyId": "u-1"})).await;
    let error = error_body(again, 400, "BAD_REQUEST").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("possible duplicate"))
    );
}

#[tokio::test]
async fn an_unknown_user_answers_404_with_the_contract_message() {
    let sim = start().await;
    let error = error_body(sim.get("/v1/users/u-404").await, 404, "NOT_FOUND").await;
    assert_eq!(
        error["message"],
        "User was not found for parameters {id=u-404}"
    );
}

#[tokio::test]
async fn user_ids_are_case_sensitive() {
    let sim = start().await;
    create_user(&sim, "User-1").await;
    assert_eq!(sim.get("/v1/users/user-1").await.status(), 404);
}

#[tokio::test]
async fn put_merges_custom_attributes_and_answers_204() {
    let sim = start().await;
    create_user(&sim, "u-1").await;
    let patch = json!({"propertyKeys": ["AP-XXXXXXXXXX-2"], "customAttributes": {ATTRIBUTE: true}});
    let response = sim.put("/v1/users/u-1", &patch).await;
    assert_eq!(response.status(), 204);
    let user: Value = sim.get("/v1/users/u-1").await.json().await.expect("json");
    assert_eq!(user["customAttributes"][ATTRIBUTE], true);
    assert_eq!(
        user["email"], "someone@example.com",
        "untouched fields stay"
    );
}

#[tokio::test]
async fn put_update_takes_the_identify_id_from_the_body() {
    let sim = start().await;
    let id = "odd/id ?#";
    create_user(&sim, id).await;
    let patch = json!({
        "identifyId": id,
        "propertyKeys": ["AP-XXXXXXXXXX-2"],
        "customAttributes": {ATTRIBUTE: false},
    });
    assert_eq!(sim.put("/v1/users/update", &patch).await.status(), 204);
    let user: Value = sim
        .get("/v1/users/odd%2Fid%20%3F%23")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(user["customAttributes"][ATTRIBUTE], false);
}

#[tokio::test]
async fn put_on_a_missing_user_answers_404() {
    let sim = start().await;
    let patch = json!({"propertyKeys": ["AP-XXXXXXXXXX-2"], "customAttributes": {ATTRIBUTE: true}});
    error_body(sim.put("/v1/users/ghost", &patch).await, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn undeclared_or_mistyped_custom_attributes_and_missing_property_keys_answer_400() {
    let sim = start().await;
    create_user(&sim, "u-1").await;
    for patch in [
        json!({"propertyKeys": ["AP-1"], "customAttributes": {"undeclared": true}}),
        json!({"propertyKeys": ["AP-1"], "customAttributes": {ATTRIBUTE: "yes"}}),
        json!({"customAttributes": {ATTRIBUTE: true}}),
    ] {
        error_body(sim.put("/v1/users/u-1", &patch).await, 400, "BAD_REQUEST").await;
    }
}

#[tokio::test]
async fn the_attribute_list_includes_the_declared_boolean_attribute() {
    let sim = start().await;
    let response = sim.get("/v1/admin/model/user/attributes").await;
    assert_eq!(response.status(), 200);
    let attributes: Vec<Value> = response.json().await.expect("json");
    assert!(
        attributes
            .iter()
            .any(|a| a["apiName"] == ATTRIBUTE && a["type"] == "BOOLEAN")
    );
    assert!(attributes.iter().any(|a| a["apiName"] == "identifyId"));
}

#[tokio::test]
async fn the_subscription_endpoint_answers_the_subscription_id() {
    let sim = start().await;
    let body: Value = sim
        .get("/v1/admin/subscription")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["id"], SUB);
}

#[tokio::test]
async fn an_unknown_path_answers_404_with_the_error_body() {
    let sim = start().await;
    error_body(sim.get("/v1/nothing/here").await, 404, "NOT_FOUND").await;
    let requests = &sim.handle.state().subscriptions[SUB].requests;
    assert_eq!(requests.endpoint("other"), 1);
}
