//! The ingest loop: read a batch, parse, resolve through the mapping service, write the changes, then
//! commit. One batch at a time, so "committed" always means "everything before it is durable downstream".

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use futures::future::try_join_all;
use prost::Message as _;
use pxstream_core::config::Config;
use pxstream_core::kafka::{DeadLetter, consumer_config, dead_letter, producer_config};
use pxstream_proto::v1 as pb;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::activations::Activations;
use crate::batch::{PreparedBatch, prepare};
use crate::mapping_client::{Backoff, MappingClient, ResolveError};
use crate::metrics as m;

const STAGE: &str = "ingest";
/// How long ingest waits for records before asking the mapping service for released changes anyway.
const IDLE_POLL: Duration = Duration::from_secs(2);

struct Ingest {
    config: Config,
    activations: Activations,
    consumer: StreamConsumer,
    producer: FutureProducer,
    mapping: MappingClient,
    shutdown: CancellationToken,
}

/// Runs until `shutdown` fires. The batch in flight when it fires is finished or left uncommitted, never
/// half-committed.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    m::describe();
    let consumer: StreamConsumer = consumer_config(
        &config.kafka,
        &config.ingest.group_id,
        config.ingest.session_timeout_ms,
    )
    .create()
    .context("creating the exports consumer")?;
    consumer
        .subscribe(&[config.kafka.exports_topic.as_str()])
        .context("subscribing to the exports topic")?;
    let producer: FutureProducer = producer_config(&config.kafka)
        .create()
        .context("creating the changes producer")?;
    let mapping = MappingClient::new(
        &config.mapping.endpoint,
        Duration::from_millis(config.mapping.request_timeout_ms),
    )?;
    let ingest = Ingest {
        activations: Activations::new(&config.activations),
        config,
        consumer,
        producer,
        mapping,
        shutdown,
    };
    tracing::info!(topic = %ingest.config.kafka.exports_topic, "ingest started");
    while !ingest.shutdown.is_cancelled() {
        let batch = ingest.collect().await;
        if batch.is_empty() {
            // Idle: held changes released by links learned elsewhere, or whose lease expired, still need a
            // ride out; an empty resolve picks them up.
            if !ingest.shutdown.is_cancelled() && !ingest.process(&batch).await? {
                break;
            }
            continue;
        }
        if !ingest.process(&batch).await? {
            break;
        }
        ingest.commit(&batch);
    }
    tracing::info!("ingest stopped");
    Ok(())
}

