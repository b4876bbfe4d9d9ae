-- Settings that belong to one connection (the PayPal webhook id the receiver verifies with), so
-- they go when the connection is deleted. They were `settings` rows keyed
-- `webhooks.paypal_webhook_id.<connection id>`, which a deleted connection left behind.
CREATE TABLE connection_settings (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (connection_id, key)
) WITHOUT ROWID;

INSERT INTO connection_settings (connection_id, key, value, updated_at)
SELECT c.id, 'webhooks.paypal_webhook_id', s.value, s.updated_at
FROM settings s JOIN connections c ON s.key = 'webhooks.paypal_webhook_id.' || c.id;
-- Moved, and those of connections already deleted dropped.
DELETE FROM settings WHERE substr(key, 1, 27) = 'webhooks.paypal_webhook_id.';
