use pxstream_core::config::{ActivationConfig, AudienceConfig, MappingRule, MappingSource};
use pxstream_core::{AudienceId, DestinationName};

use super::*;

fn activations(rule: MappingSource) -> Activations {
    let audience = |id: &str| AudienceConfig {
        id: AudienceId::new(id).unwrap(),
        name: format!("name of {id}"),
        description: String::new(),
    };
    Activations::new(&[ActivationConfig {
        destination: DestinationName::new("px").unwrap(),
        mapping: MappingRule {
            source: rule,
            target: "IDENTIFY_ID".into(),
        },
        audiences: vec![audience("aud-1"), audience("segmentid-feature-x")],
    }])
}

fn crm_rule() -> Activations {
    activations(MappingSource::Namespace(Namespace::new("crmId").unwrap()))
}

fn parse(json: &str) -> Result<ParsedRecord, RecordError> {
    parse_record(json.as_bytes(), &crm_rule())
}

const RECORD: &str = r#"{
  "segmentMembership": {
    "ups": {
      "aud-1": {"status": "existing", "lastQualificationTime": "2026-11-30T08:15:02.117Z"},
      "segmentid-feature-x": {"status": "exited", "lastQualificationTime": "2026-11-30 08:16:40", "name": "Feature X"},
      "not-activated": {"status": "realized", "lastQualificationTime": "2026-11-30T08:15:02Z"}
    },
    "CustomerAudienceUpload": {"csv-1": {"status": "realized", "lastQualificationTime": "2026-11-30T08:15:02Z"}},
    "AAM": {"x": {"status": "whatever"}}
  },
  "identityMap": {
    "ECID": [{"id": "111", "primary": true}, {"id": "222"}],
    "CRMID": [{"id": "CRM-1", "authenticatedState": "authenticated"}]
  }
}"#;

#[test]
fn a_snapshot_yields_only_activated_segmentation_audiences() {
    let parsed = parse(RECORD).unwrap();
    let audiences: Vec<_> = parsed.changes.iter().map(|c| c.audience.as_str()).collect();
    assert_eq!(audiences, ["aud-1", "segmentid-feature-x"]);
    assert_eq!(parsed.not_activated_entries, 1);
}

#[test]
fn existing_reads_as_realized_and_the_inline_name_is_kept() {
    let parsed = parse(RECORD).unwrap();
    assert_eq!(parsed.changes[0].status, MembershipStatus::Realized);
    assert_eq!(parsed.changes[1].status, MembershipStatus::Exited);
    assert_eq!(parsed.changes[1].inline_name.as_deref(), Some("Feature X"));
    assert_eq!(
        parsed.changes[1].time,
        QualificationTime::parse("2026-11-30T08:16:40Z").unwrap()
    );
}

#[test]
fn custom_upload_entries_are_counted_and_never_forwarded() {
    let parsed = parse(RECORD).unwrap();
    assert_eq!(parsed.custom_upload_entries, 1);
    assert!(
        parsed
            .changes
            .iter()
            .all(|c| c.audience.as_str() != "csv-1")
    );
}

#[test]
fn identity_namespaces_are_case_folded_and_every_id_is_kept() {
    let parsed = parse(RECORD).unwrap();
    let mut ids: Vec<_> = parsed
        .identities
        .iter()
        .map(|(n, i)| format!("{n}={i}"))
        .collect();
    ids.sort();
    assert_eq!(ids, ["crmid=CRM-1", "ecid=111", "ecid=222"]);
}

#[test]
fn an_attribute_rule_adds_the_attribute_as_an_identity() {
    let json = r#"{"segmentMembership":{"ups":{"aud-1":{"status":"realized","lastQualificationTime":"2026-11-30T08:15:02Z"}}},
                   "attributes":{"pxUserId":{"value":"u-004417"}}}"#;
    let parsed = parse_record(
        json.as_bytes(),
        &activations(MappingSource::Attribute("attributes.pxUserId".into())),
    )
    .unwrap();
    assert_eq!(parsed.identities.len(), 1);
    assert_eq!(parsed.identities[0].0.as_str(), "attr:attributes.pxUserId");
    assert_eq!(parsed.identities[0].1, "u-004417");
}

#[test]
fn an_unknown_status_is_an_error_naming_the_field() {
    let json = RECORD.replace("\"existing\"", "\"pending\"");
    let error = parse(&json).unwrap_err();
    assert_eq!(
        error.to_string(),
        "segmentMembership.ups.aud-1.status: status must be realized, existing or exited"
    );
}

#[test]
fn bad_timestamps_and_missing_fields_are_typed_errors() {
    let bad_time = RECORD.replace("2026-11-30T08:15:02.117Z", "30/11/2026");
    assert!(
        matches!(parse(&bad_time), Err(RecordError::Field { field, .. }) if field.ends_with("aud-1.lastQualificationTime"))
    );
    let numeric_time = RECORD.replace("\"2026-11-30T08:15:02.117Z\"", "1764489600000");
    assert!(
        matches!(parse(&numeric_time), Err(RecordError::Field { problem, .. }) if problem == "must be a string")
    );
    let no_status = RECORD.replace("\"status\": \"existing\", ", "");
    assert!(
        matches!(parse(&no_status), Err(RecordError::Field { problem, .. }) if problem == "is missing")
    );
}

