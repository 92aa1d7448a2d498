//! Loading exports onto the broker, and measuring how far each consumer group has got.

use std::time::Duration;

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

/// Produces one record per line, keyed by line number (AEP's key is optional and opaque). `progress` is
/// called with the count sent so far.
pub async fn produce_lines(
    bootstrap: &str,
    topic: &str,
    lines: &[String],
    mut progress: impl FnMut(usize),
) -> anyhow::Result<()> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("acks", "all")
        .create()
        .context("creating the exports producer")?;
    let chunk = 2_000;
    for (start, batch) in lines.chunks(chunk).enumerate().map(|(i, b)| (i * chunk, b)) {
        let keys: Vec<String> = (start..start + batch.len())
            .map(|i| format!("profile-export-{i}"))
            .collect();
        let sends = batch.iter().zip(&keys).map(|(line, key)| {
            producer.send(
                FutureRecord::to(topic).key(key).payload(line),
                Duration::from_secs(30),
            )
        });
        // join_all polls every send at once: librdkafka batches them instead of waiting out linger.ms
        // once per record.
        for result in futures::future::join_all(sends).await {
            result.map_err(|(error, _)| anyhow::anyhow!("producing to {topic}: {error}"))?;
        }
        progress(start + batch.len());
    }
    Ok(())
}

/// Records on `topic` not yet committed by `group`: the sum over partitions of end offset minus committed
/// offset (a partition the group never committed counts from its start).
pub fn group_lag(bootstrap: &str, group: &str, topic: &str) -> anyhow::Result<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let timeout = Duration::from_secs(5);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut list = TopicPartitionList::new();
    for partition in &partitions {
        list.add_partition(topic, *partition);
    }
    let committed = consumer.committed_offsets(list, timeout)?;
    let mut lag = 0;
    for partition in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, timeout)?;
        let done = match committed
            .find_partition(topic, partition)
            .map(|e| e.offset())
        {
            Some(Offset::Offset(offset)) => offset,
            _ => low,
        };
        lag += (high - done).max(0);
    }
    Ok(lag)
}

/// Records currently on `topic` (end minus start offsets, all partitions).
pub fn topic_size(bootstrap: &str, topic: &str) -> anyhow::Result<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let timeout = Duration::from_secs(5);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut size = 0;
    for topic_meta in metadata.topics() {
        for partition in topic_meta.partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
            size += high - low;
        }
    }
    Ok(size)
}

/// Every record currently on `topic`, partition by partition, read without a consumer group (so no group's
/// progress moves). For tests and diagnostics: bounded by the topic's size when called.
pub fn read_topic(bootstrap: &str, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "pxstream-inspect")
        .set("enable.auto.commit", "false")
        .create()?;
    let timeout = Duration::from_secs(5);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut list = TopicPartitionList::new();
    let mut remaining = 0;
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        let (low, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
        list.add_partition_offset(topic, partition.id(), Offset::Offset(low))?;
        remaining += high - low;
    }
    consumer.assign(&list)?;
    let mut records = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while records.len() < usize::try_from(remaining).unwrap_or_default() {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "read {} of {remaining} records of {topic} before the deadline",
            records.len()
        );
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            records.push(message?.detach());
        }
    }
    Ok(records)
}
