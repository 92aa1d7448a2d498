//! Parsing one AEP profile export (raw XDM JSON) into what the pipeline needs: the profile's identities and
//! the states of its activated Segmentation Service audiences.
//!
//! Parse, don't validate: after this module, a record is typed values or a `RecordError` that says why it
//! can never be used. Errors name the field, never its value, because values may be personal data.

use pxstream_core::change::MembershipStatus;
use pxstream_core::qualification_time::QualificationTime;
use pxstream_core::{AudienceState, Namespace};
use serde_json::{Map, Value};

use crate::activations::Activations;
use crate::attributes::attribute_value;

/// Segmentation Service audiences: the only ones forwarded.
const SEGMENTATION_NAMESPACE: &str = "ups";
/// Audiences imported from CSV: never forwarded by this destination, only counted.
const CUSTOM_UPLOAD_NAMESPACE: &str = "CustomerAudienceUpload";

/// A record that can never be processed; it goes to the dead-letter topic with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record is not valid UTF-8 JSON: {0}")]
    NotJson(String),
    #[error("record is not a JSON object")]
    NotAnObject,
    #[error("record has an empty payload")]
    Empty,
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
    #[error("record has activated audiences but no identity to resolve them with")]
    NoIdentity,
}

impl pxstream_core::Classify for RecordError {
    fn class(&self) -> pxstream_core::ErrorClass {
        pxstream_core::ErrorClass::DeadLetter
    }
}

fn field_error(field: impl Into<String>, problem: impl Into<String>) -> RecordError {
    RecordError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

/// What a record contributes to the pipeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedRecord {
    /// Every identity of the profile (identity map plus attribute sources), deduplicated.
    pub identities: Vec<(Namespace, String)>,
    /// One entry per (activated audience, destination).
    pub changes: Vec<AudienceState>,
    /// Entries in the custom-upload namespace, refused by this destination.
    pub custom_upload_entries: usize,
    /// Segmentation Service entries for audiences not activated to any destination.
    pub not_activated_entries: usize,
}

pub fn parse_record(
    payload: &[u8],
    activations: &Activations,
) -> Result<ParsedRecord, RecordError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Err(RecordError::Empty);
    }
    let value: Value = serde_json::from_slice(payload).map_err(|e| {
        // serde_json's message carries only a position and category, never input text.
        RecordError::NotJson(e.to_string())
    })?;
    let Value::Object(record) = value else {
        return Err(RecordError::NotAnObject);
    };

    let mut parsed = ParsedRecord::default();
    if let Some(membership) = record.get("segmentMembership") {
        read_memberships(membership, activations, &mut parsed)?;
    }
    if let Some(identity_map) = record.get("identityMap") {
        read_identity_map(identity_map, &mut parsed.identities)?;
    }
    for path in activations.attribute_paths() {
        if let Some(value) = attribute_value(&record, path) {
            let namespace =
                Namespace::attribute(path).map_err(|e| field_error(path, e.to_string()))?;
            push_unique(&mut parsed.identities, namespace, value);
        }
    }
    if !parsed.changes.is_empty() && parsed.identities.is_empty() {
        return Err(RecordError::NoIdentity);
    }
    Ok(parsed)
}

fn read_memberships(
    membership: &Value,
    activations: &Activations,
    parsed: &mut ParsedRecord,
) -> Result<(), RecordError> {
    let Value::Object(namespaces) = membership else {
        return Err(field_error(
            "segmentMembership",
            "must be an object of namespaces",
        ));
    };
    for (namespace, audiences) in namespaces {
        if namespace.eq_ignore_ascii_case(CUSTOM_UPLOAD_NAMESPACE) {
            parsed.custom_upload_entries += audiences.as_object().map_or(0, Map::len);
            continue;
        }
        if !namespace.eq_ignore_ascii_case(SEGMENTATION_NAMESPACE) {
            continue; // AAM and other namespaces are not this destination's business.
        }
        // Safe to echo: the key is a case variant of `ups`.
        let Value::Object(audiences) = audiences else {
            return Err(field_error(
                format!("segmentMembership.{namespace}"),
                "must be an object of audiences",
            ));
        };
        for (audience, entry) in audiences {
            let destinations = activations.destinations(audience);
            if destinations.is_empty() {
                parsed.not_activated_entries += 1;
                continue;
            }
            // Safe to echo: an activated audience id is one the configuration lists.
            let field = format!("segmentMembership.{namespace}.{audience}");
            let (status, time, name) = read_entry(&field, entry)?;
            for destination in destinations {
                parsed.changes.push(AudienceState {
                    destination: destination.clone(),
                    audience: pxstream_core::AudienceId::new(audience.as_str())
                        .map_err(|e| field_error(&field, e.to_string()))?,
                    status,
                    time,
                    inline_name: name.clone(),
                });
            }
        }
    }
    Ok(())
}

