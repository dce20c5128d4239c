-- Staged rows the merge will write (new, changed or changing status): only these need their search
-- keys made (a reading from the name when the source gave none, and the romaji key). Unchanged rows
-- keep the keys they have.
SELECT st.line, st.name, st.name_kana
FROM staging_shops AS st
LEFT JOIN shops AS s ON s.programme_id = st.programme_id AND s.source_id = st.source_id
WHERE s.id IS NULL OR s.content_hash IS DISTINCT FROM st.content_hash OR s.status <> st.status
