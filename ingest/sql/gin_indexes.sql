-- The GIN indexes of shops whose pending lists the run's role may clean (their owner's members;
-- superusers): clean_gin_pending.sql cleans them at the end of a run, ingest.load._PendingCleaner
-- while it loads.
SELECT i.indexrelid::regclass::text
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_am AS a ON a.oid = c.relam
WHERE i.indrelid = 'shops'::regclass AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE')
ORDER BY 1
