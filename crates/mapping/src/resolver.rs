//! One `ResolveBatch`, as one store transaction: learn the batch's links, resolve or hold each change
//! against the graph as it stands after the whole batch, then release held changes that now resolve.
//!
//! Linking the whole batch before resolving any of it makes the result independent of the order of the
//! records inside a batch; holding and releasing make it independent of the order across batches.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use pxstream_core::{IdentifyId, MembershipChange, Namespace};

use crate::graph::{self, LearnedLinks};
use crate::held::{HeldChange, ReleasedChange};
use crate::request::ProfileInput;
use crate::store::{ComponentId, Store, StoreError, StoreTx};

/// What happened to one profile of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileOutcome {
    /// One entry per (PX user, change).
    pub resolved: Vec<MembershipChange>,
    /// Changes of this profile that resolve to no PX user yet and are now held.
    pub held: u32,
    /// Distinct PX users the profile's changes resolved to (more than one is a fan-out).
    pub fanout: u32,
}

/// The outcome of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Aligned with the request's profiles.
    pub profiles: Vec<ProfileOutcome>,
    /// Held changes offered under a lease, oldest first.
    pub released: Vec<ReleasedChange>,
    /// Rows added to the held store (a change already held identically adds none), caught-up states
    /// included.
    pub newly_held: u64,
    /// Held rows dropped because a merge made them duplicates of another held row.
    pub held_dropped: u64,
    /// Earlier states of components that gained a PX user in this batch, added to the held store as due
    /// releases so the new user catches up (counted in `newly_held` too).
    pub caught_up: u64,
    /// Stored components folded into another by this batch.
    pub merges: usize,
}

/// Resolves batches against a store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Resolver<S> {
    store: S,
    lease: Duration,
    release_limit: usize,
}

impl<S: Store> Resolver<S> {
    pub fn new(store: S, lease: Duration, release_limit: usize) -> Self {
        Self {
            store,
            lease,
            release_limit: release_limit.max(1),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Resolves a checked batch at `now_ms` (milliseconds since the Unix epoch).
    pub async fn resolve(
        &self,
        profiles: &[ProfileInput],
        now_ms: i64,
    ) -> Result<Resolution, StoreError> {
        let mut tx = self.store.begin().await?;
        let identities: Vec<_> = profiles.iter().map(|p| p.identities.as_slice()).collect();
        let links = graph::learn_links(&mut tx, &identities).await?;

        let wanted: BTreeSet<(ComponentId, Namespace)> = profiles
            .iter()
            .zip(&links.components)
            .filter_map(|(profile, component)| component.map(|c| (c, profile)))
            .flat_map(|(c, profile)| profile.changes.iter().map(move |(_, ns)| (c, ns.clone())))
            .collect();
        let ids = if wanted.is_empty() {
            HashMap::new()
        } else {
            let wanted: Vec<_> = wanted.into_iter().collect();
            tx.source_ids(&wanted).await?
        };

        let (outcomes, to_hold) = resolve_profiles(profiles, &links, &ids)?;
        let mut newly_held = if to_hold.is_empty() {
            0
        } else {
            tx.hold(&to_hold, now_ms).await?
        };
        // Before this batch's own states are recorded: those already reach every current PX user.
        let caught_up = tx.reoffer_states(&links.grown, now_ms).await?;
        newly_held += caught_up;
        tx.record_states(&component_states(profiles, &links))
            .await?;
        if !links.changed.is_empty() {
            tx.mark_releasable(&links.changed).await?;
        }
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let due = now_ms.saturating_sub(lease_ms).max(0);
        let released = tx
            .take_due_releases(due, now_ms, self.release_limit)
            .await?;
        tx.commit().await?;

        Ok(Resolution {
            profiles: outcomes,
            released,
            newly_held,
            held_dropped: links.held_dropped,
            caught_up,
            merges: links.merges,
        })
    }

    /// Forgets acknowledged releases; returns how many were forgotten.
    pub async fn acknowledge(&self, release_ids: &[i64]) -> Result<u64, StoreError> {
        if release_ids.is_empty() {
            return Ok(0);
        }
        self.store.ack_released(release_ids).await
    }
}

/// Every change of the batch as a state of its profile's component.
fn component_states(profiles: &[ProfileInput], links: &LearnedLinks) -> Vec<HeldChange> {
    profiles
        .iter()
        .zip(&links.components)
        .filter_map(|(profile, component)| component.map(|c| (c, profile)))
        .flat_map(|(component, profile)| {
            profile
                .changes
                .iter()
                .map(move |(state, namespace)| HeldChange {
                    component,
                    source_namespace: namespace.clone(),
                    state: state.clone(),
                })
        })
        .collect()
}

type ResolvedProfiles = (Vec<ProfileOutcome>, Vec<HeldChange>);

/// Pure step: each change goes to every id of its source namespace in its component, or is held.
fn resolve_profiles(
    profiles: &[ProfileInput],
    links: &LearnedLinks,
    ids: &HashMap<(ComponentId, Namespace), Vec<String>>,
) -> Result<ResolvedProfiles, StoreError> {
    let mut outcomes = Vec::with_capacity(profiles.len());
    let mut to_hold = Vec::new();
    for (profile, component) in profiles.iter().zip(&links.components) {
        let mut outcome = ProfileOutcome::default();
        let Some(component) = *component else {
            // Only profiles without identities lack a component, and the request check refuses any
            // such profile that carries changes.
            outcomes.push(outcome);
            continue;
        };
        let mut users: BTreeSet<&str> = BTreeSet::new();
        for (state, namespace) in &profile.changes {
            match ids.get(&(component, namespace.clone())) {
                Some(values) if !values.is_empty() => {
                    for value in values {
                        users.insert(value);
                        let identify_id = IdentifyId::new(value.clone()).map_err(|_| {
                            StoreError::Corrupt("an empty identity value is stored".into())
                        })?;
                        outcome.resolved.push(MembershipChange {
                            identify_id,
                            state: state.clone(),
                        });
                    }
                }
                _ => {
                    outcome.held += 1;
                    to_hold.push(HeldChange {
                        component,
                        source_namespace: namespace.clone(),
                        state: state.clone(),
                    });
                }
            }
        }
        outcome.fanout = u32::try_from(users.len()).unwrap_or(u32::MAX);
        outcomes.push(outcome);
    }
    Ok((outcomes, to_hold))
}
