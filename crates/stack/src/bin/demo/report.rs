//! The demo's report: what each part of the pipeline counted, and whether PX ended in the expected state.

use std::io::Write;
use std::time::Duration;

use pxstream_stack::Stack;
use pxstream_stack::check::Expected;

use crate::LISTED;

/// The state PX must end in, and where it comes from.
pub(crate) struct Reference {
    pub(crate) expected: Expected,
    pub(crate) source: String,
}

pub(crate) async fn report(
    stack: &Stack,
    records: usize,
    not_loaded: &[usize],
    reference: &Reference,
    elapsed: Duration,
) -> anyhow::Result<bool> {
    let ingest = stack.metrics("ingest").await?;
    let delivery = stack.metrics("delivery").await?;
    let mapping = stack.metrics("mapping").await?;
    let px = stack.px_state().await?;
    let changes_total =
        |outcome| delivery.count("pxstream_delivery_changes_total", &[("outcome", outcome)]);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line("pxstream demo report".into());
    line(format!(
        "  records produced            {}",
        records - not_loaded.len()
    ));
    if !not_loaded.is_empty() {
        let listed: Vec<String> = not_loaded
            .iter()
            .take(LISTED)
            .map(usize::to_string)
            .collect();
        let more = if not_loaded.len() > LISTED {
            ", ..."
        } else {
            ""
        };
        line(format!(
            "  records not loaded          {} (larger than the broker accepts; line {}{more})",
            not_loaded.len(),
            listed.join(", ")
        ));
    }
    line(format!(
        "  records read                {}",
        ingest.count("pxstream_ingest_records_total", &[])
    ));
    line(format!(
        "  custom-upload entries       {} (refused, never forwarded)",
        ingest.count("pxstream_ingest_custom_upload_entries_total", &[])
    ));
    line(format!(
        "  dead-lettered records       {} (dead-letter topic holds {})",
        ingest.count(
            "pxstream_ingest_records_total",
            &[("outcome", "dead_lettered")]
        ) + changes_total("dead_lettered"),
        stack.dead_letter_count()?
    ));
    line(format!(
        "  changes emitted by ingest   {}",
        ingest.count("pxstream_ingest_changes_emitted_total", &[])
    ));
    line(format!(
        "  changes still held          {} (no PX user resolved yet)",
        mapping.count("pxstream_mapping_held_changes", &[])
    ));
    line(format!(
        "  changes sent to PX          {} (stale or duplicate dropped: {}, no-op remembered: {})",
        changes_total("sent"),
        changes_total("stale"),
        changes_total("remembered")
    ));
    line(format!(
        "  PX calls                    {} (update_membership {}, metadata {}, token {})",
        px.requests_total, px.membership_calls, px.metadata_calls, px.token_calls
    ));
    line(format!(
        "  elapsed                     {:.1} s",
        elapsed.as_secs_f64()
    ));
    line("  members per segment:".into());
    for (audience, name) in &px.names {
        let count = px.members.get(audience).map_or(0, |m| m.len());
        line(format!("    {count:>6}  {name} ({audience})"));
    }
    let differences = px.differences(&reference.expected);
    let verdict = if differences.is_empty() { "yes" } else { "NO" };
    line(format!(
        "  PX final state equals the expected state: {verdict} (expected: {})",
        reference.source
    ));
    for difference in &differences {
        line(format!("    - {difference}"));
    }
    // Member ids are the user's own test data, and this goes to stdout only: never to a log.
    let (members, total) = px.member_differences(&reference.expected, LISTED);
    if total > 0 {
        line(format!(
            "  members that differ ({} of {total} shown, as audience: IDENTIFY_ID):",
            members.len()
        ));
        for member in &members {
            line(format!("    - {member}"));
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(differences.is_empty())
}
