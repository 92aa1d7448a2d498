//! The activation index: which audience goes to which destinations, and which profile attributes a mapping
//! rule reads. Built once from the validated configuration.

use std::collections::{BTreeSet, HashMap};

use pxstream_core::config::{ActivationConfig, MappingSource};
use pxstream_core::{AudienceId, DestinationName};

#[derive(Debug, Clone, Default)]
pub struct Activations {
    destinations_by_audience: HashMap<AudienceId, Vec<DestinationName>>,
    attribute_paths: BTreeSet<String>,
}

impl Activations {
    pub fn new(activations: &[ActivationConfig]) -> Self {
        let mut index = Activations::default();
        for activation in activations {
            for audience in &activation.audiences {
                let destinations = index
                    .destinations_by_audience
                    .entry(audience.id.clone())
                    .or_default();
                if !destinations.contains(&activation.destination) {
                    destinations.push(activation.destination.clone());
                }
            }
            if let MappingSource::Attribute(path) = &activation.mapping.source {
                index.attribute_paths.insert(path.clone());
            }
        }
        index
    }

    /// The destinations an audience is activated to; empty when it is not activated anywhere.
    pub fn destinations(&self, audience: &str) -> &[DestinationName] {
        // Audience ids are opaque and case-sensitive: looked up exactly as AEP sent them.
        AudienceId::new(audience)
            .ok()
            .and_then(|id| self.destinations_by_audience.get(&id))
            .map_or(&[], Vec::as_slice)
    }

    /// Attribute paths that some mapping rule uses as identity source.
    pub fn attribute_paths(&self) -> impl Iterator<Item = &str> {
        self.attribute_paths.iter().map(String::as_str)
    }
}
