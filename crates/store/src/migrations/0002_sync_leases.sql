-- A run lease per stream, so the same stream never syncs twice at once, also across processes
-- (the CLI and the app share the database). A holder renews its lease with every committed page;
-- a lease past `expires_at` belonged to a process that died and may be taken over.
CREATE TABLE sync_leases (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    holder        TEXT NOT NULL,            -- random id of the holding Workspace instance
    pid           INTEGER NOT NULL,         -- for people reading the table
    expires_at    INTEGER NOT NULL,         -- unix milliseconds
    PRIMARY KEY (connection_id, stream)
);
