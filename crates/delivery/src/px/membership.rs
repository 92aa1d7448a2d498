//! The `update_membership` request body.

use serde::Serialize;

/// `{"identityType", "add": [...], "remove": [...]}`; both lists are always present, as PX requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipBody<'a> {
    pub identity_type: &'static str,
    pub add: Vec<MembershipEntry<'a>>,
    pub remove: Vec<MembershipEntry<'a>>,
}

/// The identities that joined (or left) one segment with one `lastQualificationTime`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipEntry<'a> {
    pub segment_id: &'a str,
    pub last_qualification_time: String,
    pub identities: Vec<&'a str>,
}

impl MembershipBody<'_> {
    /// Identities over both lists: what PX's per-call cap counts.
    pub fn identity_count(&self) -> usize {
        self.add
            .iter()
            .chain(&self.remove)
            .map(|entry| entry.identities.len())
            .sum()
    }
}