impl Ingest {
    /// Waits for a first record, then gathers more until the batch is full or the linger time is up.
    async fn collect(&self) -> Vec<OwnedMessage> {
        let max = self.config.ingest.batch_max_records;
        let mut batch = Vec::with_capacity(max);
        let first = tokio::select! {
            received = self.consumer.recv() => received,
            _ = tokio::time::sleep(IDLE_POLL) => return batch,
            _ = self.shutdown.cancelled() => return batch,
        };
        match first {
            Ok(message) => batch.push(message.detach()),
            Err(error) => {
                tracing::warn!(%error, "reading the exports topic failed");
                return batch;
            }
        }
        let deadline = Instant::now() + Duration::from_millis(self.config.ingest.batch_linger_ms);
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(message)) => batch.push(message.detach()),
                Ok(Err(error)) => {
                    tracing::warn!(%error, "reading the exports topic failed");
                    break;
                }
                Err(_) => break,
            }
        }
        batch
    }

    /// Makes the batch durable downstream. False when shutdown interrupted it (nothing is committed then).
    #[tracing::instrument(name = "ingest.batch", skip_all, fields(records = batch.len()))]
    async fn process(&self, batch: &[OwnedMessage]) -> anyhow::Result<bool> {
        if !batch.is_empty() {
            metrics::histogram!(m::BATCH_RECORDS).record(batch.len() as f64);
        }
        let prepared = prepare(batch.iter().map(Message::payload), &self.activations);
        metrics::counter!(m::CUSTOM_UPLOAD_ENTRIES)
            .increment(prepared.custom_upload_entries as u64);
        metrics::counter!(m::NOT_ACTIVATED_ENTRIES)
            .increment(prepared.not_activated_entries as u64);
        let mut refused: Vec<(usize, String)> = prepared
            .refused
            .iter()
            .map(|(i, e)| (*i, e.to_string()))
            .collect();

        let Some((changes, release_ids, mapping_refused)) = self.resolve(&prepared).await else {
            return Ok(false);
        };
        refused.extend(mapping_refused);
        for (index, reason) in &refused {
            self.dead_letter(&batch[*index], reason).await?;
        }
        if !batch.is_empty() {
            metrics::counter!(m::RECORDS, "outcome" => "dead_lettered")
                .increment(refused.len() as u64);
        }
        metrics::counter!(m::RECORDS, "outcome" => "parsed")
            .increment((batch.len() - refused.len()) as u64);

        if !self.emit(&changes).await {
            return Ok(false);
        }
        metrics::counter!(m::CHANGES_EMITTED).increment(changes.len() as u64);
        if let Err(status) = self.mapping.ack_released(release_ids).await {
            tracing::warn!(code = ?status.code(), "acknowledging released changes failed; they will be offered again");
        }
        Ok(true)
    }

    /// Resolves the batch; on a refusal, resolves profile by profile to find the culprits.
    /// Returns the changes to emit, release ids to acknowledge, and refused record indexes with reasons.
    async fn resolve(
        &self,
        prepared: &PreparedBatch,
    ) -> Option<(Vec<pb::MembershipChange>, Vec<i64>, Vec<(usize, String)>)> {
        let request = pb::ResolveBatchRequest {
            profiles: prepared.profiles.clone(),
        };
        match self.mapping.resolve(request, &self.shutdown).await {
            Ok(response) => Some(self.account(response, Vec::new())),
            Err(ResolveError::ShuttingDown) => None,
            Err(ResolveError::Refused(reason)) => {
                tracing::warn!(%reason, "mapping refused a batch; isolating the records at fault");
                let mut merged = pb::ResolveBatchResponse::default();
                let mut refused = Vec::new();
                for (profile, origin) in prepared.profiles.iter().zip(&prepared.origins) {
                    let single = pb::ResolveBatchRequest {
                        profiles: vec![profile.clone()],
                    };
                    match self.mapping.resolve(single, &self.shutdown).await {
                        Ok(response) => {
                            merged.results.extend(response.results);
                            merged.released.extend(response.released);
                            merged.release_ids.extend(response.release_ids);
                        }
                        Err(ResolveError::Refused(reason)) => {
                            refused.push((
                                *origin,
                                format!("mapping service refused the profile: {reason}"),
                            ));
                        }
                        Err(ResolveError::ShuttingDown) => return None,
                    }
                }
                Some(self.account(merged, refused))
            }
        }
    }

    fn account(
        &self,
        response: pb::ResolveBatchResponse,
        refused: Vec<(usize, String)>,
    ) -> (Vec<pb::MembershipChange>, Vec<i64>, Vec<(usize, String)>) {
        let mut changes = Vec::new();
        for result in response.results {
            metrics::counter!(m::CHANGES_HELD).increment(u64::from(result.held));
            if result.fanout > 1 {
                metrics::counter!(m::FANOUT_PROFILES).increment(1);
            }
            changes.extend(result.resolved);
        }
        changes.extend(response.released);
        (changes, response.release_ids, refused)
    }

    /// Writes the changes keyed by PX user, retrying until the broker has all of them. False on shutdown.
    async fn emit(&self, changes: &[pb::MembershipChange]) -> bool {
        let topic = self.config.kafka.changes_topic.as_str();
        let encoded: Vec<(&str, Vec<u8>)> = changes
            .iter()
            .map(|c| (c.identify_id.as_str(), c.encode_to_vec()))
            .collect();
        let mut backoff = Backoff::default();
        loop {
            let sends = encoded.iter().map(|(key, payload)| {
                self.producer.send(
                    FutureRecord::to(topic).key(*key).payload(payload),
                    Duration::from_secs(30),
                )
            });
            match try_join_all(sends).await {
                Ok(_) => return true,
                Err((error, _)) => {
                    // Resending all is safe: delivery drops duplicates by lastQualificationTime.
                    tracing::warn!(%error, "writing changes failed; retrying the batch");
                    if !backoff.wait(&self.shutdown).await {
                        return false;
                    }
                }
            }
        }
    }

    async fn dead_letter(&self, message: &OwnedMessage, reason: &str) -> anyhow::Result<()> {
        tracing::warn!(partition = message.partition(), offset = message.offset(), %reason, "record dead-lettered");
        let why = DeadLetter {
            stage: STAGE,
            class: "dead_letter",
            reason,
        };
        let mut backoff = Backoff::default();
        loop {
            match dead_letter(
                &self.producer,
                &self.config.kafka.dead_letter_topic,
                message,
                &why,
            )
            .await
            {
                Ok(()) => return Ok(()),
                Err(error) => {
                    tracing::warn!(%error, "dead-lettering failed; retrying");
                    if !backoff.wait(&self.shutdown).await {
                        anyhow::bail!("shutdown while dead-lettering");
                    }
                }
            }
        }
    }

    /// Commits the next offset of every partition in the batch. Asynchronous: a lost commit only replays.
    fn commit(&self, batch: &[OwnedMessage]) {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for message in batch {
            let entry = next
                .entry((message.topic(), message.partition()))
                .or_insert(0);
            *entry = (*entry).max(message.offset() + 1);
        }
        tracing::debug!(offsets = ?next, "committing the batch");
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            if let Err(error) =
                offsets.add_partition_offset(topic, partition, Offset::Offset(offset))
            {
                tracing::warn!(%error, "building the commit failed");
                return;
            }
        }
        if let Err(error) = self.consumer.commit(&offsets, CommitMode::Async) {
            tracing::warn!(%error, "commit failed; the batch will be read again after a restart");
        }
    }
}
