//! Held changes: audience changes whose profile resolves to no PX user yet, kept until a link resolves
//! them, and released changes, offered to the caller until it acknowledges them.
//!
//! A held row moves through three states, all in the store:
//! held (no lease) → due (marked for release when a link makes its component resolve) → leased (offered
//! in an answer at some time) → gone (acknowledged). A lease that runs out makes the row due again.

use pxstream_core::{AudienceState, IdentifyId, Namespace};
use pxstream_proto::v1 as pb;

use crate::store::ComponentId;

/// A change waiting for its component to gain an id in `source_namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldChange {
    pub component: ComponentId,
    /// The destination's source namespace when the change was held; brought in line with the rules at
    /// each start ([`crate::Store::apply_rules`]).
    pub source_namespace: Namespace,
    pub state: AudienceState,
}

/// A held change that now resolves, offered to the caller under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasedChange {
    /// What the caller acknowledges once every resolved copy is durably emitted.
    pub release_id: i64,
    /// Sorted; one or more (a held change fans out like any other).
    pub identify_ids: Vec<IdentifyId>,
    pub state: AudienceState,
    /// False when a lease ran out unacknowledged and the change is offered again.
    pub first_offer: bool,
}

impl ReleasedChange {
    /// One wire entry per PX user, each paired with the release id to acknowledge.
    pub fn to_wire(&self) -> impl Iterator<Item = (pb::MembershipChange, i64)> + '_ {
        let change: pb::AudienceChange = (&self.state).into();
        self.identify_ids.iter().map(move |id| {
            (
                pb::MembershipChange {
                    identify_id: id.as_str().to_owned(),
                    change: Some(change.clone()),
                },
                self.release_id,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxstream_core::{AudienceId, DestinationName, MembershipStatus, QualificationTime};

    #[test]
    fn a_released_change_yields_one_wire_entry_per_user_with_its_release_id() {
        let released = ReleasedChange {
            release_id: 7,
            identify_ids: vec![IdentifyId::new("a").unwrap(), IdentifyId::new("b").unwrap()],
            state: AudienceState {
                destination: DestinationName::new("px").unwrap(),
                audience: AudienceId::new("aud").unwrap(),
                status: MembershipStatus::Realized,
                time: QualificationTime::from_micros(1),
                inline_name: None,
            },
            first_offer: true,
        };
        let wire: Vec<_> = released.to_wire().collect();
        assert_eq!(wire.len(), 2);
        assert!(wire.iter().all(|(_, id)| *id == 7));
        assert_eq!(wire[1].0.identify_id, "b");
    }
}
