-- Upsert the staged rows. A row whose content hash and status are unchanged is not touched, so
-- re-running a file changes nothing. Returns how many rows were inserted / updated with a location.
WITH merged AS (
    INSERT INTO shops AS s (
        programme_id, source, source_id, name, name_kana, name_key, kana_key, address, prefecture,
        building, postal_code, phone, url, hours, closed_days, perk_text, categories, amenities, tags,
        card_required, cards, multi_child, municipality_code, lg_code, location, geocode_precision,
        geocode_source, geocoded_at, location_flags, registered_on, expires_on, status, status_changed_at,
        content_hash, first_run_id, last_run_id, nationwide, romaji_key
    )
    SELECT
        st.programme_id, st.source, st.source_id, st.name, st.name_kana, st.name_key, st.kana_key,
        st.address, st.prefecture, st.building, st.postal_code, st.phone, st.url, st.hours,
        st.closed_days, st.perk_text, st.categories, st.amenities, st.tags, st.card_required, st.cards,
        st.multi_child, st.municipality_code, st.lg_code,
        CASE WHEN st.lat IS NOT NULL THEN kosodate_point(st.lat, st.lng) END,
        st.geocode_precision, st.geocode_source,
        CASE WHEN st.lat IS NOT NULL THEN now() END,
        st.location_flags, st.registered_on, st.expires_on, 'active', now(), st.content_hash,
        :run_id, :run_id, st.nationwide, st.romaji_key
    FROM staging_shops AS st
    ON CONFLICT (programme_id, source_id) DO UPDATE SET
        source = excluded.source,
        name = excluded.name,
        name_kana = excluded.name_kana,
        name_key = excluded.name_key,
        kana_key = excluded.kana_key,
        address = excluded.address,
        prefecture = excluded.prefecture,
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
        municipality_code = excluded.municipality_code,
        lg_code = excluded.lg_code,
        location = excluded.location,
        geocode_precision = excluded.geocode_precision,
        geocode_source = excluded.geocode_source,
        geocoded_at = excluded.geocoded_at,
        location_flags = excluded.location_flags,
        registered_on = excluded.registered_on,
        expires_on = excluded.expires_on,
        status = 'active',
        status_changed_at = CASE WHEN s.status <> 'active' THEN now() ELSE s.status_changed_at END,
        content_hash = excluded.content_hash,
        last_run_id = excluded.last_run_id,
        romaji_key = excluded.romaji_key,
        updated_at = now()
    WHERE s.content_hash IS DISTINCT FROM excluded.content_hash OR s.status <> 'active'
    RETURNING s.id, s.programme_id, (s.xmax = 0) AS inserted, (s.location IS NOT NULL) AS located
),
logged AS (
    INSERT INTO shop_changes (shop_id, programme_id, change, run_id)
    SELECT id, programme_id, CASE WHEN inserted THEN 'added' ELSE 'changed' END, :run_id
    FROM merged
)
SELECT
    count(*) FILTER (WHERE inserted AND located) AS loaded,
    count(*) FILTER (WHERE NOT inserted AND located) AS updated
FROM merged