fn read_entry(
    field: &str,
    entry: &Value,
) -> Result<(MembershipStatus, QualificationTime, Option<String>), RecordError> {
    let Value::Object(entry) = entry else {
        return Err(field_error(
            field,
            "must be an object with status and lastQualificationTime",
        ));
    };
    let status = match entry.get("status") {
        Some(Value::String(s)) => MembershipStatus::parse_aep(s)
            .map_err(|e| field_error(format!("{field}.status"), e.to_string()))?,
        Some(_) => return Err(field_error(format!("{field}.status"), "must be a string")),
        None => return Err(field_error(format!("{field}.status"), "is missing")),
    };
    let time = match entry.get("lastQualificationTime") {
        Some(Value::String(s)) => QualificationTime::parse(s)
            .map_err(|e| field_error(format!("{field}.lastQualificationTime"), e.to_string()))?,
        Some(_) => {
            return Err(field_error(
                format!("{field}.lastQualificationTime"),
                "must be a string",
            ));
        }
        None => {
            return Err(field_error(
                format!("{field}.lastQualificationTime"),
                "is missing",
            ));
        }
    };
    let name = match entry.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    };
    Ok((status, time, name))
}

fn read_identity_map(
    identity_map: &Value,
    identities: &mut Vec<(Namespace, String)>,
) -> Result<(), RecordError> {
    let Value::Object(namespaces) = identity_map else {
        return Err(field_error(
            "identityMap",
            "must be an object of namespaces",
        ));
    };
    for (namespace, ids) in namespaces {
        let field = identity_map_field(namespace);
        let ns = Namespace::new(namespace).map_err(|e| field_error(&field, e.to_string()))?;
        let Value::Array(ids) = ids else {
            return Err(field_error(field, "must be an array of {id} objects"));
        };
        for (i, entry) in ids.iter().enumerate() {
            match entry.get("id") {
                Some(Value::String(id)) if !id.trim().is_empty() => {
                    push_unique(identities, ns.clone(), id.trim().to_owned());
                }
                Some(Value::String(_)) => {
                    return Err(field_error(format!("{field}[{i}].id"), "is empty"));
                }
                Some(_) => return Err(field_error(format!("{field}[{i}].id"), "must be a string")),
                None => return Err(field_error(format!("{field}[{i}].id"), "is missing")),
            }
        }
    }
    Ok(())
}

/// How a reason names an identityMap namespace. A key is echoed only when it has the shape of a namespace
/// code (`ECID`, `crmId`, `Email_LC_SHA256`): a malformed export can carry an email or a phone number as a
/// key, and a reason must never repeat input values.
fn identity_map_field(namespace: &str) -> String {
    let looks_like_code = namespace.len() <= MAX_ECHOED_NAMESPACE_LEN
        && namespace.starts_with(|c: char| c.is_ascii_alphabetic())
        && namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if looks_like_code {
        format!("identityMap.{namespace}")
    } else {
        "identityMap.<redacted namespace>".to_owned()
    }
}

/// Longer keys are more likely a value (a hashed id, a token) than a namespace code.
const MAX_ECHOED_NAMESPACE_LEN: usize = 32;

fn push_unique(identities: &mut Vec<(Namespace, String)>, namespace: Namespace, id: String) {
    if !identities.iter().any(|(n, i)| n == &namespace && i == &id) {
        identities.push((namespace, id));
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
