-- Upsert the staged rows. A row whose content hash and status are unchanged is not touched, so
-- re-running a file changes nothing. A row whose registration has ended (withdrawn, closed, expired)
-- is stored with that status, which keeps it out of search and in the change log.
WITH previous AS (
    SELECT s.id, s.status
    FROM shops AS s
    JOIN staging_shops AS st ON st.programme_id = s.programme_id AND st.source_id = s.source_id
),
merged AS (
    INSERT INTO shops AS s
    -- include: new_shop_row.sql
    FROM staging_shops AS st
    ON CONFLICT (programme_id, source_id) DO UPDATE SET
        source = excluded.source,
        name = excluded.name,
        name_kana = excluded.name_kana,
        name_key = excluded.name_key,
        kana_key = excluded.kana_key,
        address = excluded.address,
        prefecture = excluded.prefecture,
        municipality = excluded.municipality,
        town = excluded.town,
        address_rest = excluded.address_rest,
        building = excluded.building,
        postal_code = excluded.postal_code,
        phone = excluded.phone,
        url = excluded.url,
        hours = excluded.hours,
        closed_days = excluded.closed_days,
        perk_text = excluded.perk_text,
        categories = excluded.categories,
        amenities = excluded.amenities,
        tags = excluded.tags,
        card_required = excluded.card_required,
        cards = excluded.cards,
        multi_child = excluded.multi_child,
        nationwide = excluded.nationwide,
        romaji_key = excluded.romaji_key,
        name_codes = excluded.name_codes,
        address_codes = excluded.address_codes,
        municipality_code = excluded.municipality_code,
        lg_code = excluded.lg_code,
        location = excluded.location,
        geocode_precision = excluded.geocode_precision,
        geocode_source = excluded.geocode_source,
        geocoded_at = excluded.geocoded_at,
        location_flags = excluded.location_flags,
        registered_on = excluded.registered_on,
        expires_on = excluded.expires_on,
        withdrawn_on = excluded.withdrawn_on,
        closed_on = excluded.closed_on,
        status = excluded.status,
        status_changed_at = CASE WHEN s.status <> excluded.status THEN now() ELSE s.status_changed_at END,
        content_hash = excluded.content_hash,
        last_run_id = excluded.last_run_id,
        updated_at = now()
    WHERE s.content_hash IS DISTINCT FROM excluded.content_hash OR s.status <> excluded.status
    RETURNING s.id, s.programme_id, s.status, s.withdrawn_on, s.closed_on, s.expires_on,
        (s.xmax = 0) AS inserted, (s.location IS NOT NULL) AS located
),
classified AS (
    SELECT m.*,
        CASE
            WHEN m.status <> 'active' AND (m.inserted OR p.status = 'active') THEN 'removed'
            WHEN m.inserted OR (p.status <> 'active' AND m.status = 'active') THEN 'added'
            ELSE 'changed'
        END AS change
    FROM merged AS m
    LEFT JOIN previous AS p ON p.id = m.id
),
logged AS (
    INSERT INTO shop_changes (shop_id, programme_id, change, run_id, reason, effective_on)
    SELECT id, programme_id, change, :run_id,
        CASE WHEN change = 'removed' THEN status END,
        -- include: effective_on.sql
    FROM classified
)
SELECT
    count(*) FILTER (WHERE inserted AND located) AS loaded,
    count(*) FILTER (WHERE NOT inserted AND located) AS updated,
    count(*) FILTER (WHERE change = 'removed') AS left_search
FROM classified
