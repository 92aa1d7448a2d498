//! Loading the configuration from files.

use std::io::Write;

use pxstream_px_sim::{Permission, SimConfig};

fn file(suffix: &str, text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    file.write_all(text.as_bytes()).expect("written");
    file
}

#[test]
fn a_toml_config_loads_with_defaults_for_what_it_omits() {
    let config = file(
        ".toml",
        r#"
[[subscriptions]]
id = "sub-a"
oauth_client_secrets = ["s3cret"]
keep_newest = true
api_keys = [{ key = "k-1", permission = "read" }]
users = [{ username = "a@example.com", password = "pw" }]
limits = { per_second = 5 }
"#,
    );
    let config = SimConfig::load(config.path()).expect("loads");
    let sub = &config.subscriptions[0];
    assert_eq!(sub.id, "sub-a");
    assert!(sub.keep_newest && sub.feature_enabled);
    assert_eq!(sub.api_keys[0].permission, Permission::Read);
    assert_eq!(sub.limits.per_second, 5);
    assert_eq!(sub.limits.per_day, 1_000_000);
}

#[test]
fn a_json_config_loads_and_round_trips() {
    let demo = SimConfig::demo();
    let config = file(".json", &serde_json::to_string(&demo).expect("json"));
    assert_eq!(SimConfig::load(config.path()).expect("loads"), demo);
}

#[test]
fn duplicated_api_keys_or_unknown_fields_are_refused() {
    let duplicated = file(
        ".json",
        r#"{"subscriptions":[
            {"id":"a","api_keys":[{"key":"k","permission":"write"}]},
            {"id":"b","api_keys":[{"key":"k","permission":"read"}]}]}"#,
    );
    assert!(SimConfig::load(duplicated.path()).is_err());
    let unknown = file(".json", r#"{"subscriptions":[{"id":"a","apiKeys":[]}]}"#);
    assert!(SimConfig::load(unknown.path()).is_err());
}
