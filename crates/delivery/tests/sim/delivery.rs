//! Whole batches through the store and the simulator: what reaches PX, what is remembered, what is set
//! aside.

use pxstream_core::MembershipStatus::{Exited, Realized};
use pxstream_core::{Classify, ErrorClass};
use serde_json::json;

use crate::common::*;

fn members(sim: &pxstream_px_sim::SimHandle, segment: &str) -> Vec<(String, String)> {
    sim.state().members(SUB, segment).into_iter().collect()
}

#[tokio::test]
async fn a_stale_change_never_reaches_px() {
    let sim = sim().await;
    let mut delivery = delivery(&sim, memory_store().await, vec![audience("a", "A")], 100);
    let first = delivery
        .deliver(vec![envelope(0, "u-1", "a", Realized, 20)])
        .await
        .unwrap();
    assert_eq!(first.sent, 1);
    // An exit from an older snapshot, retried late by AEP.
    let late = delivery
        .deliver(vec![envelope(1, "u-1", "a", Exited, 10)])
        .await
        .unwrap();
    assert_eq!((late.sent, late.stale), (0, 1));
    assert_eq!(requests(&sim).endpoint("update_membership"), 1);
    assert_eq!(members(&sim, "a"), vec![("u-1".into(), at(20).to_string())]);
}

#[tokio::test]
async fn a_batch_in_any_order_ends_in_the_newest_state_with_one_call() {
    let sim = sim().await;
    let mut delivery = delivery(
        &sim,
        memory_store().await,
        vec![audience("a", "A"), audience("b", "B")],
        100,
    );
    let report = delivery
        .deliver(vec![
            envelope(0, "u-1", "a", Exited, 30),
            envelope(1, "u-1", "a", Realized, 10),
            envelope(2, "u-1", "a", Realized, 30),
            envelope(3, "u-2", "a", Realized, 5),
            envelope(4, "u-2", "b", Realized, 5),
            envelope(5, "u-2", "a", Realized, 5),
        ])
        .await
        .unwrap();
    // u-1/a: the exit at 30 wins, and a first exit needs no call.
    assert_eq!((report.sent, report.remembered, report.stale), (2, 1, 3));
    assert!(report.dead_letters.is_empty());
    assert_eq!(requests(&sim).endpoint("update_membership"), 1);
    assert_eq!(members(&sim, "a"), vec![("u-2".into(), at(5).to_string())]);
    assert_eq!(members(&sim, "b").len(), 1);
}

#[tokio::test]
async fn a_newer_qualification_already_in_px_is_remembered_without_a_call() {
    let sim = sim().await;
    let mut delivery = delivery(&sim, memory_store().await, vec![audience("a", "A")], 100);
    delivery
        .deliver(vec![envelope(0, "u-1", "a", Realized, 10)])
        .await
        .unwrap();
    let again = delivery
        .deliver(vec![envelope(1, "u-1", "a", Realized, 20)])
        .await
        .unwrap();
    assert_eq!((again.sent, again.remembered), (0, 1));
    // And a snapshot older than the remembered one is now stale, though newer than what PX has.
    let older = delivery
        .deliver(vec![envelope(2, "u-1", "a", Exited, 15)])
        .await
        .unwrap();
    assert_eq!(older.stale, 1);
    assert_eq!(requests(&sim).endpoint("update_membership"), 1);
}

#[tokio::test]
async fn an_exit_after_a_qualification_removes_the_member() {
    let sim = sim().await;
    let mut delivery = delivery(&sim, memory_store().await, vec![audience("a", "A")], 100);
    delivery
        .deliver(vec![envelope(0, "u-1", "a", Realized, 10)])
        .await
        .unwrap();
    let exit = delivery
        .deliver(vec![envelope(1, "u-1", "a", Exited, 10)])
        .await
        .unwrap();
    assert_eq!(exit.sent, 1, "at equal times the exit wins");
    assert!(members(&sim, "a").is_empty());
}

#[tokio::test]
async fn a_change_for_an_audience_not_activated_is_dead_lettered_with_its_reason() {
    let sim = sim().await;
    let mut delivery = delivery(&sim, memory_store().await, vec![audience("a", "A")], 100);
    let mut elsewhere = envelope(2, "u-1", "a", Realized, 10);
    elsewhere.change.state.destination = pxstream_core::DestinationName::new("px-eu").unwrap();
    let report = delivery
        .deliver(vec![
            envelope(0, "u-1", "a", Realized, 10),
            envelope(1, "u-1", "zz", Realized, 10),
            elsewhere,
        ])
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let reasons: Vec<(usize, &str)> = report
        .dead_letters
        .iter()
        .map(|d| (d.record, d.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (1, "audience zz is not activated for destination px"),
            (2, "destination px-eu is not configured"),
        ]
    );
    assert!(
        !sim.state()
            .subscription(SUB)
            .unwrap()
            .segments
            .contains_key("zz")
    );
}

