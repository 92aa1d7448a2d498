//! Running the simulator in-process: [`spawn`] for tests, [`spawn_at`] for the binary.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::SimConfig;
use crate::conn::{ConnHandle, DroppableListener};
use crate::faults::FaultSpec;
use crate::state::SimState;
use crate::store::Sim;

/// How long `shutdown` lets in-flight requests (a slow fault, say) finish before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Starts a simulator on `127.0.0.1` with an ephemeral port.
pub async fn spawn(config: SimConfig) -> anyhow::Result<SimHandle> {
    spawn_at(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
}

/// Starts a simulator on `addr`.
pub async fn spawn_at(config: SimConfig, addr: SocketAddr) -> anyhow::Result<SimHandle> {
    let sim = Arc::new(Sim::new(config)?);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let addr = listener.local_addr()?;
    let app =
        crate::routes::router(sim.clone()).into_make_service_with_connect_info::<ConnHandle>();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(DroppableListener::new(listener), app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the simulator stopped serving");
        }
    });
    Ok(SimHandle {
        addr,
        sim,
        cancel,
        task: Some(task),
    })
}

/// A running simulator. Dropping it stops the server; [`SimHandle::shutdown`] also waits for it.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    sim: Arc<Sim>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the PX base URL to give a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OAuth token URL (`{base_url}/oauth/token`).
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url())
    }

    pub fn config(&self) -> &SimConfig {
        self.sim.config()
    }

    /// The same snapshot `GET /__sim/state` serves.
    pub fn state(&self) -> SimState {
        self.sim.snapshot()
    }

    /// Same as `POST /__sim/faults`: replaces the spec of its scope and runs one-shot actions.
    pub fn set_faults(&self, spec: FaultSpec) -> anyhow::Result<()> {
        self.sim.set_faults(spec).map_err(anyhow::Error::msg)
    }

    /// Removes every fault spec, global and scoped.
    pub fn clear_faults(&self) {
        *self.sim.faults() = crate::faults::FaultState::default();
    }

    /// Same as `POST /__sim/reset`.
    pub fn reset(&self) {
        self.sim.reset();
    }

    /// Stops accepting, lets in-flight requests finish for a short grace period, then returns.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }

    /// Waits until the server stops (it only stops through [`SimHandle::shutdown`] or a fatal error).
    pub async fn stopped(&mut self) {
        if let Some(task) = self.task.as_mut() {
            let _ = task.await;
            self.task = None;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
