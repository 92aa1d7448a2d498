//! `pxstream-ingest --config FILE`: the ingest service.

use std::path::PathBuf;

use clap::Parser;
use pxstream_core::admin::{self, Readiness};
use pxstream_core::config::Config;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Consumes AEP profile exports and emits PX membership changes"
)]
struct Args {
    /// Configuration file (TOML or JSON); `PXSTREAM_*` variables override it.
    #[arg(long, env = "PXSTREAM_CONFIG")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pxstream-ingest: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    match serve(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("ingest failed: {error:#}");
            eprintln!("pxstream-ingest: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let _telemetry = pxstream_core::telemetry::init("pxstream-ingest", &config.telemetry)?;
    let metrics = admin::install_metrics()?;
    let shutdown = CancellationToken::new();
    admin::cancel_on_signal(shutdown.clone());
    let readiness = Readiness::default();
    let admin_addr = admin::serve(
        config.ingest.admin_listen,
        readiness.clone(),
        metrics,
        shutdown.clone(),
    )
    .await?;
    tracing::info!(%admin_addr, "admin endpoints up");
    readiness.set(true);
    let stopping = shutdown.clone();
    let ready = readiness.clone();
    tokio::spawn(async move {
        stopping.cancelled().await;
        ready.set(false);
    });
    pxstream_ingest::run(config, shutdown).await
}
