-- Payment requests (issue 6): a link asking a customer for money, created at the provider
-- through the outbox. The row is the request as the user made it; the outbox item with the
-- same id carries the sending (status, attempts, errors); the link is stored here once made.
CREATE TABLE payment_requests (
    id                TEXT PRIMARY KEY,     -- the outbox item's id
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    amount_minor      INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    currency_exponent INTEGER NOT NULL,
    description       TEXT NOT NULL,
    customer_email    TEXT,
    fallback_from     TEXT,                 -- the connection that was unavailable, if any
    external_id       TEXT,                 -- the provider's link / order / session id
    url               TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX payment_requests_by_created ON payment_requests (created_at DESC);
