//! Membership changes and the rule that decides which of them reach PX.

use std::fmt;

use pxstream_proto::v1 as pb;

use crate::ids::{AudienceId, DestinationName, EmptyId, IdentifyId};
use crate::qualification_time::{QualificationTime, TimeError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MembershipStatus {
    Realized,
    Exited,
}

/// An AEP status value other than `realized`, `existing` or `exited`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status must be realized, existing or exited")]
pub struct UnknownStatus;

impl MembershipStatus {
    /// `existing` is AEP's deprecated synonym of `realized`; replays still carry it.
    pub fn parse_aep(value: &str) -> Result<Self, UnknownStatus> {
        match value {
            "realized" | "existing" => Ok(Self::Realized),
            "exited" => Ok(Self::Exited),
            _ => Err(UnknownStatus),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realized => "realized",
            Self::Exited => "exited",
        }
    }
}

impl fmt::Display for MembershipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One (profile, audience) state from a snapshot, for one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceState {
    pub destination: DestinationName,
    pub audience: AudienceId,
    pub status: MembershipStatus,
    pub time: QualificationTime,
    /// The inline `name` AEP sent with the entry, if any.
    pub inline_name: Option<String>,
}

/// An `AudienceState` resolved to one PX user: the unit that flows on the changes topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipChange {
    pub identify_id: IdentifyId,
    pub state: AudienceState,
}

/// A record on the changes topic that does not decode into a valid change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidChange {
    #[error("change carries no audience state")]
    MissingState,
    #[error("change has an unspecified membership status")]
    UnspecifiedStatus,
    #[error(transparent)]
    Empty(#[from] EmptyId),
    #[error("last_qualification_time_us: {0}")]
    Time(#[from] TimeError),
}

impl From<&AudienceState> for pb::AudienceChange {
    fn from(s: &AudienceState) -> Self {
        pb::AudienceChange {
            destination: s.destination.as_str().to_owned(),
            audience_id: s.audience.as_str().to_owned(),
            status: match s.status {
                MembershipStatus::Realized => pb::MembershipStatus::Realized,
                MembershipStatus::Exited => pb::MembershipStatus::Exited,
            } as i32,
            last_qualification_time_us: s.time.as_micros(),
            audience_name: s.inline_name.clone().unwrap_or_default(),
        }
    }
}

impl TryFrom<pb::AudienceChange> for AudienceState {
    type Error = InvalidChange;
    fn try_from(c: pb::AudienceChange) -> Result<Self, Self::Error> {
        let status = match pb::MembershipStatus::try_from(c.status) {
            Ok(pb::MembershipStatus::Realized) => MembershipStatus::Realized,
            Ok(pb::MembershipStatus::Exited) => MembershipStatus::Exited,
            _ => return Err(InvalidChange::UnspecifiedStatus),
        };
        Ok(AudienceState {
            destination: DestinationName::new(c.destination)?,
            audience: AudienceId::new(c.audience_id)?,
            status,
            time: QualificationTime::try_from_micros(c.last_qualification_time_us)?,
            inline_name: Some(c.audience_name).filter(|n| !n.is_empty()),
        })
    }
}

impl From<&MembershipChange> for pb::MembershipChange {
    fn from(c: &MembershipChange) -> Self {
        pb::MembershipChange {
            identify_id: c.identify_id.as_str().to_owned(),
            change: Some((&c.state).into()),
        }
    }
}

impl TryFrom<pb::MembershipChange> for MembershipChange {
    type Error = InvalidChange;
    fn try_from(c: pb::MembershipChange) -> Result<Self, Self::Error> {
        Ok(MembershipChange {
            identify_id: IdentifyId::new(c.identify_id)?,
            state: c.change.ok_or(InvalidChange::MissingState)?.try_into()?,
        })
    }
}

/// The last state applied for one (destination, PX user, audience).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedState {
    pub status: MembershipStatus,
    pub time: QualificationTime,
}

/// What to do with an incoming change, given what was last applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// PX must hear about it.
    Send,
    /// PX's view does not change, but the newer version is remembered so an older snapshot arriving
    /// later is still recognised as stale.
    Remember,
    /// Older than (or a duplicate of) what was applied: drop.
    Drop,
}

