//! A profile's memberships reach every PX user its identity graph links to, whether the link arrives
//! before or after the membership: the end state does not depend on arrival order.

use pxstream_e2e::{fixture_expected, fixture_lines, run_through, service_logs, start_stack};
use pxstream_stack::config_file::DemoAuth;

const AUDIENCE: &str = "73cf256d-dda1-48f4-b6d6-c7fdec99108d";

fn record(crm_id: &str, ecid: &str, member_since: Option<&str>) -> String {
    let audiences = match member_since {
        Some(time) => format!(
            r#"{{"ups":{{"{AUDIENCE}":{{"status":"realized","lastQualificationTime":"{time}"}}}}}}"#
        ),
        None => "{}".to_owned(),
    };
    format!(
        r#"{{"segmentMembership":{audiences},"identityMap":{{"crmId":[{{"id":"{crm_id}"}}],"ECID":[{{"id":"{ecid}"}}]}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_linked_before_or_after_a_membership_ends_a_member_either_way() {
    let mut stack = start_stack(env!("CARGO_TARGET_TMPDIR"), "link_order", DemoAuth::ApiKey).await;
    let time = "2026-11-30T09:00:00Z";
    let fixture = fixture_lines();
    let mut lines = vec![
        // Membership first, the second user's link long after it.
        record("CRM-LINK-A1", "ecid-link-1", Some(time)),
        // Link first, the membership long after it.
        record("CRM-LINK-B2", "ecid-link-2", None),
    ];
    lines.extend(fixture);
    lines.push(record("CRM-LINK-B1", "ecid-link-1", None));
    lines.push(record("CRM-LINK-A2", "ecid-link-2", Some(time)));
    run_through(&mut stack, &lines).await;

    let mut expected = fixture_expected();
    expected
        .members
        .get_mut(AUDIENCE)
        .unwrap()
        .extend(["CRM-LINK-A1", "CRM-LINK-B1", "CRM-LINK-A2", "CRM-LINK-B2"].map(String::from));
    let state = stack.px_state().await.unwrap();
    let differences = state.differences(&expected);
    assert!(
        differences.is_empty(),
        "{differences:#?}\n{}",
        service_logs(&stack)
    );
    stack.stop().await;
}
