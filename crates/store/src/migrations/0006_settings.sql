-- Workspace settings as key/value text (e.g. `backup.folder`). Absent key = the default.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
