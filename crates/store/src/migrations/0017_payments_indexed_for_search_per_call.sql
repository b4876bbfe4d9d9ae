-- Payments inserted are added to the full-text index by `payments::upsert_many`, once per call
-- for all the rows it inserted, instead of by a trigger per row: the trigger made every upsert
-- statement keep a statement journal and made FTS5 write (and later merge) a new index segment
-- per statement. Updates and deletes keep their triggers (migration 0013).
DROP TRIGGER payments_fts_insert;
