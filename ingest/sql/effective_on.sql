-- The date a shop's change takes effect, from its status: one expression for merge_shops.sql and
-- log_new_shops.sql (included where they say "-- include").
CASE status
    WHEN 'withdrawn' THEN withdrawn_on
    WHEN 'closed' THEN closed_on
    WHEN 'expired' THEN expires_on + 1
    ELSE current_date
END
