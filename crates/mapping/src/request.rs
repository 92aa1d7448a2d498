//! Checking a `ResolveBatch` request and turning it into domain types before anything touches the store,
//! so an invalid batch changes nothing.

use std::collections::BTreeSet;

use pxstream_core::{AudienceState, Namespace};
use pxstream_proto::v1 as pb;

use crate::rules::MappingRules;
use crate::store::IdentityKey;

/// One profile of a batch, checked: normalised identities (deduplicated) and changes paired with the
/// source namespace of their destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInput {
    pub identities: Vec<IdentityKey>,
    pub changes: Vec<(AudienceState, Namespace)>,
}

/// A request that can never succeed. The message names the offending field by position and never
/// contains an identity value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profiles[{profile}].{problem}")]
pub struct InvalidRequest {
    /// Index of the first invalid profile in the request.
    pub profile: usize,
    pub problem: String,
}

/// Checks every profile of the request; the first problem found fails the whole batch.
pub fn parse_batch(
    request: pb::ResolveBatchRequest,
    rules: &MappingRules,
) -> Result<Vec<ProfileInput>, InvalidRequest> {
    request
        .profiles
        .into_iter()
        .enumerate()
        .map(|(index, profile)| {
            parse_profile(profile, rules).map_err(|problem| InvalidRequest {
                profile: index,
                problem,
            })
        })
        .collect()
}

fn parse_profile(profile: pb::Profile, rules: &MappingRules) -> Result<ProfileInput, String> {
    let mut identities = BTreeSet::new();
    for (i, identity) in profile.identities.into_iter().enumerate() {
        // Ingest folds case already; normalising again keeps the graph right if a caller forgets.
        let namespace = Namespace::new(&identity.namespace)
            .map_err(|_| format!("identities[{i}]: namespace must not be empty"))?;
        if identity.id.is_empty() {
            // The namespace key is input too, and may be anything: the index alone names the field.
            return Err(format!("identities[{i}]: id must not be empty"));
        }
        identities.insert(IdentityKey {
            namespace,
            value: identity.id,
        });
    }
    let mut changes = Vec::with_capacity(profile.changes.len());
    for (i, change) in profile.changes.into_iter().enumerate() {
        let state = AudienceState::try_from(change).map_err(|e| format!("changes[{i}]: {e}"))?;
        let source = rules.source_for(&state.destination).ok_or_else(|| {
            format!(
                "changes[{i}].destination: unknown destination {:?}",
                state.destination.as_str()
            )
        })?;
        changes.push((state, source.clone()));
    }
    if identities.is_empty() && !changes.is_empty() {
        // With no identity there is nothing to link and nothing that could ever resolve it.
        return Err(
            "identities: a profile with audience changes needs at least one identity".into(),
        );
    }
    Ok(ProfileInput {
        identities: identities.into_iter().collect(),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxstream_core::config::Config;

    fn rules() -> MappingRules {
        let config = Config::from_toml_str(
            r#"
            [kafka]
            bootstrap_servers = "localhost:9092"
            [[destinations]]
            name = "px"
            auth = { mode = "api_key", api_key = "k" }
            [[activations]]
            destination = "px"
            mapping = { source = { namespace = "crmId" } }
            audiences = [{ id = "a", name = "A" }]
            "#,
        )
        .unwrap();
        MappingRules::from_activations(&config.activations).unwrap()
    }

    fn identity(namespace: &str, id: &str) -> pb::Identity {
        pb::Identity {
            namespace: namespace.into(),
            id: id.into(),
        }
    }

    fn change(destination: &str) -> pb::AudienceChange {
        pb::AudienceChange {
            destination: destination.into(),
            audience_id: "a".into(),
            status: pb::MembershipStatus::Realized as i32,
            last_qualification_time_us: 1,
            audience_name: String::new(),
        }
    }

    fn batch(profiles: Vec<pb::Profile>) -> pb::ResolveBatchRequest {
        pb::ResolveBatchRequest { profiles }
    }

    #[test]
    fn namespaces_are_case_folded_and_identities_deduplicated() {
        let parsed = parse_batch(
            batch(vec![pb::Profile {
                identities: vec![identity("ECID", "1"), identity("ecid", "1")],
                changes: vec![change("px")],
            }]),
            &rules(),
        )
        .unwrap();
        assert_eq!(parsed[0].identities.len(), 1);
        assert_eq!(parsed[0].identities[0].namespace.as_str(), "ecid");
        assert_eq!(parsed[0].changes[0].1.as_str(), "crmid");
    }

    #[test]
    fn an_empty_identity_value_is_refused_without_echoing_values() {
        let error = parse_batch(
            batch(vec![
                pb::Profile::default(),
                pb::Profile {
                    identities: vec![identity("email", "dana@example.org"), identity("crmId", "")],
                    changes: vec![],
                },
            ]),
            &rules(),
        )
        .unwrap_err();
        assert_eq!(error.profile, 1);
        let message = error.to_string();
        assert!(
            message.starts_with("profiles[1].identities[1]"),
            "{message}"
        );
        assert!(!message.contains("dana"), "{message}");
    }

    #[test]
    fn a_change_for_an_unknown_destination_is_refused() {
        let error = parse_batch(
            batch(vec![pb::Profile {
                identities: vec![identity("crmId", "c")],
                changes: vec![change("elsewhere")],
            }]),
            &rules(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("unknown destination"), "{error}");
    }

    #[test]
    fn changes_without_any_identity_are_refused() {
        let error = parse_batch(
            batch(vec![pb::Profile {
                identities: vec![],
                changes: vec![change("px")],
            }]),
            &rules(),
        )
        .unwrap_err();
        assert_eq!(error.profile, 0);
    }
}