#[test]
fn a_timestamp_outside_years_0000_to_9999_in_utc_is_refused_naming_the_field() {
    for outside in ["9999-12-31T23:59:59-01:00", "0000-01-01T00:30:00+01:00"] {
        let json = RECORD.replace("2026-11-30T08:15:02.117Z", outside);
        assert_eq!(
            parse(&json).unwrap_err().to_string(),
            "segmentMembership.ups.aud-1.lastQualificationTime: \
             timestamp falls outside years 0000-9999 once converted to UTC",
            "{outside}"
        );
    }
}

#[test]
fn malformed_identity_maps_are_typed_errors() {
    let not_array = RECORD.replace(
        r#""CRMID": [{"id": "CRM-1", "authenticatedState": "authenticated"}]"#,
        r#""CRMID": {"id": "CRM-1"}"#,
    );
    assert!(
        matches!(parse(&not_array), Err(RecordError::Field { field, .. }) if field == "identityMap.CRMID")
    );
    let numeric_id = RECORD.replace(r#"{"id": "222"}"#, r#"{"id": 222}"#);
    assert!(
        matches!(parse(&numeric_id), Err(RecordError::Field { field, .. }) if field == "identityMap.ECID[1].id")
    );
}

#[test]
fn an_identity_map_key_that_is_not_a_namespace_code_is_never_echoed() {
    for key in [
        "leak.person@example.com",
        "+15551234567",
        "15551234567",
        "a3f5c0de9b7e4f11a3f5c0de9b7e4f11a3f5",
        "",
    ] {
        let json = format!(r#"{{"identityMap":{{"{key}":{{"id":"x"}}}}}}"#);
        let message = parse(&json).unwrap_err().to_string();
        assert!(
            message.starts_with("identityMap.<redacted namespace>: "),
            "{key}: {message}"
        );
        if !key.is_empty() {
            assert!(!message.contains(key), "{message}");
        }
    }
    let json = r#"{"identityMap":{"leak.person@example.com":[{"id":7}]}}"#;
    assert_eq!(
        parse(json).unwrap_err().to_string(),
        "identityMap.<redacted namespace>[0].id: must be a string"
    );
}

#[test]
fn an_identity_map_key_shaped_like_a_namespace_code_is_named() {
    let json = r#"{"identityMap":{"Email_LC_SHA256":{"id":"x"}}}"#;
    assert_eq!(
        parse(json).unwrap_err().to_string(),
        "identityMap.Email_LC_SHA256: must be an array of {id} objects"
    );
}

#[test]
fn membership_reasons_name_only_keys_known_from_the_configuration() {
    let json = r#"{"segmentMembership":{"ups":{"dana.kim@example.org":{"status":"pending"},
                   "aud-1":{"status":"pending"}}},"identityMap":{"crmId":[{"id":"c"}]}}"#;
    let message = parse(json).unwrap_err().to_string();
    assert!(
        message.starts_with("segmentMembership.ups.aud-1."),
        "{message}"
    );
    let json = r#"{"segmentMembership":{"dana.kim@example.org":[1],"ups":"dana.kim@example.org"}}"#;
    let message = parse(json).unwrap_err().to_string();
    assert!(!message.contains("dana"), "{message}");
}

#[test]
fn non_json_non_objects_and_empty_payloads_are_refused() {
    assert!(matches!(
        parse("{\"segmentMembership\":"),
        Err(RecordError::NotJson(_))
    ));
    assert_eq!(parse("[1,2]"), Err(RecordError::NotAnObject));
    assert_eq!(parse("  "), Err(RecordError::Empty));
    assert!(matches!(
        parse_record(&[0xff, 0xfe], &crm_rule()),
        Err(RecordError::NotJson(_))
    ));
}

#[test]
fn activated_audiences_without_any_identity_are_refused() {
    let json = r#"{"segmentMembership":{"ups":{"aud-1":{"status":"realized","lastQualificationTime":"2026-11-30T08:15:02Z"}}}}"#;
    assert_eq!(parse(json), Err(RecordError::NoIdentity));
}

#[test]
fn an_error_message_never_contains_identity_values() {
    let json = RECORD.replace(r#"{"id": "222"}"#, r#"{"id": ["dana.kim@example.org"]}"#);
    assert!(!parse(&json).unwrap_err().to_string().contains("dana"));
}

#[test]
fn every_record_of_the_bundled_fixture_parses() {
    let fixture = include_str!("../../../tests/fixtures/small/exports.jsonl");
    let activation = pxstream_core::config::ActivationFile::from_json(include_str!(
        "../../../tests/fixtures/small/activation.json"
    ))
    .unwrap();
    let index = Activations::new(&[activation.to_activation()]);
    let mut custom = 0;
    for (n, line) in fixture.lines().enumerate() {
        let parsed =
            parse_record(line.as_bytes(), &index).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        custom += parsed.custom_upload_entries;
    }
    assert!(custom > 0, "the fixture carries custom-upload entries");
}
