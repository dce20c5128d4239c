-- A programme's first load (Loader.first_load): the programme had no shops when the run began, so
-- every row of the file is new, and each batch is COPYed straight into shops (ingest.load.SHOP_COLUMNS).
-- This logs the batch just copied, as merge_shops.sql logs an inserted row: the run's shops with ids
-- above the last one logged (ids only grow). A shop of the programme committed by another run
-- meanwhile makes the COPY fail on the unique constraint: the run then changes nothing, and running
-- it again takes the merge path.
WITH inserted AS (
    SELECT id, programme_id, status, withdrawn_on, closed_on, expires_on, (location IS NOT NULL) AS located
    FROM shops
    WHERE id > :after_id AND programme_id = :programme_id AND first_run_id = :run_id
),
logged AS (
    INSERT INTO shop_changes (shop_id, programme_id, change, run_id, reason, effective_on)
    SELECT id, programme_id,
        CASE WHEN status <> 'active' THEN 'removed' ELSE 'added' END,
        :run_id,
        CASE WHEN status <> 'active' THEN status END,
        -- include: effective_on.sql
    FROM inserted
    ORDER BY id
)
SELECT
    count(*) FILTER (WHERE located) AS loaded,
    0 AS updated,
    count(*) FILTER (WHERE status <> 'active') AS left_search,
    max(id) AS last_id
FROM inserted
