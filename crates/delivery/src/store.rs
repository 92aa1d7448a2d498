//! Delivery's durable memory: the last applied state of every (destination, PX user, audience), and the
//! segment metadata last sent to PX.
//!
//! SQLite in WAL mode: a crash loses nothing that a commit returned for. The applied state only moves
//! forward: an upsert never replaces a newer version with an older one, whatever the caller does, so the
//! stale rule holds even if two writers race.
//!
//! A membership is *in doubt* from just before a call carrying it goes to PX until PX's answer is recorded.
//! A crash in between leaves PX possibly ahead of `applied` (the call may have landed), so for such a
//! membership "no change for PX" can no longer be concluded from `applied` alone.
//!
//! Schema (version 2):
//! - `applied(destination, identify_id, audience, status, time_us)`, primary key the first three; `status`
//!   is 1 (realized) or 2 (exited), `time_us` the `lastQualificationTime` in microseconds since the epoch.
//! - `in_doubt(destination, identify_id, audience)`: memberships with a call to PX whose outcome is unknown.
//! - `segments(destination, audience, name, description, px_id, updated_at_ms)`, primary key the first two.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use pxstream_core::change::AppliedState;
use pxstream_core::{
    AudienceId, DestinationName, IdentifyId, MembershipChange, MembershipStatus, QualificationTime,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, SqlitePool};

