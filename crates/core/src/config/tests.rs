use super::*;

const VALID: &str = r#"
[kafka]
bootstrap_servers = "127.0.0.1:9092"
[kafka.properties]
"security.protocol" = "SASL_SSL"

[[destinations]]
name = "px-prod"
region = "eu"
auth = { mode = "api_key", api_key = "k-123" }

[[activations]]
destination = "px-prod"
mapping = { source = { namespace = "crmId" } }
audiences = [{ id = "segmentid-feature-x", name = "Feature X" }]
"#;

fn error_of(text: &str) -> String {
    Config::from_toml_str(text).unwrap_err().to_string()
}

#[test]
fn a_valid_file_loads_with_defaults_filled_in() {
    let config = Config::from_toml_str(VALID).unwrap();
    assert_eq!(config.kafka.exports_topic, "aep.profile-exports");
    assert_eq!(config.kafka.properties["security.protocol"], "SASL_SSL");
    assert_eq!(
        config.destinations[0].api_base(),
        "https://api-eu.aptrinsic.com"
    );
    assert_eq!(
        config.activations[0]
            .mapping
            .source
            .namespace()
            .unwrap()
            .as_str(),
        "crmid"
    );
    assert_eq!(config.delivery.max_identities_per_call, 1000);
}

#[test]
fn an_activation_for_an_unknown_destination_names_the_field() {
    let text = VALID.replace("destination = \"px-prod\"", "destination = \"px-staging\"");
    assert!(
        error_of(&text).contains("activations[0].destination"),
        "{}",
        error_of(&text)
    );
}

#[test]
fn a_wrong_type_names_the_field_and_hides_the_value() {
    let text = VALID.replace("region = \"eu\"", "region = \"mars\"");
    let message = error_of(&text);
    assert!(message.contains("region"), "{message}");
    let text = VALID.replace("api_key = \"k-123\"", "api_key = 42");
    let message = error_of(&text);
    assert!(
        message.contains("api_key") || message.contains("auth"),
        "{message}"
    );
}

#[test]
fn an_empty_secret_is_refused() {
    let message = error_of(&VALID.replace("\"k-123\"", "\"\""));
    assert!(
        message.contains("destinations[0].auth.api_key"),
        "{message}"
    );
}

#[test]
fn reserved_kafka_properties_are_refused() {
    let text = VALID.replace(
        "\"security.protocol\" = \"SASL_SSL\"",
        "\"enable.auto.commit\" = \"true\"",
    );
    assert!(error_of(&text).contains("kafka.properties.enable.auto.commit"));
}

#[test]
fn unknown_keys_are_refused_rather_than_ignored() {
    let text = VALID.replace("[kafka]", "[kafka]\nbootstrap = \"typo\"");
    assert!(error_of(&text).contains("bootstrap"));
}

#[test]
fn oauth_credentials_need_a_token_url() {
    let text = VALID.replace(
        "auth = { mode = \"api_key\", api_key = \"k-123\" }",
        "auth = { mode = \"oauth_password\", token_url = \"ftp://x\", username = \"u\", password = \"p\", client_id = \"c\", client_secret = \"s\" }",
    );
    assert!(error_of(&text).contains("destinations[0].auth.token_url"));
}

#[test]
fn the_activation_export_format_is_accepted() {
    let text = r#"{"destination":{"name":"PX production","description":"d","region":"us","identityType":"IDENTIFY_ID"},
      "mapping":{"source":{"namespace":"crmId"},"target":"IDENTIFY_ID"},
      "audiences":[{"id":"a-1","name":"A","description":"x"}]}"#;
    let file = ActivationFile::from_json(text).unwrap();
    assert_eq!(file.to_activation().destination.as_str(), "PX production");
    assert_eq!(file.audiences[0].id.as_str(), "a-1");
}

#[test]
fn an_activation_with_a_duplicate_audience_is_refused() {
    let text = VALID.replace(
        "audiences = [{ id = \"segmentid-feature-x\", name = \"Feature X\" }]",
        "audiences = [{ id = \"a\", name = \"A\" }, { id = \"a\", name = \"B\" }]",
    );
    assert!(error_of(&text).contains("activations[0].audiences[1].id"));
}

#[test]
fn the_example_configuration_in_deploy_is_valid() {
    let text = include_str!("../../../../deploy/pxstream.example.toml");
    // The example reads its API key from the environment; give it one the process surely has.
    let text = text.replace("{ env = \"PX_API_KEY\" }", "\"example-key\"");
    let config = Config::from_toml_str(&text).unwrap();
    assert_eq!(config.activations[0].audiences.len(), 1);
}
