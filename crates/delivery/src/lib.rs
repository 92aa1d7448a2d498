//! pxstream's delivery stage: membership changes from the internal changes topic to Gainsight PX external
//! segments.
//!
//! Invariants:
//! - An offset is committed only after every change before it is acknowledged by PX (a 200 for a call
//!   carrying it) or set aside (remembered, dropped as stale, or accepted by the dead-letter topic).
//!   Duplication is legal, loss is not.
//! - A change older than the last applied one for its (destination, PX user, audience) never reaches PX, and
//!   the stored applied state never moves back to an older version. At equal `lastQualificationTime` an exit
//!   wins, so the end state does not depend on arrival order.
//! - A membership whose last call to PX has no recorded answer (the process died mid-call) is in doubt: PX
//!   may hold that call's state, so a later change of it is sent, never assumed a no-op, until an answer
//!   is recorded.
//! - Changes of one membership reach PX in version order: a batch carries at most one change per
//!   membership, and one batch is settled before the next is sent.
//! - Every audience a change is sent for exists in PX as an external segment under its configured name.
//! - A retryable PX failure is retried until it succeeds or shutdown ends the drain budget; it is never
//!   dropped. A refusal that no retry can fix for one change sends that change, and only it, to the
//!   dead-letter topic; a refusal that would hit every change (credentials, feature off) stops the service.
//! - Identity values and credentials never reach logs, metrics or dead-letter reasons.

mod batcher;
mod consumer;
mod deliver;
mod ledger;
pub mod metrics;
mod plan;
pub mod px;
mod retry;
mod segments;
mod store;
#[cfg(test)]
mod testing;

use std::time::Duration;

use pxstream_core::admin::Readiness;
use pxstream_core::config::Config;
use tokio_util::sync::CancellationToken;

pub use batcher::{Batcher, Coalesced, Envelope, coalesce};
pub use deliver::{DeadLetterItem, Delivery, DeliveryError, Report};
pub use ledger::{OffsetLedger, Rejected, Ticket};
pub use plan::{Call, Item, Plan, plan};
pub use px::{ClientSettings, PxClient, PxError};
pub use retry::{RetryPolicy, parse_retry_after};
pub use segments::{SegmentStatus, Segments};
pub use store::{MembershipKey, SentSegment, StateStore};

/// After shutdown starts, how long the in-flight batch may keep retrying before the service stops without
/// committing it. Below Kubernetes' default 30 s termination grace period.
pub const DRAIN_BUDGET: Duration = Duration::from_secs(20);

/// Runs delivery until `shutdown` fires, or until an error an operator must act on.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_with_readiness(config, shutdown, Readiness::default()).await
}

/// Like [`run`], reporting readiness (true once consuming; false from shutdown or failure on).
pub async fn run_with_readiness(
    config: Config,
    shutdown: CancellationToken,
    readiness: Readiness,
) -> anyhow::Result<()> {
    let abort = CancellationToken::new();
    let done = CancellationToken::new();
    tokio::spawn({
        let (shutdown, abort, done, readiness) = (
            shutdown.clone(),
            abort.clone(),
            done.clone(),
            readiness.clone(),
        );
        async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = done.cancelled() => return,
            }
            readiness.set(false);
            tokio::select! {
                () = tokio::time::sleep(DRAIN_BUDGET) => {
                    tracing::warn!("drain budget spent, abandoning retries");
                    abort.cancel();
                }
                () = done.cancelled() => {}
            }
        }
    });
    let result = run_inner(&config, &shutdown, &abort, &readiness).await;
    readiness.set(false);
    done.cancel();
    result
}

async fn run_inner(
    config: &Config,
    shutdown: &CancellationToken,
    abort: &CancellationToken,
    readiness: &Readiness,
) -> anyhow::Result<()> {
    let store = StateStore::open(&config.delivery.store).await?;
    let mut delivery = Delivery::new(config, store.clone(), abort.clone())?;
    let synced = tokio::select! {
        synced = delivery.sync_segments() => synced,
        // Nothing is in flight yet: an interrupted sync is simply done again at the next start.
        () = shutdown.cancelled() => return Ok(()),
    };
    synced.map_err(|error| anyhow::anyhow!(error).context("syncing segment metadata with PX"))?;
    let consumed = consumer::ConsumerLoop {
        config,
        delivery: &mut delivery,
        shutdown: shutdown.clone(),
        abort: abort.clone(),
        readiness: readiness.clone(),
    }
    .run()
    .await;
    store.close().await;
    consumed
}
