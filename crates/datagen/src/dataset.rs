//! A generated data set in memory, its summary counts, and writing it as the fixture's four files.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::files::{Activation, AudienceDef, Expected};
use crate::json::to_pretty;

pub const EXPORTS_FILE: &str = "exports.jsonl";
pub const ACTIVATION_FILE: &str = "activation.json";
pub const AUDIENCES_FILE: &str = "audiences.json";
pub const EXPECTED_FILE: &str = "expected.json";

/// Everything [`crate::generate`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSet {
    /// The export records in arrival order, one JSON object per entry, without newlines.
    pub records: Vec<String>,
    pub activation: Activation,
    pub audiences: Vec<AudienceDef>,
    pub expected: Expected,
    pub stats: Stats,
}

/// What the data set contains, for progress output and for sanity checks in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub records: usize,
    /// Size of `exports.jsonl` in bytes.
    pub export_bytes: usize,
    pub profiles: usize,
    pub audiences: usize,
    pub activated_audiences: usize,
    pub unmapped_audiences: usize,
    pub custom_upload_audiences: usize,
    /// Extra deliveries of a record already delivered.
    pub duplicates: usize,
    /// Records that arrive after a newer snapshot of the same profile.
    pub out_of_order: usize,
    /// Records without a crmId (resolvable only through the identity graph).
    pub ecid_only_records: usize,
    /// Entries under the `CustomerAudienceUpload` namespace, over all records.
    pub custom_upload_entries: usize,
    /// Entries with status `exited`, over all records.
    pub exited_entries: usize,
    /// Entries with status `existing`, over all records.
    pub existing_entries: usize,
    /// Distinct exit changes (a membership going from realized to exited).
    pub exits: usize,
    /// Exits followed by a new qualification.
    pub requalifications: usize,
    pub consent_withdrawals: usize,
    /// Sum of the member lists in the expected state.
    pub expected_members: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "records: {} ({} bytes), profiles: {}",
            self.records, self.export_bytes, self.profiles
        )?;
        writeln!(
            f,
            "audiences: {} ({} activated, {} unmapped, {} custom upload)",
            self.audiences,
            self.activated_audiences,
            self.unmapped_audiences,
            self.custom_upload_audiences
        )?;
        writeln!(
            f,
            "duplicates: {}, out-of-order: {}, ECID-only: {}",
            self.duplicates, self.out_of_order, self.ecid_only_records
        )?;
        writeln!(
            f,
            "custom-upload entries: {}, exited entries: {}, existing entries: {}",
            self.custom_upload_entries, self.exited_entries, self.existing_entries
        )?;
        write!(
            f,
            "exits: {} ({} re-qualified, {} consent withdrawals), expected members: {}",
            self.exits, self.requalifications, self.consent_withdrawals, self.expected_members
        )
    }
}

impl DataSet {
    /// `exports.jsonl` as text: one record per line, each line ending in a newline.
    pub fn exports_jsonl(&self) -> String {
        let mut out = String::with_capacity(self.stats.export_bytes);
        for line in &self.records {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// `activation.json` as text.
    pub fn activation_json(&self) -> String {
        to_pretty(&self.activation)
    }

    /// `audiences.json` as text.
    pub fn audiences_json(&self) -> String {
        to_pretty(&self.audiences)
    }

    /// `expected.json` as text.
    pub fn expected_json(&self) -> String {
        to_pretty(&self.expected)
    }

    /// The records parsed back, for consumers that want values rather than lines.
    pub fn records_json(&self) -> impl Iterator<Item = serde_json::Value> + '_ {
        self.records
            .iter()
            .map(|l| serde_json::from_str(l).expect("generated records are valid JSON"))
    }

    /// Writes the four files into `dir` (created if missing), replacing any previous data set.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> io::Result<()> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir)?;
        let mut exports = BufWriter::new(File::create(dir.join(EXPORTS_FILE))?);
        for line in &self.records {
            exports.write_all(line.as_bytes())?;
            exports.write_all(b"\n")?;
        }
        exports.flush()?;
        fs::write(dir.join(ACTIVATION_FILE), self.activation_json())?;
        fs::write(dir.join(AUDIENCES_FILE), self.audiences_json())?;
        fs::write(dir.join(EXPECTED_FILE), self.expected_json())?;
        Ok(())
    }
}
