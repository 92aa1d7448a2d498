//! `pxstream-delivery --config FILE`: the delivery service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pxstream_core::admin::{self, Readiness};
use pxstream_core::config::Config;
use pxstream_core::telemetry;
use tokio_util::sync::CancellationToken;

/// Sends membership changes from the changes topic to Gainsight PX.
#[derive(Debug, Parser)]
#[command(name = "pxstream-delivery", version)]
struct Args {
    /// Configuration file (TOML, or JSON by extension); `PXSTREAM_*` variables override it.
    #[arg(long, env = "PXSTREAM_CONFIG")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pxstream-delivery: {error}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = match telemetry::init("pxstream-delivery", &config.telemetry) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("pxstream-delivery: telemetry: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "pxstream-delivery stopped");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let metrics = admin::install_metrics()?;
    let shutdown = CancellationToken::new();
    admin::cancel_on_signal(shutdown.clone());
    let readiness = Readiness::default();
    let admin_stop = CancellationToken::new();
    let addr = admin::serve(
        config.delivery.admin_listen,
        readiness.clone(),
        metrics,
        admin_stop.clone(),
    )
    .await?;
    tracing::info!(%addr, "admin endpoints listening");
    let result = pxstream_delivery::run_with_readiness(config, shutdown, readiness).await;
    admin_stop.cancel();
    result
}
