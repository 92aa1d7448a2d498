//! Deterministic generator of realistic Adobe Experience Platform profile-export data sets.
//!
//! pxstream's demo and tests need more data than the hand-checked `small` fixture, with the same
//! traps: snapshots that repeat unchanged memberships, duplicate deliveries, older snapshots arriving
//! after newer ones, exits and re-qualifications, `existing` as a synonym of `realized`, every
//! `lastQualificationTime` form, namespace keys in mixed case, profiles with two ECIDs, ECID-only
//! records, unmapped audiences, an opaque non-UUID audience id and a custom-upload audience.
//! [`generate`] builds such a data set in memory; [`DataSet::write_to`] writes it in the fixture's
//! four files (`exports.jsonl`, `activation.json`, `audiences.json`, `expected.json`).
//!
//! Invariants the generator keeps:
//! - The same [`GenConfig`] (seed included) gives byte-identical output, on any platform.
//! - `expected.json` is the state the records imply, whatever order they arrive in: for each
//!   (profile, activated audience) the entry with the newest `lastQualificationTime` wins, and the
//!   profile is a member iff that entry is `realized` or `existing`.
//! - That state is unambiguous: changes of one (profile, audience) are over a minute apart, so no
//!   two entries with different statuses share a time in any rendering, and one change is rendered
//!   identically wherever it appears.
//! - Every profile has a record carrying its crmId together with all its ECIDs, so its ECID-only
//!   records resolve through the identity graph; IDENTIFY_ID is the crmId value.
//! - The custom-upload audience and unmapped audiences never appear in the expected state; every
//!   activated audience ends with at least one member.

mod catalog;
mod config;
mod dataset;
mod delivery;
mod expected;
mod files;
mod history;
mod json;
mod records;
mod rng;
mod timefmt;

pub use config::{ConfigError, GenConfig};
pub use dataset::{ACTIVATION_FILE, AUDIENCES_FILE, DataSet, EXPECTED_FILE, EXPORTS_FILE, Stats};
pub use files::{
    ActivatedAudience, Activation, AudienceDef, Destination, Expected, Mapping, MappingSource,
    SOURCE_NAMESPACE, TARGET_IDENTITY,
};
pub use timefmt::TimeForm;

use catalog::Origin;
use history::Profile;
use records::Snapshot;
use rng::Rng;

/// Generates a data set.
///
/// # Panics
/// If `cfg` fails [`GenConfig::validate`].
pub fn generate(cfg: &GenConfig) -> DataSet {
    if let Err(e) = cfg.validate() {
        panic!("{e}");
    }
    let mut root = Rng::new(cfg.seed);
    // Separate streams per stage, so that e.g. a new rendering choice leaves the people and their
    // memberships of a given seed unchanged.
    let mut catalog_rng = root.fork(1);
    let mut people_rng = root.fork(2);
    let mut render_rng = root.fork(3);
    let mut delivery_rng = root.fork(4);

    let audiences = catalog::audiences(cfg, &mut catalog_rng);
    let profiles = history::profiles(cfg, &audiences, &mut people_rng);
    let snapshots: Vec<Snapshot> = profiles
        .iter()
        .enumerate()
        .flat_map(|(i, p)| records::snapshots(cfg, &audiences, i, p, &mut render_rng))
        .collect();
    let deliveries = delivery::deliver(cfg, &snapshots, &mut delivery_rng);
    let expected = expected::expected(&audiences, &profiles, &snapshots, &deliveries);

    let records: Vec<String> = deliveries
        .iter()
        .map(|d| snapshots[d.snapshot].line.clone())
        .collect();
    let mut stats = count(&audiences, &profiles, &snapshots, &deliveries);
    stats.export_bytes = records.iter().map(|l| l.len() + 1).sum();
    stats.expected_members = expected.members.values().map(Vec::len).sum();

    DataSet {
        records,
        activation: files::activation(&audiences),
        audiences: files::audience_defs(&audiences),
        expected,
        stats,
    }
}

fn count(
    audiences: &[catalog::Audience],
    profiles: &[Profile],
    snapshots: &[Snapshot],
    deliveries: &[delivery::Delivery],
) -> Stats {
    let mut stats = Stats {
        records: deliveries.len(),
        profiles: profiles.len(),
        audiences: audiences.len(),
        activated_audiences: audiences.iter().filter(|a| a.activated).count(),
        custom_upload_audiences: audiences
            .iter()
            .filter(|a| a.origin == Origin::CustomerAudienceUpload)
            .count(),
        duplicates: deliveries.iter().filter(|d| d.duplicate).count(),
        out_of_order: delivery::count_out_of_order(snapshots, deliveries),
        ..Stats::default()
    };
    stats.unmapped_audiences =
        stats.audiences - stats.activated_audiences - stats.custom_upload_audiences;

    for d in deliveries {
        let snap = &snapshots[d.snapshot];
        stats.ecid_only_records += usize::from(snap.ecid_only);
        for e in &snap.entries {
            stats.custom_upload_entries +=
                usize::from(audiences[e.audience].origin == Origin::CustomerAudienceUpload);
            stats.exited_entries += usize::from(e.status == "exited");
            stats.existing_entries += usize::from(e.status == "existing");
        }
    }

    for p in profiles {
        stats.consent_withdrawals += usize::from(p.withdrew_consent);
        for m in &p.memberships {
            for w in m.changes.windows(2) {
                stats.exits += usize::from(w[0].realized && !w[1].realized);
                stats.requalifications += usize::from(!w[0].realized && w[1].realized);
            }
        }
    }
    stats
}
