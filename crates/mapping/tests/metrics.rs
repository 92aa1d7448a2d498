//! Counting held and released changes. Its own test binary: the metrics recorder is process-wide.

mod common;

use common::{LONG_LEASE_MS, PX, profile, realized, start};

fn value(rendered: &str, series: &str) -> f64 {
    rendered
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn held_changes_are_counted_until_acknowledged() {
    let metrics = pxstream_core::admin::install_metrics().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    service
        .resolve(vec![profile(
            &[("ecid", "E1")],
            vec![realized(PX, "aud-trial", 1)],
        )])
        .await;
    let rendered = metrics.render();
    assert_eq!(value(&rendered, "pxstream_mapping_held_total"), 1.0);
    assert_eq!(value(&rendered, "pxstream_mapping_held_changes"), 1.0);
    assert_eq!(value(&rendered, "pxstream_mapping_profiles_total"), 1.0);

    let linking = service
        .resolve(vec![profile(
            &[("ecid", "E1"), ("crmId", "C1"), ("crmId", "C2")],
            vec![],
        )])
        .await;
    let rendered = metrics.render();
    assert_eq!(value(&rendered, "pxstream_mapping_released_total"), 1.0);
    assert_eq!(value(&rendered, "pxstream_mapping_held_changes"), 1.0);

    service.ack(linking.release_ids).await;
    service
        .resolve(vec![profile(
            &[("crmId", "C1")],
            vec![realized(PX, "aud-trial", 2)],
        )])
        .await;
    let rendered = metrics.render();
    assert_eq!(value(&rendered, "pxstream_mapping_held_changes"), 0.0);
    assert_eq!(value(&rendered, "pxstream_mapping_acknowledged_total"), 1.0);
    assert_eq!(
        value(&rendered, "pxstream_mapping_fanout_profiles_total"),
        1.0
    );
    assert_eq!(value(&rendered, "pxstream_mapping_resolved_total"), 2.0);
    assert!(!rendered.contains("C1") && !rendered.contains("E1"));
    service.stop().await;
}
