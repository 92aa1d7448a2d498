//! Rendering of one profile export (a snapshot) as the raw XDM JSON line AEP sends.
//!
//! Everything that varies between real exports but carries no meaning varies here too: namespace key
//! casing, which optional identities are present, key order, inline names and epoch extras.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{Audience, Origin};
use crate::config::GenConfig;
use crate::history::{Change, Profile};
use crate::json::{Ordered, to_line};
use crate::rng::Rng;
use crate::timefmt::{Micros, epoch_millis};

/// One export of one profile, before delivery (duplicates deliver the same snapshot again).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub profile: usize,
    pub exported_at: Micros,
    pub ecid_only: bool,
    /// Every membership entry the snapshot carries, custom uploads and unmapped audiences included.
    pub entries: Vec<Entry>,
    pub line: String,
}

/// One `segmentMembership` entry of a snapshot, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub audience: usize,
    pub at: Micros,
    /// `realized`, `existing` or `exited`, as written.
    pub status: &'static str,
}

impl Entry {
    pub fn is_member(&self) -> bool {
        self.status != "exited"
    }
}

#[derive(Serialize)]
struct RecordOut<'a> {
    person: PersonOut<'a>,
    #[serde(rename = "personalEmail")]
    personal_email: EmailOut<'a>,
    #[serde(rename = "segmentMembership")]
    segment_membership: Ordered<&'static str, Ordered<&'a str, EntryOut<'a>>>,
    #[serde(rename = "identityMap")]
    identity_map: Ordered<&'static str, Vec<IdOut<'a>>>,
}

#[derive(Serialize)]
struct PersonOut<'a> {
    name: NameOut<'a>,
}

#[derive(Serialize)]
struct NameOut<'a> {
    #[serde(rename = "firstName")]
    first_name: &'a str,
    #[serde(rename = "lastName")]
    last_name: &'a str,
}

#[derive(Serialize)]
struct EmailOut<'a> {
    address: &'a str,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    #[serde(rename = "lastQualificationTime")]
    last_qualification_time: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    created_at: Option<i64>,
    #[serde(rename = "updatedAt", skip_serializing_if = "Option::is_none")]
    updated_at: Option<i64>,
}

#[derive(Serialize)]
struct IdOut<'a> {
    id: &'a str,
    #[serde(rename = "authenticatedState", skip_serializing_if = "Option::is_none")]
    authenticated_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary: Option<bool>,
}

impl<'a> IdOut<'a> {
    fn bare(id: &'a str) -> Self {
        Self {
            id,
            authenticated_state: None,
            primary: None,
        }
    }
}

const ECID_KEYS: &[&str] = &["ECID", "ecid"];
const CRM_KEYS: &[&str] = &["crmId", "CRMID", "crmid"];
const EMAIL_KEYS: &[&str] = &["Email", "email"];

/// Every snapshot of one profile, in export order.
pub fn snapshots(
    cfg: &GenConfig,
    audiences: &[Audience],
    index: usize,
    profile: &Profile,
    rng: &mut Rng,
) -> Vec<Snapshot> {
    let hashed_email = hex::encode(Sha256::digest(
        profile.person.email.trim().to_lowercase().as_bytes(),
    ));
    (0..profile.exports.len())
        .map(|k| {
            let visible: Vec<(usize, &Change)> = profile
                .memberships
                .iter()
                .filter_map(|m| m.as_of(k).map(|c| (m.audience, c)))
                .collect();
            let ecid_only = profile.ecid_only[k];
            let record = RecordOut {
                person: PersonOut {
                    name: NameOut {
                        first_name: profile.person.first_name,
                        last_name: profile.person.last_name,
                    },
                },
                personal_email: EmailOut {
                    address: &profile.person.email,
                },
                segment_membership: membership(cfg, audiences, &visible, rng),
                identity_map: identity_map(cfg, profile, ecid_only, &hashed_email, rng),
            };
            Snapshot {
                profile: index,
                exported_at: profile.exports[k],
                ecid_only,
                entries: visible
                    .iter()
                    .map(|&(audience, c)| Entry {
                        audience,
                        at: c.at,
                        status: c.status,
                    })
                    .collect(),
                line: to_line(&record),
            }
        })
        .collect()
}

