-- The newest audience state each component of the identity graph has shown, per destination and audience
-- (newest lastQualificationTime, an exit winning a tie). When a component gains a PX user (a new id in a
-- source namespace, or a merge), these states are offered again so that user gets every membership the
-- profile already had: the end state must not depend on whether the link or the membership came first.
CREATE TABLE component_states (
    component BIGINT NOT NULL,
    destination TEXT NOT NULL,
    audience_id TEXT NOT NULL,
    source_namespace TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('realized', 'exited')),
    qualification_time_us BIGINT NOT NULL,
    audience_name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (component, destination, audience_id)
) WITHOUT ROWID;
