//! Calls to the mapping service, with the retry policy: transient gRPC failures are retried until they
//! succeed or shutdown starts; `invalid_argument` means the input is at fault and is returned to the caller.

use std::time::Duration;

use pxstream_proto::v1::identity_mapping_client::IdentityMappingClient;
use pxstream_proto::v1::{AckReleasedRequest, ResolveBatchRequest, ResolveBatchResponse};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::metrics;

#[derive(Debug, Clone)]
pub struct MappingClient {
    client: IdentityMappingClient<Channel>,
}

/// Why a resolve did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The mapping service refused the batch's content: isolate the culprit and dead-letter it.
    #[error("mapping service refused the input: {0}")]
    Refused(String),
    #[error("shutting down")]
    ShuttingDown,
}

impl MappingClient {
    pub fn new(endpoint: &str, timeout: Duration) -> anyhow::Result<Self> {
        let channel = Endpoint::from_shared(endpoint.to_owned())?
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .connect_lazy();
        // Responses carrying released fan-out changes can exceed tonic's 4 MiB default.
        let client = IdentityMappingClient::new(channel)
            .max_decoding_message_size(32 * 1024 * 1024)
            .max_encoding_message_size(32 * 1024 * 1024);
        Ok(Self { client })
    }

    pub async fn resolve(
        &self,
        request: ResolveBatchRequest,
        shutdown: &CancellationToken,
    ) -> Result<ResolveBatchResponse, ResolveError> {
        let mut backoff = Backoff::default();
        loop {
            let mut client = self.client.clone();
            match client.resolve_batch(request.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if status.code() == Code::InvalidArgument => {
                    return Err(ResolveError::Refused(status.message().to_owned()));
                }
                Err(status) => {
                    ::metrics::counter!(metrics::MAPPING_RETRIES).increment(1);
                    tracing::warn!(code = ?status.code(), message = status.message(), "mapping service call failed; retrying");
                    if !backoff.wait(shutdown).await {
                        return Err(ResolveError::ShuttingDown);
                    }
                }
            }
        }
    }

    /// Best effort: an acknowledgement that is lost only means the released changes are offered again.
    pub async fn ack_released(&self, release_ids: Vec<i64>) -> Result<(), Status> {
        if release_ids.is_empty() {
            return Ok(());
        }
        self.client
            .clone()
            .ack_released(AckReleasedRequest { release_ids })
            .await
            .map(|_| ())
    }
}

/// Exponential backoff with jitter, 100 ms to 10 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    /// Sleeps for the next interval; false if shutdown started meanwhile.
    pub(crate) async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let jitter = 0.5 + f64::from(std::process::id() % 7 + subsec_entropy()) / 20.0;
        let delay = self.next.mul_f64(jitter.min(1.5));
        self.next = (self.next * 2).min(Duration::from_secs(10));
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = shutdown.cancelled() => false,
        }
    }
}

fn subsec_entropy() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 13)
}
