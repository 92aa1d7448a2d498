//! The mapping service over gRPC on loopback, with a real SQLite file.

mod common;

use std::time::Duration;

use common::{LONG_LEASE_MS, PX, PX_ATTR, held_in_store, identity, ids, profile, realized, start};
use pxstream_proto::v1 as pb;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const ECID: &str = "30415566011243985620048879712345678901";

#[tokio::test]
async fn a_profile_carrying_the_source_namespace_resolves_to_its_id_whatever_the_namespace_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    let answer = service
        .resolve(vec![
            profile(
                &[("ECID", ECID), ("CRMID", "CRM-1")],
                vec![realized(PX, "aud-trial", 1)],
            ),
            profile(&[("crmId", "CRM-2")], vec![realized(PX, "aud-trial", 2)]),
        ])
        .await;

    assert_eq!(ids(&answer.results[0].resolved), ["CRM-1"]);
    assert_eq!(ids(&answer.results[1].resolved), ["CRM-2"]);
    let change = answer.results[0].resolved[0].change.as_ref().unwrap();
    assert_eq!(change.audience_id, "aud-trial");
    assert_eq!(change.last_qualification_time_us, 1);
    assert_eq!(answer.results[0].held, 0);
    assert_eq!(answer.results[0].fanout, 1);
    assert!(answer.released.is_empty());
    service.stop().await;
}

#[tokio::test]
async fn an_ecid_only_profile_resolves_through_a_link_learned_from_an_earlier_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    service
        .resolve(vec![profile(&[("ECID", ECID), ("crmId", "CRM-1")], vec![])])
        .await;
    let answer = service
        .resolve(vec![profile(
            &[("ecid", ECID)],
            vec![realized(PX, "aud-trial", 5)],
        )])
        .await;

    assert_eq!(ids(&answer.results[0].resolved), ["CRM-1"]);
    assert_eq!(answer.results[0].held, 0);
    service.stop().await;
}

#[tokio::test]
async fn records_of_one_batch_link_before_any_of_them_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    let answer = service
        .resolve(vec![
            profile(&[("ecid", ECID)], vec![realized(PX, "aud-trial", 5)]),
            profile(&[("ecid", ECID), ("crmId", "CRM-1")], vec![]),
        ])
        .await;

    assert_eq!(ids(&answer.results[0].resolved), ["CRM-1"]);
    assert_eq!(answer.results[0].held, 0);
    service.stop().await;
}

#[tokio::test]
async fn an_ecid_only_change_that_arrives_first_is_held_then_released_by_the_record_that_links_it()
{
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    let first = service
        .resolve(vec![profile(
            &[("ECID", ECID)],
            vec![realized(PX, "aud-trial", 7)],
        )])
        .await;
    assert!(first.results[0].resolved.is_empty());
    assert_eq!(first.results[0].held, 1);

    let linking = service
        .resolve(vec![profile(&[("ECID", ECID), ("crmId", "CRM-9")], vec![])])
        .await;
    assert_eq!(ids(&linking.released), ["CRM-9"]);
    assert_eq!(linking.release_ids.len(), 1);
    let released = linking.released[0].change.as_ref().unwrap();
    assert_eq!(released.destination, PX);
    assert_eq!(released.last_qualification_time_us, 7);

    // Within the lease an unacknowledged release is not offered again.
    let within_lease = service.resolve(vec![]).await;
    assert!(within_lease.released.is_empty());

    assert_eq!(service.ack(linking.release_ids.clone()).await, 1);
    assert_eq!(service.ack(linking.release_ids).await, 0);
    let after_ack = service.resolve(vec![]).await;
    assert!(after_ack.released.is_empty());
    let db = service.db.clone();
    service.stop().await;
    assert_eq!(held_in_store(&db).await, 0);
}

#[tokio::test]
async fn a_released_change_left_unacknowledged_is_offered_again_once_its_lease_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), 300).await;

    service
        .resolve(vec![profile(
            &[("ecid", ECID)],
            vec![realized(PX, "aud-trial", 7)],
        )])
        .await;
    let linking = service
        .resolve(vec![profile(&[("ecid", ECID), ("crmid", "CRM-9")], vec![])])
        .await;
    assert_eq!(ids(&linking.released), ["CRM-9"]);
    assert!(service.resolve(vec![]).await.released.is_empty());

    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = service.resolve(vec![]).await;
    assert_eq!(ids(&again.released), ["CRM-9"]);
    assert_eq!(again.release_ids, linking.release_ids);

    assert_eq!(service.ack(again.release_ids).await, 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(service.resolve(vec![]).await.released.is_empty());
    service.stop().await;
}

#[tokio::test]
async fn a_replayed_snapshot_holds_its_change_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    let record = || profile(&[("ecid", ECID)], vec![realized(PX, "aud-trial", 7)]);
    for _ in 0..3 {
        let answer = service.resolve(vec![record(), record()]).await;
        assert_eq!(answer.results[0].held, 1);
    }
    let db = service.db.clone();
    service.stop().await;
    assert_eq!(held_in_store(&db).await, 1);
}

