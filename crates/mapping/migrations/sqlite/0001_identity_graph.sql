-- The identity graph, flattened: every identity names the connected component it belongs to, so all ids
-- of one namespace linked to a profile are one index range. Component ids are allocated by the store and
-- carry no meaning. Types are kept to those PostgreSQL shares (TEXT, BIGINT) so the schema ports as is.
CREATE TABLE identities (
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    component BIGINT NOT NULL,
    PRIMARY KEY (namespace, value)
) WITHOUT ROWID;

-- Covers "ids of namespace N in component C" and relabelling a component on merge.
CREATE INDEX identities_by_component ON identities (component, namespace, value);

-- Audience changes that resolve to no PX user yet, and released ones until acknowledged.
-- released_at_ms: NULL = held; 0 = due for release, never offered; otherwise the start of the lease of
-- the last offer. AUTOINCREMENT so an id is never reused: a late acknowledgement must never forget a
-- newer change.
CREATE TABLE held_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    component BIGINT NOT NULL,
    source_namespace TEXT NOT NULL,
    destination TEXT NOT NULL,
    audience_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('realized', 'exited')),
    qualification_time_us BIGINT NOT NULL,
    audience_name TEXT NOT NULL DEFAULT '',
    held_at_ms BIGINT NOT NULL,
    released_at_ms BIGINT
);

-- Holding is idempotent, and lookups by component use this index's prefix.
CREATE UNIQUE INDEX held_changes_identity
    ON held_changes (component, destination, audience_id, status, qualification_time_us);

CREATE INDEX held_changes_due ON held_changes (released_at_ms, id) WHERE released_at_ms IS NOT NULL;
