//! A simulator per test, and builders for destinations, clients and changes.

use std::time::Duration;

use pxstream_core::config::{AudienceConfig, AuthConfig, DestinationConfig, IdentityType, Region};
use pxstream_core::{
    AudienceId, AudienceState, DestinationName, IdentifyId, MembershipChange, MembershipStatus,
    QualificationTime, Secret,
};
use pxstream_delivery::{ClientSettings, Delivery, Envelope, PxClient, RetryPolicy, StateStore};
use pxstream_px_sim::{FaultSpec, RequestStats, SimConfig, SimHandle, SubscriptionConfig};
use tokio_util::sync::CancellationToken;

pub const SUB: &str = "sub-demo";
pub const WRITE_KEY: &str = "demo-write-key";
pub const DEST: &str = "px";

pub async fn sim() -> SimHandle {
    sim_with(|_| {}).await
}

pub async fn sim_with(tweak: impl FnOnce(&mut SubscriptionConfig)) -> SimHandle {
    let mut config = SimConfig::demo();
    tweak(config.subscription_mut(SUB).expect("demo subscription"));
    pxstream_px_sim::spawn(config)
        .await
        .expect("simulator starts")
}

pub fn requests(sim: &SimHandle) -> RequestStats {
    sim.state()
        .subscription(SUB)
        .expect("demo subscription")
        .requests
        .clone()
}

pub fn api_key_destination(sim: &SimHandle, key: &str) -> DestinationConfig {
    destination(
        sim,
        AuthConfig::ApiKey {
            api_key: Secret::new(key),
        },
    )
}

pub fn oauth_destination(sim: &SimHandle, password: &str) -> DestinationConfig {
    destination(
        sim,
        AuthConfig::OauthPassword {
            token_url: sim.token_url().parse().unwrap(),
            username: "ops@example.com".into(),
            password: Secret::new(password),
            client_id: SUB.into(),
            client_secret: Secret::new("demo-client-secret"),
        },
    )
}

fn destination(sim: &SimHandle, auth: AuthConfig) -> DestinationConfig {
    DestinationConfig {
        name: DestinationName::new(DEST).unwrap(),
        description: String::new(),
        region: Region::Us,
        base_url: Some(sim.base_url().parse().unwrap()),
        identity_type: IdentityType::IdentifyId,
        auth,
    }
}

pub fn settings() -> ClientSettings {
    ClientSettings {
        request_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(3),
        },
    }
}

pub fn client(destination: &DestinationConfig) -> PxClient {
    client_with(destination, &settings(), CancellationToken::new())
}

pub fn client_with(
    destination: &DestinationConfig,
    settings: &ClientSettings,
    stop: CancellationToken,
) -> PxClient {
    PxClient::new(destination, settings, stop).expect("client builds")
}

pub fn audience(id: &str, name: &str) -> AudienceConfig {
    AudienceConfig {
        id: AudienceId::new(id).unwrap(),
        name: name.into(),
        description: format!("{name}, from AEP"),
    }
}

pub async fn memory_store() -> StateStore {
    StateStore::open("sqlite::memory:")
        .await
        .expect("store opens")
}

/// A delivery to the simulator's demo subscription with the write key.
pub fn delivery(
    sim: &SimHandle,
    store: StateStore,
    audiences: Vec<AudienceConfig>,
    max: usize,
) -> Delivery {
    let client = client(&api_key_destination(sim, WRITE_KEY));
    Delivery::from_clients(vec![(client, audiences)], store, max)
}

/// 2026-11-30T08:15:02Z plus `seconds`.
pub fn at(seconds: i64) -> QualificationTime {
    QualificationTime::from_micros((1_796_026_502 + seconds) * 1_000_000)
}

pub fn envelope(
    record: usize,
    user: &str,
    audience: &str,
    status: MembershipStatus,
    seconds: i64,
) -> Envelope {
    Envelope {
        record,
        change: MembershipChange {
            identify_id: IdentifyId::new(user).unwrap(),
            state: AudienceState {
                destination: DestinationName::new(DEST).unwrap(),
                audience: AudienceId::new(audience).unwrap(),
                status,
                time: at(seconds),
                inline_name: None,
            },
        },
    }
}

pub fn faults(spec: serde_json::Value) -> FaultSpec {
    serde_json::from_value(spec).expect("valid fault spec")
}

/// Waits (at most 10 s) until `ready` holds for the demo subscription's request counts.
pub async fn until(sim: &SimHandle, ready: impl Fn(&RequestStats) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !ready(&requests(sim)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached: {:?}",
            requests(sim)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
