//! The common life of a pxstream service binary: read `--config`, validate it, start telemetry, metrics and
//! the admin endpoints, turn SIGTERM into a cancellation, run the service body, and map the outcome to an
//! exit status.
//!
//! Exit status: 0 after a requested shutdown, 2 for an unusable configuration (nothing was started),
//! 1 when the service failed (an operator must look).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::admin::{self, Readiness};
use crate::config::Config;

#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML, or JSON by extension); `PXSTREAM_<SECTION>__<KEY>` variables override it.
    #[arg(long, env = "PXSTREAM_CONFIG")]
    config: PathBuf,
}

/// What a service body gets: readiness to raise once it can take work, and the shutdown signal.
/// Readiness is lowered for it as soon as shutdown starts.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub readiness: Readiness,
    pub shutdown: CancellationToken,
    pub admin_addr: SocketAddr,
}

/// Runs a service binary. `admin_listen` picks the service's admin address from the configuration.
pub fn main<F, Fut>(
    name: &'static str,
    admin_listen: fn(&Config) -> SocketAddr,
    body: F,
) -> ExitCode
where
    F: FnOnce(Config, ServiceContext) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{name}: {}: {error}", args.config.display());
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(name, config, admin_listen, body)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "{name} stopped on an error");
            eprintln!("{name}: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve<F, Fut>(
    name: &'static str,
    config: Config,
    admin_listen: fn(&Config) -> SocketAddr,
    body: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Config, ServiceContext) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let _telemetry = crate::telemetry::init(name, &config.telemetry)?;
    let metrics = admin::install_metrics()?;
    let shutdown = CancellationToken::new();
    admin::cancel_on_signal(shutdown.clone());
    let readiness = Readiness::default();
    // The admin endpoints outlive the body's shutdown so /healthz answers while the service drains.
    let admin_stop = CancellationToken::new();
    let admin_addr = admin::serve(
        admin_listen(&config),
        readiness.clone(),
        metrics,
        admin_stop.clone(),
    )
    .await?;
    tracing::info!(%admin_addr, "{name} admin endpoints listening");
    {
        let (readiness, shutdown) = (readiness.clone(), shutdown.clone());
        tokio::spawn(async move {
            shutdown.cancelled().await;
            readiness.set(false);
        });
    }
    let context = ServiceContext {
        readiness,
        shutdown,
        admin_addr,
    };
    let result = body(config, context).await;
    admin_stop.cancel();
    result
}
