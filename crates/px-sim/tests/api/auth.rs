//! API keys, the OAuth password grant, bearer tokens, expiry and refresh.

use std::time::Duration;

use pxstream_px_sim::{API_KEY_HEADER, FaultSpec, LOGIN_AWARE_MESSAGE};
use serde_json::{Value, json};

use crate::common::{
    CLIENT_SECRET, PASSWORD, READ_KEY, SUB, USERNAME, error_body, start, start_with,
};

#[tokio::test]
async fn a_missing_api_key_answers_401_with_the_login_aware_message() {
    let sim = start().await;
    let response = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .send()
        .await
        .expect("sent");
    let error = error_body(response, 401, "UNAUTHORIZED").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains(LOGIN_AWARE_MESSAGE))
    );
}

#[tokio::test]
async fn a_wrong_api_key_answers_401_and_is_counted_nowhere() {
    let sim = start().await;
    let response = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .header(API_KEY_HEADER, "not-a-key")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
    let text = response.text().await.expect("body");
    assert!(text.contains(LOGIN_AWARE_MESSAGE));
    assert!(!text.contains("not-a-key"), "credentials are never echoed");
    assert_eq!(
        sim.handle
            .state()
            .subscription(SUB)
            .map(|s| s.requests.total),
        Some(0)
    );
}

#[tokio::test]
async fn a_read_only_key_may_read_but_a_write_answers_403() {
    let sim = start().await;
    let read = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .header(API_KEY_HEADER, READ_KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(read.status(), 200);
    let write = sim
        .http
        .post(sim.url("/v1/external_segment/metadata?failIfExists=false"))
        .header(API_KEY_HEADER, READ_KEY)
        .json(&json!({"externalId": "a", "name": "A", "description": ""}))
        .send()
        .await
        .expect("sent");
    error_body(write, 403, "FORBIDDEN").await;
    assert!(sim.handle.state().subscriptions[SUB].segments.is_empty());
}

#[tokio::test]
async fn the_password_grant_issues_a_bearer_token_that_authorizes_calls() {
    let sim = start().await;
    let token = sim.token().await;
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert!(token["refresh_token"].is_string());
    let access = token["access_token"].as_str().expect("access token");
    let response = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .bearer_auth(access)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["id"], SUB);
    let requests = &sim.handle.state().subscriptions[SUB].requests;
    assert_eq!(requests.endpoint("token"), 1);
    assert_eq!(requests.endpoint("admin"), 1);
}

#[tokio::test]
async fn client_credentials_in_the_form_body_are_accepted() {
    let sim = start().await;
    let response = sim
        .http
        .post(sim.handle.token_url())
        .form(&[
            ("grant_type", "password"),
            ("username", USERNAME),
            ("password", PASSWORD),
            ("client_id", SUB),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_wrong_client_secret_answers_401_invalid_client() {
    let sim = start().await;
    let response = sim
        .http
        .post(sim.handle.token_url())
        .basic_auth(SUB, Some("wrong"))
        .form(&[
            ("grant_type", "password"),
            ("username", USERNAME),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn a_wrong_password_answers_400_invalid_grant() {
    let sim = start().await;
    let response = sim
        .http
        .post(sim.handle.token_url())
        .basic_auth(SUB, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", USERNAME),
            ("password", "nope"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn an_expired_token_answers_401_and_the_refresh_grant_issues_a_new_one() {
    let sim = start_with(|sub| sub.token_lifetime_secs = 1).await;
    let token = sim.token().await;
    let access = token["access_token"].as_str().expect("access token");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .bearer_auth(access)
        .send()
        .await
        .expect("sent");
    let error = error_body(expired, 401, "UNAUTHORIZED").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains(LOGIN_AWARE_MESSAGE))
    );

    let refresh = token["refresh_token"].as_str().expect("refresh token");
    let refreshed: Value = sim
        .http
        .post(sim.handle.token_url())
        .basic_auth(SUB, Some(CLIENT_SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let fresh = refreshed["access_token"]
        .as_str()
        .expect("new access token");
    let response = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .bearer_auth(fresh)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    // The expired call was still attributed to the subscription by its token.
    assert_eq!(
        sim.handle.state().subscriptions[SUB].requests.status(401),
        1
    );
}

#[tokio::test]
async fn a_refresh_token_works_only_once() {
    let sim = start().await;
    let token = sim.token().await;
    let refresh = token["refresh_token"].as_str().expect("refresh token");
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let response = sim
            .http
            .post(sim.handle.token_url())
            .basic_auth(SUB, Some(CLIENT_SECRET))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
            .send()
            .await
            .expect("sent");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 400]);
}

#[tokio::test]
async fn the_token_expiry_fault_expires_issued_tokens_at_once() {
    let sim = start().await;
    let token = sim.token().await;
    let access = token["access_token"].as_str().expect("access token");
    sim.handle
        .set_faults(FaultSpec {
            token_expiry: true,
            ..FaultSpec::default()
        })
        .expect("faults set");
    let response = sim
        .http
        .get(sim.url("/v1/admin/subscription"))
        .bearer_auth(access)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
}
