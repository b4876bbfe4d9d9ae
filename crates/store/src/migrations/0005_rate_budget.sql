-- Rate budgets and circuit breakers (issue 4).

-- Requests counted against a connection's daily budget, per UTC hour (the unix seconds of the
-- hour's start). A UTC-midnight budget sums today's hours; a rolling one the last 24 h's.
-- Only connections whose budget has a daily limit are counted.
CREATE TABLE rate_budget_usage (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    hour          INTEGER NOT NULL,
    requests      INTEGER NOT NULL,
    PRIMARY KEY (connection_id, hour)
);

-- Per connection: its budget override, its circuit breaker, and how it last went. No row means
-- the catalogue's budget, a closed circuit, and nothing recorded yet.
CREATE TABLE connection_health (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    -- 1 when the four limits below replace the catalogue's (NULL then means "no such limit").
    rate_override INTEGER NOT NULL DEFAULT 0 CHECK (rate_override IN (0, 1)),
    per_second    INTEGER,
    per_minute    INTEGER,
    per_day       INTEGER,
    concurrent    INTEGER,
    circuit       TEXT NOT NULL DEFAULT 'closed' CHECK (circuit IN ('closed', 'open', 'half_open')),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    trips         INTEGER NOT NULL DEFAULT 0,   -- opens in a row (the cool-down doubles)
    open_until    INTEGER,                      -- unix milliseconds (UTC)
    last_success_at TEXT,
    last_error_at TEXT,
    last_error    TEXT,
    updated_at    TEXT NOT NULL
);
