-- Per batch: staged rows whose content hash and status match the stored shop change nothing (the
-- merge would skip them too). Taking them out first leaves only the rows the merge writes, so their
-- search keys are made for them alone, and a batch with nothing new skips the merge.
DELETE FROM staging_shops AS st
USING shops AS s
WHERE s.programme_id = st.programme_id
  AND s.source_id = st.source_id
  AND s.content_hash = st.content_hash
  AND s.status = st.status
