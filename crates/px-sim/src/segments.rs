//! External segments and the rule that decides which membership change wins.
//!
//! By default changes apply in the order received, whatever their `lastQualificationTime`: whether PX
//! drops stale changes is unknown, so the simulator assumes it does not, and a pipeline that reorders
//! changes ends in a visibly wrong state. With `keep_newest` a change older than the newest one seen
//! for the same (segment, identity) — add or remove — is ignored; equal times apply in arrival order.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::state::SegmentState;

/// Whether a membership entry came from the body's `add` or `remove` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Add,
    Remove,
}

#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub id: String,
    pub external_id: String,
    pub name: String,
    pub description: Option<String>,
    /// identity → `lastQualificationTime` as received.
    members: BTreeMap<String, String>,
    /// Newest change time per identity, kept only for `keep_newest` (removals must be remembered
    /// too, or a stale add arriving after a newer remove would resurrect the member).
    newest: HashMap<String, OffsetDateTime>,
}

impl Segment {
    pub(crate) fn new(
        id: String,
        external_id: String,
        name: String,
        description: Option<String>,
    ) -> Self {
        Self {
            id,
            external_id,
            name,
            description,
            members: BTreeMap::new(),
            newest: HashMap::new(),
        }
    }

    /// Applies one (identity, segment) change under the subscription's ordering rule.
    pub(crate) fn apply(
        &mut self,
        kind: ChangeKind,
        identity: &str,
        raw_time: &str,
        time: OffsetDateTime,
        keep_newest: bool,
    ) {
        if keep_newest {
            if self.newest.get(identity).is_some_and(|seen| time < *seen) {
                return;
            }
            self.newest.insert(identity.to_owned(), time);
        }
        match kind {
            ChangeKind::Add => {
                self.members
                    .insert(identity.to_owned(), raw_time.to_owned());
            }
            ChangeKind::Remove => {
                self.members.remove(identity);
            }
        }
    }

    /// The stored object as PX answers it.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "externalId": self.external_id,
            "name": self.name,
            "description": self.description,
        })
    }

    pub(crate) fn snapshot(&self) -> SegmentState {
        SegmentState {
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            members: self.members.clone(),
        }
    }
}

/// A PX-style UUID derived from the subscription and external id, so the same segment gets the same
/// id across resets and runs (benchmarks and fixtures can compare ids).
pub(crate) fn segment_px_id(subscription: &str, external_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(subscription.as_bytes())
        .chain_update([0u8])
        .chain_update(external_id.as_bytes())
        .finalize();
    let hex = hex::encode(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Parses an ISO-8601 date-time; one without an offset is taken as UTC.
pub(crate) fn parse_qualification_time(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .ok()
        .or_else(|| OffsetDateTime::parse(raw, &Iso8601::DEFAULT).ok())
        .or_else(|| {
            PrimitiveDateTime::parse(raw, &Iso8601::DEFAULT)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> OffsetDateTime {
        parse_qualification_time(raw).expect("valid time")
    }

    fn segment() -> Segment {
        Segment::new("id".into(), "seg".into(), "Seg".into(), None)
    }

    #[test]
    fn iso_8601_variants_parse_and_garbage_does_not() {
        assert!(parse_qualification_time("2026-11-30T08:15:02.117Z").is_some());
        assert!(parse_qualification_time("2026-11-30T08:16:40Z").is_some());
        assert!(parse_qualification_time("2026-11-30T08:16:40+02:00").is_some());
        assert!(parse_qualification_time("2026-11-30T08:16:40").is_some());
        assert!(parse_qualification_time("yesterday").is_none());
        assert!(parse_qualification_time("").is_none());
    }

    #[test]
    fn arrival_order_wins_by_default_even_when_stale() {
        let mut seg = segment();
        let newer = "2026-01-02T00:00:00Z";
        let older = "2026-01-01T00:00:00Z";
        seg.apply(ChangeKind::Remove, "u", newer, at(newer), false);
        seg.apply(ChangeKind::Add, "u", older, at(older), false);
        assert_eq!(
            seg.snapshot().members.get("u").map(String::as_str),
            Some(older)
        );
    }

    #[test]
    fn keep_newest_ignores_a_stale_add_after_a_newer_remove() {
        let mut seg = segment();
        let newer = "2026-01-02T00:00:00Z";
        let older = "2026-01-01T00:00:00Z";
        seg.apply(ChangeKind::Add, "u", older, at(older), true);
        seg.apply(ChangeKind::Remove, "u", newer, at(newer), true);
        seg.apply(ChangeKind::Add, "u", older, at(older), true);
        assert!(seg.snapshot().members.is_empty());
    }

    #[test]
    fn segment_ids_are_stable_and_distinct() {
        assert_eq!(segment_px_id("s", "a"), segment_px_id("s", "a"));
        assert_ne!(segment_px_id("s", "a"), segment_px_id("s", "b"));
        assert_ne!(segment_px_id("s", "a"), segment_px_id("t", "a"));
        assert_eq!(segment_px_id("s", "a").len(), 36);
    }
}
