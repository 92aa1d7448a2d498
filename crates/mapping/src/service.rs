//! The gRPC face of the resolver.
//!
//! Errors map to gRPC codes by what the caller must do:
//!
//! | code | when | caller |
//! | --- | --- | --- |
//! | `INVALID_ARGUMENT` | an identity with an empty namespace or id, a change with an unknown destination, an empty audience id or an unspecified status, changes on a profile without identities | dead-letter: the same input always fails. The message starts with `profiles[i]`, and the `pxstream-invalid-profile` metadata holds `i`, so the caller can set aside that record and resend the rest |
//! | `UNAVAILABLE` | the store failed (locked, disk, I/O) | retry the same batch: nothing of a failed call was committed |
//!
//! Nothing else is returned on purpose; transport errors reach the caller as tonic produces them.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pxstream_proto::v1 as pb;
use pxstream_proto::v1::identity_mapping_server::IdentityMapping;
use tonic::{Request, Response, Status};

use crate::metrics;
use crate::request::{self, InvalidRequest};
use crate::resolver::{Resolution, Resolver};
use crate::rules::MappingRules;
use crate::store::{Store, StoreError};

/// Metadata key naming the index of the invalid profile on an `INVALID_ARGUMENT` answer.
pub const INVALID_PROFILE_METADATA: &str = "pxstream-invalid-profile";

/// The `IdentityMapping` service.
#[derive(Debug, Clone)]
pub struct MappingService<S> {
    resolver: Resolver<S>,
    rules: Arc<MappingRules>,
}

impl<S: Store> MappingService<S> {
    pub fn new(resolver: Resolver<S>, rules: MappingRules) -> Self {
        Self {
            resolver,
            rules: Arc::new(rules),
        }
    }

    async fn resolve(
        &self,
        request: pb::ResolveBatchRequest,
    ) -> Result<pb::ResolveBatchResponse, Status> {
        let profiles = request::parse_batch(request, &self.rules).map_err(invalid_argument)?;
        let resolution = self
            .resolver
            .resolve(&profiles, now_ms())
            .await
            .map_err(unavailable)?;
        metrics::record_resolution(&resolution);
        tracing::debug!(
            profiles = profiles.len(),
            released = resolution.released.len(),
            held = resolution.newly_held,
            merges = resolution.merges,
            caught_up = resolution.caught_up,
            "resolved a batch"
        );
        Ok(to_response(resolution))
    }

    async fn acknowledge(
        &self,
        request: pb::AckReleasedRequest,
    ) -> Result<pb::AckReleasedResponse, Status> {
        let mut ids = request.release_ids;
        // Ids repeat when a released change fanned out; one delete each is enough.
        ids.sort_unstable();
        ids.dedup();
        let acknowledged = self.resolver.acknowledge(&ids).await.map_err(unavailable)?;
        metrics::record_acknowledged(acknowledged);
        Ok(pb::AckReleasedResponse {
            acknowledged: u32::try_from(acknowledged).unwrap_or(u32::MAX),
        })
    }
}

#[tonic::async_trait]
impl<S: Store> IdentityMapping for MappingService<S> {
    #[tracing::instrument(name = "mapping.resolve_batch", skip_all)]
    async fn resolve_batch(
        &self,
        request: Request<pb::ResolveBatchRequest>,
    ) -> Result<Response<pb::ResolveBatchResponse>, Status> {
        let started = Instant::now();
        let result = self.resolve(request.into_inner()).await;
        metrics::record_request("ResolveBatch", code_of(&result), started.elapsed());
        result.map(Response::new)
    }

    #[tracing::instrument(name = "mapping.ack_released", skip_all)]
    async fn ack_released(
        &self,
        request: Request<pb::AckReleasedRequest>,
    ) -> Result<Response<pb::AckReleasedResponse>, Status> {
        let started = Instant::now();
        let result = self.acknowledge(request.into_inner()).await;
        metrics::record_request("AckReleased", code_of(&result), started.elapsed());
        result.map(Response::new)
    }
}

fn to_response(resolution: Resolution) -> pb::ResolveBatchResponse {
    let results = resolution
        .profiles
        .iter()
        .map(|profile| pb::ProfileResult {
            resolved: profile.resolved.iter().map(Into::into).collect(),
            held: profile.held,
            fanout: profile.fanout,
        })
        .collect();
    let (released, release_ids) = resolution.released.iter().flat_map(|r| r.to_wire()).unzip();
    pb::ResolveBatchResponse {
        results,
        released,
        release_ids,
    }
}

fn invalid_argument(error: InvalidRequest) -> Status {
    // The message names positions and namespaces only, never identity values: safe to log.
    tracing::warn!(%error, "refused an invalid batch");
    let mut status = Status::invalid_argument(error.to_string());
    status
        .metadata_mut()
        .insert(INVALID_PROFILE_METADATA, error.profile.into());
    status
}

fn unavailable(error: StoreError) -> Status {
    tracing::warn!(%error, "store failed; the caller will retry");
    Status::unavailable(error.to_string())
}

fn code_of<T>(result: &Result<T, Status>) -> tonic::Code {
    match result {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
