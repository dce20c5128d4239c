-- What the exports' ETag and Last-Modified are made of: any load, change or withdrawal moves one of these.
-- gazetteer_used says whether any live shop was placed by the gazetteer (its credit line is then due).
SELECT
    (SELECT count(*) FROM shops WHERE status = 'active' AND location IS NOT NULL) AS live,
    (SELECT max(id) FROM shop_changes) AS last_change,
    GREATEST(
        (SELECT max(updated_at) FROM shops),
        (SELECT max(changed_at) FROM shop_changes)
    ) AS last_modified,
    EXISTS (
        SELECT 1 FROM shops
        WHERE status = 'active' AND geocode_source = ANY(CAST(:gazetteer_sources AS text[]))
    ) AS gazetteer_used
