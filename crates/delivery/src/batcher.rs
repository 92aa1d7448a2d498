//! Collecting changes into batches, and coalescing a batch to one change per (destination, user, audience).
//!
//! A batch closes when it holds `max_identities_per_call` changes or when its first change has waited
//! `linger`. Coalescing keeps the newest change of each key, with an exit winning a tie, the same rule as
//! `decide`: so the outcome does not depend on the order changes arrived in, and PX never hears two
//! versions of one membership in one batch.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use pxstream_core::{MembershipChange, MembershipStatus};
use tokio::time::Instant;

use crate::store::MembershipKey;

/// A change and the record it came from (an index the caller chose; delivery never interprets it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub record: usize,
    pub change: MembershipChange,
}

impl Envelope {
    pub fn key(&self) -> MembershipKey {
        MembershipKey::of(&self.change)
    }
}

/// Accumulates changes until the batch is full or has lingered long enough.
#[derive(Debug)]
pub struct Batcher {
    max: usize,
    linger: Duration,
    pending: Vec<Envelope>,
    opened_at: Option<Instant>,
}

impl Batcher {
    pub fn new(max: usize, linger: Duration) -> Self {
        Self {
            max: max.max(1),
            linger,
            pending: Vec::new(),
            opened_at: None,
        }
    }

    pub fn push(&mut self, envelope: Envelope) {
        self.opened_at.get_or_insert_with(Instant::now);
        self.pending.push(envelope);
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.pending.len() >= self.max
    }

    /// When the open batch must close even if not full; `None` while empty.
    pub fn deadline(&self) -> Option<Instant> {
        self.opened_at.map(|at| at + self.linger)
    }

    pub fn take(&mut self) -> Vec<Envelope> {
        self.opened_at = None;
        std::mem::take(&mut self.pending)
    }
}

/// The result of coalescing a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Coalesced {
    /// One change per key, in the order each key first appeared.
    pub survivors: Vec<Envelope>,
    /// Records whose change lost to a newer (or equal) one of the same key.
    pub superseded: Vec<usize>,
}

/// Keeps the newest change per key; at equal times an exit beats a qualification, and an exact duplicate
/// loses to the one already kept.
pub fn coalesce(batch: Vec<Envelope>) -> Coalesced {
    let mut slots: HashMap<MembershipKey, usize> = HashMap::with_capacity(batch.len());
    let mut survivors: Vec<Envelope> = Vec::with_capacity(batch.len());
    let mut superseded = Vec::new();
    for envelope in batch {
        match slots.entry(envelope.key()) {
            Entry::Vacant(slot) => {
                slot.insert(survivors.len());
                survivors.push(envelope);
            }
            Entry::Occupied(slot) => {
                let kept = &mut survivors[*slot.get()];
                if beats(&envelope.change, &kept.change) {
                    superseded.push(kept.record);
                    *kept = envelope;
                } else {
                    superseded.push(envelope.record);
                }
            }
        }
    }
    Coalesced {
        survivors,
        superseded,
    }
}

fn beats(challenger: &MembershipChange, kept: &MembershipChange) -> bool {
    let (new, old) = (&challenger.state, &kept.state);
    new.time > old.time
        || (new.time == old.time
            && new.status == MembershipStatus::Exited
            && old.status == MembershipStatus::Realized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::change;
    use MembershipStatus::{Exited, Realized};

    fn env(
        record: usize,
        user: &str,
        audience: &str,
        status: MembershipStatus,
        t: i64,
    ) -> Envelope {
        Envelope {
            record,
            change: change("px", user, audience, status, t),
        }
    }

    #[test]
    fn coalescing_keeps_the_newest_change_of_each_membership_whatever_the_arrival_order() {
        let batch = vec![
            env(0, "u-1", "a", Realized, 30),
            env(1, "u-1", "a", Exited, 10),
            env(2, "u-2", "a", Realized, 5),
            env(3, "u-1", "b", Exited, 7),
            env(4, "u-1", "a", Exited, 40),
        ];
        let out = coalesce(batch);
        let kept: Vec<usize> = out.survivors.iter().map(|e| e.record).collect();
        assert_eq!(kept, vec![4, 2, 3]);
        let mut lost = out.superseded.clone();
        lost.sort_unstable();
        assert_eq!(lost, vec![0, 1]);
    }

    #[test]
    fn at_equal_times_an_exit_wins_and_a_duplicate_is_superseded() {
        let out = coalesce(vec![
            env(0, "u-1", "a", Exited, 10),
            env(1, "u-1", "a", Realized, 10),
            env(2, "u-1", "a", Exited, 10),
        ]);
        assert_eq!(out.survivors.len(), 1);
        assert_eq!(out.survivors[0].record, 0);
        assert_eq!(out.superseded, vec![1, 2]);

        let reversed = coalesce(vec![
            env(0, "u-1", "a", Realized, 10),
            env(1, "u-1", "a", Exited, 10),
        ]);
        assert_eq!(reversed.survivors[0].record, 1);
    }

    #[test]
    fn the_same_user_and_audience_on_two_destinations_are_two_memberships() {
        let mut other = env(1, "u-1", "a", Realized, 10);
        other.change.state.destination = pxstream_core::DestinationName::new("px-eu").unwrap();
        let out = coalesce(vec![env(0, "u-1", "a", Realized, 10), other]);
        assert_eq!(out.survivors.len(), 2);
        assert!(out.superseded.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_closes_when_full_or_when_its_first_change_has_lingered() {
        let mut batcher = Batcher::new(2, Duration::from_millis(50));
        assert_eq!(batcher.deadline(), None);
        let opened = Instant::now();
        batcher.push(env(0, "u-1", "a", Realized, 1));
        assert_eq!(batcher.deadline(), Some(opened + Duration::from_millis(50)));
        tokio::time::advance(Duration::from_millis(20)).await;
        batcher.push(env(1, "u-2", "a", Realized, 1));
        // The deadline belongs to the first change: later ones do not extend it.
        assert_eq!(batcher.deadline(), Some(opened + Duration::from_millis(50)));
        assert!(batcher.is_full());
        assert_eq!(batcher.take().len(), 2);
        assert!(batcher.is_empty() && batcher.deadline().is_none());
    }
}
