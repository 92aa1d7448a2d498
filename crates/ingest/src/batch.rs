//! Turning a batch of export records into one mapping request, remembering which record each profile came
//! from so a refused profile can be traced back to its record.

use pxstream_proto::v1 as pb;

use crate::activations::Activations;
use crate::record::{ParsedRecord, RecordError, parse_record};

/// A batch ready for the mapping service.
#[derive(Debug, Default)]
pub struct PreparedBatch {
    pub profiles: Vec<pb::Profile>,
    /// For each profile, the index of its record in the batch.
    pub origins: Vec<usize>,
    /// Records that can never be processed, by index, with why.
    pub refused: Vec<(usize, RecordError)>,
    pub custom_upload_entries: usize,
    pub not_activated_entries: usize,
}

pub fn prepare<'a>(
    payloads: impl IntoIterator<Item = Option<&'a [u8]>>,
    activations: &Activations,
) -> PreparedBatch {
    let mut batch = PreparedBatch::default();
    for (index, payload) in payloads.into_iter().enumerate() {
        match parse_record(payload.unwrap_or_default(), activations) {
            Ok(parsed) => {
                batch.custom_upload_entries += parsed.custom_upload_entries;
                batch.not_activated_entries += parsed.not_activated_entries;
                // A record with identities but no activated audience still teaches the graph its links.
                if !parsed.identities.is_empty() {
                    batch.profiles.push(to_profile(parsed));
                    batch.origins.push(index);
                }
            }
            Err(error) => batch.refused.push((index, error)),
        }
    }
    batch
}

fn to_profile(parsed: ParsedRecord) -> pb::Profile {
    pb::Profile {
        identities: parsed
            .identities
            .into_iter()
            .map(|(namespace, id)| pb::Identity {
                namespace: namespace.into(),
                id,
            })
            .collect(),
        changes: parsed
            .changes
            .iter()
            .map(pb::AudienceChange::from)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxstream_core::config::ActivationFile;

    fn activations() -> Activations {
        let file = ActivationFile::from_json(include_str!(
            "../../../tests/fixtures/small/activation.json"
        ))
        .unwrap();
        Activations::new(&[file.to_activation()])
    }

    #[test]
    fn a_batch_keeps_the_origin_of_each_profile_and_the_reason_for_each_refusal() {
        let good = br#"{"identityMap":{"crmId":[{"id":"CRM-1"}]},"segmentMembership":{"ups":{"segmentid-feature-x":{"status":"realized","lastQualificationTime":"2026-11-30T08:00:00Z"}}}}"#;
        let links_only = br#"{"identityMap":{"crmId":[{"id":"CRM-2"}],"ECID":[{"id":"9"}]}}"#;
        let bad = br#"{"segmentMembership":{"ups":{"segmentid-feature-x":{"status":"gone","lastQualificationTime":"2026-11-30T08:00:00Z"}}},"identityMap":{"crmId":[{"id":"CRM-3"}]}}"#;
        let batch = prepare(
            [Some(&bad[..]), Some(&good[..]), None, Some(&links_only[..])],
            &activations(),
        );
        assert_eq!(batch.origins, [1, 3]);
        assert_eq!(batch.profiles[0].changes.len(), 1);
        assert_eq!(
            batch.profiles[1].changes.len(),
            0,
            "a links-only record still reaches the graph"
        );
        let refused: Vec<usize> = batch.refused.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            refused,
            [0, 2],
            "a bad status and an empty payload are refused"
        );
    }
}
