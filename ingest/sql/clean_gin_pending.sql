-- End of a run that wrote shops: move what its batches left in the GIN indexes' pending lists into
-- the indexes, inside the run's transaction. The run lets the lists grow to PENDING_LIST_LIMIT
-- (ingest.load), so each merge of a list into its index handles more rows at once; cleaning here
-- keeps that work in the run (not left to the next writer or autovacuum) and leaves searches short
-- lists to scan. Only indexes the run's role may clean (their owner's members; superusers).
SELECT count(gin_clean_pending_list(i.indexrelid))
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_am AS a ON a.oid = c.relam
WHERE i.indrelid = 'shops'::regclass AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE')
