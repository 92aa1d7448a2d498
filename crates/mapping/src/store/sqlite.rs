//! The embedded store: one SQLite file in WAL mode.
//!
//! Set-at-a-time statements take their rows as one JSON array parameter read with `json_each`, so each
//! statement has one fixed text, is prepared once per connection and reused, whatever the batch size.
//! One connection and `BEGIN IMMEDIATE` serialise writers: a transaction never fails half-way on a lock
//! it could not upgrade, and component ids allocated from the current maximum cannot collide.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use pxstream_core::{
    AudienceId, AudienceState, DestinationName, IdentifyId, MembershipStatus, Namespace,
    QualificationTime,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{ComponentId, IdentityKey, Merge, Store, StoreError, StoreTx, sqlite_states};
use crate::held::{HeldChange, ReleasedChange};

/// The identity graph and held changes in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path`, `sqlite:///abs/path` or
    /// `sqlite::memory:`) and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Held changes are the only copy of a change: a commit must survive a power cut, not just a
            // crash, before the answer that relies on it leaves.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .statement_cache_capacity(64);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // An in-memory database lives as long as its connection: never recycle it.
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

const MARK_RESOLVABLE: &str = "UPDATE held_changes SET released_at_ms = 0
    WHERE released_at_ms IS NULL
      AND EXISTS (SELECT 1 FROM identities AS i
                  WHERE i.component = held_changes.component
                    AND i.namespace = held_changes.source_namespace)";

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx, StoreError> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(SqliteTx {
            tx,
            next_component: None,
        })
    }

    async fn ack_released(&self, ids: &[i64]) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "DELETE FROM held_changes
             WHERE released_at_ms IS NOT NULL AND id IN (SELECT value FROM json_each(?1))",
        )
        .bind(to_json(ids))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    async fn held_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM held_changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn leased_count(&self) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM held_changes WHERE released_at_ms > 0")
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn apply_rules(&self, rules: &[(DestinationName, Namespace)]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (destination, namespace) in rules {
            sqlx::query(
                "UPDATE held_changes SET source_namespace = ?2
                 WHERE destination = ?1 AND released_at_ms IS NULL AND source_namespace <> ?2",
            )
            .bind(destination.as_str())
            .bind(namespace.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE component_states SET source_namespace = ?2
                 WHERE destination = ?1 AND source_namespace <> ?2",
            )
            .bind(destination.as_str())
            .bind(namespace.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let marked = sqlx::query(MARK_RESOLVABLE).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(marked.rows_affected())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// One `ResolveBatch` transaction.
#[derive(Debug)]
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    next_component: Option<ComponentId>,
}

impl StoreTx for SqliteTx {
    async fn components_of(
        &mut self,
        identities: &[IdentityKey],
    ) -> Result<HashMap<IdentityKey, ComponentId>, StoreError> {
        let keys: Vec<(&str, &str)> = identities
            .iter()
            .map(|k| (k.namespace.as_str(), k.value.as_str()))
            .collect();
        let rows: Vec<(i64, ComponentId)> = sqlx::query_as(
            "SELECT j.key, i.component FROM json_each(?1) AS j
             JOIN identities AS i ON i.namespace = j.value ->> 0 AND i.value = j.value ->> 1",
        )
        .bind(to_json(&keys))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter()
            .map(|(index, component)| Ok((nth(identities, index)?.clone(), component)))
            .collect()
    }

    async fn component_sizes(
        &mut self,
        components: &[ComponentId],
    ) -> Result<HashMap<ComponentId, u64>, StoreError> {
        let rows: Vec<(ComponentId, i64)> = sqlx::query_as(
            "SELECT component, COUNT(*) FROM identities
             WHERE component IN (SELECT value FROM json_each(?1)) GROUP BY component",
        )
        .bind(to_json(components))
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, n)| (c, u64::try_from(n).unwrap_or_default()))
            .collect())
    }

    async fn allocate_components(&mut self, count: usize) -> Result<Vec<ComponentId>, StoreError> {
        let next = match self.next_component {
            Some(next) => next,
            None => {
                let max: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(component), 0) FROM identities")
                        .fetch_one(&mut *self.tx)
                        .await?;
                max + 1
            }
        };
        let count = i64::try_from(count).map_err(|_| StoreError::Corrupt("too many".into()))?;
        self.next_component = Some(next + count);
        Ok((next..next + count).collect())
    }

    async fn insert_identities(
        &mut self,
        rows: &[(IdentityKey, ComponentId)],
    ) -> Result<(), StoreError> {
        let rows: Vec<(&str, &str, ComponentId)> = rows
            .iter()
            .map(|(k, c)| (k.namespace.as_str(), k.value.as_str(), *c))
            .collect();
        // No ON CONFLICT: writers are serialised, so a conflict means the graph was misread, and
        // failing the batch beats silently leaving an identity outside its component.
        sqlx::query(
            "INSERT INTO identities (namespace, value, component)
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?1) AS j",
        )
        .bind(to_json(&rows))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn merge_components(&mut self, merges: &[Merge]) -> Result<u64, StoreError> {
        let mut dropped = 0;
        for merge in merges {
            sqlx::query("UPDATE identities SET component = ?2 WHERE component = ?1")
                .bind(merge.from)
                .bind(merge.into)
                .execute(&mut *self.tx)
                .await?;
            // Rows the target already holds identically stay behind and are dropped: the target's copy
            // carries the change on.
            sqlx::query("UPDATE OR IGNORE held_changes SET component = ?2 WHERE component = ?1")
                .bind(merge.from)
                .bind(merge.into)
                .execute(&mut *self.tx)
                .await?;
            dropped += sqlx::query("DELETE FROM held_changes WHERE component = ?1")
                .bind(merge.from)
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
            sqlite_states::merge(&mut self.tx, *merge).await?;
        }
        Ok(dropped)
    }

    async fn source_ids(
        &mut self,
        wanted: &[(ComponentId, Namespace)],
    ) -> Result<HashMap<(ComponentId, Namespace), Vec<String>>, StoreError> {
        let keys: Vec<(ComponentId, &str)> =
            wanted.iter().map(|(c, ns)| (*c, ns.as_str())).collect();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT j.key, i.value FROM json_each(?1) AS j
             JOIN identities AS i ON i.component = j.value ->> 0 AND i.namespace = j.value ->> 1
             ORDER BY j.key, i.value",
        )
        .bind(to_json(&keys))
        .fetch_all(&mut *self.tx)
        .await?;
        let mut ids: HashMap<(ComponentId, Namespace), Vec<String>> = HashMap::new();
        for (index, value) in rows {
            ids.entry(nth(wanted, index)?.clone())
                .or_default()
                .push(value);
        }
        Ok(ids)
    }

    async fn hold(&mut self, changes: &[HeldChange], now_ms: i64) -> Result<u64, StoreError> {
        type Row<'a> = (
            ComponentId,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            i64,
            &'a str,
        );
        let rows: Vec<Row<'_>> = changes
            .iter()
            .map(|h| {
                (
                    h.component,
                    h.source_namespace.as_str(),
                    h.state.destination.as_str(),
                    h.state.audience.as_str(),
                    h.state.status.as_str(),
                    h.state.time.as_micros(),
                    h.state.inline_name.as_deref().unwrap_or(""),
                )
            })
            .collect();
        // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT, not to a join.
        let result = sqlx::query(
            "INSERT INTO held_changes (component, source_namespace, destination, audience_id,
                                       status, qualification_time_us, audience_name, held_at_ms)
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3,
                    j.value ->> 4, j.value ->> 5, j.value ->> 6, ?2
             FROM json_each(?1) AS j WHERE true
             ON CONFLICT DO NOTHING",
        )
        .bind(to_json(&rows))
        .bind(now_ms)
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn record_states(&mut self, changes: &[HeldChange]) -> Result<(), StoreError> {
        sqlite_states::record(&mut self.tx, changes).await
    }

    async fn reoffer_states(
        &mut self,
        grown: &[(ComponentId, Option<Namespace>)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let grown: Vec<_> = grown
            .iter()
            .map(|(c, ns)| (*c, ns.as_ref().map(Namespace::as_str)))
            .collect();
        sqlite_states::reoffer(&mut self.tx, &grown, now_ms).await
    }

    async fn mark_releasable(&mut self, components: &[ComponentId]) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE held_changes SET released_at_ms = 0
             WHERE released_at_ms IS NULL
               AND component IN (SELECT value FROM json_each(?1))
               AND EXISTS (SELECT 1 FROM identities AS i
                           WHERE i.component = held_changes.component
                             AND i.namespace = held_changes.source_namespace)",
        )
        .bind(to_json(components))
        .execute(&mut *self.tx)
        .await?;
        Ok(result.rows_affected())
    }

    async fn take_due_releases(
        &mut self,
        due_at_or_before_ms: i64,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<ReleasedChange>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            String,
            i64,
            String,
            i64,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT h.id, h.destination, h.audience_id, h.status, h.qualification_time_us,
                    h.audience_name, h.released_at_ms, i.value
             FROM (SELECT * FROM held_changes
                   WHERE released_at_ms IS NOT NULL AND released_at_ms <= ?1
                   ORDER BY released_at_ms, id LIMIT ?2) AS h
             LEFT JOIN identities AS i
                    ON i.component = h.component AND i.namespace = h.source_namespace
             ORDER BY h.released_at_ms, h.id, i.value",
        )
        .bind(due_at_or_before_ms)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *self.tx)
        .await?;

        let mut released: Vec<ReleasedChange> = Vec::new();
        let mut unresolvable: Vec<i64> = Vec::new();
        for (id, destination, audience, status, time, name, lease, value) in rows {
            let Some(value) = value else {
                unresolvable.push(id);
                continue;
            };
            let identify_id = IdentifyId::new(value).map_err(corrupt)?;
            if let Some(last) = released.last_mut().filter(|r| r.release_id == id) {
                last.identify_ids.push(identify_id);
                continue;
            }
            released.push(ReleasedChange {
                release_id: id,
                identify_ids: vec![identify_id],
                state: AudienceState {
                    destination: DestinationName::new(destination).map_err(corrupt)?,
                    audience: AudienceId::new(audience).map_err(corrupt)?,
                    status: MembershipStatus::parse_aep(&status).map_err(corrupt)?,
                    time: QualificationTime::from_micros(time),
                    inline_name: Some(name).filter(|n| !n.is_empty()),
                },
                first_offer: lease == 0,
            });
        }

        if !released.is_empty() {
            let ids: Vec<i64> = released.iter().map(|r| r.release_id).collect();
            sqlx::query(
                "UPDATE held_changes SET released_at_ms = ?2
                 WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .bind(to_json(&ids))
            .bind(now_ms)
            .execute(&mut *self.tx)
            .await?;
        }
        if !unresolvable.is_empty() {
            sqlx::query(
                "UPDATE held_changes SET released_at_ms = NULL
                 WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .bind(to_json(&unresolvable))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(released)
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

pub(super) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serialising strings, integers and tuples of them cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// The input row a `json_each` key points back to.
fn nth<T>(items: &[T], index: i64) -> Result<&T, StoreError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| items.get(i))
        .ok_or_else(|| StoreError::Corrupt(format!("json_each returned an unknown key {index}")))
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("a held change row is invalid: {error}"))
}
