//! A PX user who joins a profile's identity graph after its memberships were seen still receives them,
//! so the end state does not depend on whether the link or the membership arrived first.

use std::time::Duration;

use pxstream_core::{
    AudienceId, AudienceState, DestinationName, MembershipStatus, Namespace, QualificationTime,
};
use pxstream_mapping::{IdentityKey, ProfileInput, ReleasedChange, Resolver, SqliteStore, Store};

const LEASE: Duration = Duration::from_secs(30);
const T0: i64 = 1_800_000_000_000;

fn state(audience: &str, status: MembershipStatus, time_us: i64) -> (AudienceState, Namespace) {
    (
        AudienceState {
            destination: DestinationName::new("px").unwrap(),
            audience: AudienceId::new(audience).unwrap(),
            status,
            time: QualificationTime::from_micros(time_us),
            inline_name: None,
        },
        Namespace::new("crmId").unwrap(),
    )
}

fn profile(identities: &[(&str, &str)], changes: Vec<(AudienceState, Namespace)>) -> ProfileInput {
    ProfileInput {
        identities: identities
            .iter()
            .map(|(ns, v)| IdentityKey {
                namespace: Namespace::new(ns).unwrap(),
                value: (*v).into(),
            })
            .collect(),
        changes,
    }
}

async fn resolver(dir: &tempfile::TempDir) -> Resolver<SqliteStore> {
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    Resolver::new(SqliteStore::open(&url).await.unwrap(), LEASE, 100)
}

fn users(released: &ReleasedChange) -> Vec<&str> {
    released.identify_ids.iter().map(|id| id.as_str()).collect()
}

#[tokio::test]
async fn a_user_linked_after_a_membership_still_receives_it() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(&dir).await;
    let realized = state("a", MembershipStatus::Realized, 1);
    let first = resolver
        .resolve(
            &[profile(
                &[("crmId", "A"), ("ECID", "E")],
                vec![realized.clone()],
            )],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(first.profiles[0].resolved.len(), 1);
    assert!(
        first.released.is_empty(),
        "a fresh profile is not offered twice"
    );

    let linking = resolver
        .resolve(&[profile(&[("crmId", "B"), ("ECID", "E")], vec![])], T0 + 1)
        .await
        .unwrap();
    assert_eq!(linking.caught_up, 1);
    assert_eq!(linking.released.len(), 1);
    assert_eq!(users(&linking.released[0]), ["A", "B"]);
    assert_eq!(linking.released[0].state, realized.0);

    let ids: Vec<i64> = linking.released.iter().map(|r| r.release_id).collect();
    assert_eq!(resolver.acknowledge(&ids).await.unwrap(), 1);
    assert_eq!(resolver.store().held_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_merge_offers_both_sides_the_newest_state_of_each_audience() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(&dir).await;
    resolver
        .resolve(
            &[
                profile(
                    &[("crmId", "A"), ("ECID", "E1")],
                    vec![state("a", MembershipStatus::Realized, 1)],
                ),
                profile(
                    &[("crmId", "B"), ("ECID", "E2")],
                    vec![state("a", MembershipStatus::Exited, 2)],
                ),
            ],
            T0,
        )
        .await
        .unwrap();

    let merged = resolver
        .resolve(&[profile(&[("ECID", "E1"), ("ECID", "E2")], vec![])], T0)
        .await
        .unwrap();
    assert_eq!(merged.merges, 1);
    assert_eq!(merged.released.len(), 1);
    assert_eq!(users(&merged.released[0]), ["A", "B"]);
    assert_eq!(merged.released[0].state.status, MembershipStatus::Exited);
    assert_eq!(merged.released[0].state.time.as_micros(), 2);
}

#[tokio::test]
async fn the_state_caught_up_on_is_the_newest_whatever_the_order_seen() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(&dir).await;
    for change in [
        state("a", MembershipStatus::Realized, 5),
        state("a", MembershipStatus::Exited, 3),
        state("a", MembershipStatus::Realized, 4),
    ] {
        resolver
            .resolve(
                &[profile(&[("crmId", "A"), ("ECID", "E")], vec![change])],
                T0,
            )
            .await
            .unwrap();
    }
    let linking = resolver
        .resolve(&[profile(&[("crmId", "B"), ("ECID", "E")], vec![])], T0)
        .await
        .unwrap();
    assert_eq!(linking.released.len(), 1);
    assert_eq!(linking.released[0].state.status, MembershipStatus::Realized);
    assert_eq!(linking.released[0].state.time.as_micros(), 5);
}

#[tokio::test]
async fn an_identity_outside_the_source_namespace_offers_nothing_again() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(&dir).await;
    resolver
        .resolve(
            &[profile(
                &[("crmId", "A"), ("ECID", "E1")],
                vec![state("a", MembershipStatus::Realized, 1)],
            )],
            T0,
        )
        .await
        .unwrap();
    let new_ecid = resolver
        .resolve(&[profile(&[("crmId", "A"), ("ECID", "E2")], vec![])], T0)
        .await
        .unwrap();
    assert_eq!(new_ecid.caught_up, 0);
    assert!(new_ecid.released.is_empty());
}

#[tokio::test]
async fn a_leased_change_is_offered_again_when_its_profile_gains_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(&dir).await;
    resolver
        .resolve(
            &[profile(
                &[("ECID", "E")],
                vec![state("a", MembershipStatus::Realized, 1)],
            )],
            T0,
        )
        .await
        .unwrap();
    let first = resolver
        .resolve(&[profile(&[("crmId", "A"), ("ECID", "E")], vec![])], T0)
        .await
        .unwrap();
    assert_eq!(users(&first.released[0]), ["A"]);

    // Not yet acknowledged when a second user joins: the offer went out without that user.
    let second = resolver
        .resolve(&[profile(&[("crmId", "B"), ("ECID", "E")], vec![])], T0 + 1)
        .await
        .unwrap();
    assert_eq!(second.released.len(), 1);
    assert_eq!(users(&second.released[0]), ["A", "B"]);
    assert!(
        !second.released[0].first_offer,
        "offered again, so the lease gauges count it once"
    );
}
