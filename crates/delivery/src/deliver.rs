//! One batch, from decoded changes to settled changes: every change of the batch ends sent (PX answered
//! 200), remembered, stale, or marked for the dead-letter topic — or the batch fails as a whole and nothing
//! of it may be committed.
//!
//! Kafka-free on purpose: the caller owns records and offsets and hands in an index per change.

use std::collections::HashMap;

use pxstream_core::config::{AudienceConfig, Config};
use pxstream_core::{AudienceId, Classify, DestinationName, ErrorClass, fingerprint};
use tokio_util::sync::CancellationToken;

use crate::batcher::{Envelope, coalesce};
use crate::metrics::{self, Outcome};
use crate::plan::{Call, plan};
use crate::px::{ClientSettings, PxClient, PxError};
use crate::segments::{SegmentStatus, Segments};
use crate::store::StateStore;

/// A batch that could not be settled. Nothing of it may be committed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// FailFast: an operator must act. Retry: retries were stopped by shutdown.
    #[error(transparent)]
    Px(#[from] PxError),
    #[error("delivery state store: {0:#}")]
    Store(anyhow::Error),
}

impl Classify for DeliveryError {
    fn class(&self) -> ErrorClass {
        match self {
            DeliveryError::Px(error) => error.class,
            // A store that fails is a disk or file problem; restarting from the last commit is safe.
            DeliveryError::Store(_) => ErrorClass::FailFast,
        }
    }
}

/// A change to set aside on the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterItem {
    pub record: usize,
    /// Why; never contains an identity value or a credential.
    pub reason: String,
}

/// How a batch was settled.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub remembered: usize,
    pub stale: usize,
    pub dead_letters: Vec<DeadLetterItem>,
}

#[derive(Debug)]
struct Destination {
    client: PxClient,
    audiences: HashMap<AudienceId, AudienceConfig>,
}

/// Delivers batches of changes to their PX destinations.
#[derive(Debug)]
pub struct Delivery {
    destinations: HashMap<DestinationName, Destination>,
    store: StateStore,
    segments: Segments,
    max_per_call: usize,
}

impl Delivery {
    /// One client per configured destination; `stop` ends their retry loops.
    pub fn new(
        config: &Config,
        store: StateStore,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        let settings = ClientSettings::from_config(&config.delivery);
        let mut clients = Vec::new();
        for destination in &config.destinations {
            let audiences: Vec<AudienceConfig> = config
                .activations
                .iter()
                .filter(|a| a.destination == destination.name)
                .flat_map(|a| a.audiences.iter().cloned())
                .collect();
            clients.push((
                PxClient::new(destination, &settings, stop.clone())?,
                audiences,
            ));
        }
        Ok(Self::from_clients(
            clients,
            store,
            config.delivery.max_identities_per_call,
        ))
    }

    /// Builds a delivery from ready clients and the audiences activated for each.
    pub fn from_clients(
        clients: Vec<(PxClient, Vec<AudienceConfig>)>,
        store: StateStore,
        max_per_call: usize,
    ) -> Self {
        let destinations = clients
            .into_iter()
            .map(|(client, audiences)| {
                let audiences = audiences.into_iter().map(|a| (a.id.clone(), a)).collect();
                (
                    client.destination().clone(),
                    Destination { client, audiences },
                )
            })
            .collect();
        Self {
            destinations,
            store,
            segments: Segments::new(),
            max_per_call: max_per_call.max(1),
        }
    }

    pub fn store(&self) -> &StateStore {
        &self.store
    }

    /// Creates or renames every activated audience's segment, as at start.
    pub async fn sync_segments(&mut self) -> Result<(), DeliveryError> {
        let mut names: Vec<&DestinationName> = self.destinations.keys().collect();
        names.sort();
        for name in names {
            let destination = &self.destinations[name];
            let mut audiences: Vec<&AudienceConfig> = destination.audiences.values().collect();
            audiences.sort_by(|a, b| a.id.cmp(&b.id));
            for audience in audiences {
                self.segments
                    .ensure(&destination.client, &self.store, audience)
                    .await?;
            }
        }
        Ok(())
    }

