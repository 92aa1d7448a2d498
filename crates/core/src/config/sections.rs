//! The per-service sections: Kafka, ingest, mapping, delivery, telemetry.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Deserialize;

use super::ConfigError;

/// Kafka endpoints and topics. `properties` pass through to librdkafka unchanged, so SASL_SSL (Azure Event
/// Hubs' Kafka endpoint, Confluent Cloud, MSK) needs no code: `"security.protocol" = "SASL_SSL"`, ...
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    #[serde(default = "default_exports_topic")]
    pub exports_topic: String,
    #[serde(default = "default_changes_topic")]
    pub changes_topic: String,
    #[serde(default = "default_dead_letter_topic")]
    pub dead_letter_topic: String,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

fn default_exports_topic() -> String {
    "aep.profile-exports".into()
}
fn default_changes_topic() -> String {
    "pxstream.membership-changes".into()
}
fn default_dead_letter_topic() -> String {
    "pxstream.dead-letter".into()
}

/// librdkafka keys the services set themselves; overriding them would break the delivery guarantees.
const RESERVED_KAFKA_PROPERTIES: &[&str] = &[
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "bootstrap.servers",
];

impl KafkaConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.bootstrap_servers.trim().is_empty() {
            return Err(ConfigError::invalid(
                "kafka.bootstrap_servers",
                "must not be empty",
            ));
        }
        for (field, topic) in [
            ("kafka.exports_topic", &self.exports_topic),
            ("kafka.changes_topic", &self.changes_topic),
            ("kafka.dead_letter_topic", &self.dead_letter_topic),
        ] {
            let valid = !topic.is_empty()
                && topic.len() <= 249
                && topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid {
                return Err(ConfigError::invalid(
                    field,
                    "must be a Kafka topic name ([A-Za-z0-9._-], 1-249 chars)",
                ));
            }
        }
        if self.exports_topic == self.changes_topic {
            return Err(ConfigError::invalid(
                "kafka.changes_topic",
                "must differ from kafka.exports_topic",
            ));
        }
        for (key, value) in &self.properties {
            if RESERVED_KAFKA_PROPERTIES.contains(&key.as_str()) {
                return Err(ConfigError::invalid(
                    format!("kafka.properties.{key}"),
                    "is set by pxstream itself; use the dedicated setting",
                ));
            }
            check_kafka_property(key, value)?;
        }
        Ok(())
    }
}

/// Lets librdkafka judge one pass-through property now, without connecting anywhere, so a typo fails at
/// start as a configuration error. librdkafka's own message repeats the value (a SASL password, say), so
/// only its verdict is kept.
fn check_kafka_property(key: &str, value: &str) -> Result<(), ConfigError> {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaConfRes;

    let Err(error) = rdkafka::ClientConfig::new()
        .set(key, value)
        .create_native_config()
    else {
        return Ok(());
    };
    // A property name is echoed only when shaped like one: a misplaced value must not slip out as a key.
    let named = key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_'));
    let field = if named {
        format!("kafka.properties.{key}")
    } else {
        "kafka.properties.<redacted key>".to_owned()
    };
    let problem = match error {
        KafkaError::ClientConfig(RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN, ..) => {
            "is not a librdkafka configuration property"
        }
        _ => "librdkafka refuses this value (not repeated here)",
    };
    Err(ConfigError::invalid(field, problem))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    pub group_id: String,
    /// Health, readiness and metrics.
    pub admin_listen: SocketAddr,
    /// Records resolved in one mapping call.
    pub batch_max_records: usize,
    /// How long a partial batch may wait for more records.
    pub batch_linger_ms: u64,
    pub session_timeout_ms: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            group_id: "pxstream-ingest".into(),
            admin_listen: ([127, 0, 0, 1], 9401).into(),
            batch_max_records: 500,
            batch_linger_ms: 50,
            session_timeout_ms: 10_000,
        }
    }
}

