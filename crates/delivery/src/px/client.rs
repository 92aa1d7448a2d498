//! The PX REST client of one destination: segment metadata and membership calls.
//!
//! Each public method returns only when PX accepted the request, when PX refused it for good (DeadLetter:
//! the content; FailFast: an operator must act), or when `stop` fired while it was waiting to retry.
//! Retryable failures (429, 5xx, HTML pages from proxies, timeouts, dropped connections) are retried
//! without limit: giving up silently would lose changes, and stopping is the operator's call.

use std::time::{Duration, SystemTime};

use pxstream_core::config::{DestinationConfig, IdentityType};
use pxstream_core::{DestinationName, ErrorClass};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Client, Method, StatusCode};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::auth::Credentials;
use super::error::{Endpoint, PxError, Scrubber, classify, describe_body};
use super::membership::MembershipBody;
use crate::metrics;
use crate::retry::{RetryPolicy, parse_retry_after};

/// Timeouts and retry bounds shared by every destination's client.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientSettings {
    pub fn from_config(config: &pxstream_core::config::DeliveryConfig) -> Self {
        Self {
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            retry: RetryPolicy::from_config(config),
        }
    }
}

/// An external segment's metadata as sent to PX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentMetadata {
    pub external_id: String,
    pub name: String,
    pub description: String,
}

/// An external segment as PX stored it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSegment {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug)]
pub struct PxClient {
    destination: DestinationName,
    base: String,
    identity_type: IdentityType,
    http: Client,
    credentials: Credentials,
    scrubber: Scrubber,
    retry: RetryPolicy,
    stop: CancellationToken,
}

impl PxClient {
    /// `stop` ends retry loops (shutdown); a call interrupted that way fails with a `Retry` class.
    pub fn new(
        destination: &DestinationConfig,
        settings: &ClientSettings,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        let http = Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(5)))
            // PX does not redirect; following one would carry credentials somewhere unexpected.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pxstream-delivery/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let credentials = Credentials::new(&destination.auth, http.clone());
        Ok(Self {
            destination: destination.name.clone(),
            base: destination.api_base(),
            identity_type: destination.identity_type,
            scrubber: Scrubber::new(credentials.secrets()),
            http,
            credentials,
            retry: settings.retry,
            stop,
        })
    }

    pub fn destination(&self) -> &DestinationName {
        &self.destination
    }

    pub fn identity_type(&self) -> IdentityType {
        self.identity_type
    }

    /// Idempotent create (`failIfExists=false`): answers the stored segment, which keeps its old name and
    /// description if it existed already.
    pub async fn create_segment(
        &self,
        segment: &SegmentMetadata,
    ) -> Result<StoredSegment, PxError> {
        let body = self
            .call(
                Endpoint::Metadata,
                Method::POST,
                "/v1/external_segment/metadata?failIfExists=false",
                segment,
            )
            .await?;
        Ok(serde_json::from_slice(&body).unwrap_or_default())
    }

    /// Renames: replaces the name and description of an existing segment (404 when it does not exist).
    pub async fn rename_segment(
        &self,
        segment: &SegmentMetadata,
    ) -> Result<StoredSegment, PxError> {
        let body = self
            .call(
                Endpoint::Metadata,
                Method::PUT,
                "/v1/external_segment/metadata",
                segment,
            )
            .await?;
        Ok(serde_json::from_slice(&body).unwrap_or_default())
    }

    pub async fn update_membership(&self, body: &MembershipBody<'_>) -> Result<(), PxError> {
        metrics::batch_identities(body.identity_count());
        self.call(
            Endpoint::UpdateMembership,
            Method::POST,
            "/v1/external_segment/update_membership",
            body,
        )
        .await
        .map(drop)
    }

    async fn call<B: Serialize + ?Sized>(
        &self,
        endpoint: Endpoint,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Vec<u8>, PxError> {
        let url = format!("{}{path}", self.base);
        let payload = serde_json::to_vec(body).map_err(|e| {
            PxError::new(
                endpoint,
                None,
                ErrorClass::FailFast,
                format!("cannot encode the request: {e}"),
            )
        })?;
        let mut retries = 0u32;
        let mut reauthenticated = false;
        loop {
            let error = match self.attempt(endpoint, &method, &url, &payload).await {
                Ok(answer) => return Ok(answer),
                Err(error) => self.scrubber.scrub(error),
            };
            if error.is_unauthorized() && self.credentials.is_oauth() && !reauthenticated {
                // One fresh login per call: an expired or revoked token is routine, a second 401 is not.
                reauthenticated = true;
                tracing::info!(destination = %self.destination, %endpoint, "PX refused the access token, re-authenticating");
                continue;
            }
            let ErrorClass::Retry { after } = error.class else {
                return Err(error);
            };
            let delay = self.retry.delay(retries, after, error.is_rate_limited());
            retries = retries.saturating_add(1);
            metrics::retry();
            tracing::warn!(
                destination = %self.destination,
                %endpoint,
                retry = retries,
                delay_ms = delay.as_millis() as u64,
                %error,
                "PX call failed, retrying"
            );
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.stop.cancelled() => {
                    return Err(PxError::new(
                        endpoint,
                        error.status,
                        ErrorClass::RETRY,
                        format!("stopped retrying at shutdown; last error: {}", error.message),
                    ));
                }
            }
        }
    }

    async fn attempt(
        &self,
        endpoint: Endpoint,
        method: &Method,
        url: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, PxError> {
        let auth = self.credentials.header().await?;
        let sent = self
            .http
            .request(method.clone(), url)
            .header(auth.name.clone(), auth.value.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(payload.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                metrics::px_request(endpoint, None);
                return Err(PxError::transport(endpoint, &error));
            }
        };
        let status = response.status();
        metrics::px_request(endpoint, Some(status));
        let retry_after = retry_after(response.headers());
        let content_type = content_type(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| PxError::transport(endpoint, &e))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        if status == StatusCode::UNAUTHORIZED {
            self.credentials.invalidate(&auth).await;
        }
        let message = describe_body(status, content_type.as_deref(), &body);
        Err(PxError::new(
            endpoint,
            Some(status),
            classify(status, retry_after),
            message,
        ))
    }
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
}
