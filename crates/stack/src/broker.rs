//! The Kafka-protocol broker: a tansu process storing its log in an SQLite file of the stack's own, and
//! the topics the pipeline uses.
//!
//! Not tansu's `memory://` engine: its cached partition watermarks go stale across connections, so a
//! consumer restarted after a crash can be told the log ends before offsets it already committed, and
//! resume past records it never processed. The SQLite engine answers from one database and keeps every
//! offset a restarted consumer asks for.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::process::Service;
use crate::tools;

/// The broker's own log filter: its warnings and errors, nothing per request or per record.
pub const BROKER_LOG_FILTER: &str = "warn";

#[derive(Debug)]
pub struct Broker {
    pub service: Service,
    pub bootstrap: String,
}

impl Broker {
    /// Starts a broker whose log lives in `data` (a fresh directory gives an empty broker).
    pub async fn start(data: &Path, logs: &Path) -> anyhow::Result<Self> {
        let port = tools::free_port()?;
        let url = format!("tcp://127.0.0.1:{port}");
        let program = tools::tansu()?;
        // tansu reads an `sqlite://` path relative to its working directory, whatever its form. Its log
        // filter is fixed rather than inherited: a `RUST_LOG=debug` meant for pxstream makes tansu log the
        // records it handles, which grows to gigabytes and copies the profiles' personal data into its log.
        let mut service = Service::spawn_in(
            "broker",
            &program,
            &[
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "sqlite://broker.db",
            ],
            logs,
            Some(data),
            &[("RUST_LOG", BROKER_LOG_FILTER)],
        )?;
        service.wait_port(port, Duration::from_secs(30)).await?;
        Ok(Self {
            service,
            bootstrap: format!("127.0.0.1:{port}"),
        })
    }

    /// Creates the topics; a topic that already exists is fine.
    pub async fn create_topics(&self, topics: &[(&str, i32)]) -> anyhow::Result<()> {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .context("admin client")?;
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in admin
            .create_topics(&new, &options)
            .await
            .context("creating topics")?
        {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => anyhow::bail!("creating topic {topic}: {code}"),
            }
        }
        Ok(())
    }
}
