//! Builders shared by the unit tests.

use pxstream_core::{
    AudienceId, AudienceState, DestinationName, IdentifyId, MembershipChange, MembershipStatus,
    QualificationTime,
};

use crate::store::MembershipKey;

pub(crate) fn change(
    destination: &str,
    user: &str,
    audience: &str,
    status: MembershipStatus,
    time_us: i64,
) -> MembershipChange {
    MembershipChange {
        identify_id: IdentifyId::new(user).unwrap(),
        state: AudienceState {
            destination: DestinationName::new(destination).unwrap(),
            audience: AudienceId::new(audience).unwrap(),
            status,
            time: QualificationTime::from_micros(time_us),
            inline_name: None,
        },
    }
}

pub(crate) fn key(destination: &str, user: &str, audience: &str) -> MembershipKey {
    MembershipKey {
        destination: DestinationName::new(destination).unwrap(),
        identify_id: IdentifyId::new(user).unwrap(),
        audience: AudienceId::new(audience).unwrap(),
    }
}
