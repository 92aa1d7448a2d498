//! The `px-sim` binary.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_prints_one_listening_line_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_px-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("line in time")
        .expect("readable")
        .expect("a line");
    let url = line
        .strip_prefix("px-sim listening on ")
        .expect("the listening line");
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let response = reqwest::get(format!("{url}/__sim/health"))
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    child.kill().await.expect("killed");
}
