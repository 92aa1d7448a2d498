//! The resolver against a SQLite file, driven with explicit clocks and a small release cap.

use std::time::Duration;

use pxstream_core::{
    AudienceId, AudienceState, DestinationName, MembershipStatus, Namespace, QualificationTime,
};
use pxstream_mapping::{IdentityKey, ProfileInput, Resolver, SqliteStore, Store};

const LEASE: Duration = Duration::from_secs(30);
const T0: i64 = 1_800_000_000_000;

fn key(namespace: &str, value: &str) -> IdentityKey {
    IdentityKey {
        namespace: Namespace::new(namespace).unwrap(),
        value: value.into(),
    }
}

fn change(audience: &str, time_us: i64) -> (AudienceState, Namespace) {
    (
        AudienceState {
            destination: DestinationName::new("px").unwrap(),
            audience: AudienceId::new(audience).unwrap(),
            status: MembershipStatus::Realized,
            time: QualificationTime::from_micros(time_us),
            inline_name: Some("Trial users".into()),
        },
        Namespace::new("crmId").unwrap(),
    )
}

fn input(identities: &[(&str, &str)], changes: Vec<(AudienceState, Namespace)>) -> ProfileInput {
    ProfileInput {
        identities: identities.iter().map(|(ns, v)| key(ns, v)).collect(),
        changes,
    }
}

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn releases_beyond_the_cap_go_out_on_later_calls() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = Resolver::new(store(&dir).await, LEASE, 2);
    let held = (0..5).map(|i| change(&format!("aud-{i}"), i)).collect();
    resolver
        .resolve(&[input(&[("ecid", "E1")], held)], T0)
        .await
        .unwrap();

    let linking = resolver
        .resolve(&[input(&[("ecid", "E1"), ("crmid", "C1")], vec![])], T0 + 1)
        .await
        .unwrap();
    assert_eq!(linking.released.len(), 2);
    let second = resolver.resolve(&[], T0 + 2).await.unwrap();
    assert_eq!(second.released.len(), 2);
    let third = resolver.resolve(&[], T0 + 3).await.unwrap();
    assert_eq!(third.released.len(), 1);
    assert!(third.released[0].first_offer);
    assert!(
        resolver
            .resolve(&[], T0 + 4)
            .await
            .unwrap()
            .released
            .is_empty()
    );

    let mut audiences: Vec<String> = [linking, second, third]
        .iter()
        .flat_map(|r| r.released.iter().map(|c| c.state.audience.to_string()))
        .collect();
    audiences.sort();
    assert_eq!(audiences, ["aud-0", "aud-1", "aud-2", "aud-3", "aud-4"]);
}

#[tokio::test]
async fn an_expired_lease_is_offered_again_marked_as_a_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = Resolver::new(store(&dir).await, LEASE, 100);
    resolver
        .resolve(&[input(&[("ecid", "E1")], vec![change("a", 1)])], T0)
        .await
        .unwrap();
    let released = resolver
        .resolve(&[input(&[("ecid", "E1"), ("crmid", "C1")], vec![])], T0)
        .await
        .unwrap()
        .released;
    assert!(released[0].first_offer);
    assert_eq!(
        released[0].state.inline_name.as_deref(),
        Some("Trial users")
    );

    let lease_ms = LEASE.as_millis() as i64;
    let early = resolver.resolve(&[], T0 + lease_ms - 1).await.unwrap();
    assert!(early.released.is_empty());
    let again = resolver.resolve(&[], T0 + lease_ms).await.unwrap();
    assert_eq!(again.released.len(), 1);
    assert!(!again.released[0].first_offer);
    assert_eq!(again.released[0].release_id, released[0].release_id);
}

#[tokio::test]
async fn merging_two_components_that_hold_the_same_change_keeps_one_copy() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = Resolver::new(store(&dir).await, LEASE, 100);
    resolver
        .resolve(
            &[
                input(&[("ecid", "E1")], vec![change("a", 1)]),
                input(&[("ecid", "E2")], vec![change("a", 1)]),
                input(&[("ecid", "E3")], vec![change("a", 1)]),
            ],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(resolver.store().held_count().await.unwrap(), 3);

    let merged = resolver
        .resolve(
            &[input(
                &[("ecid", "E1"), ("ecid", "E2"), ("ecid", "E3")],
                vec![],
            )],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(merged.merges, 2);
    assert_eq!(merged.held_dropped, 2);
    assert_eq!(resolver.store().held_count().await.unwrap(), 1);

    let linking = resolver
        .resolve(&[input(&[("ecid", "E3"), ("crmid", "C1")], vec![])], T0)
        .await
        .unwrap();
    assert_eq!(linking.released.len(), 1);
}

#[tokio::test]
async fn a_rule_change_applied_at_start_releases_changes_the_new_source_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let resolver = Resolver::new(store.clone(), LEASE, 100);
    resolver
        .resolve(
            &[input(
                &[("ecid", "E1"), ("email", "x@example.org")],
                vec![change("a", 1)],
            )],
            T0,
        )
        .await
        .unwrap();

    let marked = store
        .apply_rules(&[(
            DestinationName::new("px").unwrap(),
            Namespace::new("Email").unwrap(),
        )])
        .await
        .unwrap();
    assert_eq!(marked, 1);
    let released = resolver.resolve(&[], T0 + 1).await.unwrap().released;
    assert_eq!(released[0].identify_ids[0].as_str(), "x@example.org");
}