/// The stale/no-op rule. `lastQualificationTime` is the version; the newest wins whatever the arrival order.
/// At equal times an exit beats a qualification, so the outcome does not depend on arrival order either.
pub fn decide(
    last: Option<AppliedState>,
    status: MembershipStatus,
    time: QualificationTime,
) -> Decision {
    use MembershipStatus::{Exited, Realized};
    let Some(last) = last else {
        // An exit for a user PX never got from us changes nothing there; remembering it still matters.
        return match status {
            Realized => Decision::Send,
            Exited => Decision::Remember,
        };
    };
    match (time.cmp(&last.time), last.status, status) {
        (std::cmp::Ordering::Less, _, _) => Decision::Drop,
        (std::cmp::Ordering::Equal, Realized, Exited) => Decision::Send,
        (std::cmp::Ordering::Equal, _, _) => Decision::Drop,
        (std::cmp::Ordering::Greater, old, new) if old == new => Decision::Remember,
        (std::cmp::Ordering::Greater, _, _) => Decision::Send,
    }
}

#[cfg(test)]
mod tests {
    use super::MembershipStatus::{Exited, Realized};
    use super::*;

    fn t(us: i64) -> QualificationTime {
        QualificationTime::from_micros(us)
    }
    fn applied(status: MembershipStatus, us: i64) -> Option<AppliedState> {
        Some(AppliedState {
            status,
            time: t(us),
        })
    }

    #[test]
    fn existing_is_a_synonym_of_realized_and_other_statuses_are_refused() {
        assert_eq!(MembershipStatus::parse_aep("existing"), Ok(Realized));
        assert_eq!(MembershipStatus::parse_aep("realized"), Ok(Realized));
        assert_eq!(MembershipStatus::parse_aep("exited"), Ok(Exited));
        assert_eq!(MembershipStatus::parse_aep("Realized"), Err(UnknownStatus));
        assert_eq!(MembershipStatus::parse_aep("pending"), Err(UnknownStatus));
    }

    #[test]
    fn a_first_qualification_is_sent_and_a_first_exit_only_remembered() {
        assert_eq!(decide(None, Realized, t(1)), Decision::Send);
        assert_eq!(decide(None, Exited, t(1)), Decision::Remember);
    }

    #[test]
    fn an_older_change_is_stale_whatever_its_status() {
        assert_eq!(decide(applied(Realized, 10), Exited, t(9)), Decision::Drop);
        assert_eq!(decide(applied(Exited, 10), Realized, t(9)), Decision::Drop);
    }

    #[test]
    fn a_newer_change_of_status_is_sent_and_a_newer_same_status_is_a_no_op() {
        assert_eq!(decide(applied(Realized, 10), Exited, t(11)), Decision::Send);
        assert_eq!(decide(applied(Exited, 10), Realized, t(11)), Decision::Send);
        assert_eq!(
            decide(applied(Realized, 10), Realized, t(11)),
            Decision::Remember
        );
    }

    #[test]
    fn an_exact_duplicate_is_dropped_and_at_equal_times_exit_wins() {
        assert_eq!(
            decide(applied(Realized, 10), Realized, t(10)),
            Decision::Drop
        );
        assert_eq!(decide(applied(Realized, 10), Exited, t(10)), Decision::Send);
        assert_eq!(decide(applied(Exited, 10), Realized, t(10)), Decision::Drop);
    }

    #[test]
    fn a_change_round_trips_through_its_wire_form() {
        let change = MembershipChange {
            identify_id: IdentifyId::new("u-1").unwrap(),
            state: AudienceState {
                destination: DestinationName::new("px").unwrap(),
                audience: AudienceId::new("segmentid-feature-x").unwrap(),
                status: Exited,
                time: t(1_764_489_600_117_000),
                inline_name: None,
            },
        };
        let wire = pb::MembershipChange::from(&change);
        assert_eq!(MembershipChange::try_from(wire).unwrap(), change);
    }

    #[test]
    fn a_change_whose_time_is_outside_the_iso_years_is_refused_on_decoding() {
        let state = AudienceState {
            destination: DestinationName::new("px").unwrap(),
            audience: AudienceId::new("a").unwrap(),
            status: Realized,
            time: t(0),
            inline_name: None,
        };
        let mut wire = pb::AudienceChange::from(&state);
        wire.last_qualification_time_us = QualificationTime::MAX.as_micros() + 1;
        assert_eq!(
            AudienceState::try_from(wire),
            Err(InvalidChange::Time(TimeError::OutsideIsoYears))
        );
    }
}
