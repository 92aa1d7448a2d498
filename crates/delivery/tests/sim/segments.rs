//! Segment metadata: created once, renamed once, recreated when PX lost it.

use pxstream_delivery::px::SegmentMetadata;

use crate::common::*;

fn segment(sim: &pxstream_px_sim::SimHandle, id: &str) -> pxstream_px_sim::SegmentState {
    sim.state().subscription(SUB).unwrap().segments[id].clone()
}

#[tokio::test]
async fn segment_create_is_idempotent_and_costs_no_call_once_remembered() {
    let sim = sim().await;
    let store = memory_store().await;
    let audiences = vec![audience("a", "Trial users"), audience("b", "Churn risk")];
    let mut delivery = delivery(&sim, store.clone(), audiences.clone(), 100);
    delivery.sync_segments().await.unwrap();
    delivery.sync_segments().await.unwrap();
    assert_eq!(requests(&sim).endpoint("metadata"), 2);
    assert_eq!(segment(&sim, "a").name, "Trial users");
    assert_eq!(
        segment(&sim, "b").description.as_deref(),
        Some("Churn risk, from AEP")
    );

    // A restart with the same store knows both segments are in place.
    let mut restarted = crate::common::delivery(&sim, store, audiences.clone(), 100);
    restarted.sync_segments().await.unwrap();
    assert_eq!(requests(&sim).endpoint("metadata"), 2);

    // A lost store creates again; PX answers the existing segments and nothing breaks.
    let mut amnesiac = crate::common::delivery(&sim, memory_store().await, audiences, 100);
    amnesiac.sync_segments().await.unwrap();
    assert_eq!(requests(&sim).endpoint("metadata"), 4);
    assert_eq!(requests(&sim).status(200), 4);
    assert_eq!(sim.state().subscription(SUB).unwrap().segments.len(), 2);
}

#[tokio::test]
async fn a_renamed_audience_is_put_once() {
    let sim = sim().await;
    let store = memory_store().await;
    let mut first = delivery(&sim, store.clone(), vec![audience("a", "Trial users")], 100);
    first.sync_segments().await.unwrap();
    let px_id = segment(&sim, "a").id;

    let renamed = vec![audience("a", "Trial users, day 7")];
    let mut second = delivery(&sim, store.clone(), renamed.clone(), 100);
    second.sync_segments().await.unwrap();
    second.sync_segments().await.unwrap();
    let mut third = delivery(&sim, store, renamed, 100);
    third.sync_segments().await.unwrap();

    assert_eq!(
        requests(&sim).endpoint("metadata"),
        2,
        "one create, one rename"
    );
    let renamed = segment(&sim, "a");
    assert_eq!(renamed.name, "Trial users, day 7");
    assert_eq!(
        renamed.description.as_deref(),
        Some("Trial users, day 7, from AEP")
    );
    assert_eq!(renamed.id, px_id, "a rename keeps the segment");
}

#[tokio::test]
async fn a_lost_store_still_ends_with_the_configured_name() {
    let sim = sim().await;
    let writer = client(&api_key_destination(&sim, WRITE_KEY));
    writer
        .create_segment(&SegmentMetadata {
            external_id: "a".into(),
            name: "Old name".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let mut delivery = delivery(
        &sim,
        memory_store().await,
        vec![audience("a", "New name")],
        100,
    );
    delivery.sync_segments().await.unwrap();
    assert_eq!(segment(&sim, "a").name, "New name");
    assert_eq!(
        requests(&sim).endpoint("metadata"),
        3,
        "create, create, rename"
    );
}

#[tokio::test]
async fn a_segment_px_no_longer_has_is_created_again_on_rename() {
    let sim = sim().await;
    let store = memory_store().await;
    delivery(&sim, store.clone(), vec![audience("a", "Trial users")], 100)
        .sync_segments()
        .await
        .unwrap();
    sim.reset();
    delivery(
        &sim,
        store,
        vec![audience("a", "Trial users, renamed")],
        100,
    )
    .sync_segments()
    .await
    .unwrap();
    assert_eq!(segment(&sim, "a").name, "Trial users, renamed");
    assert_eq!(requests(&sim).status(404), 1);
}
