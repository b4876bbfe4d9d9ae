-- Full-text search over payments and exact daily totals for the dashboard (issue 6).

-- FTS5 over the text a user searches payments by. External content: the text stays in
-- `payments` and the index refers to a payment by its rowid. Never VACUUM this database: on a
-- table without an INTEGER PRIMARY KEY, VACUUM may renumber rowids (then run
-- `INSERT INTO payments_fts(payments_fts) VALUES ('rebuild')`). Backups use SQLite's backup API,
-- which copies pages and keeps rowids.
CREATE VIRTUAL TABLE payments_fts USING fts5(
    external_id, customer, customer_email, description,
    content = 'payments', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO payments_fts (payments_fts) VALUES ('rebuild');

CREATE TRIGGER payments_fts_insert AFTER INSERT ON payments BEGIN
    INSERT INTO payments_fts (rowid, external_id, customer, customer_email, description)
    VALUES (new.rowid, new.external_id, new.customer, new.customer_email, new.description);
END;
CREATE TRIGGER payments_fts_delete AFTER DELETE ON payments BEGIN
    INSERT INTO payments_fts (payments_fts, rowid, external_id, customer, customer_email, description)
    VALUES ('delete', old.rowid, old.external_id, old.customer, old.customer_email, old.description);
END;
-- Only when a searched column changed: most updates (a status, a refund) leave them alone. (The
-- upsert's SET names every column, so `UPDATE OF` alone would fire on every update.)
CREATE TRIGGER payments_fts_update AFTER UPDATE ON payments
WHEN old.external_id IS NOT new.external_id OR old.customer IS NOT new.customer
  OR old.customer_email IS NOT new.customer_email OR old.description IS NOT new.description
BEGIN
    INSERT INTO payments_fts (payments_fts, rowid, external_id, customer, customer_email, description)
    VALUES ('delete', old.rowid, old.external_id, old.customer, old.customer_email, old.description);
    INSERT INTO payments_fts (rowid, external_id, customer, customer_email, description)
    VALUES (new.rowid, new.external_id, new.customer, new.customer_email, new.description);
END;

-- Money moved per connection, UTC day and currency, kept exact by triggers in the same
-- transaction as the rows they summarise, so the dashboard reads a few hundred rows instead of
-- aggregating a million payments.
--   gross:    succeeded payments' amounts, on the day the payment was created
--   fees:     the provider's fees (a payment's own fee (Square, PayPal), or a Stripe balance
--             transaction's fee for a charge or payment, in its own, settlement, currency)
--   refunded: succeeded or pending refunds, on the day the refund was created
--   payouts:  payouts (not failed or canceled), on their arrival day (else their creation day)
CREATE TABLE daily_totals (
    connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    day               INTEGER NOT NULL,   -- unix seconds of 00:00 UTC
    currency          TEXT NOT NULL,
    currency_exponent INTEGER NOT NULL,
    payments          INTEGER NOT NULL DEFAULT 0,
    gross_minor       INTEGER NOT NULL DEFAULT 0,
    fee_minor         INTEGER NOT NULL DEFAULT 0,
    refunds           INTEGER NOT NULL DEFAULT 0,
    refunded_minor    INTEGER NOT NULL DEFAULT 0,
    payouts           INTEGER NOT NULL DEFAULT 0,
    payout_minor      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, day, currency)
) WITHOUT ROWID;
CREATE INDEX daily_totals_by_day ON daily_totals (day);

-- Payments: each trigger adds (+1) or takes away (-1) one row's share.
CREATE TRIGGER daily_payments_insert AFTER INSERT ON payments WHEN new.status = 'succeeded' BEGIN
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, payments, gross_minor, fee_minor)
    VALUES (new.connection_id, new.created - new.created % 86400, new.currency, new.currency_exponent,
            1, new.amount_minor, coalesce(new.fee_minor, 0))
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET
        payments = payments + 1,
        gross_minor = gross_minor + excluded.gross_minor,
        fee_minor = fee_minor + excluded.fee_minor;
END;
CREATE TRIGGER daily_payments_delete AFTER DELETE ON payments WHEN old.status = 'succeeded' BEGIN
    UPDATE daily_totals SET
        payments = payments - 1,
        gross_minor = gross_minor - old.amount_minor,
        fee_minor = fee_minor - coalesce(old.fee_minor, 0)
    WHERE connection_id = old.connection_id AND day = old.created - old.created % 86400
      AND currency = old.currency;
END;
CREATE TRIGGER daily_payments_update
AFTER UPDATE OF status, amount_minor, fee_minor, currency, currency_exponent, created ON payments
BEGIN
    UPDATE daily_totals SET
        payments = payments - 1,
        gross_minor = gross_minor - old.amount_minor,
        fee_minor = fee_minor - coalesce(old.fee_minor, 0)
    WHERE old.status = 'succeeded' AND connection_id = old.connection_id
      AND day = old.created - old.created % 86400 AND currency = old.currency;
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, payments, gross_minor, fee_minor)
    SELECT new.connection_id, new.created - new.created % 86400, new.currency, new.currency_exponent,
           1, new.amount_minor, coalesce(new.fee_minor, 0)
    WHERE new.status = 'succeeded'
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET
        payments = payments + 1,
        gross_minor = gross_minor + excluded.gross_minor,
        fee_minor = fee_minor + excluded.fee_minor;
END;

