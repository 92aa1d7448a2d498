//! The JSON side files of a data set: `audiences.json`, `activation.json` and `expected.json`.
//!
//! The types also deserialize, so tests and tools can read the checked-in fixtures with them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Audience;

/// One entry of `audiences.json`: an audience definition as AEP lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceDef {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `SegmentationService` or `CustomerAudienceUpload`.
    pub origin: String,
    /// Data-usage labels (`C4`, ...).
    pub labels: Vec<String>,
}

/// `activation.json`: the PX destination, its identity mapping and the audiences mapped to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub destination: Destination,
    pub mapping: Mapping,
    pub audiences: Vec<ActivatedAudience>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub name: String,
    pub description: String,
    pub region: String,
    #[serde(rename = "identityType")]
    pub identity_type: String,
}

/// Source identity → target identity (always PX's `IDENTIFY_ID`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub source: MappingSource,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingSource {
    pub namespace: String,
}

/// An audience as mapped to the destination, with the name PX shows for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivatedAudience {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// `expected.json`: the PX state the records imply, whatever order they arrive in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Activated audience id → sorted IDENTIFY_IDs of its final members.
    pub members: BTreeMap<String, Vec<String>>,
    /// Activated audience id → the segment name PX shows.
    pub segments: BTreeMap<String, String>,
    /// Number of records (lines) in `exports.jsonl`.
    pub records: usize,
}

/// The identity namespace whose value is the PX id.
pub const SOURCE_NAMESPACE: &str = "crmId";
pub const TARGET_IDENTITY: &str = "IDENTIFY_ID";

pub fn audience_defs(audiences: &[Audience]) -> Vec<AudienceDef> {
    audiences
        .iter()
        .map(|a| AudienceDef {
            id: a.id.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            origin: a.origin.as_str().to_string(),
            labels: a.labels.clone(),
        })
        .collect()
}

pub fn activation(audiences: &[Audience]) -> Activation {
    Activation {
        destination: Destination {
            name: "PX production".to_string(),
            description: "Gainsight PX, US data center".to_string(),
            region: "us".to_string(),
            identity_type: TARGET_IDENTITY.to_string(),
        },
        mapping: Mapping {
            source: MappingSource {
                namespace: SOURCE_NAMESPACE.to_string(),
            },
            target: TARGET_IDENTITY.to_string(),
        },
        audiences: audiences
            .iter()
            .filter(|a| a.activated)
            .map(|a| ActivatedAudience {
                id: a.id.clone(),
                name: a.name.clone(),
                description: a.description.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = "../../../shared/fixtures/small";

    /// The types must read the hand-checked fixture, so both describe the same format.
    #[test]
    fn the_fixture_files_parse_into_these_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
        let Ok(activation) = std::fs::read_to_string(dir.join("activation.json")) else {
            return; // The fixture lives outside the crate; skip where it is not laid out.
        };
        let activation: Activation = serde_json::from_str(&activation).expect("activation.json");
        assert_eq!(activation.mapping.source.namespace, SOURCE_NAMESPACE);
        let audiences = std::fs::read_to_string(dir.join("audiences.json")).unwrap_or_default();
        let audiences: Vec<AudienceDef> = serde_json::from_str(&audiences).expect("audiences.json");
        assert!(
            audiences
                .iter()
                .any(|a| a.origin == "CustomerAudienceUpload")
        );
        let expected = std::fs::read_to_string(dir.join("expected.json")).unwrap_or_default();
        let expected: Expected = serde_json::from_str(&expected).expect("expected.json");
        assert_eq!(expected.segments.len(), activation.audiences.len());
    }
}
