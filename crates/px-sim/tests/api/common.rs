//! Shared helpers: a simulator per test and a few typed calls.

use pxstream_px_sim::{API_KEY_HEADER, SimConfig, SimHandle, SubscriptionConfig, spawn};
use reqwest::{Client, Response};
use serde_json::{Value, json};

pub const WRITE_KEY: &str = "demo-write-key";
pub const READ_KEY: &str = "demo-read-key";
pub const SUB: &str = "sub-demo";
pub const CLIENT_SECRET: &str = "demo-client-secret";
pub const USERNAME: &str = "ops@example.com";
pub const PASSWORD: &str = "demo-password";

pub struct Sim {
    pub handle: SimHandle,
    pub http: Client,
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    /// `POST` JSON with the demo write key.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .header(API_KEY_HEADER, WRITE_KEY)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `PUT` JSON with the demo write key.
    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.http
            .put(self.url(path))
            .header(API_KEY_HEADER, WRITE_KEY)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `GET` with the demo write key.
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header(API_KEY_HEADER, WRITE_KEY)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn create_segment(&self, external_id: &str) -> Value {
        let response = self
            .post(
                "/v1/external_segment/metadata?failIfExists=false",
                &json!({"externalId": external_id, "name": external_id, "description": "test"}),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("segment json")
    }

    pub async fn membership(&self, body: &Value) -> Response {
        self.post("/v1/external_segment/update_membership", body)
            .await
    }

    /// Password grant with client credentials in HTTP Basic.
    pub async fn token(&self) -> Value {
        let response = self
            .http
            .post(self.handle.token_url())
            .basic_auth(SUB, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", USERNAME),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("token request sent");
        assert_eq!(response.status(), 200);
        response.json().await.expect("token json")
    }

    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .post(self.url("/__sim/faults"))
            .json(&faults)
            .send()
            .await
            .expect("faults request sent");
        assert_eq!(response.status(), 200, "faults accepted");
    }

    pub async fn state_json(&self) -> Value {
        self.http
            .get(self.url("/__sim/state"))
            .send()
            .await
            .expect("state request sent")
            .json()
            .await
            .expect("state json")
    }
}

pub async fn start() -> Sim {
    start_with(|_| {}).await
}

/// Starts a simulator with the demo configuration as changed by `tweak` on `sub-demo`.
pub async fn start_with(tweak: impl FnOnce(&mut SubscriptionConfig)) -> Sim {
    let mut config = SimConfig::demo();
    tweak(config.subscription_mut(SUB).expect("demo subscription"));
    start_config(config).await
}

pub async fn start_config(config: SimConfig) -> Sim {
    let handle = spawn(config).await.expect("simulator starts");
    Sim {
        handle,
        http: Client::new(),
    }
}

pub fn entry(segment: &str, time: &str, identities: &[&str]) -> Value {
    json!({"segmentId": segment, "lastQualificationTime": time, "identities": identities})
}

pub fn changes(add: Vec<Value>, remove: Vec<Value>) -> Value {
    json!({"identityType": "IDENTIFY_ID", "add": add, "remove": remove})
}

/// Asserts PX's error body and answers its `externalapierror` object.
pub async fn error_body(response: Response, status: u16, name: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error json");
    let error = body["externalapierror"].clone();
    assert_eq!(error["status"], name, "status name in {body}");
    assert!(error["message"].is_string(), "message in {body}");
    assert!(
        error.get("debugMessage").is_some(),
        "debugMessage in {body}"
    );
    assert!(error.get("subErrors").is_some(), "subErrors in {body}");
    error
}
