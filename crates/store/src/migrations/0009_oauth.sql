-- Connections through OAuth. Endpoints can be overridden per connection (the sandbox, proxies,
-- regional hosts); NULL means the catalogue's. The account's display name (Xero organisation,
-- QuickBooks company, Google email) and the scopes granted (space-separated) come from the
-- provider when connecting.
ALTER TABLE connections ADD COLUMN authorize_url TEXT;
ALTER TABLE connections ADD COLUMN token_url TEXT;
ALTER TABLE connections ADD COLUMN revoke_url TEXT;
ALTER TABLE connections ADD COLUMN account_name TEXT;
ALTER TABLE connections ADD COLUMN scopes TEXT;

-- One OAuth grant per connection: what is not secret about its tokens. The tokens themselves
-- are sealed in `secrets` (purposes `oauth_access` and `oauth_refresh`) and written in the
-- same transaction as this row.
CREATE TABLE oauth_grants (
    connection_id      TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL,
    access_expires_at  TEXT NOT NULL,       -- RFC 3339 UTC
    refresh_expires_at TEXT,                -- when the provider says (Intuit, Square)
    last_refreshed_at  TEXT,                -- keep-alive: unused refresh tokens lapse
    consented_at       TEXT NOT NULL,       -- consent that lapses regardless (MYOB: yearly)
    -- +1 each time new tokens are stored: a process that waited for the refresh lock sees
    -- that another one refreshed meanwhile.
    generation         INTEGER NOT NULL DEFAULT 1,
    updated_at         TEXT NOT NULL
);
