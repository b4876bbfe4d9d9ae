-- Every HTTP exchange with a provider, for people diagnosing a connection. Never headers,
-- bodies or query strings. Bounded by age and count (see request_log::prune).
CREATE TABLE request_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    method        TEXT NOT NULL,
    host          TEXT NOT NULL,
    path          TEXT NOT NULL,
    status        INTEGER,
    duration_ms   INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    request_id    TEXT,
    bytes         INTEGER NOT NULL,
    error         TEXT
);
CREATE INDEX request_log_by_connection ON request_log (connection_id, id DESC);