impl IngestConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.batch_max_records == 0 {
            return Err(ConfigError::invalid(
                "ingest.batch_max_records",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappingConfig {
    /// Where the mapping service serves gRPC.
    pub listen: SocketAddr,
    /// Where clients reach it.
    pub endpoint: String,
    pub admin_listen: SocketAddr,
    /// The identity graph and held changes: `sqlite://path`, an embedded SQLite database (the only kind of
    /// store supported so far).
    pub store: String,
    pub request_timeout_ms: u64,
    /// A released held change not acknowledged within this time is offered again.
    pub release_lease_ms: u64,
}

impl Default for MappingConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 50051).into(),
            endpoint: "http://127.0.0.1:50051".into(),
            admin_listen: ([127, 0, 0, 1], 9402).into(),
            store: "sqlite://pxstream-mapping.db".into(),
            request_timeout_ms: 10_000,
            release_lease_ms: 30_000,
        }
    }
}

impl MappingConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        check_store("mapping.store", &self.store)
    }
}

/// Only embedded SQLite is implemented; any other URL would fail only once the service started opening it.
/// The URL is not repeated: a database URL can carry a password.
fn check_store(field: &str, url: &str) -> Result<(), ConfigError> {
    // sqlx reads `sqlite://path`, `sqlite:path` and `sqlite::memory:`.
    if url
        .strip_prefix("sqlite:")
        .is_some_and(|rest| !rest.is_empty())
    {
        return Ok(());
    }
    Err(ConfigError::invalid(
        field,
        "must be an embedded SQLite store, sqlite://path; no other kind of store is supported yet",
    ))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    pub group_id: String,
    pub admin_listen: SocketAddr,
    /// Last applied state per (destination, PX user, audience): `sqlite://path`, an embedded SQLite
    /// database (the only kind of store supported so far).
    pub store: String,
    /// PX's largest accepted batch is not public: identities per `update_membership` call.
    pub max_identities_per_call: usize,
    /// How long a partial batch may wait for more changes.
    pub linger_ms: u64,
    pub request_timeout_ms: u64,
    /// Backoff bounds for retryable PX answers when no `Retry-After` is given.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    pub session_timeout_ms: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            group_id: "pxstream-delivery".into(),
            admin_listen: ([127, 0, 0, 1], 9403).into(),
            store: "sqlite://pxstream-delivery.db".into(),
            max_identities_per_call: 1000,
            linger_ms: 200,
            request_timeout_ms: 10_000,
            retry_initial_ms: 200,
            retry_max_ms: 30_000,
            session_timeout_ms: 10_000,
        }
    }
}

impl DeliveryConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        check_store("delivery.store", &self.store)?;
        if self.max_identities_per_call == 0 {
            return Err(ConfigError::invalid(
                "delivery.max_identities_per_call",
                "must be at least 1",
            ));
        }
        if self.retry_initial_ms == 0 || self.retry_initial_ms > self.retry_max_ms {
            return Err(ConfigError::invalid(
                "delivery.retry_initial_ms",
                "must be positive and not above delivery.retry_max_ms",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    /// `RUST_LOG`-style filter.
    pub log_filter: String,
    /// OTLP/gRPC endpoint for traces; none = no export. `OTEL_EXPORTER_OTLP_ENDPOINT` also enables it.
    pub otlp_endpoint: Option<String>,
}

impl TelemetryConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        // Checked here, not left to the subscriber: it would ignore a bad directive and print it, value
        // and all, on every start.
        tracing_subscriber::EnvFilter::builder()
            .parse(&self.log_filter)
            .map(drop)
            .map_err(|_| {
                ConfigError::invalid(
                    "telemetry.log_filter",
                    "is not a RUST_LOG-style filter (e.g. \"info\" or \"info,pxstream_delivery=debug\")",
                )
            })
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
            otlp_endpoint: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for machines.
    Json,
    /// For people.
    Pretty,
}
