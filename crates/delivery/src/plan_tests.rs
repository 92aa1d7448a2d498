use serde_json::json;

use super::*;
use crate::testing::{change, key};
use MembershipStatus::{Exited, Realized};

fn env(record: usize, user: &str, audience: &str, status: MembershipStatus, t: i64) -> Envelope {
    Envelope {
        record,
        change: change("px", user, audience, status, t),
    }
}

fn applied(status: MembershipStatus, us: i64) -> AppliedState {
    AppliedState {
        status,
        time: QualificationTime::from_micros(us),
    }
}

/// 2026-11-30T08:15:02.117Z in microseconds.
const T: i64 = 1_796_026_502_117_000;

#[test]
fn a_stale_change_never_reaches_px() {
    let store = HashMap::from([(key("px", "u-1", "a"), applied(Exited, 20))]);
    let plan = plan(
        vec![env(0, "u-1", "a", Realized, 10)],
        &store,
        &HashSet::new(),
        100,
    );
    assert!(plan.calls.is_empty());
    assert_eq!(plan.stale, vec![0]);
}

#[test]
fn an_exact_duplicate_of_the_applied_state_is_stale() {
    let store = HashMap::from([(key("px", "u-1", "a"), applied(Realized, 10))]);
    let plan = plan(
        vec![env(0, "u-1", "a", Realized, 10)],
        &store,
        &HashSet::new(),
        100,
    );
    assert!(plan.calls.is_empty() && plan.remember.is_empty());
    assert_eq!(plan.stale, vec![0]);
}

#[test]
fn a_newer_change_that_changes_nothing_in_px_is_remembered_without_a_call() {
    let store = HashMap::from([(key("px", "u-1", "a"), applied(Realized, 10))]);
    let plan = plan(
        vec![
            env(0, "u-1", "a", Realized, 20),
            env(1, "u-2", "a", Exited, 5),
        ],
        &store,
        &HashSet::new(),
        100,
    );
    assert!(plan.calls.is_empty());
    assert_eq!(
        plan.remember,
        vec![
            (0, key("px", "u-1", "a"), applied(Realized, 20)),
            (1, key("px", "u-2", "a"), applied(Exited, 5)),
        ]
    );
}

#[test]
fn a_newer_status_goes_to_px() {
    let store = HashMap::from([(key("px", "u-1", "a"), applied(Realized, 10))]);
    let plan = plan(
        vec![env(7, "u-1", "a", Exited, 11)],
        &store,
        &HashSet::new(),
        100,
    );
    assert_eq!(plan.calls.len(), 1);
    assert_eq!(plan.calls[0].items[0].record, 7);
}

#[test]
fn identities_with_the_same_segment_and_time_share_one_entry() {
    let batch = vec![
        env(0, "u-2", "a", Realized, T),
        env(1, "u-9", "b", Exited, T + 1_000_000),
        env(2, "u-1", "a", Realized, T),
        env(3, "u-3", "a", Realized, T + 1),
        env(4, "u-4", "b", Exited, T + 1_000_000),
    ];
    let plan = plan(batch, &HashMap::new(), &HashSet::new(), 100);
    // u-9 and u-4 are first exits: only remembered.
    assert_eq!(plan.remember.len(), 2);
    assert_eq!(plan.calls.len(), 1);
    let body = serde_json::to_value(plan.calls[0].body(IdentityType::IdentifyId)).unwrap();
    assert_eq!(
        body,
        json!({
            "identityType": "IDENTIFY_ID",
            "add": [
                {"segmentId": "a", "lastQualificationTime": "2026-11-30T08:15:02.117Z", "identities": ["u-1", "u-2"]},
                {"segmentId": "a", "lastQualificationTime": "2026-11-30T08:15:02.117001Z", "identities": ["u-3"]}
            ],
            "remove": []
        })
    );
}

