-- A connection signed in through the auth relay (docs/RELAY.md): its base URL. Its token and
-- revoke URLs are then the relay's, and refreshes go there as a public client; NULL when the
-- app talks to the provider directly.
ALTER TABLE connections ADD COLUMN relay_url TEXT;

-- The app registration's client id a connection signs in with. Not secret; kept on the row so
-- a disconnected connection (its grant and secrets gone) can be reconnected as it was.
ALTER TABLE connections ADD COLUMN client_id TEXT;
