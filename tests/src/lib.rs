//! Helpers shared by the end-to-end tests: starting a stack on the bundled fixture, and reading it back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pxstream_core::config::ActivationFile;
use pxstream_stack::check::Expected;
use pxstream_stack::config_file::DemoAuth;
use pxstream_stack::{Stack, StackOptions};

/// The bundled fixture: 2,207 exports of 300 profiles and 12 audiences, with its activation and end state.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/small")
}

pub fn fixture_lines() -> Vec<String> {
    pxstream_stack::stack::read_lines(&fixture_dir().join("exports.jsonl"))
        .expect("fixture exports")
}

pub fn fixture_expected() -> Expected {
    let text = std::fs::read_to_string(fixture_dir().join("expected.json"))
        .expect("fixture expected state");
    serde_json::from_str(&text).expect("expected.json parses")
}

pub fn fixture_activation() -> ActivationFile {
    let text =
        std::fs::read_to_string(fixture_dir().join("activation.json")).expect("fixture activation");
    ActivationFile::from_json(&text).expect("activation.json parses")
}

/// Starts a fresh stack in a directory of its own (`scratch` is the test's `CARGO_TARGET_TMPDIR`).
pub async fn start_stack(scratch: &str, test: &str, auth: DemoAuth) -> Stack {
    let dir = Path::new(scratch).join("e2e").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    let options = StackOptions {
        dir,
        activation: fixture_activation(),
        auth,
        partitions: 3,
    };
    match Stack::start(options, |step| eprintln!("[{test}] {step}")).await {
        Ok(stack) => stack,
        Err(error) => panic!("starting the stack for {test}: {error:#}"),
    }
}

/// Produces the records and waits (bounded) until the pipeline has settled.
pub async fn run_through(stack: &mut Stack, lines: &[String]) {
    stack
        .produce_exports(lines, |_| {})
        .await
        .expect("producing exports");
    if let Err(error) = stack
        .wait_settled(Duration::from_secs(300), |_, _| {})
        .await
    {
        panic!("{error:#}\n{}", service_logs(stack));
    }
}

/// The end of every service's log, for failure messages.
pub fn service_logs(stack: &Stack) -> String {
    let mut out = String::new();
    for name in ["mapping", "delivery", "ingest", "px-sim", "broker"] {
        let path = stack.logs_dir().join(format!("{name}.log"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!(
            "--- {name} ---\n{}\n",
            lines[lines.len().saturating_sub(15)..].join("\n")
        ));
    }
    out
}

/// A deterministic shuffle (xorshift), so a failure reproduces.
pub fn shuffled(lines: &[String], seed: u64) -> Vec<String> {
    let mut out = lines.to_vec();
    let mut state = seed.max(1);
    for i in (1..out.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

/// How the changes topic differs from `expected`: the end state its changes imply (latest
/// `lastQualificationTime` per membership, an exit winning a tie) compared member by member. Empty when
/// ingest and mapping did their part, so a failing end-state check can say which side lost a change.
pub fn changes_topic_differences(stack: &Stack, expected: &Expected) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};

    use prost::Message as _;
    use pxstream_core::{MembershipChange, MembershipStatus};
    use rdkafka::message::Message as _;

    let records = match pxstream_stack::kafka_io::read_topic(
        &stack.endpoints.bootstrap,
        pxstream_stack::stack::CHANGES_TOPIC,
    ) {
        Ok(records) => records,
        Err(error) => return vec![format!("cannot read the changes topic: {error:#}")],
    };
    let mut latest: BTreeMap<(String, String), (i64, u8)> = BTreeMap::new();
    for record in &records {
        let Some(change) = record
            .payload()
            .and_then(|p| pxstream_proto::v1::MembershipChange::decode(p).ok())
            .and_then(|wire| MembershipChange::try_from(wire).ok())
        else {
            continue;
        };
        let rank = u8::from(change.state.status == MembershipStatus::Exited);
        let version = (change.state.time.as_micros(), rank);
        let key = (
            change.state.audience.as_str().to_owned(),
            change.identify_id.as_str().to_owned(),
        );
        let entry = latest.entry(key).or_insert(version);
        *entry = (*entry).max(version);
    }
    let mut implied = pxstream_stack::check::PxState {
        names: expected.segments.clone(),
        ..Default::default()
    };
    for audience in expected.segments.keys() {
        implied.members.insert(audience.clone(), BTreeSet::new());
    }
    for ((audience, user), (_, rank)) in latest {
        if rank == 0 {
            implied.members.entry(audience).or_default().insert(user);
        }
    }
    implied.differences(expected)
}
