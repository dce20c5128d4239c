-- Snapshot mode: the file is the whole registry, so live shops of this programme and source that the
-- file no longer mentions are withdrawn (the change log keeps a tombstone).
WITH gone AS (
    UPDATE shops AS s
    SET status = 'withdrawn', status_changed_at = now(), updated_at = now(), last_run_id = :run_id,
        withdrawn_on = current_date
    WHERE s.programme_id = :programme_id
      AND s.source = ANY(:sources)
      AND s.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM staging_seen AS seen WHERE seen.source_id = s.source_id)
    RETURNING s.id, s.programme_id
),
logged AS (
    INSERT INTO shop_changes (shop_id, programme_id, change, run_id, reason, effective_on)
    SELECT id, programme_id, 'removed', :run_id, 'withdrawn', current_date FROM gone
)
SELECT count(*) FROM gone
