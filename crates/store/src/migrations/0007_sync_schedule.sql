-- How often the scheduler syncs each connection, in minutes; NULL = only when asked.
-- Existing and new connections sync hourly unless the user chooses otherwise.
ALTER TABLE connections ADD COLUMN sync_interval_minutes INTEGER DEFAULT 60
    CHECK (sync_interval_minutes IS NULL OR sync_interval_minutes BETWEEN 1 AND 10080);
