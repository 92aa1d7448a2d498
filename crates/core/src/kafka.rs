//! Kafka client settings and the dead-letter format shared by every stage.
//!
//! Dead-letter records keep the original key and payload byte for byte, and say why in headers, so a
//! replay can put them back on their source topic once the cause is fixed.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::KafkaConfig;

/// Header names on dead-letter records.
pub mod headers {
    pub const REASON: &str = "pxstream-error";
    pub const CLASS: &str = "pxstream-error-class";
    pub const STAGE: &str = "pxstream-stage";
    pub const SOURCE_TOPIC: &str = "pxstream-source-topic";
    pub const SOURCE_PARTITION: &str = "pxstream-source-partition";
    pub const SOURCE_OFFSET: &str = "pxstream-source-offset";
}

/// Base client settings: bootstrap servers plus every pass-through librdkafka property (SASL_SSL etc.).
pub fn client_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &kafka.bootstrap_servers);
    for (key, value) in &kafka.properties {
        config.set(key, value);
    }
    config
}

/// Consumer settings for the at-least-once loop: nothing is committed or stored behind the stage's back.
pub fn consumer_config(
    kafka: &KafkaConfig,
    group_id: &str,
    session_timeout_ms: u32,
) -> ClientConfig {
    let mut config = client_config(kafka);
    config
        .set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", session_timeout_ms.to_string())
        .set(
            "heartbeat.interval.ms",
            (session_timeout_ms / 3).max(100).to_string(),
        );
    config
}

/// Producer settings: idempotent-safe acks from all replicas, so an acknowledged record is durable.
pub fn producer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut config = client_config(kafka);
    config
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000");
    config
}

/// Why a record was set aside. `reason` must not contain personal data or secrets.
#[derive(Debug, Clone)]
pub struct DeadLetter<'a> {
    pub stage: &'static str,
    pub class: &'static str,
    pub reason: &'a str,
}

/// Sends the original record to the dead-letter topic with its reason. Returns only once the broker has the
/// record, so the caller may then commit past the original.
pub async fn dead_letter<M: Message>(
    producer: &FutureProducer,
    topic: &str,
    original: &M,
    why: &DeadLetter<'_>,
) -> anyhow::Result<()> {
    let partition = original.partition().to_string();
    let offset = original.offset().to_string();
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: headers::REASON,
            value: Some(why.reason),
        })
        .insert(Header {
            key: headers::CLASS,
            value: Some(why.class),
        })
        .insert(Header {
            key: headers::STAGE,
            value: Some(why.stage),
        })
        .insert(Header {
            key: headers::SOURCE_TOPIC,
            value: Some(original.topic()),
        })
        .insert(Header {
            key: headers::SOURCE_PARTITION,
            value: Some(partition.as_str()),
        })
        .insert(Header {
            key: headers::SOURCE_OFFSET,
            value: Some(offset.as_str()),
        });
    let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
    if let Some(key) = original.key() {
        record = record.key(key);
    }
    if let Some(payload) = original.payload() {
        record = record.payload(payload);
    }
    producer
        .send(record, Duration::from_secs(30))
        .await
        .map_err(|(error, _)| {
            anyhow::anyhow!("dead-letter topic {topic} refused the record: {error}")
        })?;
    Ok(())
}
