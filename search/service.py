"""One entry point for searches: the configured backend, with PostgreSQL as the fallback.

Meilisearch is asked within a deadline (``KOSODATE_MEILI_TIMEOUT_S``). If it cannot be reached,
times out or has no index, the same request is answered by PostgreSQL and the result says why.
"""

from __future__ import annotations

import asyncio
import logging

import meilisearch.errors
from sqlalchemy.ext.asyncio import AsyncConnection

from search.backends import meili, postgres
from search.contract import Backend, SearchRequest, SearchResult
from search.search_settings import SearchSettings

log = logging.getLogger("kosodate.search")

_MEILI_FAILURES = (
    meilisearch.errors.MeilisearchError,
    OSError,
    TimeoutError,
)


async def search(conn: AsyncConnection, request: SearchRequest, settings: SearchSettings) -> SearchResult:
    if settings.backend is Backend.MEILISEARCH:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(meili.search, settings.meili, request), timeout=settings.meili.timeout_s
            )
        except _MEILI_FAILURES as exc:
            reason = f"meilisearch unavailable ({type(exc).__name__}); answered by postgres"
            log.warning("%s: %s", reason, exc)
        result = await postgres.search(conn, request, count_cap=settings.count_cap)
        result.fallback_reason = reason
        return result
    return await postgres.search(conn, request, count_cap=settings.count_cap)
