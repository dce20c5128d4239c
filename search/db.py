"""Engines and the one place where driver errors become domain errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg.errors
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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


def async_engine(settings: DbSettings, *, read_only: bool = False) -> AsyncEngine:
    args = _connect_args(settings)
    if read_only:
        # Every transaction on these connections is read-only, whatever role the URL names: a second
        # guard next to the read-only role (and what a streaming replica would enforce anyway).
        args["options"] = f"{args['options']} -c default_transaction_read_only=on"
    return create_async_engine(
        settings.sqlalchemy_url(),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
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


@contextmanager
def db_errors_sync() -> Iterator[None]:
    try:
        yield
    except (DBAPIError, PoolTimeout) as exc:
        domain = _translate(exc)
        if domain is None:
            raise
        raise domain from exc
