//! Comparing PX's end state (the simulator's `/__sim/state`) with the state a data set implies
//! (`expected.json`: sorted members per audience and each segment's name).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub members: BTreeMap<String, BTreeSet<String>>,
    pub segments: BTreeMap<String, String>,
}

/// One subscription's segments as PX holds them: name and members per external id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PxState {
    pub names: BTreeMap<String, String>,
    pub members: BTreeMap<String, BTreeSet<String>>,
    pub requests_total: u64,
    pub membership_calls: u64,
    pub metadata_calls: u64,
    pub token_calls: u64,
    pub membership_changes_received: u64,
}

impl PxState {
    /// Reads one subscription out of `/__sim/state`.
    pub fn from_sim_state(state: &Value, subscription: &str) -> anyhow::Result<Self> {
        let sub = state
            .pointer(&format!("/subscriptions/{subscription}"))
            .ok_or_else(|| anyhow::anyhow!("simulator has no subscription {subscription}"))?;
        let mut px = PxState::default();
        if let Some(segments) = sub.get("segments").and_then(Value::as_object) {
            for (external_id, segment) in segments {
                let name = segment
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                px.names.insert(external_id.clone(), name.to_owned());
                let members = segment
                    .get("members")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                px.members.insert(external_id.clone(), members);
            }
        }
        let count = |pointer: &str| sub.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
        px.requests_total = count("/requests/total");
        px.membership_calls = count("/requests/byEndpoint/update_membership");
        px.metadata_calls = count("/requests/byEndpoint/metadata");
        px.token_calls = count("/requests/byEndpoint/token");
        px.membership_changes_received = count("/membershipChangesReceived");
        Ok(px)
    }

    pub async fn fetch(px_base_url: &str, subscription: &str) -> anyhow::Result<Self> {
        let state: Value = reqwest::get(format!("{px_base_url}/__sim/state"))
            .await?
            .error_for_status()?
            .json()
            .await?;
        Self::from_sim_state(&state, subscription)
    }

    /// Every difference from `expected`, as readable lines (empty = equal). Segments PX holds without any
    /// member count as absent, since an expected audience with no member lists none.
    pub fn differences(&self, expected: &Expected) -> Vec<String> {
        let mut out = Vec::new();
        for (audience, name) in &expected.segments {
            match self.names.get(audience) {
                None => out.push(format!("segment {audience} ({name}) is missing in PX")),
                Some(actual) if actual != name => out.push(format!(
                    "segment {audience} is named {actual:?} in PX, expected {name:?}"
                )),
                Some(_) => {}
            }
        }
        for audience in self.names.keys() {
            if !expected.segments.contains_key(audience) {
                out.push(format!("segment {audience} is in PX but not expected"));
            }
        }
        let empty = BTreeSet::new();
        let audiences: BTreeSet<&String> =
            expected.members.keys().chain(self.members.keys()).collect();
        for audience in audiences {
            let want = expected.members.get(audience).unwrap_or(&empty);
            let have = self.members.get(audience).unwrap_or(&empty);
            let missing = want.difference(have).count();
            let extra = have.difference(want).count();
            if missing + extra > 0 {
                out.push(format!(
                    "segment {audience}: {missing} expected member(s) missing, {extra} unexpected"
                ));
            }
        }
        out
    }

    /// The members that differ from `expected`, one line each naming audience and member, at most `limit`
    /// of them, and how many differ in all. Members are PX user ids, so this is for the report a user asks
    /// for on their own data set, never for a log.
    pub fn member_differences(&self, expected: &Expected, limit: usize) -> (Vec<String>, usize) {
        let empty = BTreeSet::new();
        let audiences: BTreeSet<&String> =
            expected.members.keys().chain(self.members.keys()).collect();
        let mut lines = Vec::new();
        let mut total = 0;
        for audience in audiences {
            let want = expected.members.get(audience).unwrap_or(&empty);
            let have = self.members.get(audience).unwrap_or(&empty);
            let missing = want.difference(have).map(|m| (m, "expected, not in PX"));
            let extra = have.difference(want).map(|m| (m, "in PX, not expected"));
            for (member, how) in missing.chain(extra) {
                total += 1;
                if lines.len() < limit {
                    lines.push(format!("{audience}: {member} ({how})"));
                }
            }
        }
        (lines, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Value {
        serde_json::json!({"subscriptions": {"sub-demo": {
            "segments": {"a": {"id": "1", "name": "A", "description": "", "members": {"u1": "t", "u2": "t"}}},
            "requests": {"total": 3, "byEndpoint": {"update_membership": 2, "metadata": 1, "token": 0, "users": 0}, "byStatus": {"200": 3}},
            "membershipChangesReceived": 2}}})
    }

    #[test]
    fn equal_states_have_no_differences_and_a_missing_member_is_reported() {
        let px = PxState::from_sim_state(&state(), "sub-demo").unwrap();
        assert_eq!(px.membership_calls, 2);
        let mut expected = Expected {
            members: [("a".to_owned(), ["u1".to_owned(), "u2".to_owned()].into())].into(),
            segments: [("a".to_owned(), "A".to_owned())].into(),
        };
        assert!(px.differences(&expected).is_empty());
        expected.members.get_mut("a").unwrap().insert("u3".into());
        expected.segments.insert("b".into(), "B".into());
        let diff = px.differences(&expected);
        assert_eq!(diff.len(), 2, "{diff:?}");
    }

    #[test]
    fn member_differences_name_audience_and_member_but_only_up_to_the_limit() {
        let px = PxState::from_sim_state(&state(), "sub-demo").unwrap();
        let expected = Expected {
            members: [
                ("a".to_owned(), ["u1".to_owned(), "u3".to_owned()].into()),
                ("b".to_owned(), ["u4".to_owned()].into()),
            ]
            .into(),
            segments: [("a".to_owned(), "A".to_owned())].into(),
        };
        let (lines, total) = px.member_differences(&expected, 10);
        assert_eq!(total, 3);
        assert_eq!(
            lines,
            [
                "a: u3 (expected, not in PX)",
                "a: u2 (in PX, not expected)",
                "b: u4 (expected, not in PX)"
            ]
        );
        let (lines, total) = px.member_differences(&expected, 1);
        assert_eq!((lines.len(), total), (1, 3));
    }
}
