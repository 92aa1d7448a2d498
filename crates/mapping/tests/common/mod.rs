//! An in-process mapping service on loopback, backed by a SQLite file in a temporary directory, and
//! builders for requests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use pxstream_core::config::Config;
use pxstream_mapping::{SqliteStore, Store};
use pxstream_proto::v1 as pb;
use pxstream_proto::v1::identity_mapping_client::IdentityMappingClient;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// Destination mapped from the `crmId` namespace.
pub const PX: &str = "px-main";
/// Destination mapped from the `_tenant.pxUserId` attribute.
pub const PX_ATTR: &str = "px-attr";
/// The lease used unless a test needs it to run out.
pub const LONG_LEASE_MS: u64 = 600_000;

pub fn config(db: &Path, lease_ms: u64) -> Config {
    Config::from_toml_str(&format!(
        r#"
        [kafka]
        bootstrap_servers = "127.0.0.1:9092"

        [mapping]
        store = "sqlite://{db}"
        release_lease_ms = {lease_ms}

        [[destinations]]
        name = "{PX}"
        auth = {{ mode = "api_key", api_key = "test-key" }}

        [[destinations]]
        name = "{PX_ATTR}"
        auth = {{ mode = "api_key", api_key = "test-key" }}

        [[activations]]
        destination = "{PX}"
        mapping = {{ source = {{ namespace = "crmId" }} }}
        audiences = [{{ id = "aud-trial", name = "Trial users" }}]

        [[activations]]
        destination = "{PX_ATTR}"
        mapping = {{ source = {{ attribute = "_tenant.pxUserId" }} }}
        audiences = [{{ id = "aud-trial", name = "Trial users" }}]
        "#,
        db = db.display()
    ))
    .expect("test configuration is valid")
}

/// A running service and a client connected to it.
pub struct Running {
    pub addr: SocketAddr,
    pub client: IdentityMappingClient<Channel>,
    pub db: PathBuf,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

pub async fn start(dir: &Path, lease_ms: u64) -> Running {
    let db = dir.join("mapping.db");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(pxstream_mapping::serve(
        config(&db, lease_ms),
        listener,
        shutdown.clone(),
    ));
    let client = IdentityMappingClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    Running {
        addr,
        client,
        db,
        shutdown,
        task,
    }
}

impl Running {
    /// Stops the service and waits until it has closed its store.
    pub async fn stop(self) {
        drop(self.client);
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }

    pub async fn resolve(&mut self, profiles: Vec<pb::Profile>) -> pb::ResolveBatchResponse {
        self.client
            .resolve_batch(pb::ResolveBatchRequest { profiles })
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn ack(&mut self, release_ids: Vec<i64>) -> u32 {
        self.client
            .ack_released(pb::AckReleasedRequest { release_ids })
            .await
            .unwrap()
            .into_inner()
            .acknowledged
    }
}

/// Changes held in the store file, released-but-unacknowledged ones included.
pub async fn held_in_store(db: &Path) -> u64 {
    let store = SqliteStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let count = store.held_count().await.unwrap();
    store.close().await;
    count
}

pub fn identity(namespace: &str, id: &str) -> pb::Identity {
    pb::Identity {
        namespace: namespace.into(),
        id: id.into(),
    }
}

pub fn realized(destination: &str, audience: &str, time_us: i64) -> pb::AudienceChange {
    pb::AudienceChange {
        destination: destination.into(),
        audience_id: audience.into(),
        status: pb::MembershipStatus::Realized as i32,
        last_qualification_time_us: time_us,
        audience_name: String::new(),
    }
}

pub fn profile(identities: &[(&str, &str)], changes: Vec<pb::AudienceChange>) -> pb::Profile {
    pb::Profile {
        identities: identities
            .iter()
            .map(|(namespace, id)| identity(namespace, id))
            .collect(),
        changes,
    }
}

/// The identify ids of resolved or released entries, in order.
pub fn ids(changes: &[pb::MembershipChange]) -> Vec<&str> {
    changes.iter().map(|c| c.identify_id.as_str()).collect()
}
