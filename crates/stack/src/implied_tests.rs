use super::*;

fn activation(source: &str) -> ActivationFile {
    ActivationFile::from_json(&format!(
        r#"{{"destination": {{"name": "PX"}}, "mapping": {{"source": {source}}},
            "audiences": [{{"id": "a", "name": "A"}}, {{"id": "b", "name": "B"}}]}}"#
    ))
    .unwrap()
}

fn record(identities: &str, audiences: &str) -> String {
    format!(
        r#"{{"identityMap": {{{identities}}}, "segmentMembership": {{"ups": {{{audiences}}}}}}}"#
    )
}

fn members(implied: &Implied, audience: &str) -> Vec<String> {
    implied.expected.members[audience].iter().cloned().collect()
}

#[test]
fn the_newest_entry_wins_whatever_the_order_of_the_lines() {
    let lines = vec![
        record(
            r#""crmId": [{"id": "u-1"}]"#,
            r#""a": {"status": "exited", "lastQualificationTime": "2026-11-30T09:00:00Z"}"#,
        ),
        record(
            r#""CRMID": [{"id": "u-1"}]"#,
            r#""a": {"status": "existing", "lastQualificationTime": "2026-11-30 08:00:00"}"#,
        ),
    ];
    let forward = implied_state(&lines, &activation(r#"{"namespace": "crmId"}"#));
    let reversed: Vec<String> = lines.iter().rev().cloned().collect();
    let backward = implied_state(&reversed, &activation(r#"{"namespace": "crmId"}"#));
    assert!(members(&forward, "a").is_empty());
    assert_eq!(forward.expected.members, backward.expected.members);
}

#[test]
fn an_exit_wins_a_tie_in_lastqualificationtime() {
    let lines = vec![
        record(
            r#""crmId": [{"id": "u-1"}]"#,
            r#""a": {"status": "realized", "lastQualificationTime": "2026-11-30T08:00:00Z"}"#,
        ),
        record(
            r#""crmId": [{"id": "u-1"}]"#,
            r#""a": {"status": "exited", "lastQualificationTime": "2026-11-30T08:00:00.000+00:00"}"#,
        ),
    ];
    let implied = implied_state(&lines, &activation(r#"{"namespace": "crmId"}"#));
    assert!(members(&implied, "a").is_empty());
}

#[test]
fn an_ecid_only_record_resolves_through_a_link_seen_on_a_later_line() {
    let lines = vec![
        record(
            r#""ECID": [{"id": "e-1"}]"#,
            r#""b": {"status": "realized", "lastQualificationTime": "2026-11-30T08:00:00Z"}"#,
        ),
        record(r#""ecid": [{"id": "e-1"}], "crmId": [{"id": "u-7"}]"#, ""),
        record(
            r#""ECID": [{"id": "e-2"}]"#,
            r#""b": {"status": "realized", "lastQualificationTime": "2026-11-30T08:00:00Z"}"#,
        ),
    ];
    let implied = implied_state(&lines, &activation(r#"{"namespace": "crmId"}"#));
    assert_eq!(members(&implied, "b"), vec!["u-7"], "e-2 never resolves");
    assert_eq!(implied.expected.segments["b"], "B");
}

#[test]
fn unreadable_records_and_custom_uploads_imply_nothing() {
    let lines = vec![
        "not json".to_owned(),
        record(
            r#""crmId": [{"id": "u-1"}]"#,
            r#""a": {"status": "maybe", "lastQualificationTime": "2026-11-30T08:00:00Z"}"#,
        ),
        r#"{"identityMap": {"crmId": [{"id": "u-2"}]}, "segmentMembership": {"CustomerAudienceUpload": {"a": {"status": "realized", "lastQualificationTime": "2026-11-30T08:00:00Z"}}}}"#.to_owned(),
    ];
    let implied = implied_state(&lines, &activation(r#"{"namespace": "crmId"}"#));
    assert_eq!(implied.unreadable, 2);
    assert!(members(&implied, "a").is_empty());
}

#[test]
fn an_attribute_source_maps_profiles_by_that_attribute() {
    let lines = vec![format!(
        r#"{{"identityMap": {{"ECID": [{{"id": "e-1"}}]}}, "attributes": {{"pxUserId": {{"value": "px-9"}}}},
            "segmentMembership": {{"ups": {{"a": {{"status": "realized", "lastQualificationTime": "2026-11-30T08:00:00Z"}}}}}}}}"#
    )];
    let implied = implied_state(
        &lines,
        &activation(r#"{"attribute": "attributes.pxUserId"}"#),
    );
    assert_eq!(members(&implied, "a"), vec!["px-9"]);
}

/// Reads a data set's files and checks that its records imply exactly its `expected.json`.
fn assert_implies_its_expected_file(dir: &std::path::Path) {
    let lines = crate::stack::read_lines(&dir.join("exports.jsonl")).unwrap();
    let activation =
        ActivationFile::from_json(&std::fs::read_to_string(dir.join("activation.json")).unwrap())
            .unwrap();
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let implied = implied_state(&lines, &activation);
    assert_eq!(implied.unreadable, 0);
    assert_eq!(implied.expected.members, expected.members);
    assert_eq!(implied.expected.segments, expected.segments);
}

#[test]
fn the_bundled_fixture_implies_exactly_its_expected_file() {
    assert_implies_its_expected_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/small"),
    );
}

#[test]
fn a_generated_data_set_implies_exactly_the_expected_file_its_generator_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let config = pxstream_datagen::GenConfig {
        profiles: 400,
        seed: 9,
        ..Default::default()
    };
    pxstream_datagen::generate(&config)
        .write_to(dir.path())
        .unwrap();
    assert_implies_its_expected_file(dir.path());
}
