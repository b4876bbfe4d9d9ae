-- The durable outbox: everything Switchboard sends to a provider (a refund now; invoices,
-- emails, SMS later) is written here first, then sent with its idempotency key. `sending` is
-- committed BEFORE the request leaves, so a process that dies mid-send leaves an item whose
-- outcome is uncertain; it is looked up at the provider before any resend (`needs_lookup`).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,          -- UUIDv7; also sent as metadata to find the object again
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,             -- `stripe.refund`, …
    target          TEXT,                      -- external id it acts on (the charge `ch_…`)
    payload_json    TEXT NOT NULL,             -- what to send; never a secret
    idempotency_key TEXT NOT NULL UNIQUE,      -- generated once at enqueue, never changes
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'succeeded', 'dead', 'discarded')),
    needs_lookup    INTEGER NOT NULL DEFAULT 0, -- an earlier send may have reached the provider
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,             -- RFC 3339 UTC, millisecond precision
    last_error_code TEXT,
    last_error_message TEXT,
    result_external_id TEXT,                   -- what the provider created (`re_…`)
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_target ON outbox (connection_id, target);
