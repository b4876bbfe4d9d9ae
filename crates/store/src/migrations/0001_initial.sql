-- Switchboard schema v1. Provider times are INTEGER unix seconds (UTC); our own times are
-- RFC 3339 UTC text. Money is INTEGER minor units + currency + exponent.

CREATE TABLE workspace (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    uuid        TEXT NOT NULL,            -- names the keyring entry of the master key
    kind        TEXT NOT NULL CHECK (kind IN ('demo', 'real')),
    key_check_nonce BLOB NOT NULL,
    key_check   BLOB NOT NULL,            -- sealed constant: detects a wrong master key
    created_at  TEXT NOT NULL
);

CREATE TABLE connections (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('connected', 'needs_reconnect', 'disconnected', 'error')),
    account_id  TEXT,
    api_base    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    last_sync_at TEXT,
    last_error  TEXT
);

-- Encrypted with the workspace master key; the row id is the AEAD associated data.
CREATE TABLE secrets (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    purpose       TEXT NOT NULL,
    nonce         BLOB NOT NULL,
    ciphertext    BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (connection_id, purpose)
);

CREATE TABLE payments (
    id                TEXT PRIMARY KEY,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    amount_minor      INTEGER NOT NULL,
    refunded_minor    INTEGER NOT NULL DEFAULT 0,
    currency          TEXT NOT NULL,
    currency_exponent INTEGER NOT NULL,
    status            TEXT NOT NULL,
    customer          TEXT,
    description       TEXT,
    balance_transaction_external_id TEXT,
    created           INTEGER NOT NULL,
    raw_json          TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX payments_by_created ON payments (created DESC, id DESC);
CREATE INDEX payments_by_connection_created ON payments (connection_id, created DESC, id DESC);

CREATE TABLE refunds (
    id                TEXT PRIMARY KEY,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    payment_external_id TEXT,
    amount_minor      INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    currency_exponent INTEGER NOT NULL,
    status            TEXT NOT NULL,
    reason            TEXT,
    balance_transaction_external_id TEXT,
    created           INTEGER NOT NULL,
    raw_json          TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX refunds_by_payment ON refunds (connection_id, payment_external_id);

CREATE TABLE balance_transactions (
    id                TEXT PRIMARY KEY,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    source_external_id TEXT,
    type              TEXT NOT NULL,
    amount_minor      INTEGER NOT NULL,
    fee_minor         INTEGER NOT NULL,
    net_minor         INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    currency_exponent INTEGER NOT NULL,
    status            TEXT NOT NULL,
    available_on      INTEGER,
    payout_external_id TEXT,
    fee_lines_json    TEXT NOT NULL,
    created           INTEGER NOT NULL,
    raw_json          TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX balance_transactions_by_source ON balance_transactions (connection_id, source_external_id);

-- Per stream: the high-water mark of completed runs, and the checkpoint of the run in
-- progress, committed in the same transaction as each page's rows.
CREATE TABLE sync_cursors (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream          TEXT NOT NULL,
    high_water      INTEGER,              -- max `created` seen by a completed run
    run_floor       INTEGER,              -- `created[gte]` of the run in progress
    run_after       TEXT,                 -- last external id committed by the run in progress
    run_max_created INTEGER,              -- max `created` seen so far by the run in progress
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (connection_id, stream)
);

CREATE TABLE sync_runs (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    trigger       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled', 'interrupted')),
    fetched       INTEGER NOT NULL DEFAULT 0,
    inserted      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    duration_ms   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    warnings_json TEXT NOT NULL DEFAULT '[]',
    request_ids   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX sync_runs_by_started ON sync_runs (started_at DESC);
