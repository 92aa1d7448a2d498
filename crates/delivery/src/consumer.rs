//! The Kafka side: read the changes topic, hand batches to delivery, dead-letter what must be set aside,
//! commit the settled frontier.
//!
//! One batch is in flight at a time, so changes of one key reach PX in the order of their versions. Every
//! record is charged to the offset ledger when read and completed when settled; commits carry only the
//! ledger's contiguous frontier. With one batch in flight that frontier is simply the batch's end, but the
//! ledger keeps the rule explicit (undecodable records settle at once, ahead of the batch) and rejects
//! completions from before a rebalance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use prost::Message as _;
use pxstream_core::admin::Readiness;
use pxstream_core::config::Config;
use pxstream_core::kafka::{DeadLetter, consumer_config, dead_letter, producer_config};
use pxstream_core::{ErrorClass, MembershipChange};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::batcher::{Batcher, Envelope};
use crate::deliver::{Delivery, DeliveryError, Report};
use crate::ledger::{OffsetLedger, Ticket};
use crate::metrics::{self, Outcome};
use crate::retry::RetryPolicy;

const STAGE: &str = "delivery";

/// Counts assignment changes; the ledger starts over whenever it moves.
#[derive(Debug, Default)]
struct RebalanceContext {
    generation: Arc<AtomicU64>,
}

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            self.generation.fetch_add(1, Ordering::AcqRel);
            tracing::info!(partitions = partitions.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                self.generation.fetch_add(1, Ordering::AcqRel);
                tracing::info!(partitions = partitions.count(), "partitions assigned");
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance failed"),
            Rebalance::Revoke(_) => {}
        }
    }
}

/// The drain budget ran out while the dead-letter topic was refusing records.
#[derive(Debug, thiserror::Error)]
#[error("stopped before the dead-letter topic accepted a record: {0}")]
struct Stopped(String);

/// A record of the open batch.
struct Pending {
    message: OwnedMessage,
    ticket: Ticket,
}

pub(crate) struct ConsumerLoop<'a> {
    pub config: &'a Config,
    pub delivery: &'a mut Delivery,
    pub shutdown: CancellationToken,
    /// Fires when the drain budget after shutdown is spent: retries stop then.
    pub abort: CancellationToken,
    pub readiness: Readiness,
}

