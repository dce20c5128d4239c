-- Every live, placed shop for the open-data exports, in a stable order (streamed with a
-- server-side cursor; the caller formats CSV or GeoJSON from these columns).
SELECT
    s.id,
    s.lg_code,
    s.source_id,
    s.name,
    s.name_kana,
    s.address,
    s.prefecture,
    s.municipality,
    s.town,
    s.address_rest,
    s.building,
    ST_Y(geometry(s.location)) AS lat,
    ST_X(geometry(s.location)) AS lng,
    s.phone,
    s.url,
    s.postal_code,
    s.hours,
    s.closed_days,
    p.name AS programme_name,
    p.code AS programme,
    s.perk_text,
    s.categories,
    s.amenities,
    s.card_required,
    s.nationwide,
    s.multi_child,
    s.registered_on,
    s.expires_on,
    COALESCE(r.finished_at, r.started_at, s.updated_at)::date AS confirmed_on,
    s.geocode_precision,
    s.geocode_source,
    s.municipality_code,
    s.updated_at
FROM shops AS s
JOIN programmes AS p ON p.id = s.programme_id
LEFT JOIN ingest_runs AS r ON r.id = s.last_run_id
WHERE s.status = 'active' AND s.location IS NOT NULL
ORDER BY s.id
