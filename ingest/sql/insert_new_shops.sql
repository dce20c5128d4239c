-- A programme's first load (Loader.first_load): the programme had no shops when the run began and
-- the file's rows are unique by source id and by name + address (the pipeline rejects repeats), so
-- every staged row is new. They are inserted as they are, with the columns and change log
-- merge_shops.sql writes for an inserted row, without its conflict checks and joins against shops. A
-- shop of the programme committed by another run meanwhile makes the insert fail on the unique
-- constraint: the run then changes nothing, and running it again takes the merge path.
WITH inserted AS (
    INSERT INTO shops
    -- include: new_shop_row.sql
    FROM staging_shops AS st
    RETURNING id, programme_id, status, withdrawn_on, closed_on, expires_on,
        (location IS NOT NULL) AS located
),
logged AS (
    INSERT INTO shop_changes (shop_id, programme_id, change, run_id, reason, effective_on)
    SELECT id, programme_id,
        CASE WHEN status <> 'active' THEN 'removed' ELSE 'added' END,
        :run_id,
        CASE WHEN status <> 'active' THEN status END,
        -- include: effective_on.sql
    FROM inserted
)
SELECT
    count(*) FILTER (WHERE located) AS loaded,
    0 AS updated,
    count(*) FILTER (WHERE status <> 'active') AS left_search
FROM inserted