impl ConsumerLoop<'_> {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let ConsumerLoop {
            config,
            delivery,
            shutdown,
            abort,
            readiness,
        } = self;
        let generation = Arc::new(AtomicU64::new(0));
        let context = RebalanceContext {
            generation: generation.clone(),
        };
        let consumer: Arc<StreamConsumer<RebalanceContext>> = Arc::new(
            consumer_config(
                &config.kafka,
                &config.delivery.group_id,
                config.delivery.session_timeout_ms,
            )
            .create_with_context(context)
            .context("creating the Kafka consumer")?,
        );
        let producer: FutureProducer = producer_config(&config.kafka)
            .create()
            .context("creating the dead-letter producer")?;
        consumer
            .subscribe(&[config.kafka.changes_topic.as_str()])
            .with_context(|| format!("subscribing to {}", config.kafka.changes_topic))?;
        let mut sink = Sink {
            consumer,
            producer,
            topic: config.kafka.changes_topic.clone(),
            dead_letter_topic: config.kafka.dead_letter_topic.clone(),
            ledger: OffsetLedger::new(0),
            generation,
            retry: RetryPolicy::from_config(&config.delivery),
            abort,
        };
        if !shutdown.is_cancelled() {
            readiness.set(true);
            tracing::info!(topic = %config.kafka.changes_topic, "delivering membership changes");
        }

        let linger = Duration::from_millis(config.delivery.linger_ms);
        let mut batcher = Batcher::new(config.delivery.max_identities_per_call, linger);
        let mut open: Vec<Pending> = Vec::new();
        let mut recv_errors = 0u32;
        loop {
            let stopping = loop {
                if batcher.is_full() {
                    break false;
                }
                let deadline = batcher.deadline();
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => break true,
                    () = sleep_until(deadline), if deadline.is_some() => break false,
                    received = sink.consumer.recv() => match received {
                        Ok(message) => {
                            if recv_errors > 0 {
                                tracing::info!(errors = recv_errors, "Kafka consumer recovered");
                                recv_errors = 0;
                            }
                            let message = message.detach();
                            if let Err(stopped) = sink.intake(message, &mut batcher, &mut open).await {
                                tracing::warn!(%stopped, "stopped before a record was settled; it will be read again");
                                return Ok(());
                            }
                        }
                        Err(error) => {
                            // librdkafka reconnects by itself; this only reports what it saw, once per
                            // outage, and slows the loop down so a broker outage is not a busy loop.
                            if recv_errors == 0 {
                                tracing::warn!(%error, "Kafka consumer error");
                            } else {
                                tracing::debug!(%error, "Kafka consumer error");
                            }
                            recv_errors = recv_errors.saturating_add(1);
                            let pause = 50u64 << recv_errors.min(4);
                            tokio::time::sleep(Duration::from_millis(pause)).await;
                        }
                    },
                }
            };
            if !batcher.is_empty() {
                let envelopes = batcher.take();
                let records = std::mem::take(&mut open);
                match delivery.deliver(envelopes).await {
                    Ok(report) => {
                        if let Err(stopped) = sink.settle(records, report).await {
                            tracing::warn!(%stopped, "stopped with an unsettled batch; it will be delivered again");
                            return Ok(());
                        }
                    }
                    Err(DeliveryError::Px(error))
                        if error.class != ErrorClass::FailFast && sink.abort.is_cancelled() =>
                    {
                        tracing::warn!(%error, "stopped with an unsettled batch; it will be delivered again");
                        return Ok(());
                    }
                    Err(error) => {
                        readiness.set(false);
                        return Err(error).context("delivery stopped: an operator must act");
                    }
                }
            }
            sink.commit().await;
            if stopping {
                tracing::info!("changes consumer stopped");
                return Ok(());
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

struct Sink {
    consumer: Arc<StreamConsumer<RebalanceContext>>,
    producer: FutureProducer,
    topic: String,
    dead_letter_topic: String,
    ledger: OffsetLedger,
    generation: Arc<AtomicU64>,
    retry: RetryPolicy,
    abort: CancellationToken,
}

impl Sink {
    /// Charges the record, then either opens it into the batch or dead-letters it at once.
    async fn intake(
        &mut self,
        message: OwnedMessage,
        batcher: &mut Batcher,
        open: &mut Vec<Pending>,
    ) -> Result<(), Stopped> {
        self.follow_assignment();
        let ticket = self.ledger.charge(message.partition(), message.offset());
        match decode(&message) {
            Ok(change) => {
                batcher.push(Envelope {
                    record: open.len(),
                    change,
                });
                open.push(Pending { message, ticket });
            }
            Err(reason) => {
                tracing::warn!(partition = message.partition(), offset = message.offset(), %reason, "undecodable change");
                self.dead_letter(&message, &reason).await?;
                self.complete(ticket);
                if batcher.is_empty() {
                    self.commit().await;
                }
            }
        }
        Ok(())
    }

    /// Dead-letters what the batch set aside, then completes every record of the batch.
    async fn settle(&mut self, records: Vec<Pending>, report: Report) -> Result<(), Stopped> {
        for item in &report.dead_letters {
            if let Some(pending) = records.get(item.record) {
                self.dead_letter(&pending.message, &item.reason).await?;
            }
        }
        self.follow_assignment();
        for pending in records {
            self.complete(pending.ticket);
        }
        Ok(())
    }

    /// A rebalance may have happened in any `recv` since the last look: from then on, tickets of the old
    /// assignment must not commit, even for a batch that was read before it.
    fn follow_assignment(&mut self) {
        self.ledger
            .reassign(self.generation.load(Ordering::Acquire));
    }

    fn complete(&mut self, ticket: Ticket) {
        if let Err(rejected) = self.ledger.complete(ticket) {
            tracing::debug!(%rejected, "completion not committed");
        }
    }

    /// Retries until the broker has the record: committing past a record that is neither delivered nor set
    /// aside would lose it.
    async fn dead_letter(&self, message: &OwnedMessage, reason: &str) -> Result<(), Stopped> {
        let why = DeadLetter {
            stage: STAGE,
            class: ErrorClass::DeadLetter.as_str(),
            reason,
        };
        let mut attempt = 0;
        loop {
            match dead_letter(&self.producer, &self.dead_letter_topic, message, &why).await {
                Ok(()) => {
                    metrics::changes(Outcome::DeadLettered, 1);
                    return Ok(());
                }
                Err(error) => {
                    let delay = self.retry.delay(attempt, None, false);
                    attempt += 1;
                    tracing::warn!(%error, retry = attempt, "dead-lettering failed, retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.abort.cancelled() => return Err(Stopped(error.to_string())),
                    }
                }
            }
        }
    }

    /// Commits the ledger's frontier. A failed commit is retried with the next one; the worst outcome is a
    /// redelivery, which the stale rule absorbs.
    async fn commit(&mut self) {
        self.follow_assignment();
        let positions = self.ledger.committable();
        if positions.is_empty() {
            return;
        }
        let mut list = TopicPartitionList::new();
        for (partition, offset) in &positions {
            if let Err(error) =
                list.add_partition_offset(&self.topic, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(%error, "cannot build the commit");
                return;
            }
        }
        let consumer = self.consumer.clone();
        // A synchronous commit blocks until the broker answers: keep it off the async workers.
        let committed =
            tokio::task::spawn_blocking(move || consumer.commit(&list, CommitMode::Sync)).await;
        match committed {
            Ok(Ok(())) => {
                self.ledger.committed(&positions);
                for (partition, offset) in positions {
                    metrics::committed_offset(partition, offset);
                }
            }
            Ok(Err(error)) => tracing::warn!(%error, "offset commit failed; it will be retried"),
            Err(error) => tracing::warn!(%error, "offset commit task failed"),
        }
    }
}

fn decode(message: &OwnedMessage) -> Result<MembershipChange, String> {
    let payload = message.payload().ok_or("record has no value")?;
    let wire = pxstream_proto::v1::MembershipChange::decode(payload)
        .map_err(|e| format!("record is not a MembershipChange: {e}"))?;
    MembershipChange::try_from(wire).map_err(|e| format!("invalid MembershipChange: {e}"))
}
