//! Who each profile is and how its audience memberships change over the export window.
//!
//! A profile is exported a few times (snapshots). Every membership change is tied to the snapshot
//! that first carries it and stamped shortly before that snapshot's time, so a snapshot always
//! shows the newest change of each membership as of its own time, and the last snapshot of a
//! profile shows its final state.

use crate::catalog::{self, Audience, Origin, Person};
use crate::config::GenConfig;
use crate::rng::Rng;
use crate::timefmt::{MICROS_PER_SEC, Micros, TimeForm};

/// One change of one membership, rendered identically in every snapshot that carries it (a stored
/// value replayed, as AEP does).
#[derive(Debug, Clone)]
pub struct Change {
    /// Index of the first export (of this profile) that carries the change.
    pub export: usize,
    pub at: Micros,
    pub realized: bool,
    /// `realized`, its deprecated synonym `existing`, or `exited`.
    pub status: &'static str,
    pub form: TimeForm,
}

/// The changes of one (profile, audience), oldest first, at strictly increasing exports.
#[derive(Debug, Clone)]
pub struct Membership {
    pub audience: usize,
    pub changes: Vec<Change>,
}

impl Membership {
    /// The newest change visible in export `k`, if any.
    pub fn as_of(&self, k: usize) -> Option<&Change> {
        self.changes.iter().rev().find(|c| c.export <= k)
    }
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub crm_id: String,
    pub person: Person,
    /// One or two ECIDs; records that carry the crmId carry all of them, which is what lets the
    /// identity graph resolve ECID-only records.
    pub ecids: Vec<String>,
    /// Export times, strictly increasing and at least [`GenConfig::EXPORT_GAP_SECS`] apart.
    pub exports: Vec<Micros>,
    /// Per export: whether that record carries only ECIDs. Never true for every export.
    pub ecid_only: Vec<bool>,
    pub memberships: Vec<Membership>,
    pub withdrew_consent: bool,
}

/// Changes before stamping: (export index, realized).
type Plan = Vec<(usize, bool)>;

/// Builds every profile, then makes sure each activated audience ends with at least one member.
pub fn profiles(cfg: &GenConfig, audiences: &[Audience], rng: &mut Rng) -> Vec<Profile> {
    let mut ecids_seen = std::collections::HashSet::new();
    let mut drafts: Vec<(Profile, Vec<(usize, Plan)>)> = (0..cfg.profiles)
        .map(|n| draft(cfg, audiences, n, rng, &mut ecids_seen))
        .collect();
    ensure_members(audiences, &mut drafts, rng);
    drafts
        .into_iter()
        .map(|(mut profile, plans)| {
            profile.memberships = plans
                .into_iter()
                .map(|(audience, plan)| Membership {
                    audience,
                    changes: stamp(cfg, &profile.exports, &plan, rng),
                })
                .collect();
            profile
        })
        .collect()
}

fn draft(
    cfg: &GenConfig,
    audiences: &[Audience],
    n: usize,
    rng: &mut Rng,
    ecids_seen: &mut std::collections::HashSet<String>,
) -> (Profile, Vec<(usize, Plan)>) {
    let person = catalog::person(rng, n);
    let n_ecids = if rng.chance(cfg.two_ecid_rate) { 2 } else { 1 };
    let ecids = (0..n_ecids)
        .map(|_| {
            loop {
                let e = rng.ecid();
                if ecids_seen.insert(e.clone()) {
                    break e;
                }
            }
        })
        .collect();
    let exports = export_times(cfg, rng);
    let n_exports = exports.len();

    let mut ecid_only: Vec<bool> = (0..n_exports)
        .map(|_| n_exports > 1 && rng.chance(cfg.ecid_only_rate))
        .collect();
    if ecid_only.iter().all(|&b| b) {
        let keep = rng.index(n_exports);
        ecid_only[keep] = false;
    }

    let mut plans = Vec::new();
    for (i, audience) in audiences.iter().enumerate() {
        let rate = match audience.origin {
            Origin::SegmentationService => (cfg.qualify_rate * audience.popularity).min(0.95),
            Origin::CustomerAudienceUpload => cfg.custom_upload_rate,
        };
        if rng.chance(rate) {
            plans.push((i, plan(cfg, n_exports, rng)));
        }
    }

    let last = n_exports - 1;
    let withdrew_consent = last > 0 && rng.chance(cfg.consent_withdrawal_rate);
    if withdrew_consent {
        // Consent withdrawal exits the profile from everything it is still in, in one snapshot.
        for (_, plan) in &mut plans {
            plan.retain(|&(k, _)| k < last);
            if plan.last().is_some_and(|&(_, realized)| realized) {
                plan.push((last, false));
            }
        }
        plans.retain(|(_, plan)| !plan.is_empty());
    }

    let profile = Profile {
        crm_id: format!("CRM-{n:06}"),
        person,
        ecids,
        exports,
        ecid_only,
        memberships: Vec::new(),
        withdrew_consent,
    };
    (profile, plans)
}

