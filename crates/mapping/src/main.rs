//! `pxstream-mapping --config FILE`: serves the identity mapping gRPC service, with `/healthz`, `/readyz`
//! and `/metrics` on the admin address, until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pxstream_core::admin::{self, Readiness};
use pxstream_core::config::Config;
use pxstream_core::telemetry;
use pxstream_mapping::server::MappingServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Resolves AEP profile identities to Gainsight PX user ids over gRPC.
#[derive(Debug, Parser)]
#[command(name = "pxstream-mapping", version)]
struct Args {
    /// Configuration file (TOML, or JSON by extension); `PXSTREAM_*` variables override its keys.
    #[arg(long, env = "PXSTREAM_CONFIG")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pxstream-mapping: {}: {error}", args.config.display());
            return ExitCode::FAILURE;
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "pxstream-mapping failed");
            eprintln!("pxstream-mapping: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let _telemetry = telemetry::init("pxstream-mapping", &config.telemetry)?;
    let metrics = admin::install_metrics()?;
    let readiness = Readiness::default();
    let shutdown = CancellationToken::new();
    admin::cancel_on_signal(shutdown.clone());

    let server = MappingServer::open(&config).await?;
    let admin = admin::serve(
        config.mapping.admin_listen,
        readiness.clone(),
        metrics,
        shutdown.clone(),
    )
    .await?;
    let listener = TcpListener::bind(config.mapping.listen).await?;
    let grpc = listener.local_addr()?;
    tracing::info!(%grpc, %admin, "pxstream-mapping listening");
    server.run(listener, readiness, shutdown).await
}
