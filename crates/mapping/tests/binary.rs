//! The `pxstream-mapping` binary: configuration errors, serving, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_pxstream-mapping");

#[test]
fn a_bad_configuration_file_exits_non_zero_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[kafka]\nbootstrap_servers = \"\"\n").unwrap();
    let output = Command::new(BINARY)
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("kafka.bootstrap_servers"), "{stderr}");
}

#[tokio::test]
async fn the_binary_serves_health_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapping.toml");
    std::fs::write(
        &path,
        format!(
            r#"
            [kafka]
            bootstrap_servers = "127.0.0.1:9092"
            [mapping]
            listen = "127.0.0.1:0"
            admin_listen = "127.0.0.1:0"
            store = "sqlite://{}"
            [telemetry]
            log_format = "json"
            "#,
            dir.path().join("mapping.db").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(BINARY)
        .env("PXSTREAM_CONFIG", &path)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (grpc, admin) = loop {
        let line = lines
            .next()
            .expect("the service logs before exiting")
            .unwrap();
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let fields = &entry["fields"];
        if let (Some(grpc), Some(admin)) = (fields["grpc"].as_str(), fields["admin"].as_str()) {
            break (grpc.to_owned(), admin.to_owned());
        }
    };

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let answer = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
    let ready = http_status(&admin, "/readyz").await;
    assert_eq!(ready, 200);
    drop(health);

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(dir.path().join("mapping.db").exists());
}

/// A minimal HTTP/1.0 GET, enough for the admin endpoint.
async fn http_status(addr: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}
