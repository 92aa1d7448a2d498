//! One typed configuration file (TOML or JSON) plus `PXSTREAM_*` environment overrides, validated before
//! anything runs. A bad file fails at start with a message that names the field.
//!
//! Environment overrides use `__` between keys: `PXSTREAM_KAFKA__BOOTSTRAP_SERVERS=host:9093`.

mod activation;
mod destination;
mod error;
mod sections;

use std::collections::BTreeMap;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Json, Toml};
use serde::Deserialize;

pub use activation::{
    ActivationConfig, ActivationFile, AudienceConfig, MappingRule, MappingSource,
};
pub use destination::{AuthConfig, DestinationConfig, IdentityType, Region};
pub use error::ConfigError;
pub use sections::{
    DeliveryConfig, IngestConfig, KafkaConfig, LogFormat, MappingConfig, TelemetryConfig,
};

use error::describe_figment_error;

use crate::ids::DestinationName;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub kafka: KafkaConfig,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub mapping: MappingConfig,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    #[serde(default)]
    pub destinations: Vec<DestinationConfig>,
    #[serde(default)]
    pub activations: Vec<ActivationConfig>,
}

const CONFIG_SECTIONS: &[&str] = &["kafka", "ingest", "mapping", "delivery", "telemetry"];

impl Config {
    /// Reads the file (by extension: `.json` or TOML), applies `PXSTREAM_*` overrides (except
    /// `PXSTREAM_CONFIG`), then validates.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Figment::from(Json::file_exact(path))
        } else {
            Figment::from(Toml::file_exact(path))
        };
        // `PXSTREAM_CONFIG` names this file (the services' `--config`), it is not a key to override.
        // Only variables naming a configuration section override it; others with the same prefix
        // (`PXSTREAM_CONFIG`, tooling variables) are not configuration.
        let overrides = Env::prefixed("PXSTREAM_")
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                CONFIG_SECTIONS
                    .iter()
                    .any(|section| key.starts_with(&format!("{section}__")))
            })
            .split("__");
        Self::from_figment(file.merge(overrides))
    }

    /// Parses configuration text (TOML) without environment overrides; for tests and tools.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe_figment_error(e)))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.kafka.validate()?;
        self.ingest.validate()?;
        self.mapping.validate()?;
        self.delivery.validate()?;
        self.telemetry.validate()?;
        // Messages point at the other field rather than repeat a value, which could be a misplaced secret.
        let mut names = BTreeMap::new();
        for (i, destination) in self.destinations.iter().enumerate() {
            destination.validate(&format!("destinations[{i}]"))?;
            if let Some(first) = names.insert(&destination.name, i) {
                return Err(ConfigError::invalid(
                    format!("destinations[{i}].name"),
                    format!("same as destinations[{first}].name; names must be unique"),
                ));
            }
        }
        for (i, activation) in self.activations.iter().enumerate() {
            let field = format!("activations[{i}]");
            activation.validate(&field)?;
            if !names.contains_key(&activation.destination) {
                return Err(ConfigError::invalid(
                    format!("{field}.destination"),
                    "must be the name of one of destinations",
                ));
            }
        }
        Ok(())
    }

    pub fn destination(&self, name: &DestinationName) -> Option<&DestinationConfig> {
        self.destinations.iter().find(|d| &d.name == name)
    }
}

#[cfg(test)]
mod tests;
