-- What came of a payment request (issue 6). A PayPal order moves no money until Switchboard
-- captures it after the customer approved, so open PayPal requests are looked up and
-- captured; Stripe and Square links collect by themselves and stay as they are. NULL while
-- a request is open.
ALTER TABLE payment_requests ADD COLUMN outcome TEXT CHECK (outcome IN ('paid', 'expired'));
ALTER TABLE payment_requests ADD COLUMN outcome_reason TEXT;      -- why it expired
ALTER TABLE payment_requests ADD COLUMN outcome_at TEXT;
ALTER TABLE payment_requests ADD COLUMN payment_external_id TEXT; -- the payment it became (a PayPal capture id)
ALTER TABLE payment_requests ADD COLUMN capture_item_id TEXT;     -- the outbox item capturing it (one per order)
ALTER TABLE payment_requests ADD COLUMN checked_at TEXT;          -- the last look-up at the provider
CREATE INDEX payment_requests_open ON payment_requests (connection_id, created_at)
    WHERE outcome IS NULL;
