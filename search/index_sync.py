"""The hook ingest calls after a successful run: push that run's shop changes to Meilisearch.

A no-op unless ``KOSODATE_MEILI_URL`` is set. PostGIS stays the source of truth: if Meilisearch
cannot take the changes, the run still stands (it is committed), the failure is logged and reported
back, and ``kosodate index rebuild`` (or ``kosodate index sync --run N``) brings the index up to date.
"""

from __future__ import annotations

import logging

import meilisearch.errors
from sqlalchemy import Engine

from search.meili import SearchIndexError, sync_run
from search.search_settings import MeiliSettings

log = logging.getLogger("kosodate.search")


def after_ingest_run(engine: Engine, run_id: int, settings: MeiliSettings | None = None) -> str:
    """Sync one run's changes; returns a one-line outcome for the run report."""
    settings = settings if settings is not None else MeiliSettings()
    if settings.url is None:
        return "search index: none configured (PostgreSQL serves searches)"
    try:
        upserted, deleted = sync_run(engine, settings, run_id)
    except (meilisearch.errors.MeilisearchError, SearchIndexError, OSError) as exc:
        log.warning("run %s: Meilisearch not updated: %s", run_id, exc)
        return f"search index: NOT updated ({type(exc).__name__}); run `kosodate index sync --run {run_id}`"
    return f"search index: {upserted} documents updated, {deleted} removed"
