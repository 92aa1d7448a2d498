//! Activations: which audiences go to which destination, and how a profile maps to a PX user.

use std::collections::BTreeMap;

use figment::Figment;
use figment::providers::{Format, Json};
use serde::Deserialize;

use super::ConfigError;
use super::destination::{IdentityType, Region};
use super::error::{child, describe_figment_error};
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
    /// `field` is this activation's path in its document; empty at the top of an activation file.
    pub(super) fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if self.mapping.target != "IDENTIFY_ID" {
            return Err(ConfigError::invalid(
                child(field, "mapping.target"),
                "only IDENTIFY_ID is supported",
            ));
        }
        self.mapping.source.namespace().map_err(|_| {
            ConfigError::invalid(
                child(field, "mapping.source.attribute"),
                "must not be empty",
            )
        })?;
        if self.audiences.is_empty() {
            return Err(ConfigError::invalid(
                child(field, "audiences"),
                "must list at least one audience",
            ));
        }
        let mut seen = BTreeMap::new();
        for (i, audience) in self.audiences.iter().enumerate() {
            if let Some(first) = seen.insert(&audience.id, i) {
                return Err(ConfigError::invalid(
                    child(field, &format!("audiences[{i}].id")),
                    format!("same audience as audiences[{first}]; list each audience once"),
                ));
            }
            if audience.name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    child(field, &format!("audiences[{i}].name")),
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }
}

/// The activation export format (`activation.json`): one destination's metadata, its mapping rule and its
/// audiences. Accepted beside the richer configuration file, which adds endpoints and credentials. Unknown
/// keys are refused as in that file: a misspelt `identityType` silently falling back to its default would
/// be worse than a refusal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationFile {
    pub destination: ActivationFileDestination,
    pub mapping: MappingRule,
    pub audiences: Vec<AudienceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Errors name the field path inside the file (`audiences[2].name: is missing`).
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        // Through figment, like the configuration file: the same field paths and the same redaction of
        // offending values, which serde_json would quote.
        let file: ActivationFile = Figment::from(Json::string(text))
            .extract()
            .map_err(|e| ConfigError::ActivationFile(describe_figment_error(e)))?;
        file.to_activation().validate("").map_err(|e| match e {
            ConfigError::Invalid { field, problem } => {
                ConfigError::ActivationFile(format!("{field}: {problem}"))
            }
            other => other,
        })?;
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

#[cfg(test)]
#[path = "activation_tests.rs"]
mod tests;