/// Qualification, maybe an exit, maybe a re-qualification, each in a later export than the last.
fn plan(cfg: &GenConfig, n_exports: usize, rng: &mut Rng) -> Plan {
    let k0 = rng.index(n_exports);
    let mut plan = vec![(k0, true)];
    if k0 + 1 < n_exports && rng.chance(cfg.exit_rate) {
        let k1 = k0 + 1 + rng.index(n_exports - k0 - 1);
        plan.push((k1, false));
        if k1 + 1 < n_exports && rng.chance(cfg.requalify_rate) {
            let k2 = k1 + 1 + rng.index(n_exports - k1 - 1);
            plan.push((k2, true));
        }
    }
    plan
}

/// Sorted export times with the minimum gap between them: sample offsets in the window shortened by
/// the gaps, sort, then add the gaps back.
fn export_times(cfg: &GenConfig, rng: &mut Rng) -> Vec<Micros> {
    let extra = cfg.mean_exports - 1.0;
    let trials = GenConfig::MAX_EXPORTS - 1;
    let p = extra / trials as f64;
    let n = 1 + (0..trials).filter(|_| rng.chance(p)).count();

    let gap = GenConfig::EXPORT_GAP_SECS * MICROS_PER_SEC;
    let lead = GenConfig::MAX_CHANGE_LEAD_SECS * MICROS_PER_SEC;
    let window = i64::from(cfg.window_minutes) * 60 * MICROS_PER_SEC;
    let span = window - lead - (n as i64 - 1) * gap;
    let mut offsets: Vec<Micros> = (0..n).map(|_| rng.range(0, span)).collect();
    offsets.sort_unstable();
    offsets
        .iter()
        .enumerate()
        .map(|(j, off)| cfg.start + lead + off + j as i64 * gap)
        .collect()
}

/// Gives every activated audience a final member, picking a profile that did not withdraw consent
/// when there is one, so that PX never ends with an empty segment nobody can check.
fn ensure_members(
    audiences: &[Audience],
    drafts: &mut [(Profile, Vec<(usize, Plan)>)],
    rng: &mut Rng,
) {
    for (a, audience) in audiences.iter().enumerate() {
        if !audience.activated {
            continue;
        }
        let has_member = drafts.iter().any(|(_, plans)| {
            plans
                .iter()
                .any(|(i, plan)| *i == a && plan.last().is_some_and(|&(_, r)| r))
        });
        if has_member {
            continue;
        }
        let start = rng.index(drafts.len());
        let pick = (0..drafts.len())
            .map(|i| (start + i) % drafts.len())
            .find(|&i| !drafts[i].0.withdrew_consent)
            .unwrap_or(start);
        let (profile, plans) = &mut drafts[pick];
        let last = profile.exports.len() - 1;
        plans.retain(|(i, _)| *i != a);
        plans.push((a, vec![(last, true)]));
        plans.sort_by_key(|(i, _)| *i);
    }
}

/// Turns planned changes into timestamped ones. A change happens up to a minute before the export
/// that carries it; with exports at least 150 s apart, changes of one membership stay over a
/// minute apart, so no rendering (second-truncated or not) can tie or reorder them.
fn stamp(cfg: &GenConfig, exports: &[Micros], plan: &Plan, rng: &mut Rng) -> Vec<Change> {
    plan.iter()
        .map(|&(export, realized)| {
            let lead = rng.range(
                MICROS_PER_SEC,
                GenConfig::MAX_CHANGE_LEAD_SECS * MICROS_PER_SEC,
            );
            let status = match (realized, rng.chance(cfg.existing_rate)) {
                (false, _) => "exited",
                (true, true) => "existing",
                (true, false) => "realized",
            };
            Change {
                export,
                at: exports[export] - lead,
                realized,
                status,
                form: *rng.pick(&TimeForm::ALL),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(cfg: &GenConfig) -> (Vec<Audience>, Vec<Profile>) {
        let mut rng = Rng::new(cfg.seed);
        let audiences = catalog::audiences(cfg, &mut rng);
        let profiles = profiles(cfg, &audiences, &mut rng);
        (audiences, profiles)
    }

    #[test]
    fn changes_of_one_membership_are_over_a_minute_apart_and_in_order() {
        let (_, profiles) = world(&GenConfig {
            profiles: 300,
            ..GenConfig::default()
        });
        for p in &profiles {
            for m in &p.memberships {
                for w in m.changes.windows(2) {
                    assert!(w[0].export < w[1].export);
                    assert!(w[1].at - w[0].at > 60 * MICROS_PER_SEC);
                }
            }
        }
    }

    #[test]
    fn every_profile_keeps_a_record_with_its_crm_id() {
        let (_, profiles) = world(&GenConfig {
            profiles: 300,
            ecid_only_rate: 0.9,
            ..GenConfig::default()
        });
        assert!(profiles.iter().all(|p| p.ecid_only.iter().any(|&b| !b)));
    }

    #[test]
    fn every_activated_audience_ends_with_a_member_even_when_qualification_is_rare() {
        let cfg = GenConfig {
            profiles: 5,
            qualify_rate: 0.0,
            ..GenConfig::default()
        };
        let (audiences, profiles) = world(&cfg);
        for (a, audience) in audiences.iter().enumerate() {
            if audience.activated {
                let members = profiles
                    .iter()
                    .filter(|p| {
                        p.memberships.iter().any(|m| {
                            m.audience == a && m.changes.last().is_some_and(|c| c.realized)
                        })
                    })
                    .count();
                assert!(members >= 1, "{} has no member", audience.name);
            }
        }
    }
}
