-- Webhook events the local receiver got (issue 6): each accepted one (which asked for a sync)
-- and each rejected one with the reason, for the UI and `switchboard webhook events`. An
-- accepted event id is unique per connection: that is the replay check, so a provider's
-- duplicate delivery or a replayed request is caught by the insert itself. Never the body or a
-- header. Bounded by age and count (webhook_events::prune). Webhook secrets live sealed in
-- `secrets` (purposes `webhook_secret`, `webhook_secret_previous`).
CREATE TABLE webhook_events (
    id            TEXT PRIMARY KEY,                 -- UUIDv7: sorts by arrival
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    event_id      TEXT,                             -- the provider's id, once verified
    event_type    TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    reason        TEXT,                             -- why rejected, or a note (previous secret used)
    received_at   TEXT NOT NULL                     -- RFC 3339 UTC
);
CREATE UNIQUE INDEX webhook_events_accepted_once
    ON webhook_events (connection_id, event_id) WHERE outcome = 'accepted';
CREATE INDEX webhook_events_by_connection ON webhook_events (connection_id, id DESC);
