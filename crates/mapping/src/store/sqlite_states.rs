//! Component states in the SQLite store: the newest audience state of each component, kept so that a PX
//! user who joins a component later still receives the memberships the component already had.
//!
//! "Newest" is `(qualification_time_us, status = 'exited')` compared as a row value, the same order the
//! delivery stage applies, so a state kept here never loses to one delivery would refuse as stale.

use sqlx::SqliteConnection;

use super::sqlite::to_json;
use super::{ComponentId, Merge, StoreError};
use crate::held::HeldChange;

/// The upsert tail of both writes: a stored state gives way only to a newer one.
const KEEP_NEWEST: &str = "ON CONFLICT (component, destination, audience_id) DO UPDATE SET
    source_namespace = excluded.source_namespace,
    status = excluded.status,
    qualification_time_us = excluded.qualification_time_us,
    audience_name = excluded.audience_name
    WHERE (excluded.qualification_time_us, excluded.status = 'exited')
        > (component_states.qualification_time_us, component_states.status = 'exited')";

/// Keeps, per (component, destination, audience), the newest of the stored state and `changes`.
pub(super) async fn record(
    conn: &mut SqliteConnection,
    changes: &[HeldChange],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = changes
        .iter()
        .map(|h| {
            (
                h.component,
                h.state.destination.as_str(),
                h.state.audience.as_str(),
                h.source_namespace.as_str(),
                h.state.status.as_str(),
                h.state.time.as_micros(),
                h.state.inline_name.as_deref().unwrap_or(""),
            )
        })
        .collect();
    // SQLite applies an upsert row by row, so several changes of one key in a batch end at the newest.
    sqlx::query(&format!(
        "INSERT INTO component_states (component, destination, audience_id, source_namespace,
                                       status, qualification_time_us, audience_name)
         SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
                j.value ->> 4, j.value ->> 5, j.value ->> 6
         FROM json_each(?1) AS j WHERE true {KEEP_NEWEST}"
    ))
    .bind(to_json(&rows))
    .execute(conn)
    .await?;
    Ok(())
}

/// Folds the states of `merge.from` into `merge.into`, the newest winning each key.
pub(super) async fn merge(conn: &mut SqliteConnection, merge: Merge) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO component_states (component, destination, audience_id, source_namespace,
                                       status, qualification_time_us, audience_name)
         SELECT ?2, destination, audience_id, source_namespace, status, qualification_time_us,
                audience_name
         FROM component_states WHERE component = ?1 {KEEP_NEWEST}"
    ))
    .bind(merge.from)
    .bind(merge.into)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM component_states WHERE component = ?1")
        .bind(merge.from)
        .execute(conn)
        .await?;
    Ok(())
}

/// Offers again, as due releases, the states of each `(component, namespace)` whose source is that
/// namespace (`None`: every state of the component) and which resolve to at least one PX user. Returns
/// how many rows were added to the held store.
///
/// A state already held stays as it is (marking held changes releasable runs next); one already leased
/// may have been resolved before the new user joined, so every leased row of a grown component is made
/// due again as an expired lease (not a first offer, so the lease gauges stay balanced). An acknowledgement
/// of the old lease that lands before the next offer still forgets it: a narrow window, accepted.
pub(super) async fn reoffer(
    conn: &mut SqliteConnection,
    grown: &[(ComponentId, Option<&str>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    if grown.is_empty() {
        return Ok(0);
    }
    let grown = to_json(grown);
    let added = sqlx::query(
        "INSERT INTO held_changes (component, source_namespace, destination, audience_id, status,
                                   qualification_time_us, audience_name, held_at_ms, released_at_ms)
         SELECT DISTINCT s.component, s.source_namespace, s.destination, s.audience_id, s.status,
                s.qualification_time_us, s.audience_name, ?2, 0
         FROM json_each(?1) AS j
         JOIN component_states AS s
           ON s.component = j.value ->> 0
          AND (j.value ->> 1 IS NULL OR s.source_namespace = j.value ->> 1)
         WHERE EXISTS (SELECT 1 FROM identities AS i
                       WHERE i.component = s.component AND i.namespace = s.source_namespace)
         ON CONFLICT DO NOTHING",
    )
    .bind(&grown)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE held_changes SET released_at_ms = 1
         WHERE released_at_ms > 1
           AND component IN (SELECT j.value ->> 0 FROM json_each(?1) AS j)",
    )
    .bind(&grown)
    .execute(conn)
    .await?;
    Ok(added)
}
