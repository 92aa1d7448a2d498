//! Starting, driving and stopping one whole pipeline.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use pxstream_core::config::ActivationFile;

use crate::broker::Broker;
use crate::check::PxState;
use crate::config_file::{self, DemoAuth, Endpoints};
use crate::kafka_io::{self, Refused};
use crate::metrics_text::Metrics;
use crate::process::Service;
use crate::tools;

pub const EXPORTS_TOPIC: &str = "aep.profile-exports";
pub const CHANGES_TOPIC: &str = "pxstream.membership-changes";
pub const DEAD_LETTER_TOPIC: &str = "pxstream.dead-letter";
pub const INGEST_GROUP: &str = "pxstream-ingest";
pub const DELIVERY_GROUP: &str = "pxstream-delivery";
/// The simulator's demo subscription, which the stack's destination writes to.
pub const SUBSCRIPTION: &str = "sub-demo";

#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Where logs, the configuration file and the services' stores go.
    pub dir: PathBuf,
    pub activation: ActivationFile,
    pub auth: DemoAuth,
    pub partitions: i32,
}

/// A running pipeline. Dropping it kills every process it started.
#[derive(Debug)]
pub struct Stack {
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub endpoints: Endpoints,
    pub broker: Broker,
    pub px_sim: Service,
    pub mapping: Option<Service>,
    pub delivery: Option<Service>,
    pub ingest: Option<Service>,
}

impl Stack {
    /// Starts broker, simulator, mapping, delivery and ingest, in that order, each ready before the next.
    pub async fn start(
        options: StackOptions,
        mut progress: impl FnMut(&str),
    ) -> anyhow::Result<Self> {
        // Absolute, so the configuration file it writes works from any directory (an operator restarting
        // a service of a `--keep` run by hand).
        let dir = std::path::absolute(&options.dir)
            .with_context(|| format!("resolving {}", options.dir.display()))?;
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let data = dir.join("data");
        std::fs::create_dir_all(&data)?;

        progress("starting the Kafka-protocol broker (tansu)");
        let broker = Broker::start(&data, &logs).await?;
        broker
            .create_topics(&[
                (EXPORTS_TOPIC, options.partitions),
                (CHANGES_TOPIC, options.partitions),
                (DEAD_LETTER_TOPIC, 1),
            ])
            .await?;

        progress("starting the PX simulator");
        let sim_port = tools::free_port()?;
        let listen = format!("127.0.0.1:{sim_port}");
        let mut px_sim = Service::spawn(
            "px-sim",
            &tools::binary("px-sim")?,
            &["--listen", &listen],
            &logs,
        )?;
        let px_base_url = format!("http://127.0.0.1:{sim_port}");
        px_sim
            .wait_http_ok(
                &format!("{px_base_url}/__sim/health"),
                Duration::from_secs(30),
            )
            .await?;

        let endpoints = Endpoints {
            bootstrap: broker.bootstrap.clone(),
            px_base_url,
            mapping_grpc: tools::free_port()?,
            mapping_admin: tools::free_port()?,
            ingest_admin: tools::free_port()?,
            delivery_admin: tools::free_port()?,
        };
        let config_path = dir.join("pxstream.toml");
        std::fs::write(
            &config_path,
            config_file::render(&options.activation, &endpoints, options.auth, &data)?,
        )?;

        let mut stack = Stack {
            dir,
            config_path,
            endpoints,
            broker,
            px_sim,
            mapping: None,
            delivery: None,
            ingest: None,
        };
        for name in ["mapping", "delivery", "ingest"] {
            progress(&format!("starting pxstream-{name}"));
            stack.start_service(name).await?;
        }
        Ok(stack)
    }

    fn admin_port(&self, name: &str) -> u16 {
        match name {
            "mapping" => self.endpoints.mapping_admin,
            "delivery" => self.endpoints.delivery_admin,
            _ => self.endpoints.ingest_admin,
        }
    }

    fn slot(&mut self, name: &str) -> &mut Option<Service> {
        match name {
            "mapping" => &mut self.mapping,
            "delivery" => &mut self.delivery,
            _ => &mut self.ingest,
        }
    }

    /// Starts (or restarts) one of `mapping`, `delivery`, `ingest` and waits for its readiness.
    pub async fn start_service(&mut self, name: &str) -> anyhow::Result<()> {
        let program = tools::binary(&format!("pxstream-{name}"))?;
        let config = self.config_path.to_string_lossy().into_owned();
        let mut service = Service::spawn(
            name,
            &program,
            &["--config", &config],
            &self.dir.join("logs"),
        )?;
        let ready = format!("http://127.0.0.1:{}/readyz", self.admin_port(name));
        service
            .wait_http_ok(&ready, Duration::from_secs(60))
            .await?;
        *self.slot(name) = Some(service);
        Ok(())
    }

