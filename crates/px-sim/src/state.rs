//! The inspection snapshot served by `GET /__sim/state` and returned by `SimHandle::state`, plus the
//! request counters it reports. The JSON shape is the project's contract; keep it stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every hosted subscription, keyed by subscription id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimState {
    pub subscriptions: BTreeMap<String, SubscriptionState>,
}

/// What one subscription holds and how it was called.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionState {
    /// Keyed by the segment's `externalId`.
    pub segments: BTreeMap<String, SegmentState>,
    pub requests: RequestStats,
    /// (identity, segment) pairs received in accepted `update_membership` calls, adds and removes.
    #[serde(rename = "membershipChangesReceived")]
    pub membership_changes_received: u64,
}

/// An external segment and its current members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentState {
    /// The PX id of the segment.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Current members only: identity → `lastQualificationTime` exactly as received.
    pub members: BTreeMap<String, String>,
}

/// Requests attributed to a subscription (requests whose credentials name no subscription are
/// not counted anywhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStats {
    pub total: u64,
    /// `update_membership`, `metadata`, `token`, `users` always present; `admin` and `other` once used.
    #[serde(rename = "byEndpoint")]
    pub by_endpoint: BTreeMap<String, u64>,
    /// HTTP status code as a string; a connection dropped by fault injection counts as `dropped`.
    #[serde(rename = "byStatus")]
    pub by_status: BTreeMap<String, u64>,
}

impl Default for RequestStats {
    fn default() -> Self {
        let by_endpoint = [
            Endpoint::UpdateMembership,
            Endpoint::Metadata,
            Endpoint::Token,
            Endpoint::Users,
        ]
        .into_iter()
        .map(|endpoint| (endpoint.label().to_owned(), 0))
        .collect();
        Self {
            total: 0,
            by_endpoint,
            by_status: BTreeMap::new(),
        }
    }
}

impl RequestStats {
    pub(crate) fn record_arrival(&mut self, endpoint: Endpoint) {
        self.total += 1;
        *self
            .by_endpoint
            .entry(endpoint.label().to_owned())
            .or_default() += 1;
    }

    pub(crate) fn record_outcome(&mut self, outcome: &str) {
        *self.by_status.entry(outcome.to_owned()).or_default() += 1;
    }

    /// Requests answered with this status code (e.g. `200`, `429`).
    pub fn status(&self, code: u16) -> u64 {
        self.by_status
            .get(&code.to_string())
            .copied()
            .unwrap_or_default()
    }

    /// Requests to this endpoint label (e.g. `update_membership`).
    pub fn endpoint(&self, label: &str) -> u64 {
        self.by_endpoint.get(label).copied().unwrap_or_default()
    }
}

impl SimState {
    pub fn subscription(&self, id: &str) -> Option<&SubscriptionState> {
        self.subscriptions.get(id)
    }

    /// The current members of a segment; empty when the subscription or segment does not exist.
    pub fn members(&self, subscription: &str, external_id: &str) -> BTreeMap<String, String> {
        self.subscription(subscription)
            .and_then(|sub| sub.segments.get(external_id))
            .map(|segment| segment.members.clone())
            .unwrap_or_default()
    }
}

/// The endpoint families counted in `byEndpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    UpdateMembership,
    Metadata,
    Token,
    Users,
    Admin,
    Other,
}

impl Endpoint {
    pub(crate) fn classify(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        if path == "/oauth/token" {
            Self::Token
        } else if path == "/v1/external_segment/update_membership" {
            Self::UpdateMembership
        } else if path == "/v1/external_segment/metadata" {
            Self::Metadata
        } else if path == "/v1/users" || path.starts_with("/v1/users/") {
            Self::Users
        } else if path.starts_with("/v1/admin/") {
            Self::Admin
        } else {
            Self::Other
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::UpdateMembership => "update_membership",
            Self::Metadata => "metadata",
            Self::Token => "token",
            Self::Users => "users",
            Self::Admin => "admin",
            Self::Other => "other",
        }
    }

    /// Endpoints that need the external-segment feature on the subscription.
    pub(crate) fn needs_segment_feature(self) -> bool {
        matches!(self, Self::UpdateMembership | Self::Metadata)
    }
}
