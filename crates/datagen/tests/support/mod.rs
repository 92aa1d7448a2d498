//! Reading generated records back with deliberately simple code, independent of the generator.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// The value of the first identity map key matching `namespace` case-insensitively.
pub fn ids(record: &Value, namespace: &str) -> Vec<String> {
    let Some(map) = record["identityMap"].as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(namespace))
        .flat_map(|(_, v)| v.as_array().cloned().unwrap_or_default())
        .filter_map(|id| id["id"].as_str().map(str::to_string))
        .collect()
}

/// A timestamp in any of the accepted forms, as a string that sorts chronologically:
/// `YYYY-MM-DDTHH:MM:SS.ffffff`. Panics on anything else, including non-UTC offsets.
pub fn sortable_time(t: &str) -> String {
    let (date, rest) = t.split_at(10);
    let sep = &rest[..1];
    assert!(sep == "T" || sep == " ", "bad separator in {t}");
    let clock = &rest[1..9];
    let mut tail = &rest[9..];
    let mut frac = String::new();
    if let Some(f) = tail.strip_prefix('.') {
        let digits: String = f.chars().take_while(char::is_ascii_digit).collect();
        tail = &f[digits.len()..];
        frac = digits;
    }
    assert!(
        matches!(tail, "" | "Z" | "+0000" | "+00:00"),
        "unexpected zone {tail:?} in {t}"
    );
    assert!(frac.len() <= 6, "too precise: {t}");
    format!("{date}T{clock}.{frac:0<6}")
}

/// Which of the six known forms a timestamp is written in.
pub fn form_of(t: &str) -> &'static str {
    let shape: String = t
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    match shape.as_str() {
        "9999-99-99T99:99:99Z" => "zulu",
        "9999-99-99T99:99:99.999Z" => "zulu-millis",
        "9999-99-99T99:99:99.999999Z" => "zulu-micros",
        "9999-99-99T99:99:99.999+9999" => "millis-offset-no-colon",
        "9999-99-99T99:99:99+99:99" => "offset-colon",
        "9999-99-99 99:99:99" => "space-no-zone",
        _ => "other",
    }
}

/// The final state the records imply: ECID → crmId from records carrying both, then for each
/// (crmId, activated audience) the newest entry wins; member iff realized or existing.
pub fn recompute(records: &[Value], activated: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut crm_of_ecid: HashMap<String, String> = HashMap::new();
    for r in records {
        if let Some(crm) = ids(r, "crmId").first() {
            for ecid in ids(r, "ECID") {
                crm_of_ecid.insert(ecid, crm.clone());
            }
        }
    }

    let mut newest: HashMap<(String, String), (String, String)> = HashMap::new();
    for r in records {
        let crm = match ids(r, "crmId").first() {
            Some(c) => c.clone(),
            None => ids(r, "ECID")
                .iter()
                .find_map(|e| crm_of_ecid.get(e).cloned())
                .expect("every ECID-only record resolves"),
        };
        let Some(ups) = r["segmentMembership"]["ups"].as_object() else {
            continue;
        };
        for (audience, entry) in ups {
            if !activated.contains(audience) {
                continue;
            }
            let time = sortable_time(entry["lastQualificationTime"].as_str().unwrap_or(""));
            let status = entry["status"].as_str().unwrap_or("").to_string();
            let key = (crm.clone(), audience.clone());
            match newest.get(&key) {
                Some((t, s)) if *t == time => {
                    let member = |x: &str| x != "exited";
                    assert_eq!(
                        member(s),
                        member(&status),
                        "tie, different statuses: {key:?}"
                    );
                }
                Some((t, _)) if *t > time => {}
                _ => {
                    newest.insert(key, (time, status));
                }
            }
        }
    }

    let mut members: BTreeMap<String, Vec<String>> =
        activated.iter().map(|a| (a.clone(), Vec::new())).collect();
    for ((crm, audience), (_, status)) in newest {
        if status == "realized" || status == "existing" {
            members.entry(audience).or_default().push(crm);
        }
    }
    for list in members.values_mut() {
        list.sort();
    }
    members
}