/// `ups` is always present (possibly empty), `CustomerAudienceUpload` only when it has entries;
/// entries come in no particular order, as JSON maps from AEP do.
fn membership<'a>(
    cfg: &GenConfig,
    audiences: &'a [Audience],
    visible: &[(usize, &Change)],
    rng: &mut Rng,
) -> Ordered<&'static str, Ordered<&'a str, EntryOut<'a>>> {
    let mut order: Vec<usize> = (0..visible.len()).collect();
    rng.shuffle(&mut order);
    let mut ups = Ordered::new();
    let mut uploads = Ordered::new();
    for i in order {
        let (a, change) = visible[i];
        let audience = &audiences[a];
        // AEP only adds names and mapping metadata for audiences mapped to the destination.
        let name = (audience.activated && rng.chance(cfg.inline_name_rate))
            .then_some(audience.name.as_str());
        let extras = audience.activated && rng.chance(cfg.extras_rate);
        let entry = EntryOut {
            last_qualification_time: change.form.render(change.at),
            status: change.status,
            name,
            created_at: extras.then(|| epoch_millis(audience.created_at)),
            updated_at: extras.then(|| epoch_millis(audience.updated_at)),
        };
        match audience.origin {
            Origin::SegmentationService => ups.push(audience.id.as_str(), entry),
            Origin::CustomerAudienceUpload => uploads.push(audience.id.as_str(), entry),
        }
    }
    let mut out = Ordered::new();
    out.push(Origin::SegmentationService.namespace(), ups);
    if !uploads.0.is_empty() {
        out.push(Origin::CustomerAudienceUpload.namespace(), uploads);
    }
    out
}

fn identity_map<'a>(
    cfg: &GenConfig,
    profile: &'a Profile,
    ecid_only: bool,
    hashed_email: &'a str,
    rng: &mut Rng,
) -> Ordered<&'static str, Vec<IdOut<'a>>> {
    let mut map = Ordered::new();
    let ecid_key = *rng.pick(ECID_KEYS);
    if ecid_only {
        // A record from an unauthenticated visit: one device's ECID, or every ECID stitched so far.
        let mut ecids: Vec<IdOut<'a>> = if profile.ecids.len() > 1 && rng.chance(0.5) {
            vec![IdOut::bare(rng.pick(&profile.ecids).as_str())]
        } else {
            profile.ecids.iter().map(|e| IdOut::bare(e)).collect()
        };
        if rng.chance(0.1) {
            ecids[0].authenticated_state = Some("ambiguous");
            ecids[0].primary = Some(true);
        }
        map.push(ecid_key, ecids);
    } else {
        map.push(
            ecid_key,
            profile.ecids.iter().map(|e| IdOut::bare(e)).collect(),
        );
    }

    let crm = (!ecid_only).then(|| {
        let mut id = IdOut::bare(&profile.crm_id);
        if rng.chance(0.97) {
            id.authenticated_state = Some("authenticated");
            id.primary = Some(true);
        }
        (*rng.pick(CRM_KEYS), vec![id])
    });
    let email = rng.chance(cfg.email_identity_rate).then(|| {
        (
            *rng.pick(EMAIL_KEYS),
            vec![IdOut::bare(&profile.person.email)],
        )
    });
    // Most exports list the CRM id before the e-mail; some tools write them the other way round.
    let email_first = rng.chance(0.1);
    match (crm, email) {
        (Some(c), Some(e)) if email_first => {
            map.push(e.0, e.1);
            map.push(c.0, c.1);
        }
        (c, e) => {
            for (key, ids) in [c, e].into_iter().flatten() {
                map.push(key, ids);
            }
        }
    }
    if rng.chance(cfg.hashed_email_rate) {
        map.push("email_lc_sha256", vec![IdOut::bare(hashed_email)]);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{catalog, history};

    #[test]
    fn a_snapshot_line_parses_and_shows_the_fixture_shape() {
        let cfg = GenConfig {
            profiles: 20,
            ..GenConfig::default()
        };
        let mut rng = Rng::new(2);
        let audiences = catalog::audiences(&cfg, &mut rng);
        let profiles = history::profiles(&cfg, &audiences, &mut rng);
        let snaps = snapshots(&cfg, &audiences, 0, &profiles[0], &mut rng);
        assert_eq!(snaps.len(), profiles[0].exports.len());
        for s in &snaps {
            let v: serde_json::Value = serde_json::from_str(&s.line).expect("valid JSON");
            let keys: Vec<&str> = v
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            for key in [
                "person",
                "personalEmail",
                "segmentMembership",
                "identityMap",
            ] {
                assert!(keys.contains(&key), "{key} missing");
            }
            assert!(s.line.starts_with(r#"{"person": {"name": {"firstName": "#));
            assert!(v["segmentMembership"]["ups"].is_object());
        }
    }

    #[test]
    fn the_hashed_email_is_sha256_of_the_trimmed_lowercased_address() {
        let cfg = GenConfig {
            profiles: 3,
            hashed_email_rate: 1.0,
            ..GenConfig::default()
        };
        let mut rng = Rng::new(4);
        let audiences = catalog::audiences(&cfg, &mut rng);
        let profiles = history::profiles(&cfg, &audiences, &mut rng);
        let snap = &snapshots(&cfg, &audiences, 1, &profiles[1], &mut rng)[0];
        let v: serde_json::Value = serde_json::from_str(&snap.line).expect("valid JSON");
        let address = v["personalEmail"]["address"].as_str().unwrap_or_default();
        let expected = hex::encode(Sha256::digest(address.to_lowercase().as_bytes()));
        assert_eq!(
            v["identityMap"]["email_lc_sha256"][0]["id"],
            expected.as_str()
        );
    }
}
