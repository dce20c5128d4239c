"""The ingestion pipeline: read -> normalise -> geocode -> tag -> load, plus the run report."""
