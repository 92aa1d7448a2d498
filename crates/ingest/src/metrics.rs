//! Metric names of the ingest stage, in one place so dashboards and the demo report agree.

pub const RECORDS: &str = "pxstream_ingest_records_total";
pub const CUSTOM_UPLOAD_ENTRIES: &str = "pxstream_ingest_custom_upload_entries_total";
pub const NOT_ACTIVATED_ENTRIES: &str = "pxstream_ingest_not_activated_entries_total";
pub const CHANGES_EMITTED: &str = "pxstream_ingest_changes_emitted_total";
pub const CHANGES_HELD: &str = "pxstream_ingest_changes_held_total";
pub const FANOUT_PROFILES: &str = "pxstream_ingest_fanout_profiles_total";
pub const MAPPING_RETRIES: &str = "pxstream_ingest_mapping_retries_total";
pub const BATCH_RECORDS: &str = "pxstream_ingest_batch_records";

pub fn describe() {
    metrics::describe_counter!(
        RECORDS,
        "Export records read, by outcome (parsed, dead_lettered)"
    );
    metrics::describe_counter!(
        CUSTOM_UPLOAD_ENTRIES,
        "Custom-upload audience entries refused"
    );
    metrics::describe_counter!(
        NOT_ACTIVATED_ENTRIES,
        "Segmentation entries of audiences not activated"
    );
    metrics::describe_counter!(
        CHANGES_EMITTED,
        "Membership changes written to the changes topic"
    );
    metrics::describe_counter!(
        CHANGES_HELD,
        "Changes held by the mapping service until an identity resolves"
    );
    metrics::describe_counter!(
        FANOUT_PROFILES,
        "Profiles that resolved to more than one PX user"
    );
    metrics::describe_counter!(MAPPING_RETRIES, "Retried calls to the mapping service");
    metrics::describe_histogram!(BATCH_RECORDS, "Records per mapping batch");
}
