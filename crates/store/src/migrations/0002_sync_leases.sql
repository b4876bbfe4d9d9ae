-- Who is running which stream. The authority is an OS file lock per stream
-- (`<workspace>/locks/`), which the OS releases when a process dies, so a crashed run never
-- blocks the next one; this row records the holder for people and error messages.
CREATE TABLE sync_leases (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    holder        TEXT NOT NULL,            -- random id of the holding Workspace instance
    pid           INTEGER NOT NULL,
    acquired_at   TEXT NOT NULL,
    PRIMARY KEY (connection_id, stream)
);
