//! Generator configuration: sizes, the time window and the proportions of every kind of record.

use crate::timefmt::{Micros, utc_micros};

/// What to generate. Every proportion is a probability in `[0, 1]`; the defaults give data that looks
/// like the `small` fixture scaled up.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Seed of the only random source: the same configuration gives byte-identical output.
    pub seed: u64,
    /// Number of distinct people (each with one crmId, one or two ECIDs).
    pub profiles: usize,
    /// Total audiences, including the one custom upload (minimum 3: activated, unmapped, upload).
    pub audiences: usize,
    /// Share of the Segmentation Service audiences activated to PX; the rest stay unmapped.
    pub activated_share: f64,
    /// Start of the export window.
    pub start: Micros,
    /// Length of the export window in minutes.
    pub window_minutes: u32,
    /// Mean number of exports (snapshots) per profile; each profile gets between 1 and
    /// [`GenConfig::MAX_EXPORTS`].
    pub mean_exports: f64,
    /// Mean chance that a profile qualifies for a given audience (each audience scales it by 0.4–1.6).
    pub qualify_rate: f64,
    /// Chance that a profile is in the custom-upload audience.
    pub custom_upload_rate: f64,
    /// Chance that a qualified membership later exits.
    pub exit_rate: f64,
    /// Chance that an exited membership qualifies again later.
    pub requalify_rate: f64,
    /// Chance that a profile withdraws consent, which exits it from every audience at its last export.
    pub consent_withdrawal_rate: f64,
    /// Chance that a realized entry is sent with the deprecated synonym `existing`.
    pub existing_rate: f64,
    /// Chance that an activated entry carries the inline `name` of its audience.
    pub inline_name_rate: f64,
    /// Chance that an activated entry carries `createdAt`/`updatedAt` epoch-millisecond extras.
    pub extras_rate: f64,
    /// Chance that a profile has two ECIDs (two devices or browsers).
    pub two_ecid_rate: f64,
    /// Chance that a record of a multi-record profile carries only ECIDs (no crmId).
    pub ecid_only_rate: f64,
    /// Chance that a record carries the e-mail identity (`Email`/`email`).
    pub email_identity_rate: f64,
    /// Chance that a record carries the hashed e-mail namespace `email_lc_sha256`.
    pub hashed_email_rate: f64,
    /// Chance that a record is delivered twice (at-least-once delivery).
    pub duplicate_rate: f64,
    /// Chance that a record arrives late, as a retry, after newer snapshots.
    pub late_rate: f64,
    /// Upper bound of a late retry's delay, in minutes (AEP retries come up to ~30 min late).
    pub late_max_minutes: u32,
    /// Records are shuffled within this many seconds of their export time.
    pub shuffle_window_secs: u32,
}

impl GenConfig {
    /// Most snapshots a single profile gets; keeps every profile's exports inside the window.
    pub const MAX_EXPORTS: usize = 15;
    /// Minimum distance between two exports of one profile. Each change is stamped up to a minute
    /// before its export, so changes of one (profile, audience) stay at least a minute apart.
    pub const EXPORT_GAP_SECS: i64 = 150;
    /// Longest delay between a change and the export that carries it.
    pub const MAX_CHANGE_LEAD_SECS: i64 = 60;

    /// Checks sizes and proportions; [`crate::generate`] relies on it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.profiles == 0 {
            return Err(ConfigError::new("profiles must be at least 1"));
        }
        if self.audiences < 3 {
            return Err(ConfigError::new(
                "audiences must be at least 3 (activated, unmapped and the custom upload)",
            ));
        }
        let rates = [
            ("activated_share", self.activated_share),
            ("qualify_rate", self.qualify_rate),
            ("custom_upload_rate", self.custom_upload_rate),
            ("exit_rate", self.exit_rate),
            ("requalify_rate", self.requalify_rate),
            ("consent_withdrawal_rate", self.consent_withdrawal_rate),
            ("existing_rate", self.existing_rate),
            ("inline_name_rate", self.inline_name_rate),
            ("extras_rate", self.extras_rate),
            ("two_ecid_rate", self.two_ecid_rate),
            ("ecid_only_rate", self.ecid_only_rate),
            ("email_identity_rate", self.email_identity_rate),
            ("hashed_email_rate", self.hashed_email_rate),
            ("duplicate_rate", self.duplicate_rate),
            ("late_rate", self.late_rate),
        ];
        for (name, value) in rates {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::new(format!(
                    "{name} must be within [0, 1], got {value}"
                )));
            }
        }
        if !(1.0..=Self::MAX_EXPORTS as f64).contains(&self.mean_exports) {
            return Err(ConfigError::new(format!(
                "mean_exports must be within [1, {}]",
                Self::MAX_EXPORTS
            )));
        }
        let needed = (Self::MAX_EXPORTS as i64) * Self::EXPORT_GAP_SECS + 60;
        if i64::from(self.window_minutes) * 60 < needed {
            return Err(ConfigError::new(format!(
                "window_minutes must be at least {} to fit every profile's exports",
                (needed + 59) / 60
            )));
        }
        Ok(())
    }
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            profiles: 3000,
            audiences: 20,
            activated_share: 0.7,
            start: utc_micros(2026, 11, 30, 8, 0, 0),
            window_minutes: 120,
            mean_exports: 6.0,
            qualify_rate: 0.35,
            custom_upload_rate: 0.3,
            exit_rate: 0.25,
            requalify_rate: 0.3,
            consent_withdrawal_rate: 0.01,
            existing_rate: 0.15,
            inline_name_rate: 0.2,
            extras_rate: 0.05,
            two_ecid_rate: 0.15,
            ecid_only_rate: 0.1,
            email_identity_rate: 0.85,
            hashed_email_rate: 0.2,
            duplicate_rate: 0.1,
            late_rate: 0.08,
            late_max_minutes: 30,
            shuffle_window_secs: 120,
        }
    }
}

/// A configuration the generator cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid generator configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_is_valid() {
        assert_eq!(GenConfig::default().validate(), Ok(()));
    }

    #[test]
    fn too_few_audiences_or_out_of_range_rates_are_rejected() {
        let few = GenConfig {
            audiences: 2,
            ..GenConfig::default()
        };
        assert!(few.validate().is_err());
        let bad_rate = GenConfig {
            duplicate_rate: 1.5,
            ..GenConfig::default()
        };
        assert!(bad_rate.validate().is_err());
        let short = GenConfig {
            window_minutes: 10,
            ..GenConfig::default()
        };
        assert!(short.validate().is_err());
    }
}
