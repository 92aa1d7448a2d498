//! The whole service against librdkafka's in-process mock broker and the PX simulator: records in, PX state,
//! dead letters and committed offsets out.

use std::time::Duration;

use prost::Message as _;
use pxstream_core::config::Config;
use pxstream_core::kafka::headers;
use pxstream_core::{
    AudienceId, AudienceState, DestinationName, IdentifyId, MembershipChange, MembershipStatus,
    QualificationTime,
};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

const CHANGES: &str = "changes";
const DEAD: &str = "dead";
const GROUP: &str = "pxstream-delivery-test";

fn config(bootstrap: &str, px: &str, store: &str) -> Config {
    Config::from_toml_str(&format!(
        r#"
[kafka]
bootstrap_servers = "{bootstrap}"
changes_topic = "{CHANGES}"
dead_letter_topic = "{DEAD}"

[delivery]
group_id = "{GROUP}"
store = "{store}"
linger_ms = 20
max_identities_per_call = 50
retry_initial_ms = 10
retry_max_ms = 1000
session_timeout_ms = 6000

[[destinations]]
name = "px"
base_url = "{px}"
auth = {{ mode = "api_key", api_key = "demo-write-key" }}

[[activations]]
destination = "px"
mapping = {{ source = {{ namespace = "crmId" }} }}
audiences = [{{ id = "a", name = "Trial users" }}]
"#
    ))
    .expect("valid configuration")
}

fn record(user: &str, audience: &str, status: MembershipStatus, seconds: i64) -> Vec<u8> {
    let change = MembershipChange {
        identify_id: IdentifyId::new(user).unwrap(),
        state: AudienceState {
            destination: DestinationName::new("px").unwrap(),
            audience: AudienceId::new(audience).unwrap(),
            status,
            time: QualificationTime::from_micros((1_796_026_502 + seconds) * 1_000_000),
            inline_name: None,
        },
    };
    pxstream_proto::v1::MembershipChange::from(&change).encode_to_vec()
}

fn committed(bootstrap: &str) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", GROUP)
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition(CHANGES, 0);
    list.add_partition(CHANGES, 1);
    let Ok(found) = consumer.committed_offsets(list, Duration::from_secs(5)) else {
        return vec![];
    };
    found
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => o,
            _ => -1,
        })
        .collect()
}

fn dead_letters(bootstrap: &str) -> Vec<(String, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "dead-letter-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(DEAD, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&list).unwrap();
    let mut found = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let header = |name: &str| {
            message
                .headers()
                .and_then(|h| h.iter().find(|x| x.key == name))
                .and_then(|x| x.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        found.push((header(headers::REASON), header(headers::SOURCE_OFFSET)));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_reach_px_in_order_and_offsets_are_committed_past_settled_changes_only() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(CHANGES, 2, 1).unwrap();
    cluster.create_topic(DEAD, 1, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let sim = pxstream_px_sim::spawn(pxstream_px_sim::SimConfig::demo())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("delivery.db").display());

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let records: Vec<(i32, Vec<u8>)> = vec![
        (0, record("u-1", "a", MembershipStatus::Realized, 20)),
        (0, b"not a protobuf change \xff\xff".to_vec()),
        (0, record("u-1", "a", MembershipStatus::Exited, 10)),
        (1, record("u-2", "a", MembershipStatus::Realized, 5)),
        (
            1,
            record("u-3", "not-activated", MembershipStatus::Realized, 5),
        ),
        (1, record("u-2", "a", MembershipStatus::Exited, 6)),
        (1, record("u-4", "a", MembershipStatus::Realized, 7)),
    ];
    for (partition, payload) in &records {
        producer
            .send(
                FutureRecord::<(), _>::to(CHANGES)
                    .partition(*partition)
                    .payload(payload),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }

    let shutdown = CancellationToken::new();
    let service = tokio::spawn(pxstream_delivery::run(
        config(&bootstrap, &sim.base_url(), &store),
        shutdown.clone(),
    ));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while committed(&bootstrap) != vec![3, 4] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "offsets never committed: {:?}",
            committed(&bootstrap)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), service)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    let members: Vec<String> = sim.state().members("sub-demo", "a").into_keys().collect();
    assert_eq!(
        members,
        vec!["u-1", "u-4"],
        "u-1's late exit is stale, u-2 left"
    );
    assert_eq!(
        sim.state().subscription("sub-demo").unwrap().segments["a"].name,
        "Trial users"
    );

    let mut dead = dead_letters(&bootstrap);
    dead.sort();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(
        dead.iter()
            .any(|(reason, offset)| reason.contains("not activated") && offset == "1"),
        "{dead:?}"
    );
    assert!(
        dead.iter()
            .any(|(reason, offset)| reason.contains("not a MembershipChange") && offset == "1"),
        "{dead:?}"
    );
}
