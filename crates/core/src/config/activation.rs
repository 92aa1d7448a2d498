//! Activations: which audiences go to which destination, and how a profile maps to a PX user.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::ConfigError;
use super::destination::{IdentityType, Region};
use crate::ids::{AudienceId, DestinationName, Namespace};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationConfig {
    pub destination: DestinationName,
    pub mapping: MappingRule,
    pub audiences: Vec<AudienceConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceConfig {
    pub id: AudienceId,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// The destination's mapping step: one source → PX's `IDENTIFY_ID`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingRule {
    pub source: MappingSource,
    #[serde(default = "identify_id")]
    pub target: String,
}

fn identify_id() -> String {
    "IDENTIFY_ID".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MappingSource {
    /// An identity namespace such as `crmId` (matched case-insensitively).
    Namespace(Namespace),
    /// A profile attribute path such as `person.crmId` or `attributes.pxUserId`.
    Attribute(String),
}

impl MappingSource {
    /// The graph namespace whose values are PX user ids.
    pub fn namespace(&self) -> Result<Namespace, ConfigError> {
        match self {
            MappingSource::Namespace(ns) => Ok(ns.clone()),
            MappingSource::Attribute(path) => Namespace::attribute(path)
                .map_err(|e| ConfigError::invalid("mapping.source.attribute", e.to_string())),
        }
    }
}

impl ActivationConfig {
    pub(super) fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if self.mapping.target != "IDENTIFY_ID" {
            return Err(ConfigError::invalid(
                format!("{field}.mapping.target"),
                "only IDENTIFY_ID is supported",
            ));
        }
        self.mapping.source.namespace().map_err(|_| {
            ConfigError::invalid(
                format!("{field}.mapping.source.attribute"),
                "must not be empty",
            )
        })?;
        if self.audiences.is_empty() {
            return Err(ConfigError::invalid(
                format!("{field}.audiences"),
                "must list at least one audience",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, audience) in self.audiences.iter().enumerate() {
            if !seen.insert(&audience.id) {
                return Err(ConfigError::invalid(
                    format!("{field}.audiences[{i}].id"),
                    format!("audience {} is listed twice", audience.id),
                ));
            }
            if audience.name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("{field}.audiences[{i}].name"),
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }
}

/// The activation export format (`activation.json`): one destination's metadata, its mapping rule and its
/// audiences. Accepted beside the richer configuration file, which adds endpoints and credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivationFile {
    pub destination: ActivationFileDestination,
    pub mapping: MappingRule,
    pub audiences: Vec<AudienceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ActivationFileDestination {
    pub name: DestinationName,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub region: Region,
    #[serde(default, rename = "identityType")]
    pub identity_type: IdentityType,
}

impl ActivationFile {
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let file: ActivationFile = serde_json::from_str(text)
            .map_err(|e| ConfigError::Parse(format!("activation file: {e}")))?;
        let activation = file.to_activation();
        activation.validate("activation")?;
        Ok(file)
    }

    pub fn to_activation(&self) -> ActivationConfig {
        ActivationConfig {
            destination: self.destination.name.clone(),
            mapping: self.mapping.clone(),
            audiences: self.audiences.clone(),
        }
    }
}
