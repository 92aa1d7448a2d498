use super::*;
use crate::testing::{change, key};
use MembershipStatus::{Exited, Realized};

fn applied(status: MembershipStatus, us: i64) -> AppliedState {
    AppliedState {
        status,
        time: QualificationTime::from_micros(us),
    }
}

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("delivery.db").display())
}

#[tokio::test]
async fn applied_states_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&url(&dir)).await.unwrap();
    store
        .record(&[
            (key("px", "u-1", "a"), applied(Realized, 10)),
            (key("px", "u-2", "a"), applied(Exited, 20)),
        ])
        .await
        .unwrap();
    store.close().await;

    let reopened = StateStore::open(&url(&dir)).await.unwrap();
    let found = reopened
        .applied(&[
            key("px", "u-1", "a"),
            key("px", "u-2", "a"),
            key("px", "u-3", "a"),
        ])
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[&key("px", "u-1", "a")], applied(Realized, 10));
    assert_eq!(found[&key("px", "u-2", "a")], applied(Exited, 20));
}

#[tokio::test]
async fn a_stored_state_never_moves_back_to_an_older_version() {
    let store = StateStore::open("sqlite::memory:").await.unwrap();
    let k = key("px", "u-1", "a");
    store
        .record(&[(k.clone(), applied(Exited, 20))])
        .await
        .unwrap();
    store
        .record(&[(k.clone(), applied(Realized, 10))])
        .await
        .unwrap();
    assert_eq!(
        store.applied(std::slice::from_ref(&k)).await.unwrap()[&k],
        applied(Exited, 20)
    );
    // At equal times an exit replaces a qualification, never the reverse.
    store
        .record(&[(k.clone(), applied(Realized, 20))])
        .await
        .unwrap();
    assert_eq!(
        store.applied(std::slice::from_ref(&k)).await.unwrap()[&k],
        applied(Exited, 20)
    );
    store
        .record(&[(k.clone(), applied(Realized, 30))])
        .await
        .unwrap();
    assert_eq!(
        store.applied(std::slice::from_ref(&k)).await.unwrap()[&k],
        applied(Realized, 30)
    );
}

#[tokio::test]
async fn lookups_of_more_keys_than_one_query_holds_find_them_all() {
    let store = StateStore::open("sqlite::memory:").await.unwrap();
    let states: Vec<_> = (0..(KEYS_PER_QUERY * 2 + 7))
        .map(|i| {
            (
                key("px", &format!("u-{i}"), "a"),
                applied(Realized, i as i64),
            )
        })
        .collect();
    store.record(&states).await.unwrap();
    let keys: Vec<_> = states.iter().map(|(k, _)| k.clone()).collect();
    let found = store.applied(&keys).await.unwrap();
    assert_eq!(found.len(), states.len());
    let (k, s) = &states[KEYS_PER_QUERY + 3];
    assert_eq!(found[k], *s);
}

#[tokio::test]
async fn the_key_of_a_change_names_its_destination_user_and_audience() {
    let c = change("px", "u-1", "a", Realized, 1);
    assert_eq!(MembershipKey::of(&c), key("px", "u-1", "a"));
}

#[tokio::test]
async fn sent_segment_metadata_is_remembered_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&url(&dir)).await.unwrap();
    let dest = DestinationName::new("px").unwrap();
    let audience = AudienceId::new("a").unwrap();
    assert_eq!(store.sent_segment(&dest, &audience).await.unwrap(), None);
    let sent = SentSegment {
        name: "Trial users".into(),
        description: "day 7".into(),
        px_id: Some("px-1".into()),
    };
    store.record_segment(&dest, &audience, &sent).await.unwrap();
    // A rename answered without an id keeps the id learned before.
    let renamed = SentSegment {
        name: "Trial users, day 7".into(),
        px_id: None,
        ..sent.clone()
    };
    store
        .record_segment(&dest, &audience, &renamed)
        .await
        .unwrap();
    store.close().await;
    let reopened = StateStore::open(&url(&dir)).await.unwrap();
    let found = reopened
        .sent_segment(&dest, &audience)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.name, "Trial users, day 7");
    assert_eq!(found.px_id.as_deref(), Some("px-1"));
}

#[tokio::test]
async fn only_sqlite_stores_are_accepted() {
    let error = StateStore::open("postgres://user:secret@db/x")
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("postgres") && !message.contains("secret"),
        "{message}"
    );
}

#[tokio::test]
async fn a_membership_stays_in_doubt_across_a_restart_until_its_outcome_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&url(&dir)).await.unwrap();
    let (sent, other) = (key("px", "u-1", "a"), key("px", "u-2", "a"));
    store.mark_in_doubt(&[&sent, &other]).await.unwrap();
    // The process dies here, before PX answered.
    drop(store);

    let reopened = StateStore::open(&url(&dir)).await.unwrap();
    let doubt = reopened
        .in_doubt(&[sent.clone(), other.clone(), key("px", "u-3", "a")])
        .await
        .unwrap();
    assert_eq!(doubt, HashSet::from([sent.clone(), other.clone()]));
    reopened
        .record(&[(sent.clone(), applied(Realized, 10))])
        .await
        .unwrap();
    let doubt = reopened.in_doubt(&[sent, other.clone()]).await.unwrap();
    assert_eq!(doubt, HashSet::from([other]));
}
