-- A programme's first load (Loader.first_load): the programme had no shops when the run began and
-- the file's rows are unique by source id and by name + address (the pipeline rejects repeats), so
-- every staged row is new. They are inserted as they are, with the columns and change log
-- merge_shops.sql writes for an inserted row, without its conflict checks and joins against shops. A
-- shop of the programme committed by another run meanwhile makes the insert fail on the unique
-- constraint: the run then changes nothing, and running it again takes the merge path.
WITH inserted AS (
    INSERT INTO shops (
        programme_id, source, source_id, name, name_kana, name_key, kana_key, address, prefecture,
        municipality, town, address_rest,
        building, postal_code, phone, url, hours, closed_days, perk_text, categories, amenities, tags,
        card_required, cards, multi_child, nationwide, municipality_code, lg_code, location,
        geocode_precision, geocode_source, geocoded_at, location_flags, registered_on, expires_on,
        withdrawn_on, closed_on, status, status_changed_at, content_hash, first_run_id, last_run_id,
        romaji_key, name_codes, address_codes
    )
    SELECT
        st.programme_id, st.source, st.source_id, st.name, st.name_kana, st.name_key, st.kana_key,
        st.address, st.prefecture, st.municipality, st.town, st.address_rest, st.building,
        st.postal_code, st.phone, st.url, st.hours,
        st.closed_days, st.perk_text, st.categories, st.amenities, st.tags, st.card_required, st.cards,
        st.multi_child, st.nationwide, st.municipality_code, st.lg_code,
        CASE WHEN st.lat IS NOT NULL THEN kosodate_point(st.lat, st.lng) END,
        st.geocode_precision, st.geocode_source,
        CASE WHEN st.lat IS NOT NULL THEN now() END,
        st.location_flags, st.registered_on, st.expires_on, st.withdrawn_on, st.closed_on,
        st.status, now(), st.content_hash,
        :run_id, :run_id, st.romaji_key, st.name_codes, st.address_codes
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
        CASE status
            WHEN 'withdrawn' THEN withdrawn_on
            WHEN 'closed' THEN closed_on
            WHEN 'expired' THEN expires_on + 1
            ELSE current_date
        END
    FROM inserted
)
SELECT
    count(*) FILTER (WHERE located) AS loaded,
    0 AS updated,
    count(*) FILTER (WHERE status <> 'active') AS left_search
FROM inserted
