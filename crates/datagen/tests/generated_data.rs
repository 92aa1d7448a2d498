//! Properties of a generated data set, checked by reading the records back.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use pxstream_datagen::{DataSet, Expected, GenConfig, generate};
use serde_json::Value;
use support::{form_of, ids, recompute, sortable_time};

fn default_data() -> &'static (DataSet, Vec<Value>) {
    static DATA: OnceLock<(DataSet, Vec<Value>)> = OnceLock::new();
    DATA.get_or_init(|| {
        let data = generate(&GenConfig::default());
        let parsed = data.records_json().collect();
        (data, parsed)
    })
}

fn activated_ids(data: &DataSet) -> Vec<String> {
    data.activation
        .audiences
        .iter()
        .map(|a| a.id.clone())
        .collect()
}

fn custom_upload_id(data: &DataSet) -> String {
    data.audiences
        .iter()
        .find(|a| a.origin == "CustomerAudienceUpload")
        .map(|a| a.id.clone())
        .expect("one custom-upload audience")
}

fn small() -> GenConfig {
    GenConfig {
        profiles: 200,
        ..GenConfig::default()
    }
}

#[test]
fn the_same_seed_gives_byte_identical_files() {
    let a = generate(&small());
    let b = generate(&small());
    assert_eq!(a.exports_jsonl(), b.exports_jsonl());
    assert_eq!(a.activation_json(), b.activation_json());
    assert_eq!(a.audiences_json(), b.audiences_json());
    assert_eq!(a.expected_json(), b.expected_json());
    let other = generate(&GenConfig { seed: 7, ..small() });
    assert_ne!(a.exports_jsonl(), other.exports_jsonl());
}

#[test]
fn expected_matches_an_independent_recomputation_from_the_records() {
    let (data, records) = default_data();
    let members = recompute(records, &activated_ids(data));
    assert_eq!(members, data.expected.members);
    assert_eq!(data.expected.records, data.records.len());
}

#[test]
fn expected_matches_the_records_for_many_seeds_and_tiny_sizes() {
    for seed in 0..40u64 {
        let cfg = GenConfig {
            seed,
            profiles: 1 + (seed as usize * 7) % 40,
            audiences: 3 + (seed as usize * 5) % 30,
            ..GenConfig::default()
        };
        let data = generate(&cfg);
        let records: Vec<Value> = data.records_json().collect();
        let members = recompute(&records, &activated_ids(&data));
        assert_eq!(members, data.expected.members, "seed {seed}");
        assert!(members.values().all(|m| !m.is_empty()), "seed {seed}");
    }
}

#[test]
fn expected_holds_whatever_order_the_records_arrive_in() {
    let (data, records) = default_data();
    let mut reversed = records.clone();
    reversed.reverse();
    assert_eq!(
        recompute(&reversed, &activated_ids(data)),
        data.expected.members
    );
}

#[test]
fn the_recomputation_agrees_with_the_hand_checked_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/small");
    let Ok(exports) = std::fs::read_to_string(dir.join("exports.jsonl")) else {
        return; // The fixture lives outside the repository; nothing to compare where it is absent.
    };
    let records: Vec<Value> = exports
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line"))
        .collect();
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("fixture expected.json");
    let activated: Vec<String> = expected.segments.keys().cloned().collect();
    assert_eq!(recompute(&records, &activated), expected.members);
}

#[test]
fn every_timestamp_form_appears() {
    let (_, records) = default_data();
    let mut forms = HashSet::new();
    for r in records {
        for ns in r["segmentMembership"].as_object().into_iter().flatten() {
            for entry in ns.1.as_object().into_iter().flatten() {
                let t = entry.1["lastQualificationTime"].as_str().unwrap_or("");
                sortable_time(t);
                forms.insert(form_of(t));
            }
        }
    }
    for form in [
        "zulu",
        "zulu-millis",
        "zulu-micros",
        "millis-offset-no-colon",
        "offset-colon",
        "space-no-zone",
    ] {
        assert!(forms.contains(form), "{form} never appears");
    }
    assert!(!forms.contains("other"));
}

#[test]
fn the_custom_upload_audience_is_in_records_but_never_in_expected() {
    let (data, records) = default_data();
    let upload = custom_upload_id(data);
    assert!(!data.expected.members.contains_key(&upload));
    assert!(!data.expected.segments.contains_key(&upload));
    let carried = records
        .iter()
        .filter(|r| r["segmentMembership"]["CustomerAudienceUpload"][&upload].is_object())
        .count();
    assert!(carried > 0);
    assert!(
        records
            .iter()
            .all(|r| !r["segmentMembership"]["ups"][&upload].is_object())
    );
}

#[test]
fn unmapped_audiences_are_in_records_but_not_in_expected() {
    let (data, records) = default_data();
    let activated = activated_ids(data);
    let unmapped: Vec<&str> = data
        .audiences
        .iter()
        .filter(|a| a.origin == "SegmentationService" && !activated.contains(&a.id))
        .map(|a| a.id.as_str())
        .collect();
    assert!(!unmapped.is_empty());
    for id in &unmapped {
        assert!(!data.expected.members.contains_key(*id));
        assert!(
            records
                .iter()
                .any(|r| r["segmentMembership"]["ups"][*id].is_object())
        );
    }
}

