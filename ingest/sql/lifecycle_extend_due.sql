-- Live registrations whose term has run out in programmes that renew automatically (and that have not
-- been withdrawn or closed): they get their next term.
SELECT s.id, s.expires_on, (p.config -> 'lifecycle' ->> 'auto_extend_years')::int AS years
FROM shops AS s
JOIN programmes AS p ON p.id = s.programme_id
WHERE s.status = 'active'
  AND s.expires_on < :today
  AND s.withdrawn_on IS NULL
  AND s.closed_on IS NULL
  AND coalesce((p.config -> 'lifecycle' ->> 'auto_extend_years')::int, 0) > 0
  AND (CAST(:programme AS text) IS NULL OR p.code = CAST(:programme AS text))
