//! The binary refuses to start on a bad configuration, saying why.

use std::process::Command;

fn delivery() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pxstream-delivery"));
    command.env_remove("PXSTREAM_CONFIG");
    command
}

#[test]
fn a_missing_configuration_file_stops_the_service_with_its_reason() {
    let output = delivery()
        .args(["--config", "/nonexistent/pxstream.toml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("configuration"), "{stderr}");
}

#[test]
fn an_invalid_configuration_names_the_field_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pxstream.toml");
    std::fs::write(
        &path,
        r#"
[kafka]
bootstrap_servers = "127.0.0.1:9092"
[delivery]
max_identities_per_call = 0
[[destinations]]
name = "px"
auth = { mode = "api_key", api_key = "very-secret-key" }
"#,
    )
    .unwrap();
    let output = delivery().env("PXSTREAM_CONFIG", &path).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("delivery.max_identities_per_call"),
        "{stderr}"
    );
    assert!(!stderr.contains("very-secret-key"), "{stderr}");
}