-- Stripe's fees: on the balance transaction of a charge or payment.
CREATE TRIGGER daily_fees_insert AFTER INSERT ON balance_transactions
WHEN new.type IN ('charge', 'payment') BEGIN
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, fee_minor)
    VALUES (new.connection_id, new.created - new.created % 86400, new.currency, new.currency_exponent, new.fee_minor)
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET fee_minor = fee_minor + excluded.fee_minor;
END;
CREATE TRIGGER daily_fees_delete AFTER DELETE ON balance_transactions
WHEN old.type IN ('charge', 'payment') BEGIN
    UPDATE daily_totals SET fee_minor = fee_minor - old.fee_minor
    WHERE connection_id = old.connection_id AND day = old.created - old.created % 86400
      AND currency = old.currency;
END;
CREATE TRIGGER daily_fees_update AFTER UPDATE OF type, fee_minor, currency, created ON balance_transactions
BEGIN
    UPDATE daily_totals SET fee_minor = fee_minor - old.fee_minor
    WHERE old.type IN ('charge', 'payment') AND connection_id = old.connection_id
      AND day = old.created - old.created % 86400 AND currency = old.currency;
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, fee_minor)
    SELECT new.connection_id, new.created - new.created % 86400, new.currency, new.currency_exponent, new.fee_minor
    WHERE new.type IN ('charge', 'payment')
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET fee_minor = fee_minor + excluded.fee_minor;
END;

CREATE TRIGGER daily_refunds_insert AFTER INSERT ON refunds
WHEN new.status IN ('succeeded', 'pending') BEGIN
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, refunds, refunded_minor)
    VALUES (new.connection_id, new.created - new.created % 86400, new.currency, new.currency_exponent, 1, new.amount_minor)
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET
        refunds = refunds + 1, refunded_minor = refunded_minor + excluded.refunded_minor;
END;
CREATE TRIGGER daily_refunds_delete AFTER DELETE ON refunds
WHEN old.status IN ('succeeded', 'pending') BEGIN
    UPDATE daily_totals SET refunds = refunds - 1, refunded_minor = refunded_minor - old.amount_minor
    WHERE connection_id = old.connection_id AND day = old.created - old.created % 86400
      AND currency = old.currency;
END;
CREATE TRIGGER daily_refunds_update AFTER UPDATE OF status, amount_minor, currency, created ON refunds
BEGIN
    UPDATE daily_totals SET refunds = refunds - 1, refunded_minor = refunded_minor - old.amount_minor
    WHERE old.status IN ('succeeded', 'pending') AND connection_id = old.connection_id
      AND day = old.created - old.created % 86400 AND currency = old.currency;
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, refunds, refunded_minor)
    SELECT new.connection_id, new.created - new.created % 86400, new.currency, new.currency_exponent, 1, new.amount_minor
    WHERE new.status IN ('succeeded', 'pending')
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET
        refunds = refunds + 1, refunded_minor = refunded_minor + excluded.refunded_minor;
END;

CREATE TRIGGER daily_payouts_insert AFTER INSERT ON payouts
WHEN new.status NOT IN ('failed', 'canceled') BEGIN
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, payouts, payout_minor)
    VALUES (new.connection_id, coalesce(new.arrival_date, new.created) - coalesce(new.arrival_date, new.created) % 86400,
            new.currency, new.currency_exponent, 1, new.amount_minor)
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET
        payouts = payouts + 1, payout_minor = payout_minor + excluded.payout_minor;
END;
CREATE TRIGGER daily_payouts_delete AFTER DELETE ON payouts
WHEN old.status NOT IN ('failed', 'canceled') BEGIN
    UPDATE daily_totals SET payouts = payouts - 1, payout_minor = payout_minor - old.amount_minor
    WHERE connection_id = old.connection_id
      AND day = coalesce(old.arrival_date, old.created) - coalesce(old.arrival_date, old.created) % 86400
      AND currency = old.currency;
END;
CREATE TRIGGER daily_payouts_update
AFTER UPDATE OF status, amount_minor, currency, arrival_date, created ON payouts
BEGIN
    UPDATE daily_totals SET payouts = payouts - 1, payout_minor = payout_minor - old.amount_minor
    WHERE old.status NOT IN ('failed', 'canceled') AND connection_id = old.connection_id
      AND day = coalesce(old.arrival_date, old.created) - coalesce(old.arrival_date, old.created) % 86400
      AND currency = old.currency;
    INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, payouts, payout_minor)
    SELECT new.connection_id, coalesce(new.arrival_date, new.created) - coalesce(new.arrival_date, new.created) % 86400,
           new.currency, new.currency_exponent, 1, new.amount_minor
    WHERE new.status NOT IN ('failed', 'canceled')
    ON CONFLICT (connection_id, day, currency) DO UPDATE SET
        payouts = payouts + 1, payout_minor = payout_minor + excluded.payout_minor;
END;

-- The totals of what is already stored (a workspace migrated with data).
INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, payments, gross_minor, fee_minor)
SELECT connection_id, created - created % 86400, currency, max(currency_exponent), count(*), sum(amount_minor),
       sum(coalesce(fee_minor, 0))
FROM payments WHERE status = 'succeeded' GROUP BY 1, 2, 3;
INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, fee_minor)
SELECT connection_id, created - created % 86400, currency, max(currency_exponent), sum(fee_minor)
FROM balance_transactions WHERE type IN ('charge', 'payment') GROUP BY 1, 2, 3
ON CONFLICT (connection_id, day, currency) DO UPDATE SET fee_minor = fee_minor + excluded.fee_minor;
INSERT INTO daily_totals (connection_id, day, currency, currency_exponent, refunds, refunded_minor)
SELECT connection_id, created - created % 86400, currency, max(currency_exponent), count(*), sum(amount_minor)
FROM refunds WHERE status IN ('succeeded', 'pending') GROUP BY 1, 2, 3
ON CONFLICT (connection_id, day, currency) DO UPDATE SET
    refunds = refunds + excluded.refunds, refunded_minor = refunded_minor + excluded.refunded_minor;

