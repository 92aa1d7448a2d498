//! `px-sim`: serves the PX simulator until interrupted.
//!
//! Prints exactly one line to stdout once listening (`px-sim listening on http://ADDR`), so
//! scripts can wait for it and read the port; everything else goes to stderr through tracing.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use pxstream_px_sim::{SimConfig, spawn_at};
use tracing_subscriber::EnvFilter;

/// A simulator of the Gainsight PX REST API.
#[derive(Debug, Parser)]
#[command(name = "px-sim", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "PX_SIM_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Configuration file (.toml, or JSON otherwise); the demo subscription when absent.
    #[arg(long, env = "PX_SIM_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let config = match &args.config {
        Some(path) => SimConfig::load(path)?,
        None => SimConfig::demo(),
    };
    let subscriptions: Vec<&str> = config.subscriptions.iter().map(|s| s.id.as_str()).collect();
    tracing::info!(?subscriptions, "starting the PX simulator");

    let mut handle = spawn_at(config, args.listen).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "px-sim listening on {}", handle.base_url())
            .and_then(|()| stdout.flush())
            .context("writing the listening line")?;
    }

    tokio::select! {
        () = shutdown_signal() => tracing::info!("shutting down"),
        () = handle.stopped() => anyhow::bail!("the simulator stopped unexpectedly"),
    }
    handle.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
