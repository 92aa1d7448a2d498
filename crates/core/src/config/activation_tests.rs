use super::*;

const FILE: &str = r#"{"destination":{"name":"PX production","description":"d","region":"us","identityType":"IDENTIFY_ID"},
  "mapping":{"source":{"namespace":"crmId"},"target":"IDENTIFY_ID"},
  "audiences":[{"id":"a-1","name":"A","description":"x"},{"id":"a-2","name":"B"}]}"#;

fn error_of(text: &str) -> String {
    ActivationFile::from_json(text).unwrap_err().to_string()
}

#[test]
fn the_activation_export_format_is_accepted() {
    let file = ActivationFile::from_json(FILE).unwrap();
    assert_eq!(file.to_activation().destination.as_str(), "PX production");
    assert_eq!(file.audiences[0].id.as_str(), "a-1");
    assert_eq!(file.destination.identity_type, IdentityType::IdentifyId);
}

#[test]
fn the_bundled_fixture_is_accepted_as_it_is() {
    let text = include_str!("../../../../tests/fixtures/small/activation.json");
    let file = ActivationFile::from_json(text).unwrap();
    assert_eq!(file.audiences.len(), 8);
}

#[test]
fn a_missing_field_is_named_by_its_path_in_the_file() {
    let text = FILE.replace(r#""name":"B""#, r#""description":"B""#);
    assert_eq!(
        error_of(&text),
        "activation file: audiences[1].name: is missing"
    );
    let text = FILE.replace(r#""name":"PX production","#, "");
    assert_eq!(
        error_of(&text),
        "activation file: destination.name: is missing"
    );
}

#[test]
fn unknown_keys_are_refused_as_in_the_configuration_file() {
    let text = FILE.replace(r#""identityType""#, r#""identity_type""#);
    assert_eq!(
        error_of(&text),
        "activation file: destination.identity_type: unknown key, expected one of name, description, region, identityType"
    );
    let text = FILE.replace(r#""audiences""#, r#""notes":1,"audiences""#);
    assert!(
        error_of(&text).starts_with("activation file: notes: unknown key"),
        "{}",
        error_of(&text)
    );
}

#[test]
fn an_offending_value_is_never_repeated() {
    let text = FILE.replace(r#""region":"us""#, r#""region":"SUPERSECRET""#);
    assert_eq!(
        error_of(&text),
        "activation file: destination.region: unknown value, expected one of us, eu, us2"
    );
    let text = FILE.replace(r#""name":"B""#, r#""name":31337"#);
    assert!(!error_of(&text).contains("31337"), "{}", error_of(&text));
}

#[test]
fn validation_errors_name_the_path_inside_the_file() {
    let text = FILE.replace(r#""id":"a-2""#, r#""id":"a-1""#);
    assert_eq!(
        error_of(&text),
        "activation file: audiences[1].id: same audience as audiences[0]; list each audience once"
    );
    let text = FILE.replace(r#""target":"IDENTIFY_ID""#, r#""target":"GLOBAL_ID""#);
    assert_eq!(
        error_of(&text),
        "activation file: mapping.target: only IDENTIFY_ID is supported"
    );
}

#[test]
fn text_that_is_not_json_is_refused_with_its_position() {
    let message = error_of(r#"{"destination": SUPERSECRET"#);
    assert!(message.contains("line 1"), "{message}");
    assert!(!message.contains("SUPERSECRET"), "{message}");
}