#[test]
fn adds_and_removes_travel_together_under_the_destination_identity_type() {
    let store = HashMap::from([(key("px", "u-1", "b"), applied(Realized, T - 1))]);
    let plan = plan(
        vec![
            env(0, "u-1", "b", Exited, T),
            env(1, "u-2", "a", Realized, T),
        ],
        &store,
        &HashSet::new(),
        100,
    );
    let body = serde_json::to_value(plan.calls[0].body(IdentityType::GlobalId)).unwrap();
    assert_eq!(body["identityType"], "GLOBAL_ID");
    assert_eq!(body["add"][0]["identities"], json!(["u-2"]));
    assert_eq!(body["remove"][0]["segmentId"], "b");
    assert_eq!(body["remove"][0]["identities"], json!(["u-1"]));
}

#[test]
fn a_batch_is_cut_into_the_fewest_calls_the_cap_allows() {
    let batch: Vec<_> = (0..7)
        .map(|i| {
            env(
                i,
                &format!("u-{i}"),
                if i % 2 == 0 { "a" } else { "b" },
                Realized,
                T,
            )
        })
        .collect();
    let plan = plan(batch, &HashMap::new(), &HashSet::new(), 3);
    let sizes: Vec<usize> = plan.calls.iter().map(Call::len).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    for call in &plan.calls {
        assert!(call.body(IdentityType::IdentifyId).identity_count() <= 3);
    }
}

#[test]
fn each_destination_gets_its_own_calls() {
    let mut other = env(1, "u-1", "a", Realized, T);
    other.change.state.destination = DestinationName::new("px-eu").unwrap();
    let plan = plan(
        vec![env(0, "u-1", "a", Realized, T), other],
        &HashMap::new(),
        &HashSet::new(),
        100,
    );
    let destinations: Vec<&str> = plan.calls.iter().map(|c| c.destination.as_str()).collect();
    assert_eq!(destinations, vec!["px", "px-eu"]);
}

#[test]
fn a_call_splits_in_halves_down_to_a_single_item() {
    let batch: Vec<_> = (0..5)
        .map(|i| env(i, &format!("u-{i}"), "a", Realized, T))
        .collect();
    let call = plan(batch, &HashMap::new(), &HashSet::new(), 100)
        .calls
        .remove(0);
    let (left, right) = call.split().unwrap();
    assert_eq!((left.len(), right.len()), (2, 3));
    let (one, two) = left.split().unwrap();
    assert_eq!((one.len(), two.len()), (1, 1));
    assert!(one.split().is_err());
}

#[test]
fn a_membership_in_doubt_after_a_crash_is_sent_rather_than_remembered() {
    // The call before the crash may have made PX hold u-1 in a, and u-2 out of it: only `applied` says
    // otherwise, so the newer states go to PX.
    let store = HashMap::from([(key("px", "u-2", "a"), applied(Realized, 10))]);
    let doubt = HashSet::from([key("px", "u-1", "a"), key("px", "u-2", "a")]);
    let plan = plan(
        vec![
            env(0, "u-1", "a", Exited, 20),
            env(1, "u-2", "a", Realized, 20),
            env(2, "u-3", "a", Exited, 20),
        ],
        &store,
        &doubt,
        100,
    );
    let sent: Vec<usize> = plan
        .calls
        .iter()
        .flat_map(|c| &c.items)
        .map(|i| i.record)
        .collect();
    assert_eq!(sent, vec![1, 0]);
    assert_eq!(
        plan.remember,
        vec![(2, key("px", "u-3", "a"), applied(Exited, 20))]
    );
}

#[test]
fn a_membership_in_doubt_still_drops_what_is_older_than_applied() {
    let store = HashMap::from([(key("px", "u-1", "a"), applied(Realized, 10))]);
    let doubt = HashSet::from([key("px", "u-1", "a")]);
    let plan = plan(vec![env(0, "u-1", "a", Exited, 5)], &store, &doubt, 100);
    assert!(plan.calls.is_empty() && plan.remember.is_empty());
    assert_eq!(plan.stale, vec![0]);
}
