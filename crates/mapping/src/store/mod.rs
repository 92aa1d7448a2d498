//! Persistence of the identity graph and of held changes, behind two small traits so that a PostgreSQL
//! implementation can sit beside the SQLite one.
//!
//! The graph is stored flattened: each identity row names its component, so "all ids of namespace N linked
//! to this profile" is one indexed lookup, and a merge relabels the smaller component into the larger one
//! (amortised O(n log n) over the life of the graph). The algorithms live outside the store ([`crate::graph`],
//! [`crate::resolver`]); a store only offers set-at-a-time primitives, each one statement or a few, so a
//! batch of hundreds of profiles costs a handful of round trips, not one per identity.

pub mod sqlite;
mod sqlite_states;

use std::collections::HashMap;
use std::future::Future;

use pxstream_core::{Classify, DestinationName, ErrorClass, Namespace};

use crate::held::{HeldChange, ReleasedChange};

/// A connected component of the identity graph. Opaque; only equality matters.
pub type ComponentId = i64;

/// One identity: a value in a (normalised) namespace. The value is personal data.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityKey {
    pub namespace: Namespace,
    pub value: String,
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IdentityKey({}:{})",
            self.namespace,
            pxstream_core::fingerprint(&self.value)
        )
    }
}

/// Folding one component into another: every identity and held change of `from` moves to `into`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub from: ComponentId,
    pub into: ComponentId,
}

/// The store could not do its part. Always worth retrying: the input was valid, the store was not there.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("store: schema migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store: unsupported URL scheme {0:?}; expected sqlite://path")]
    UnsupportedUrl(String),
    #[error("store: {0}")]
    Corrupt(String),
}

impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Database(_) => ErrorClass::RETRY,
            StoreError::Migrate(_) | StoreError::UnsupportedUrl(_) | StoreError::Corrupt(_) => {
                ErrorClass::FailFast
            }
        }
    }
}

/// A store of the identity graph and held changes.
pub trait Store: Clone + Send + Sync + 'static {
    type Tx: StoreTx;

    /// Starts the one transaction of a `ResolveBatch`. Writers are serialised: a transaction sees no
    /// concurrent change to the graph between its reads and its writes.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;

    /// Forgets released changes the caller has emitted. Ids that are unknown, already forgotten or not
    /// released are ignored, so acknowledging twice is harmless. Returns how many were forgotten.
    fn ack_released(&self, ids: &[i64]) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Changes currently held, released-but-unacknowledged ones included.
    fn held_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Released changes whose lease runs: offered to a caller that has not acknowledged them yet.
    fn leased_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Brings held changes in line with the configured rules (destination → source namespace), then
    /// marks every held change that now resolves for release. Run once at start, so a rule change or a
    /// release cut short by the per-answer cap is never stranded. Returns how many were marked.
    fn apply_rules(
        &self,
        rules: &[(DestinationName, Namespace)],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Waits for pending writes and closes connections.
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// The primitives of one `ResolveBatch` transaction. Nothing is visible to others before `commit`;
/// dropping the transaction rolls it back.
pub trait StoreTx: Send {
    /// The component of each identity that is already known; unknown identities are absent.
    fn components_of(
        &mut self,
        identities: &[IdentityKey],
    ) -> impl Future<Output = Result<HashMap<IdentityKey, ComponentId>, StoreError>> + Send;

    /// Number of identities in each of `components`.
    fn component_sizes(
        &mut self,
        components: &[ComponentId],
    ) -> impl Future<Output = Result<HashMap<ComponentId, u64>, StoreError>> + Send;

    /// Reserves `count` fresh component ids, returned in order.
    fn allocate_components(
        &mut self,
        count: usize,
    ) -> impl Future<Output = Result<Vec<ComponentId>, StoreError>> + Send;

    /// Adds identities that are not yet known to the given components.
    fn insert_identities(
        &mut self,
        rows: &[(IdentityKey, ComponentId)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies merges in order. Held changes move along; one that duplicates a change already held by
    /// the target component is dropped. Component states fold into the target, the newest winning.
    /// Returns how many held changes were dropped that way.
    fn merge_components(
        &mut self,
        merges: &[Merge],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// All values of each (component, namespace) pair, sorted; pairs without any value are absent.
    fn source_ids(
        &mut self,
        wanted: &[(ComponentId, Namespace)],
    ) -> impl Future<Output = Result<HashMap<(ComponentId, Namespace), Vec<String>>, StoreError>> + Send;

    /// Holds changes, skipping any already held identically. Returns how many rows were added.
    fn hold(
        &mut self,
        changes: &[HeldChange],
        now_ms: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Remembers each change as its component's state of that audience, unless the stored one is newer.
    fn record_states(
        &mut self,
        changes: &[HeldChange],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Offers again (as due releases) the stored states of components that gained a PX user: for each
    /// `(component, Some(namespace))` the states whose source is that namespace, for `(component, None)`
    /// all of them; leased changes of those components are offered again too. Returns how many rows
    /// were added to the held store.
    fn reoffer_states(
        &mut self,
        grown: &[(ComponentId, Option<Namespace>)],
        now_ms: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Marks for release the held changes of `components` whose source namespace now has an id there.
    fn mark_releasable(
        &mut self,
        components: &[ComponentId],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Leases up to `limit` released changes that are due (marked for release and never offered, or
    /// offered with a lease starting at or before `due_at_or_before_ms`), oldest first, resolved to their
    /// current PX ids; their lease restarts at `now_ms`. A change that no longer resolves goes back to
    /// being held.
    fn take_due_releases(
        &mut self,
        due_at_or_before_ms: i64,
        now_ms: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ReleasedChange>, StoreError>> + Send;

    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}
