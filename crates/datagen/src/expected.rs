//! The final PX state implied by the delivered records.
//!
//! Computed by folding the records themselves (not the membership plans that produced them), so that
//! `expected.json` stays true to `exports.jsonl` even if the generator's model changes: for each
//! (profile, activated audience) the entry with the newest `lastQualificationTime` wins, regardless
//! of arrival order, and the profile is a member iff that entry is realized (or `existing`).

use std::collections::{BTreeMap, HashMap};

use crate::catalog::Audience;
use crate::delivery::Delivery;
use crate::files::Expected;
use crate::history::Profile;
use crate::records::Snapshot;
use crate::timefmt::Micros;

pub fn expected(
    audiences: &[Audience],
    profiles: &[Profile],
    snapshots: &[Snapshot],
    deliveries: &[Delivery],
) -> Expected {
    // (profile, audience) → (newest time, realized at that time)
    let mut newest: HashMap<(usize, usize), (Micros, bool)> = HashMap::new();
    for d in deliveries {
        let snap = &snapshots[d.snapshot];
        for e in &snap.entries {
            if !audiences[e.audience].activated {
                continue;
            }
            let slot = newest
                .entry((snap.profile, e.audience))
                .or_insert((e.at, e.is_member()));
            // Equal times always carry the same status (one change, replayed), so `>` suffices.
            if e.at > slot.0 {
                *slot = (e.at, e.is_member());
            }
        }
    }

    let mut members: BTreeMap<String, Vec<String>> = audiences
        .iter()
        .filter(|a| a.activated)
        .map(|a| (a.id.clone(), Vec::new()))
        .collect();
    for (&(p, a), &(_, realized)) in &newest {
        if realized {
            // Every profile has at least one record with its crmId and all its ECIDs, so even a
            // profile seen mostly through ECID-only records resolves to its crmId.
            if let Some(list) = members.get_mut(&audiences[a].id) {
                list.push(profiles[p].crm_id.clone());
            }
        }
    }
    for list in members.values_mut() {
        list.sort();
    }

    let segments = audiences
        .iter()
        .filter(|a| a.activated)
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();

    Expected {
        members,
        segments,
        records: deliveries.len(),
    }
}