    /// Stops a service: gracefully (SIGTERM), or as a crash would (SIGKILL) when `crash` is set.
    pub async fn stop_service(&mut self, name: &str, crash: bool) {
        if let Some(service) = self.slot(name).take() {
            if crash {
                service.kill().await
            } else {
                service.stop().await
            }
        }
    }

    /// Loads records onto the exports topic, failing if the broker refuses any of them.
    pub async fn produce_exports<L: AsRef<[u8]>>(
        &self,
        lines: &[L],
        progress: impl FnMut(usize),
    ) -> anyhow::Result<()> {
        let refused = self.load_exports(lines, progress).await?;
        if let Some(first) = refused.first() {
            anyhow::bail!(
                "{} record(s) not produced; record {} (0-based): {}",
                refused.len(),
                first.index,
                first.reason
            );
        }
        Ok(())
    }

    /// Loads records onto the exports topic, skipping and returning those too large for the broker.
    pub async fn load_exports<L: AsRef<[u8]>>(
        &self,
        lines: &[L],
        progress: impl FnMut(usize),
    ) -> anyhow::Result<Vec<Refused>> {
        kafka_io::produce_lines(&self.endpoints.bootstrap, EXPORTS_TOPIC, lines, progress).await
    }

    /// Waits until both consumer groups have committed everything on their topics, and it stays so for a
    /// moment. `progress` gets (ingest lag, delivery lag) on each poll.
    pub async fn wait_settled(
        &mut self,
        timeout: Duration,
        mut progress: impl FnMut(i64, i64),
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut quiet_polls = 0;
        loop {
            for service in [&mut self.mapping, &mut self.delivery, &mut self.ingest]
                .into_iter()
                .flatten()
            {
                service.ensure_running()?;
            }
            let bootstrap = self.endpoints.bootstrap.clone();
            // Ingest first: once it has committed, everything it will emit for those records is on the topic.
            let ingest_lag =
                kafka_io::group_lag(&bootstrap, INGEST_GROUP, EXPORTS_TOPIC).unwrap_or(i64::MAX);
            let delivery_lag =
                kafka_io::group_lag(&bootstrap, DELIVERY_GROUP, CHANGES_TOPIC).unwrap_or(i64::MAX);
            // Held changes released to an ingest that crashed before emitting them come back after their
            // lease: not settled while any is outstanding.
            let leased = match self.metrics("mapping").await {
                Ok(metrics) => metrics.sum("pxstream_mapping_released_unacknowledged", &[]),
                Err(_) => f64::MAX,
            };
            progress(ingest_lag, delivery_lag);
            let settled = ingest_lag == 0 && delivery_lag == 0 && leased == 0.0;
            quiet_polls = if settled { quiet_polls + 1 } else { 0 };
            if quiet_polls >= 4 {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "pipeline did not settle within {timeout:?} (ingest lag {ingest_lag}, delivery lag {delivery_lag}, released changes unacknowledged {leased}); logs in {}",
                    self.dir.join("logs").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn px_state(&self) -> anyhow::Result<PxState> {
        PxState::fetch(&self.endpoints.px_base_url, SUBSCRIPTION).await
    }

    /// Sets the simulator's fault injection (`POST /__sim/faults`); `{}` clears it.
    pub async fn set_px_faults(&self, faults: serde_json::Value) -> anyhow::Result<()> {
        reqwest::Client::new()
            .post(format!("{}/__sim/faults", self.endpoints.px_base_url))
            .json(&faults)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    pub async fn metrics(&self, name: &str) -> anyhow::Result<Metrics> {
        Metrics::fetch(&format!(
            "http://127.0.0.1:{}/metrics",
            self.admin_port(name)
        ))
        .await
    }

    pub fn dead_letter_count(&self) -> anyhow::Result<i64> {
        kafka_io::topic_size(&self.endpoints.bootstrap, DEAD_LETTER_TOPIC)
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// Stops everything, services first so they can finish their batch.
    pub async fn stop(mut self) {
        for name in ["ingest", "delivery", "mapping"] {
            self.stop_service(name, false).await;
        }
        self.px_sim.stop().await;
        self.broker.service.stop().await;
    }
}

/// Reads a JSON-lines file, skipping blank lines.
pub fn read_lines(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}
