-- Registrations whose end has come leave search: closed (reported by the municipality), withdrawn
-- (effective date after any notice period) or expired (a programme without automatic extension).
-- Each is logged in the change history with its reason and effective date.
WITH due AS (
    SELECT s.id,
        CASE
            WHEN s.closed_on <= :today AND (s.withdrawn_on IS NULL OR s.closed_on <= s.withdrawn_on)
                THEN 'closed'
            WHEN s.withdrawn_on <= :today THEN 'withdrawn'
            WHEN s.closed_on <= :today THEN 'closed'
            ELSE 'expired'
        END AS status
    FROM shops AS s
    JOIN programmes AS p ON p.id = s.programme_id
    WHERE s.status = 'active'
      AND (CAST(:programme AS text) IS NULL OR p.code = CAST(:programme AS text))
      AND (
          s.closed_on <= :today
          OR s.withdrawn_on <= :today
          OR (s.expires_on < :today
              AND coalesce((p.config -> 'lifecycle' ->> 'auto_extend_years')::int, 0) = 0)
      )
),
gone AS (
    UPDATE shops AS s
    SET status = due.status, status_changed_at = now(), updated_at = now()
    FROM due
    WHERE s.id = due.id
    RETURNING s.id, s.programme_id, s.status,
        CASE s.status
            WHEN 'closed' THEN s.closed_on
            WHEN 'withdrawn' THEN s.withdrawn_on
            ELSE s.expires_on + 1
        END AS effective_on
),
logged AS (
    INSERT INTO shop_changes (shop_id, programme_id, change, reason, effective_on)
    SELECT id, programme_id, 'removed', status, effective_on FROM gone
)
SELECT status, count(*) AS n FROM gone GROUP BY status
