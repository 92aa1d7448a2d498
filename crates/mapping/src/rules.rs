//! The mapping rules: for each destination, the namespace whose values are PX user ids.

use std::collections::BTreeMap;

use pxstream_core::config::ActivationConfig;
use pxstream_core::{DestinationName, Namespace};

/// Destination → source namespace, from the activations of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingRules {
    sources: BTreeMap<DestinationName, Namespace>,
}

/// The activations cannot be turned into one rule per destination.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RulesError {
    #[error("activations[{index}].mapping.source: {problem}")]
    InvalidSource { index: usize, problem: String },
    /// A change names only its destination, so one destination cannot map two ways.
    #[error(
        "activations[{index}].mapping.source: destination {destination} is mapped from both {first} and {second}; one destination takes one source"
    )]
    Conflict {
        index: usize,
        destination: DestinationName,
        first: Namespace,
        second: Namespace,
    },
}

impl MappingRules {
    pub fn from_activations(activations: &[ActivationConfig]) -> Result<Self, RulesError> {
        let mut sources: BTreeMap<DestinationName, Namespace> = BTreeMap::new();
        for (index, activation) in activations.iter().enumerate() {
            let namespace =
                activation
                    .mapping
                    .source
                    .namespace()
                    .map_err(|e| RulesError::InvalidSource {
                        index,
                        problem: e.to_string(),
                    })?;
            match sources.get(&activation.destination) {
                Some(existing) if existing != &namespace => {
                    return Err(RulesError::Conflict {
                        index,
                        destination: activation.destination.clone(),
                        first: existing.clone(),
                        second: namespace,
                    });
                }
                Some(_) => {}
                None => {
                    sources.insert(activation.destination.clone(), namespace);
                }
            }
        }
        Ok(Self { sources })
    }

    /// The namespace whose ids a change for `destination` resolves to; `None` for an unknown destination.
    pub fn source_for(&self, destination: &DestinationName) -> Option<&Namespace> {
        self.sources.get(destination)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&DestinationName, &Namespace)> {
        self.sources.iter()
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxstream_core::config::Config;

    fn config(activations: &str) -> Config {
        Config::from_toml_str(&format!(
            r#"
            [kafka]
            bootstrap_servers = "localhost:9092"
            [[destinations]]
            name = "px"
            auth = {{ mode = "api_key", api_key = "k" }}
            {activations}
            "#
        ))
        .unwrap()
    }

    #[test]
    fn an_attribute_source_becomes_an_attr_namespace() {
        let config = config(
            r#"
            [[activations]]
            destination = "px"
            mapping = { source = { attribute = "_tenant.pxUserId" } }
            audiences = [{ id = "a", name = "A" }]
            "#,
        );
        let rules = MappingRules::from_activations(&config.activations).unwrap();
        let px = DestinationName::new("px").unwrap();
        assert_eq!(
            rules.source_for(&px).unwrap().as_str(),
            "attr:_tenant.pxUserId"
        );
    }

    #[test]
    fn one_destination_mapped_from_two_sources_is_refused() {
        let config = config(
            r#"
            [[activations]]
            destination = "px"
            mapping = { source = { namespace = "crmId" } }
            audiences = [{ id = "a", name = "A" }]
            [[activations]]
            destination = "px"
            mapping = { source = { namespace = "Email" } }
            audiences = [{ id = "b", name = "B" }]
            "#,
        );
        let error = MappingRules::from_activations(&config.activations).unwrap_err();
        assert!(matches!(error, RulesError::Conflict { index: 1, .. }));
    }

    #[test]
    fn activations_of_one_destination_agreeing_on_the_source_are_one_rule() {
        let config = config(
            r#"
            [[activations]]
            destination = "px"
            mapping = { source = { namespace = "crmId" } }
            audiences = [{ id = "a", name = "A" }]
            [[activations]]
            destination = "px"
            mapping = { source = { namespace = "CRMID" } }
            audiences = [{ id = "b", name = "B" }]
            "#,
        );
        let rules = MappingRules::from_activations(&config.activations).unwrap();
        assert_eq!(rules.len(), 1);
    }
}
