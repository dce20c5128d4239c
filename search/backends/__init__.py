"""Search backends. PostgreSQL is the default and the source of truth."""