#[tokio::test]
async fn a_call_px_refuses_is_split_and_only_the_refused_change_is_dead_lettered() {
    let sim = sim().await;
    let mut delivery = delivery(
        &sim,
        memory_store().await,
        vec![audience("a", "A"), audience("b", "B")],
        100,
    );
    delivery.sync_segments().await.unwrap();
    // PX loses segment b behind delivery's back.
    sim.reset();
    let writer = client(&api_key_destination(&sim, WRITE_KEY));
    writer
        .create_segment(&pxstream_delivery::px::SegmentMetadata {
            external_id: "a".into(),
            name: "A".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let report = delivery
        .deliver(vec![
            envelope(0, "u-1", "a", Realized, 10),
            envelope(1, "u-2", "a", Realized, 10),
            envelope(2, "u-3", "b", Realized, 10),
            envelope(3, "u-4", "a", Realized, 11),
        ])
        .await
        .unwrap();
    assert_eq!(report.sent, 3);
    assert_eq!(report.dead_letters.len(), 1);
    let dead = &report.dead_letters[0];
    assert_eq!(dead.record, 2);
    assert!(
        dead.reason
            .contains("no external segment with externalId b"),
        "{}",
        dead.reason
    );
    assert!(!dead.reason.contains("u-3"));
    assert_eq!(members(&sim, "a").len(), 3);
    assert_eq!(
        requests(&sim).status(400),
        3,
        "the whole call, the half holding b, then b alone"
    );

    // The refused change was not recorded as applied: once PX has the segment it can go through.
    writer
        .create_segment(&pxstream_delivery::px::SegmentMetadata {
            external_id: "b".into(),
            name: "B".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let replay = delivery
        .deliver(vec![envelope(2, "u-3", "b", Realized, 10)])
        .await
        .unwrap();
    assert_eq!(replay.sent, 1);
}

#[tokio::test]
async fn a_call_over_the_px_size_cap_is_split_until_it_fits() {
    let sim = sim_with(|sub| sub.limits.max_identities_per_call = 2).await;
    let mut delivery = delivery(&sim, memory_store().await, vec![audience("a", "A")], 8);
    let batch = (0..8)
        .map(|i| envelope(i, &format!("u-{i}"), "a", Realized, 10))
        .collect();
    let report = delivery.deliver(batch).await.unwrap();
    assert_eq!(report.sent, 8);
    assert!(report.dead_letters.is_empty());
    assert_eq!(members(&sim, "a").len(), 8);
    let requests = requests(&sim);
    assert_eq!(requests.status(413), 3, "8 → 4+4 → 2+2+2+2");
    assert_eq!(requests.endpoint("update_membership"), 7);
}

#[tokio::test]
async fn big_batches_use_the_fewest_calls() {
    let sim = sim().await;
    let mut delivery = delivery(
        &sim,
        memory_store().await,
        vec![audience("a", "A"), audience("b", "B")],
        10,
    );
    let batch = (0..25)
        .map(|i| {
            envelope(
                i,
                &format!("u-{i}"),
                if i % 3 == 0 { "b" } else { "a" },
                Realized,
                i as i64 % 2,
            )
        })
        .collect();
    let report = delivery.deliver(batch).await.unwrap();
    assert_eq!(report.sent, 25);
    assert_eq!(requests(&sim).endpoint("update_membership"), 3);
}

#[tokio::test]
async fn applied_state_survives_a_restart_so_a_replay_is_stale() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("delivery.db").display());
    let batch = || {
        vec![
            envelope(0, "u-1", "a", Realized, 10),
            envelope(1, "u-2", "a", Exited, 10),
        ]
    };
    {
        let store = pxstream_delivery::StateStore::open(&url).await.unwrap();
        let mut delivery = delivery(&sim, store.clone(), vec![audience("a", "A")], 100);
        delivery.deliver(batch()).await.unwrap();
        store.close().await;
    }
    let store = pxstream_delivery::StateStore::open(&url).await.unwrap();
    let mut restarted = delivery(&sim, store, vec![audience("a", "A")], 100);
    let replay = restarted.deliver(batch()).await.unwrap();
    assert_eq!((replay.sent, replay.stale), (0, 2));
    let requests = requests(&sim);
    assert_eq!(requests.endpoint("update_membership"), 1);
    assert_eq!(
        requests.endpoint("metadata"),
        1,
        "the segment is remembered too"
    );
}

#[tokio::test]
async fn delivery_stops_when_px_refuses_every_call() {
    let sim = sim().await;
    let mut delivery = delivery(&sim, memory_store().await, vec![audience("a", "A")], 100);
    delivery.sync_segments().await.unwrap();
    sim.set_faults(faults(json!({"featureOff": true}))).unwrap();
    let error = delivery
        .deliver(vec![envelope(0, "u-1", "a", Realized, 10)])
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::FailFast);
    // Nothing was recorded: once the feature is back, the change goes through.
    sim.clear_faults();
    let report = delivery
        .deliver(vec![envelope(0, "u-1", "a", Realized, 10)])
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
}
