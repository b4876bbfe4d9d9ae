-- One payment model across Stripe, PayPal and Square (issue 6). Provider times are INTEGER unix
-- seconds (UTC); money is INTEGER minor units + currency + exponent; `raw_json` keeps the
-- provider's object as received. Every table of provider objects is keyed by
-- (connection_id, external_id), which is what the one upsert (`upsert.rs`) relies on.

-- What a payment itself says about its fee, net, method and customer email (Square, PayPal);
-- Stripe's fee and net stay on the payment's balance transaction.
ALTER TABLE payments ADD COLUMN fee_minor INTEGER;
ALTER TABLE payments ADD COLUMN net_minor INTEGER;
ALTER TABLE payments ADD COLUMN method TEXT;
ALTER TABLE payments ADD COLUMN customer_email TEXT;
-- When the payment settles in another currency (a conversion), what it became.
ALTER TABLE payments ADD COLUMN settlement_amount_minor INTEGER;
ALTER TABLE payments ADD COLUMN settlement_currency TEXT;
ALTER TABLE payments ADD COLUMN settlement_exponent INTEGER;

CREATE TABLE disputes (
    id                  TEXT PRIMARY KEY,
    connection_id       TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id         TEXT NOT NULL,
    payment_external_id TEXT,
    amount_minor        INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    currency_exponent   INTEGER NOT NULL,
    status              TEXT NOT NULL,
    reason              TEXT,
    evidence_due_by     INTEGER,
    created             INTEGER NOT NULL,
    raw_json            TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX disputes_by_payment ON disputes (connection_id, payment_external_id);

CREATE TABLE payouts (
    id                TEXT PRIMARY KEY,
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    amount_minor      INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    currency_exponent INTEGER NOT NULL,
    status            TEXT NOT NULL,
    arrival_date      INTEGER,
    destination       TEXT,
    created           INTEGER NOT NULL,
    raw_json          TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX payouts_by_created ON payouts (created DESC, id DESC);

-- What a payout contains (Stripe: its balance transactions; Square: its payout entries).
CREATE TABLE payout_entries (
    id                 TEXT PRIMARY KEY,
    connection_id      TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id        TEXT NOT NULL,
    payout_external_id TEXT NOT NULL,
    kind               TEXT NOT NULL,
    source_external_id TEXT,
    gross_minor        INTEGER NOT NULL,
    fee_minor          INTEGER NOT NULL,
    net_minor          INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    currency_exponent  INTEGER NOT NULL,
    created            INTEGER NOT NULL,
    raw_json           TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX payout_entries_by_payout ON payout_entries (connection_id, payout_external_id);
CREATE INDEX payout_entries_by_source ON payout_entries (connection_id, source_external_id);

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    name          TEXT,
    email         TEXT,
    phone         TEXT,
    created       INTEGER NOT NULL,
    raw_json      TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);

CREATE TABLE subscriptions (
    id                   TEXT PRIMARY KEY,
    connection_id        TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    external_id          TEXT NOT NULL,
    customer_external_id TEXT,
    status               TEXT NOT NULL,
    description          TEXT,
    amount_minor         INTEGER,
    currency             TEXT,
    currency_exponent    INTEGER,
    interval             TEXT,
    interval_count       INTEGER,
    next_charge_at       INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    created              INTEGER NOT NULL,
    raw_json             TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (connection_id, external_id)
);
