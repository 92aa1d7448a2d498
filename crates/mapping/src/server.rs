//! Running the service: open the store, reconcile held changes with the rules, serve `IdentityMapping`
//! and `grpc.health.v1` on one listener until shutdown.

use std::time::Duration;

use anyhow::Context;
use pxstream_core::admin::Readiness;
use pxstream_core::config::{Config, MappingConfig};
use pxstream_proto::v1::identity_mapping_server::IdentityMappingServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::metrics;
use crate::resolver::Resolver;
use crate::rules::MappingRules;
use crate::service::MappingService;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};
use crate::{MAX_RELEASED_PER_RESPONSE, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES};

/// Serves until `shutdown` fires, then drains in-flight calls and closes the store.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_with_readiness(config, listener, Readiness::default(), shutdown).await
}

/// As [`serve`], reporting readiness: true once serving, false as soon as shutdown starts.
pub async fn serve_with_readiness(
    config: Config,
    listener: TcpListener,
    readiness: Readiness,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    MappingServer::open(&config)
        .await?
        .run(listener, readiness, shutdown)
        .await
}

/// A service whose store is open and reconciled, ready to serve.
#[derive(Debug)]
pub struct MappingServer<S> {
    store: S,
    rules: MappingRules,
    mapping: MappingConfig,
}

impl MappingServer<SqliteStore> {
    /// Opens the store named by `config.mapping.store`. Only `sqlite:` URLs are served so far.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let rules = MappingRules::from_activations(&config.activations)?;
        let url = &config.mapping.store;
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(scheme_of(url)).into());
        }
        let store = SqliteStore::open(url)
            .await
            .with_context(|| format!("opening the mapping store {url}"))?;
        MappingServer::with_store(store, rules, config.mapping.clone()).await
    }
}

impl<S: Store> MappingServer<S> {
    /// Brings held changes in line with `rules` and marks those that resolve for release.
    pub async fn with_store(
        store: S,
        rules: MappingRules,
        mapping: MappingConfig,
    ) -> anyhow::Result<Self> {
        metrics::describe();
        let pairs: Vec<_> = rules
            .iter()
            .map(|(d, ns)| (d.clone(), ns.clone()))
            .collect();
        let releasable = store.apply_rules(&pairs).await?;
        let held = store.held_count().await?;
        metrics::set_held(held, store.leased_count().await?);
        tracing::info!(rules = rules.len(), held, releasable, "mapping store ready");
        Ok(Self {
            store,
            rules,
            mapping,
        })
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn run(
        self,
        listener: TcpListener,
        readiness: Readiness,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let resolver = Resolver::new(
            self.store.clone(),
            Duration::from_millis(self.mapping.release_lease_ms),
            MAX_RELEASED_PER_RESPONSE,
        );
        let mapping = IdentityMappingServer::new(MappingService::new(resolver, self.rules))
            .max_decoding_message_size(MAX_REQUEST_BYTES)
            .max_encoding_message_size(MAX_RESPONSE_BYTES);
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<IdentityMappingServer<MappingService<S>>>()
            .await;

        let draining = {
            let readiness = readiness.clone();
            let shutdown = shutdown.clone();
            async move {
                shutdown.cancelled().await;
                // Stop attracting work before draining what is in flight.
                readiness.set(false);
                health
                    .set_not_serving::<IdentityMappingServer<MappingService<S>>>()
                    .await;
                health
                    .set_service_status("", ServingStatus::NotServing)
                    .await;
                tracing::info!("draining in-flight calls");
            }
        };
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        readiness.set(true);
        let served = tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(mapping)
            .serve_with_incoming_shutdown(incoming, draining)
            .await;
        readiness.set(false);
        self.store.close().await;
        served.context("serving gRPC")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The scheme alone: a database URL may carry a password.
fn scheme_of(url: &str) -> String {
    url.split_once(':')
        .map_or("(none)", |(scheme, _)| scheme)
        .to_owned()
}
