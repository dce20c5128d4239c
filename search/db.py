"""Engines and the one place where driver errors become domain errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg.errors
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from search.errors import DatabaseUnavailable, QueryTimeout
from search.queries import FUZZY_SIMILARITY
from search.settings import DbSettings

# Custom plans always: search plans depend on the values (radius, words, area); psycopg prepares
# repeated statements and a generic plan was measured 30x slower (bench/search_bench.py).
# The typo pass's trigram bar is a connection setting, not SET LOCAL: public reads run in
# autocommit, where SET LOCAL does nothing. Only the typo pass uses the `<%` operator.
# No parallel workers: search statements are short, and the planner, misled by the default estimate
# for rare index keys, started two workers per names tier (about 25 ms each on the 2-core host:
# q=駅 took 220 ms instead of 10 ms, bench/results/search_bench_notes.md). Requests run side by side.
SESSION_OPTIONS = (
    "-c plan_cache_mode=force_custom_plan "
    f"-c pg_trgm.word_similarity_threshold={FUZZY_SIMILARITY} "
    "-c max_parallel_workers_per_gather=0"
)


def _connect_args(settings: DbSettings) -> dict[str, object]:
    return {
        "connect_timeout": 5,
        "options": f"-c statement_timeout={settings.statement_timeout_ms} {SESSION_OPTIONS}",
        "application_name": "kosodate",
    }


def sync_engine(settings: DbSettings) -> Engine:
    return create_engine(settings.sqlalchemy_url(), pool_pre_ping=True, connect_args=_connect_args(settings))


def async_engine(
    settings: DbSettings, *, read_only: bool = False, pre_ping: bool = True, generic_plans: bool = False
) -> AsyncEngine:
    args = _connect_args(settings)
    if generic_plans:
        # For fixed-shape statements whose plan does not depend on the values (the OGC items page:
        # its CTE fixes the access path; custom planning chose the same plan for small and large
        # boxes). psycopg prepares every statement on first use and PostgreSQL plans it once per
        # connection: planning was about a third of the page's database time (pgbench -M prepared
        # 1,054-1,085 tps against 717-732 re-planned). The later -c wins over the session default.
        args["options"] = f"{args['options']} -c plan_cache_mode=force_generic_plan"
        args["prepare_threshold"] = 0
    if read_only:
        # Every transaction on these connections is read-only, whatever role the URL names: a second
        # guard next to the read-only role (and what a streaming replica would enforce anyway).
        args["options"] = f"{args['options']} -c default_transaction_read_only=on"
    return create_async_engine(
        settings.sqlalchemy_url(),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        # The ping is a round trip on every checkout; the API turns it off and relies instead on
        # invalidation: a request on a connection that died (database restart) gets a 503 and the
        # pool drops that connection (measured: 5-10% more bbox pages per second, bench/api_bench.py).
        pool_pre_ping=pre_ping,
        pool_timeout=5,
        connect_args=args,
    )


def _translate(exc: Exception) -> Exception | None:
    orig = getattr(exc, "orig", None)
    if isinstance(orig, psycopg.errors.QueryCanceled):
        return QueryTimeout("the query took too long; narrow it (smaller radius or area, fewer results)")
    if isinstance(exc, PoolTimeout | OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return DatabaseUnavailable("the database is not reachable at the moment; try again shortly")
    return None


@asynccontextmanager
async def db_errors() -> AsyncIterator[None]:
    try:
        yield
    except (DBAPIError, PoolTimeout, OSError) as exc:
        domain = (
            _translate(exc)
            if not isinstance(exc, OSError)
            else DatabaseUnavailable("the database is not reachable at the moment; try again shortly")
        )
        if domain is None:
            raise
        raise domain from exc


async def fetch_one(conn: AsyncConnection, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Run precompiled SQL on the pooled connection's psycopg connection and return its first row.

    For the hot read paths: it skips SQLAlchemy's per-call statement handling, greenlet hop and result
    wrapping. Driver errors become the same domain errors as in ``db_errors``; a connection that failed
    is invalidated, so the pool replaces it instead of handing it out again.
    """
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    try:
        cursor = await driver.execute(sql, params)
        return await cursor.fetchone()
    except psycopg.errors.QueryCanceled as exc:
        raise QueryTimeout("the query took too long; narrow it (smaller area, fewer results)") from exc
    except psycopg.OperationalError as exc:
        await conn.invalidate(exc)
        raise DatabaseUnavailable("the database is not reachable at the moment; try again shortly") from exc


@contextmanager
def db_errors_sync() -> Iterator[None]:
    try:
        yield
    except (DBAPIError, PoolTimeout) as exc:
        domain = _translate(exc)
        if domain is None:
            raise
        raise domain from exc
