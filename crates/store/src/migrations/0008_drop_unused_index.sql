-- No query reads balance transactions by source (a payment finds its balance transaction by
-- the payment's `balance_transaction_external_id`, through the unique index); the index only
-- cost a random-page write per imported balance transaction. The payouts work adds the index
-- its queries need.
DROP INDEX IF EXISTS balance_transactions_by_source;
