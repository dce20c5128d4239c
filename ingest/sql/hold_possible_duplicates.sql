-- Per batch: a staged row whose folded name and normalised address belong to a live shop of the same
-- programme under another id may be a duplicate across files. Whether it is depends on the whole file
-- (a shop the file also mentions is no duplicate), so such rows wait in staging_held until the end
-- (see reject_known_duplicates.sql); every other row is merged with its batch.
WITH held AS (
    DELETE FROM staging_shops AS st
    USING shops AS s
    WHERE s.programme_id = st.programme_id
      AND s.name_key = st.name_key
      AND s.address = st.address
      AND s.source_id <> st.source_id
      AND s.status = 'active'
    RETURNING st.*
)
INSERT INTO staging_held SELECT * FROM held
