//! Making sure each activated audience exists in PX as an external segment, under its configured name.
//!
//! PX has no read or list endpoint for external segments, so the store remembers what was last sent: an
//! audience whose name and description match that record costs no call. A create uses
//! `failIfExists=false`, so it is safe to repeat after the store was lost; PX then answers the segment as
//! stored, and a name that differs from the configuration is corrected with a PUT.

use std::collections::HashMap;

use pxstream_core::config::AudienceConfig;
use pxstream_core::{AudienceId, DestinationName, ErrorClass};
use reqwest::StatusCode;

use crate::deliver::DeliveryError;
use crate::px::{PxClient, PxError, SegmentMetadata, StoredSegment};
use crate::store::{SentSegment, StateStore};

/// Whether changes for an audience can go to PX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentStatus {
    Ready,
    /// PX refused the segment's metadata; its changes are dead-lettered with this reason until a restart
    /// with a corrected configuration.
    Refused(String),
}

/// The segments confirmed (or refused) since this process started.
#[derive(Debug, Default)]
pub struct Segments {
    known: HashMap<(DestinationName, AudienceId), SegmentStatus>,
}

impl Segments {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates or renames the segment if needed. Fails only when an operator must act (FailFast), when
    /// retries were stopped by shutdown, or when the store fails.
    pub async fn ensure(
        &mut self,
        client: &PxClient,
        store: &StateStore,
        audience: &AudienceConfig,
    ) -> Result<SegmentStatus, DeliveryError> {
        let destination = client.destination().clone();
        let slot = (destination.clone(), audience.id.clone());
        if let Some(status) = self.known.get(&slot) {
            return Ok(status.clone());
        }
        let wanted = SegmentMetadata {
            external_id: audience.id.as_str().to_owned(),
            name: audience.name.clone(),
            description: audience.description.clone(),
        };
        let sent = store
            .sent_segment(&destination, &audience.id)
            .await
            .map_err(DeliveryError::Store)?;
        let outcome = match &sent {
            Some(sent) if sent.name == wanted.name && sent.description == wanted.description => {
                Ok(None)
            }
            Some(_) => rename_or_create(client, &wanted).await.map(Some),
            None => create_as_configured(client, &wanted).await.map(Some),
        };
        let status = match outcome {
            Ok(None) => SegmentStatus::Ready,
            Ok(Some(stored)) => {
                let record = SentSegment {
                    name: wanted.name,
                    description: wanted.description,
                    px_id: stored.id,
                };
                store
                    .record_segment(&destination, &audience.id, &record)
                    .await
                    .map_err(DeliveryError::Store)?;
                SegmentStatus::Ready
            }
            Err(error) if error.class == ErrorClass::DeadLetter => {
                tracing::error!(
                    %destination,
                    audience = %audience.id,
                    error = %error,
                    "PX refused the segment metadata; changes for this audience will be dead-lettered"
                );
                SegmentStatus::Refused(format!("PX refused the segment metadata: {error}"))
            }
            Err(error) => return Err(error.into()),
        };
        self.known.insert(slot, status.clone());
        Ok(status)
    }
}

/// POST, then PUT if PX already had the segment under another name or description.
async fn create_as_configured(
    client: &PxClient,
    wanted: &SegmentMetadata,
) -> Result<StoredSegment, PxError> {
    let stored = client.create_segment(wanted).await?;
    let name_differs = stored
        .name
        .as_ref()
        .is_some_and(|name| *name != wanted.name);
    let description_differs = stored.name.is_some()
        && stored.description.as_deref().unwrap_or_default() != wanted.description;
    if name_differs || description_differs {
        tracing::info!(destination = %client.destination(), audience = %wanted.external_id, "segment existed under other metadata, renaming");
        let renamed = client.rename_segment(wanted).await?;
        return Ok(StoredSegment {
            id: renamed.id.or(stored.id),
            ..renamed
        });
    }
    tracing::info!(destination = %client.destination(), audience = %wanted.external_id, "segment ensured in PX");
    Ok(stored)
}

/// PUT; a segment that PX no longer has is created again.
async fn rename_or_create(
    client: &PxClient,
    wanted: &SegmentMetadata,
) -> Result<StoredSegment, PxError> {
    match client.rename_segment(wanted).await {
        Ok(stored) => {
            tracing::info!(destination = %client.destination(), audience = %wanted.external_id, "segment renamed in PX");
            Ok(stored)
        }
        Err(error) if error.status == Some(StatusCode::NOT_FOUND) => {
            tracing::warn!(destination = %client.destination(), audience = %wanted.external_id, "segment to rename is missing in PX, creating it");
            create_as_configured(client, wanted).await
        }
        Err(error) => Err(error),
    }
}