    /// Settles one batch. On error nothing is reported settled, though some calls may have reached PX and
    /// been recorded: a redelivery then finds them applied and drops them as duplicates.
    #[tracing::instrument(name = "delivery.batch", skip_all, fields(changes = batch.len()))]
    pub async fn deliver(&mut self, batch: Vec<Envelope>) -> Result<Report, DeliveryError> {
        let mut report = Report::default();
        let mut deliverable = Vec::with_capacity(batch.len());
        for envelope in batch {
            match self.admit(&envelope).await? {
                Ok(()) => deliverable.push(envelope),
                Err(reason) => report.dead_letters.push(DeadLetterItem {
                    record: envelope.record,
                    reason,
                }),
            }
        }

        let coalesced = coalesce(deliverable);
        report.stale += coalesced.superseded.len();
        let keys: Vec<_> = coalesced.survivors.iter().map(Envelope::key).collect();
        let applied = self
            .store
            .applied(&keys)
            .await
            .map_err(DeliveryError::Store)?;
        let in_doubt = self
            .store
            .in_doubt(&keys)
            .await
            .map_err(DeliveryError::Store)?;
        let plan = plan(coalesced.survivors, &applied, &in_doubt, self.max_per_call);
        report.stale += plan.stale.len();

        let remembered: Vec<_> = plan
            .remember
            .iter()
            .map(|(_, key, state)| (key.clone(), *state))
            .collect();
        self.store
            .record(&remembered)
            .await
            .map_err(DeliveryError::Store)?;
        report.remembered += remembered.len();

        let sending: Vec<_> = plan
            .calls
            .iter()
            .flat_map(|call| call.items.iter().map(|item| &item.key))
            .collect();
        self.store
            .mark_in_doubt(&sending)
            .await
            .map_err(DeliveryError::Store)?;
        for call in plan.calls {
            self.send(call, &mut report).await?;
        }
        metrics::changes(Outcome::Sent, report.sent);
        metrics::changes(Outcome::Remembered, report.remembered);
        metrics::changes(Outcome::Stale, report.stale);
        Ok(report)
    }

    /// `Ok(Err(reason))` when the change can never be delivered as configured.
    async fn admit(&mut self, envelope: &Envelope) -> Result<Result<(), String>, DeliveryError> {
        let state = &envelope.change.state;
        let Some(destination) = self.destinations.get(&state.destination) else {
            return Ok(Err(format!(
                "destination {} is not configured",
                state.destination
            )));
        };
        let Some(audience) = destination.audiences.get(&state.audience) else {
            return Ok(Err(format!(
                "audience {} is not activated for destination {}",
                state.audience, state.destination
            )));
        };
        match self
            .segments
            .ensure(&destination.client, &self.store, audience)
            .await?
        {
            SegmentStatus::Ready => Ok(Ok(())),
            SegmentStatus::Refused(reason) => Ok(Err(reason)),
        }
    }

    /// Sends one call; a refused call is halved until the refused changes are isolated and set aside.
    async fn send(&self, call: Call, report: &mut Report) -> Result<(), DeliveryError> {
        let Some(destination) = self.destinations.get(&call.destination) else {
            // `admit` let no change of an unknown destination through.
            return Ok(());
        };
        let client = &destination.client;
        let mut pending = vec![call];
        while let Some(call) = pending.pop() {
            let outcome = client
                .update_membership(&call.body(client.identity_type()))
                .await;
            match outcome {
                Ok(()) => {
                    let states: Vec<_> = call
                        .items
                        .iter()
                        .map(|item| (item.key.clone(), item.applied()))
                        .collect();
                    self.store
                        .record(&states)
                        .await
                        .map_err(DeliveryError::Store)?;
                    report.sent += call.len();
                }
                Err(error) if error.refuses_content() => match call.split() {
                    Ok((first, second)) => {
                        tracing::info!(
                            destination = %client.destination(),
                            identities = first.len() + second.len(),
                            error = %error,
                            "PX refused a call, splitting it to isolate the refused changes"
                        );
                        pending.push(second);
                        pending.push(first);
                    }
                    Err(single) => {
                        let item = &single.items[0];
                        let identity = item.key.identify_id.as_str();
                        let user = fingerprint(identity);
                        let mut reason = format!("PX refused the change: {error}");
                        if identity.len() >= 3 {
                            reason = reason.replace(identity, &user);
                        }
                        tracing::warn!(
                            destination = %client.destination(),
                            audience = %item.key.audience,
                            user = %user,
                            %reason,
                            "dead-lettering a change PX refuses"
                        );
                        report.dead_letters.push(DeadLetterItem {
                            record: item.record,
                            reason,
                        });
                    }
                },
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}
