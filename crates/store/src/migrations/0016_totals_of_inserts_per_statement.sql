-- Inserted payments and balance transactions add to `daily_totals` per upsert statement, in
-- Rust (`store/src/totals.rs`, `Shares`), in the same transaction: the per-row trigger program
-- cost a tenth of the import benchmark. Their update and delete triggers stay, as do the
-- insert triggers of refunds and payouts (few rows).
DROP TRIGGER daily_payments_insert;
DROP TRIGGER daily_fees_insert;