const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS applied (
    destination TEXT NOT NULL,
    identify_id TEXT NOT NULL,
    audience    TEXT NOT NULL,
    status      INTEGER NOT NULL CHECK (status IN (1, 2)),
    time_us     INTEGER NOT NULL,
    PRIMARY KEY (destination, identify_id, audience)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS in_doubt (
    destination TEXT NOT NULL,
    identify_id TEXT NOT NULL,
    audience    TEXT NOT NULL,
    PRIMARY KEY (destination, identify_id, audience)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (
    destination   TEXT NOT NULL,
    audience      TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    px_id         TEXT,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (destination, audience)
) WITHOUT ROWID;
";

/// Row values per statement: three per key stays far below SQLite's bound-parameter limit.
const KEYS_PER_QUERY: usize = 300;

/// One membership: the unit the stale rule is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MembershipKey {
    pub destination: DestinationName,
    pub identify_id: IdentifyId,
    pub audience: AudienceId,
}

impl MembershipKey {
    pub fn of(change: &MembershipChange) -> Self {
        Self {
            destination: change.state.destination.clone(),
            identify_id: change.identify_id.clone(),
            audience: change.state.audience.clone(),
        }
    }
}

/// Segment metadata as last acknowledged by PX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSegment {
    pub name: String,
    pub description: String,
    pub px_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StateStore {
    pool: SqlitePool,
}

impl StateStore {
    /// Opens (creating if needed) `sqlite://path` or `sqlite::memory:`.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        if !url.starts_with("sqlite:") {
            bail!(
                "delivery.store: only sqlite:// stores are supported by delivery, got {}",
                scheme(url)
            );
        }
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("delivery.store: invalid SQLite URL {url}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL only risks the last transactions on power loss, never corruption; those
            // changes are then re-read from Kafka since their offsets were not committed after the write.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists once per connection: share one.
            .max_connections(if in_memory { 1 } else { 4 })
            .connect_with(options)
            .await
            .with_context(|| format!("delivery.store: cannot open {url}"))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await?;
        if version > SCHEMA_VERSION {
            bail!(
                "delivery.store: schema version {version} is newer than this build understands ({SCHEMA_VERSION})"
            );
        }
        sqlx::raw_sql(SCHEMA).execute(&self.pool).await?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The applied state of each key that has one.
    pub async fn applied(
        &self,
        keys: &[MembershipKey],
    ) -> anyhow::Result<HashMap<MembershipKey, AppliedState>> {
        let mut found = HashMap::with_capacity(keys.len());
        for row in self
            .select_keys("applied", ", status, time_us", keys)
            .await?
        {
            let state = AppliedState {
                status: status_from(row.get(3))?,
                time: QualificationTime::from_micros(row.get(4)),
            };
            found.insert(key_from(&row)?, state);
        }
        Ok(found)
    }

    /// The keys among `keys` whose last call to PX has no recorded outcome.
    pub async fn in_doubt(&self, keys: &[MembershipKey]) -> anyhow::Result<HashSet<MembershipKey>> {
        self.select_keys("in_doubt", "", keys)
            .await?
            .iter()
            .map(key_from)
            .collect()
    }

    /// Rows of `table` for `keys`: the three key columns, then `extra` columns.
    async fn select_keys(
        &self,
        table: &str,
        extra: &str,
        keys: &[MembershipKey],
    ) -> anyhow::Result<Vec<SqliteRow>> {
        let mut rows = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for chunk in keys.chunks(KEYS_PER_QUERY) {
            let mut query = QueryBuilder::new(format!(
                "SELECT destination, identify_id, audience{extra} FROM {table} \
                 WHERE (destination, identify_id, audience) IN (VALUES "
            ));
            let mut values = query.separated(", ");
            for key in chunk {
                values.push("(");
                values.push_bind_unseparated(key.destination.as_str());
                values.push_unseparated(", ");
                values.push_bind_unseparated(key.identify_id.as_str());
                values.push_unseparated(", ");
                values.push_bind_unseparated(key.audience.as_str());
                values.push_unseparated(")");
            }
            query.push(")");
            rows.extend(query.build().fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }

    /// Marks memberships about to be sent: until [`record`](Self::record) clears them, PX may hold either
    /// their applied state or the one being sent.
    pub async fn mark_in_doubt(&self, keys: &[&MembershipKey]) -> anyhow::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for key in keys {
            bind_key(
                "INSERT OR IGNORE INTO in_doubt (destination, identify_id, audience) VALUES (?1, ?2, ?3)",
                key,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records states PX now holds, in one transaction, and clears their doubt. A stored state newer than
    /// the given one is kept.
    pub async fn record(&self, states: &[(MembershipKey, AppliedState)]) -> anyhow::Result<()> {
        if states.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (key, state) in states {
            bind_key(
                "INSERT INTO applied (destination, identify_id, audience, status, time_us) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (destination, identify_id, audience) DO UPDATE \
                 SET status = excluded.status, time_us = excluded.time_us \
                 WHERE excluded.time_us > applied.time_us \
                    OR (excluded.time_us = applied.time_us AND excluded.status = 2 AND applied.status = 1)",
                key,
            )
            .bind(status_code(state.status))
            .bind(state.time.as_micros())
            .execute(&mut *tx)
            .await?;
            bind_key(
                "DELETE FROM in_doubt WHERE destination = ?1 AND identify_id = ?2 AND audience = ?3",
                key,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn sent_segment(
        &self,
        destination: &DestinationName,
        audience: &AudienceId,
    ) -> anyhow::Result<Option<SentSegment>> {
        let row = sqlx::query(
            "SELECT name, description, px_id FROM segments WHERE destination = ?1 AND audience = ?2",
        )
        .bind(destination.as_str())
        .bind(audience.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| SentSegment {
            name: row.get(0),
            description: row.get(1),
            px_id: row.get(2),
        }))
    }

    pub async fn record_segment(
        &self,
        destination: &DestinationName,
        audience: &AudienceId,
        segment: &SentSegment,
    ) -> anyhow::Result<()> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        sqlx::query(
            "INSERT INTO segments (destination, audience, name, description, px_id, updated_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (destination, audience) DO UPDATE SET name = excluded.name, \
             description = excluded.description, px_id = COALESCE(excluded.px_id, segments.px_id), \
             updated_at_ms = excluded.updated_at_ms",
        )
        .bind(destination.as_str())
        .bind(audience.as_str())
        .bind(&segment.name)
        .bind(&segment.description)
        .bind(&segment.px_id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Flushes and closes the pool, so the WAL is checkpointed on a clean shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sql` with a membership key bound to `?1`, `?2`, `?3`.
fn bind_key<'q>(
    sql: &'q str,
    key: &'q MembershipKey,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    sqlx::query(sql)
        .bind(key.destination.as_str())
        .bind(key.identify_id.as_str())
        .bind(key.audience.as_str())
}

fn key_from(row: &SqliteRow) -> anyhow::Result<MembershipKey> {
    Ok(MembershipKey {
        destination: DestinationName::new(row.get::<String, _>(0))?,
        identify_id: IdentifyId::new(row.get::<String, _>(1))?,
        audience: AudienceId::new(row.get::<String, _>(2))?,
    })
}

fn status_code(status: MembershipStatus) -> i64 {
    match status {
        MembershipStatus::Realized => 1,
        MembershipStatus::Exited => 2,
    }
}

fn status_from(code: i64) -> anyhow::Result<MembershipStatus> {
    match code {
        1 => Ok(MembershipStatus::Realized),
        2 => Ok(MembershipStatus::Exited),
        other => bail!("delivery.store: unknown status code {other} in the applied table"),
    }
}

/// The scheme of a store URL, for an error message that must not echo a password in a URL.
fn scheme(url: &str) -> &str {
    url.split_once(':')
        .map_or("a URL without a scheme", |(scheme, _)| scheme)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