#[test]
fn ecid_only_records_exist_and_each_of_their_ecids_appears_with_a_crm_id_elsewhere() {
    let (_, records) = default_data();
    let with_crm: HashSet<String> = records
        .iter()
        .filter(|r| !ids(r, "crmId").is_empty())
        .flat_map(|r| ids(r, "ECID"))
        .collect();
    let ecid_only: Vec<&Value> = records
        .iter()
        .filter(|r| ids(r, "crmId").is_empty())
        .collect();
    assert!(ecid_only.len() > records.len() / 20);
    for r in ecid_only {
        let ecids = ids(r, "ECID");
        assert!(!ecids.is_empty());
        assert!(
            ecids.iter().all(|e| with_crm.contains(e)),
            "unresolvable {ecids:?}"
        );
    }
}

#[test]
fn duplicate_deliveries_make_up_about_a_tenth_of_the_records() {
    let (data, _) = default_data();
    let distinct: HashSet<&String> = data.records.iter().collect();
    let duplicates = data.records.len() - distinct.len();
    assert!(duplicates * 100 > data.records.len() * 5, "{duplicates}");
    assert!(duplicates * 100 < data.records.len() * 15, "{duplicates}");
}

#[test]
fn some_records_arrive_after_newer_snapshots_of_the_same_profile() {
    let (_, records) = default_data();
    let crm_of_ecid: HashMap<String, String> = records
        .iter()
        .filter_map(|r| ids(r, "crmId").first().cloned().map(|c| (r, c)))
        .flat_map(|(r, c)| ids(r, "ECID").into_iter().map(move |e| (e, c.clone())))
        .collect();
    let mut newest: HashMap<String, String> = HashMap::new();
    let mut late = 0;
    for r in records {
        let crm = ids(r, "crmId")
            .first()
            .cloned()
            .or_else(|| crm_of_ecid.get(&ids(r, "ECID")[0]).cloned())
            .expect("resolvable");
        let times: Vec<String> = r["segmentMembership"]["ups"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, e)| sortable_time(e["lastQualificationTime"].as_str().unwrap_or("")))
            .collect();
        let Some(max) = times.into_iter().max() else {
            continue;
        };
        let seen = newest.entry(crm).or_default();
        if max < *seen {
            late += 1;
        } else {
            *seen = max;
        }
    }
    assert!(late > records.len() / 50, "only {late} late records");
}

#[test]
fn every_activated_audience_has_a_member_and_a_name() {
    let (data, _) = default_data();
    for a in &data.activation.audiences {
        assert!(!data.expected.members[&a.id].is_empty(), "{} empty", a.name);
        assert_eq!(data.expected.segments[&a.id], a.name);
    }
    assert!(
        data.activation
            .audiences
            .iter()
            .any(|a| a.id == "segmentid-feature-x")
    );
}

#[test]
fn inline_names_appear_only_on_activated_entries_and_match_the_activation() {
    let (data, records) = default_data();
    let names: HashMap<&str, &str> = data
        .activation
        .audiences
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let mut seen = 0;
    for r in records {
        for (ns, entries) in r["segmentMembership"].as_object().into_iter().flatten() {
            for (id, entry) in entries.as_object().into_iter().flatten() {
                if let Some(name) = entry["name"].as_str() {
                    assert_eq!(ns, "ups");
                    assert_eq!(names.get(id.as_str()), Some(&name));
                    seen += 1;
                }
            }
        }
    }
    assert!(seen > 0);
}

#[test]
fn the_traps_of_real_exports_are_all_present() {
    let (data, records) = default_data();
    let statuses: HashSet<&str> = records
        .iter()
        .flat_map(|r| {
            r["segmentMembership"]["ups"]
                .as_object()
                .into_iter()
                .flatten()
        })
        .filter_map(|(_, e)| e["status"].as_str())
        .collect();
    assert_eq!(statuses, HashSet::from(["realized", "existing", "exited"]));
    let keys: HashSet<&str> = records
        .iter()
        .flat_map(|r| r["identityMap"].as_object().into_iter().flatten())
        .map(|(k, _)| k.as_str())
        .collect();
    for key in ["ECID", "ecid", "crmId", "CRMID", "crmid", "Email", "email"] {
        assert!(keys.contains(key), "{key} never used");
    }
    assert!(records.iter().any(|r| ids(r, "ECID").len() == 2));
    assert!(data.stats.requalifications > 0 && data.stats.exits > 0);
    assert!(data.records.iter().any(|l| l.contains("\"ups\": {}")));
}

#[test]
fn write_to_lays_out_the_four_fixture_files() {
    let data = generate(&GenConfig {
        profiles: 50,
        ..GenConfig::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    data.write_to(dir.path()).expect("write");
    let exports = std::fs::read_to_string(dir.path().join("exports.jsonl")).expect("exports");
    assert_eq!(exports, data.exports_jsonl());
    assert_eq!(exports.lines().count(), data.records.len());
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("expected.json")).expect("expected"),
    )
    .expect("parse");
    assert_eq!(expected, data.expected);
    for file in ["activation.json", "audiences.json"] {
        let text = std::fs::read_to_string(dir.path().join(file)).expect(file);
        serde_json::from_str::<Value>(&text).expect(file);
    }
}
