//! From a coalesced batch to PX calls: the stale/no-op rule against the store, then `update_membership`
//! bodies with as few calls as the per-call cap allows.
//!
//! Items are sorted by (status, segment, time) before they are cut into calls, so identities sharing a
//! segment and a `lastQualificationTime` travel in one entry, and a call split in halves (after PX refused
//! it) still groups well.

use std::collections::{HashMap, HashSet};

use pxstream_core::change::{AppliedState, Decision, decide};
use pxstream_core::config::IdentityType;
use pxstream_core::{DestinationName, MembershipStatus, QualificationTime};

use crate::batcher::Envelope;
use crate::px::{MembershipBody, MembershipEntry};
use crate::store::MembershipKey;

/// One membership change that must reach PX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub record: usize,
    pub key: MembershipKey,
    pub status: MembershipStatus,
    pub time: QualificationTime,
}

impl Item {
    pub fn applied(&self) -> AppliedState {
        AppliedState {
            status: self.status,
            time: self.time,
        }
    }

    fn order(&self) -> (u8, &str, QualificationTime, &str) {
        let status = match self.status {
            MembershipStatus::Realized => 0,
            MembershipStatus::Exited => 1,
        };
        (
            status,
            self.key.audience.as_str(),
            self.time,
            self.key.identify_id.as_str(),
        )
    }
}

/// One `update_membership` call to one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub destination: DestinationName,
    pub items: Vec<Item>,
}

impl Call {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The request body; consecutive items with the same (status, segment, time) share an entry.
    pub fn body(&self, identity_type: IdentityType) -> MembershipBody<'_> {
        let mut body = MembershipBody {
            identity_type: identity_type.as_str(),
            add: Vec::new(),
            remove: Vec::new(),
        };
        let mut last: Option<(MembershipStatus, &str, QualificationTime)> = None;
        for item in &self.items {
            let list = match item.status {
                MembershipStatus::Realized => &mut body.add,
                MembershipStatus::Exited => &mut body.remove,
            };
            let group = (item.status, item.key.audience.as_str(), item.time);
            if last != Some(group) || list.is_empty() {
                list.push(MembershipEntry {
                    segment_id: item.key.audience.as_str(),
                    last_qualification_time: item.time.to_string(),
                    identities: Vec::new(),
                });
                last = Some(group);
            }
            if let Some(entry) = list.last_mut() {
                entry.identities.push(item.key.identify_id.as_str());
            }
        }
        body
    }

    /// Halves the call, for finding what PX refuses in a refused call; `Err` when it is a single item.
    pub fn split(mut self) -> Result<(Call, Call), Call> {
        if self.items.len() < 2 {
            return Err(self);
        }
        let second = self.items.split_off(self.items.len() / 2);
        let destination = self.destination.clone();
        Ok((
            self,
            Call {
                destination,
                items: second,
            },
        ))
    }
}

/// What to do with each change of a coalesced batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub calls: Vec<Call>,
    /// Newer than the applied state but no change for PX: recorded in the store only.
    pub remember: Vec<(usize, MembershipKey, AppliedState)>,
    /// Records older than (or duplicates of) the applied state.
    pub stale: Vec<usize>,
}

/// Applies `decide` to each survivor against its applied state, then cuts the changes to send into calls of
/// at most `max_per_call` identities: `ceil(n / max)` calls per destination, the fewest possible.
///
/// A membership in doubt (a call carrying it may or may not have landed before a crash) may hold in PX a
/// state newer than `applied`: a change that would only be remembered is sent instead, so PX ends in the
/// change's state whichever way the earlier call went.
pub fn plan(
    survivors: Vec<Envelope>,
    applied: &HashMap<MembershipKey, AppliedState>,
    in_doubt: &HashSet<MembershipKey>,
    max_per_call: usize,
) -> Plan {
    let mut plan = Plan::default();
    let mut by_destination: HashMap<DestinationName, Vec<Item>> = HashMap::new();
    for envelope in survivors {
        let key = envelope.key();
        let state = &envelope.change.state;
        let decision = match decide(applied.get(&key).copied(), state.status, state.time) {
            Decision::Remember if in_doubt.contains(&key) => Decision::Send,
            decision => decision,
        };
        match decision {
            Decision::Send => by_destination
                .entry(key.destination.clone())
                .or_default()
                .push(Item {
                    record: envelope.record,
                    status: state.status,
                    time: state.time,
                    key,
                }),
            Decision::Remember => plan.remember.push((
                envelope.record,
                key,
                AppliedState {
                    status: state.status,
                    time: state.time,
                },
            )),
            Decision::Drop => plan.stale.push(envelope.record),
        }
    }
    let mut destinations: Vec<_> = by_destination.into_iter().collect();
    destinations.sort_by(|a, b| a.0.cmp(&b.0));
    for (destination, mut items) in destinations {
        items.sort_by(|a, b| a.order().cmp(&b.order()));
        let mut rest = items.into_iter().peekable();
        while rest.peek().is_some() {
            plan.calls.push(Call {
                destination: destination.clone(),
                items: rest.by_ref().take(max_per_call.max(1)).collect(),
            });
        }
    }
    plan
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
