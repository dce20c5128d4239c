-- Duplicates across files: a held row (see hold_possible_duplicates.sql) whose folded name and
-- normalised address belong to a live shop of the same programme under another id, one this file does
-- not mention, is not loaded twice. The rows are taken out and reported as rejections naming the shop
-- they duplicate; the rest of the held rows are merged after them.
DELETE FROM staging_held AS st
USING shops AS s
WHERE s.programme_id = st.programme_id
  AND s.name_key = st.name_key
  AND s.address = st.address
  AND s.source_id <> st.source_id
  AND s.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM staging_seen AS seen WHERE seen.source_id = s.source_id)
RETURNING st.line, st.source_id, st.name, st.address, (st.lat IS NULL) AS pending,
    s.source AS dup_source, s.source_id AS dup_source_id, s.first_run_id AS dup_run_id
