//! Loading exports onto the broker, and measuring how far each consumer group has got.
//!
//! End offsets are found by reading, not by asking: a ListOffsets answer (`fetch_watermarks`) can trail
//! the log's real end on some Kafka-protocol brokers (tansu 0.6's `memory://` engine answers the end as of
//! an earlier batch), which would make a pipeline look settled while records are still unread. The high watermark a Fetch
//! answer carries is the real one, so each partition is read from a lower bound up to its end-of-partition
//! event, and only the records past what is needed are fetched.

use std::time::Duration;

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

/// A record the broker would not take; every other one was produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Its position in the slice given to [`produce_lines`].
    pub index: usize,
    pub reason: String,
}

/// Produces one record per line, keyed by line number (AEP's key is optional and opaque). `progress` is
/// called with the count sent so far. A record too large for the broker is skipped and returned, so one
/// oversized record does not stop the rest; any other failure ends the load.
pub async fn produce_lines<L: AsRef<[u8]>>(
    bootstrap: &str,
    topic: &str,
    lines: &[L],
    mut progress: impl FnMut(usize),
) -> anyhow::Result<Vec<Refused>> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("acks", "all")
        .create()
        .context("creating the exports producer")?;
    let chunk = 2_000;
    let mut refused = Vec::new();
    for (start, batch) in lines.chunks(chunk).enumerate().map(|(i, b)| (i * chunk, b)) {
        let keys: Vec<String> = (start..start + batch.len())
            .map(|i| format!("profile-export-{i}"))
            .collect();
        let sends = batch.iter().zip(&keys).map(|(line, key)| {
            producer.send(
                FutureRecord::to(topic).key(key).payload(line.as_ref()),
                Duration::from_secs(30),
            )
        });
        // join_all polls every send at once: librdkafka batches them instead of waiting out linger.ms
        // once per record.
        for (offset, result) in futures::future::join_all(sends)
            .await
            .into_iter()
            .enumerate()
        {
            match result {
                Ok(_) => {}
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                    refused.push(Refused {
                        index: start + offset,
                        reason: format!(
                            "{} bytes, more than the broker's maximum message size",
                            batch[offset].as_ref().len()
                        ),
                    })
                }
                Err((error, _)) => anyhow::bail!("producing to {topic}: {error}"),
            }
        }
        progress(start + batch.len());
    }
    Ok(refused)
}

/// Records on `topic` not yet committed by `group`: the sum over partitions of end offset minus committed
/// offset (a partition the group never committed counts from its start).
pub fn group_lag(bootstrap: &str, group: &str, topic: &str) -> anyhow::Result<i64> {
    // Only asks the group for its offsets: reading happens under another group id, so nothing this does
    // can ever move the group's progress.
    let group_client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let reader = Reader::new(bootstrap)?;
    let partitions = reader.partitions(topic)?;
    let mut list = TopicPartitionList::new();
    for partition in &partitions {
        list.add_partition(topic, *partition);
    }
    let committed = group_client.committed_offsets(list, TIMEOUT)?;
    let mut done = Vec::with_capacity(partitions.len());
    let mut from = Vec::with_capacity(partitions.len());
    for partition in partitions {
        let (low, reported_end) = reader
            .consumer
            .fetch_watermarks(topic, partition, TIMEOUT)?;
        let committed = match committed
            .find_partition(topic, partition)
            .map(|e| e.offset())
        {
            Some(Offset::Offset(offset)) => offset,
            _ => low,
        };
        done.push(committed);
        // The real end is at least the reported one and at least what was committed.
        from.push((partition, reported_end.max(committed)));
    }
    let ends = reader.read_to_end(topic, &from, |_| {})?;
    Ok(ends
        .iter()
        .zip(done)
        .map(|(end, done)| (end - done).max(0))
        .sum())
}

/// Records currently on `topic` (end minus start offsets, all partitions).
pub fn topic_size(bootstrap: &str, topic: &str) -> anyhow::Result<i64> {
    let mut count = 0;
    read_all(bootstrap, topic, |_| count += 1)?;
    Ok(count)
}

/// Every record currently on `topic`, partition by partition, read without committing (so no group's
/// progress moves). For tests and diagnostics: bounded by the topic's size when called.
pub fn read_topic(bootstrap: &str, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
    let mut records = Vec::new();
    read_all(bootstrap, topic, |message| records.push(message))?;
    Ok(records)
}

fn read_all(bootstrap: &str, topic: &str, each: impl FnMut(OwnedMessage)) -> anyhow::Result<()> {
    let reader = Reader::new(bootstrap)?;
    let mut from = Vec::new();
    for partition in reader.partitions(topic)? {
        let (low, _) = reader
            .consumer
            .fetch_watermarks(topic, partition, TIMEOUT)?;
        from.push((partition, low));
    }
    reader.read_to_end(topic, &from, each)?;
    Ok(())
}

const TIMEOUT: Duration = Duration::from_secs(5);
/// How long reading up to the end of every partition may take before the measurement gives up.
const READ_BUDGET: Duration = Duration::from_secs(60);

/// A consumer that never commits, used only to look at a topic.
struct Reader {
    consumer: BaseConsumer,
}

impl Reader {
    fn new(bootstrap: &str) -> anyhow::Result<Self> {
        let consumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "pxstream-inspect")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()?;
        Ok(Self { consumer })
    }

    fn partitions(&self, topic: &str) -> anyhow::Result<Vec<i32>> {
        let metadata = self.consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        Ok(metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect())
    }

    /// Reads each `(partition, offset)` from that offset to the partition's end, handing every record to
    /// `each`; returns the end offsets (one past the last record), in the order of `from`.
    fn read_to_end(
        &self,
        topic: &str,
        from: &[(i32, i64)],
        mut each: impl FnMut(OwnedMessage),
    ) -> anyhow::Result<Vec<i64>> {
        let mut ends: std::collections::HashMap<i32, i64> = from
            .iter()
            .map(|&(partition, offset)| (partition, offset))
            .collect();
        if from.is_empty() {
            return Ok(Vec::new());
        }
        let mut list = TopicPartitionList::new();
        for &(partition, offset) in from {
            list.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        }
        self.consumer.assign(&list)?;
        let mut open: std::collections::HashSet<i32> = ends.keys().copied().collect();
        let deadline = std::time::Instant::now() + READ_BUDGET;
        while !open.is_empty() {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{} partition(s) of {topic} not read to their end within {READ_BUDGET:?}",
                open.len()
            );
            match self.consumer.poll(Duration::from_millis(200)) {
                Some(Ok(message)) => {
                    let message = message.detach();
                    ends.insert(message.partition(), message.offset() + 1);
                    each(message);
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    open.remove(&partition);
                }
                Some(Err(error)) => return Err(error).context(format!("reading {topic}")),
                None => {}
            }
        }
        Ok(from.iter().map(|(partition, _)| ends[partition]).collect())
    }
}
