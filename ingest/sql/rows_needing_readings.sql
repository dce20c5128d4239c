-- Staged rows without a reading from the source that the merge will write (new, changed or changing
-- status): only these need one made from the name.
SELECT st.line, st.name
FROM staging_shops AS st
LEFT JOIN shops AS s ON s.programme_id = st.programme_id AND s.source_id = st.source_id
WHERE st.derive_kana
  AND (s.id IS NULL OR s.content_hash IS DISTINCT FROM st.content_hash OR s.status <> st.status)