#[tokio::test]
async fn held_changes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;
    let held = service
        .resolve(vec![profile(
            &[("ecid", ECID)],
            vec![realized(PX, "aud-trial", 7)],
        )])
        .await;
    assert_eq!(held.results[0].held, 1);
    service.stop().await;

    let mut restarted = start(dir.path(), LONG_LEASE_MS).await;
    let linking = restarted
        .resolve(vec![profile(&[("ecid", ECID), ("crmId", "CRM-3")], vec![])])
        .await;
    assert_eq!(ids(&linking.released), ["CRM-3"]);
    restarted.stop().await;
}

#[tokio::test]
async fn held_changes_move_along_when_their_component_merges_into_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    service
        .resolve(vec![
            profile(&[("ecid", "E1")], vec![realized(PX, "aud-trial", 1)]),
            profile(&[("ecid", "E2"), ("email", "dana@example.org")], vec![]),
        ])
        .await;
    // Joins E1's component to E2's, still without any crmId: nothing to release yet.
    let joined = service
        .resolve(vec![profile(
            &[("email", "dana@example.org"), ("ecid", "E1")],
            vec![],
        )])
        .await;
    assert!(joined.released.is_empty());

    let linking = service
        .resolve(vec![profile(&[("ecid", "E2"), ("crmId", "CRM-5")], vec![])])
        .await;
    assert_eq!(ids(&linking.released), ["CRM-5"]);
    service.stop().await;
}

#[tokio::test]
async fn a_profile_linked_to_two_crm_ids_fans_out_to_both() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    service
        .resolve(vec![profile(&[("ecid", ECID), ("crmId", "CRM-A")], vec![])])
        .await;
    let answer = service
        .resolve(vec![profile(
            &[("ecid", ECID), ("crmId", "CRM-B")],
            vec![realized(PX, "aud-trial", 3)],
        )])
        .await;

    assert_eq!(ids(&answer.results[0].resolved), ["CRM-A", "CRM-B"]);
    assert_eq!(answer.results[0].fanout, 2);
    service.stop().await;
}

#[tokio::test]
async fn a_held_change_fans_out_on_release_with_one_release_id_per_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    service
        .resolve(vec![profile(
            &[("ecid", ECID)],
            vec![realized(PX, "aud-trial", 3)],
        )])
        .await;
    let linking = service
        .resolve(vec![profile(
            &[("ecid", ECID), ("crmId", "CRM-A"), ("crmId", "CRM-B")],
            vec![],
        )])
        .await;

    assert_eq!(ids(&linking.released), ["CRM-A", "CRM-B"]);
    assert_eq!(linking.release_ids.len(), 2);
    assert_eq!(linking.release_ids[0], linking.release_ids[1]);
    assert_eq!(service.ack(linking.release_ids).await, 1);
    service.stop().await;
}

#[tokio::test]
async fn an_attribute_sourced_rule_resolves_via_attr_identities() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    let answer = service
        .resolve(vec![profile(
            &[
                ("ecid", ECID),
                ("crmId", "CRM-1"),
                ("attr:_tenant.pxUserId", "u-004417"),
            ],
            vec![
                realized(PX_ATTR, "aud-trial", 1),
                realized(PX, "aud-trial", 1),
            ],
        )])
        .await;
    assert_eq!(ids(&answer.results[0].resolved), ["u-004417", "CRM-1"]);

    // The attribute value is linked like any identity: an ECID-only record resolves through it.
    let later = service
        .resolve(vec![profile(
            &[("ecid", ECID)],
            vec![realized(PX_ATTR, "aud-trial", 2)],
        )])
        .await;
    assert_eq!(ids(&later.results[0].resolved), ["u-004417"]);
    service.stop().await;
}

#[tokio::test]
async fn invalid_input_is_refused_as_invalid_argument_without_echoing_identity_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path(), LONG_LEASE_MS).await;

    let cases = [
        (
            profile(&[("email", "dana@example.org"), ("crmId", "")], vec![]),
            "identities[1]",
        ),
        (profile(&[("", "dana@example.org")], vec![]), "namespace"),
        (
            profile(
                &[("email", "dana@example.org")],
                vec![realized("nowhere", "aud-trial", 1)],
            ),
            "unknown destination",
        ),
        (
            profile(&[], vec![realized(PX, "aud-trial", 1)]),
            "identities",
        ),
    ];
    for (invalid, expected) in cases {
        let status = service
            .client
            .resolve_batch(pb::ResolveBatchRequest {
                profiles: vec![profile(&[("crmId", "CRM-OK")], vec![]), invalid],
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().starts_with("profiles[1]."),
            "{}",
            status.message()
        );
        assert!(status.message().contains(expected), "{}", status.message());
        assert!(!status.message().contains("dana"), "{}", status.message());
        assert_eq!(
            status.metadata().get("pxstream-invalid-profile").unwrap(),
            "1"
        );
    }

    let mut unspecified = realized(PX, "aud-trial", 1);
    unspecified.status = pb::MembershipStatus::Unspecified as i32;
    let status = service
        .client
        .resolve_batch(pb::ResolveBatchRequest {
            profiles: vec![pb::Profile {
                identities: vec![identity("crmId", "CRM-1")],
                changes: vec![unspecified],
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    service.stop().await;
}

#[tokio::test]
async fn the_grpc_health_service_answers_serving() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path(), LONG_LEASE_MS).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", service.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);

    for name in ["", "pxstream.v1.IdentityMapping"] {
        let answer = health
            .check(HealthCheckRequest {
                service: name.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "service {name:?}");
    }
    drop(health);
    service.stop().await;
}
