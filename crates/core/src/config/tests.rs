use super::*;
use crate::Classify;

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
fn an_unknown_value_names_the_field_and_the_accepted_values_but_not_the_value() {
    let text = VALID.replace("region = \"eu\"", "region = \"SUPERSECRETKEY123\"");
    assert_eq!(
        error_of(&text),
        "configuration: destinations[0].region: unknown value, expected one of us, eu, us2"
    );
}

#[test]
fn no_offending_value_is_ever_repeated() {
    let secret = "SUPERSECRETKEY123";
    for text in [
        VALID.replace("mode = \"api_key\"", &format!("mode = \"{secret}\"")),
        VALID.replace("\"k-123\"", secret),
        VALID.replace("region = \"eu\"", &format!("base_url = \"{secret}\"")),
        VALID.replace("\"127.0.0.1:9092\"", "31337"),
        VALID.replace(
            "[kafka]",
            &format!("[ingest]\nadmin_listen = \"{secret}\"\n[kafka]"),
        ),
        VALID.replace("[kafka]", "[kafka]\n\"dana.kim@example.org\" = 1"),
        VALID.replace("[kafka]", "[telemetry]\nlog_format = 31337\n[kafka]"),
        VALID.replace(
            "destination = \"px-prod\"",
            &format!("destination = \"{secret}\""),
        ),
    ] {
        let message = error_of(&text);
        for value in [secret, "31337", "dana"] {
            assert!(!message.contains(value), "{message}");
        }
    }
}

#[test]
fn list_indexes_are_written_in_brackets_in_every_message() {
    let text = VALID.replace("name = \"px-prod\"\n", "");
    assert_eq!(
        error_of(&text),
        "configuration: destinations[0].name: is missing"
    );
    let text = VALID.replace("audiences = [", "audiences = 5\nunused = [");
    assert_eq!(
        error_of(&text),
        "configuration: activations[0].audiences: expected a sequence, found a number"
    );
}

#[test]
fn a_secret_of_the_wrong_type_says_which_forms_are_accepted() {
    let text = VALID.replace("api_key = \"k-123\"", "api_key = 42");
    assert_eq!(
        error_of(&text),
        r#"configuration: destinations[0].auth.api_key: expected a string, or { env = "VAR" }, found a number"#
    );
    let text = VALID.replace("api_key = \"k-123\"", "api_key = { var = \"PATH\" }");
    assert_eq!(
        error_of(&text),
        "configuration: destinations[0].auth.api_key.var: unknown key, expected env"
    );
}

#[test]
fn a_secret_can_be_read_from_the_environment() {
    let text = VALID.replace("\"k-123\"", "{ env = \"PATH\" }");
    let config = Config::from_toml_str(&text).unwrap();
    let AuthConfig::ApiKey { api_key } = &config.destinations[0].auth else {
        panic!("api_key mode");
    };
    assert_eq!(api_key.expose(), std::env::var("PATH").unwrap());
}

#[test]
fn an_auth_table_takes_the_keys_of_its_mode_and_no_other() {
    let text = VALID.replace("mode = \"api_key\", ", "");
    assert_eq!(
        error_of(&text),
        "configuration: destinations[0].auth.mode: is missing"
    );
    let text = VALID.replace(", api_key = \"k-123\"", "");
    assert_eq!(
        error_of(&text),
        "configuration: destinations[0].auth: mode api_key needs api_key"
    );
    let text = VALID.replace("api_key = \"k-123\"", "api_key = \"k\", username = \"u\"");
    assert_eq!(
        error_of(&text),
        "configuration: destinations[0].auth: username is not used by mode api_key"
    );
}

#[test]
fn a_log_format_other_than_json_or_pretty_is_refused_naming_the_field() {
    let text = VALID.replace("[kafka]", "[telemetry]\nlog_format = \"xml\"\n[kafka]");
    assert_eq!(
        error_of(&text),
        "configuration: telemetry.log_format: unknown value, expected one of json, pretty"
    );
    let text = VALID.replace("[kafka]", "[telemetry]\nlog_format = \"json\"\n[kafka]");
    assert_eq!(
        Config::from_toml_str(&text).unwrap().telemetry.log_format,
        LogFormat::Json
    );
}

#[test]
fn a_store_other_than_embedded_sqlite_is_a_configuration_error_naming_the_field() {
    for section in ["mapping", "delivery"] {
        let text = VALID.replace(
            "[kafka]",
            &format!("[{section}]\nstore = \"postgres://px:SUPERSECRET@db/px\"\n[kafka]"),
        );
        let error = Config::from_toml_str(&text).unwrap_err();
        assert_eq!(error.class(), crate::ErrorClass::FailFast);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("configuration: {section}.store: "))
                && message.contains("sqlite://path")
                && !message.contains("SUPERSECRET"),
            "{message}"
        );
    }
    for store in [
        "sqlite://relative.db",
        "sqlite:///abs/path.db",
        "sqlite::memory:",
    ] {
        let text = VALID.replace(
            "[kafka]",
            &format!("[mapping]\nstore = \"{store}\"\n[kafka]"),
        );
        assert!(Config::from_toml_str(&text).is_ok(), "{store}");
    }
}

#[test]
fn a_toml_syntax_error_keeps_its_position_but_not_the_offending_line() {
    let message = error_of(&VALID.replace("\"k-123\"", "SUPERSECRETKEY123"));
    assert!(message.contains("line 10"), "{message}");
    assert!(!message.contains("SUPERSECRET"), "{message}");
}

#[test]
fn a_duplicate_destination_name_points_at_the_first_one() {
    let text = VALID.replace(
        "[[activations]]",
        "[[destinations]]\nname = \"px-prod\"\nauth = { mode = \"api_key\", api_key = \"k\" }\n\n[[activations]]",
    );
    assert_eq!(
        error_of(&text),
        "configuration: destinations[1].name: same as destinations[0].name; names must be unique"
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

#[test]
fn an_unknown_librdkafka_property_is_refused_at_start_without_its_value() {
    let text = VALID.replace(
        "\"security.protocol\" = \"SASL_SSL\"",
        "\"sasl.passwrod\" = \"hunter2-SECRET\"",
    );
    let error = error_of(&text);
    assert!(error.contains("kafka.properties.sasl.passwrod"), "{error}");
    assert!(
        error.contains("not a librdkafka configuration property"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn a_librdkafka_property_with_a_refused_value_names_the_key_but_not_the_value() {
    let text = VALID.replace(
        "\"security.protocol\" = \"SASL_SSL\"",
        "\"security.protocol\" = \"sk_live_TOPSECRET\"",
    );
    let error = error_of(&text);
    assert!(
        error.contains("kafka.properties.security.protocol"),
        "{error}"
    );
    assert!(!error.contains("TOPSECRET"), "{error}");
}

#[test]
fn a_log_filter_that_does_not_parse_is_refused_without_its_value() {
    let text = VALID.replace(
        "[kafka]",
        "[telemetry]\nlog_filter = \"sk_live_TOPSECRET=[[[\"\n[kafka]",
    );
    let error = error_of(&text);
    assert!(error.contains("telemetry.log_filter"), "{error}");
    assert!(!error.contains("TOPSECRET"), "{error}");
}
