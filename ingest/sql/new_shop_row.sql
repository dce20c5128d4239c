-- The columns of a new shop and their values from staging_shops AS st, for merge_shops.sql (ingest/load.py
-- puts it where it says "-- include"). A first load COPYs the same columns straight into shops
-- (ingest.load.SHOP_COLUMNS, new_shop_row): tests/ingest/test_first_load.py holds the two alike.
(
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
