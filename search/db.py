"""Engines and the one place where driver errors become domain errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

import psycopg.errors
from psycopg.pq import TransactionStatus
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


def async_engine(settings: DbSettings, *, read_only: bool = False, pre_ping: bool = True) -> AsyncEngine:
    args = _connect_args(settings)
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


TOO_LONG = "the query took too long; narrow it (smaller radius or area, fewer results)"
UNREACHABLE = "the database is not reachable at the moment; try again shortly"


def _translate(exc: Exception) -> Exception | None:
    orig = getattr(exc, "orig", None)
    if isinstance(orig, psycopg.errors.QueryCanceled):
        return QueryTimeout(TOO_LONG)
    if isinstance(exc, PoolTimeout | OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return DatabaseUnavailable(UNREACHABLE)
    return None


@asynccontextmanager
async def db_errors() -> AsyncIterator[None]:
    try:
        yield
    except (DBAPIError, PoolTimeout, OSError) as exc:
        domain = _translate(exc) if not isinstance(exc, OSError) else DatabaseUnavailable(UNREACHABLE)
        if domain is None:
            raise
        raise domain from exc


async def driver_rows(
    conn: AsyncConnection, *statements: tuple[str, Mapping[str, Any]]
) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
    """Run precompiled SQL on the pooled connection's psycopg connection: each statement's column names
    and rows. Several statements go out together (psycopg's pipeline: one round trip, not one each).

    For hot reads whose SQL is compiled once (search.compiled): it skips SQLAlchemy's per-call statement
    handling, greenlet hop and result wrapping. Driver errors become the same domain errors as in
    ``db_errors``; a connection that failed is invalidated, so the pool does not hand it out again.
    """
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    with driver_errors():
        try:
            if len(statements) == 1:
                cursors = [await driver.execute(*statements[0])]
            else:
                async with driver.pipeline():
                    cursors = [await driver.cursor().execute(sql, params) for sql, params in statements]
            return [([c.name for c in cur.description or ()], await cur.fetchall()) for cur in cursors]
        except psycopg.OperationalError as exc:
            await conn.invalidate(exc)
            raise


@contextmanager
def driver_errors() -> Iterator[None]:
    """``db_errors`` for statements run on psycopg directly (no SQLAlchemy wrapping)."""
    try:
        yield
    except psycopg.errors.QueryCanceled as exc:
        raise QueryTimeout(TOO_LONG) from exc
    except (psycopg.OperationalError, OSError) as exc:
        raise DatabaseUnavailable(UNREACHABLE) from exc


@contextmanager
def db_errors_sync() -> Iterator[None]:
    try:
        yield
    except (DBAPIError, PoolTimeout) as exc:
        domain = _translate(exc)
        if domain is None:
            raise
        raise domain from exc


class ReadPool:
    """Plain psycopg connections for the hottest fixed-shape public read (the OGC items page).

    Statements are prepared on first use and planned once per connection (generic plans, see
    ``async_engine``); connections are read-only and in autocommit. Compared with an SQLAlchemy pool
    checkout, a checkout here is a list pop and a semaphore: the checkout, reset and greenlet hops were
    a quarter of the page's server CPU (bench/results/api_bench.md). It fails fast like the engines: with
    the database down, opening a connection fails at once (503) rather than waiting for a background
    reconnect, and a connection that failed is closed instead of going back to the pool.
    """

    def __init__(self, settings: DbSettings, *, timeout_s: float = 5.0) -> None:
        # Generic plans: the items page's plan does not depend on the values (its CTE fixes the access
        # path; custom planning chose the same plan for small and large boxes), and planning was about a
        # third of its database time (pgbench -M prepared 1,054-1,085 tps against 717-732 re-planned).
        args = _connect_args(settings)
        args["options"] = (
            f"{args['options']} -c plan_cache_mode=force_generic_plan -c default_transaction_read_only=on"
        )
        self._conninfo = settings.libpq_url()
        self._kwargs: dict[str, Any] = {**args, "prepare_threshold": 0, "autocommit": True}
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(settings.pool_size * 2)  # as the engines: pool_size + overflow
        self._keep = settings.pool_size
        self._timeout_s = timeout_s
        self._closing: set[asyncio.Task[None]] = set()

    async def fetch_one(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run precompiled SQL (named ``%(x)s`` placeholders) and return its first row."""
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self._timeout_s)
            except TimeoutError:
                raise DatabaseUnavailable("the database is busy at the moment; try again shortly") from None
        else:
            await self._slots.acquire()
        conn = None
        try:
            with driver_errors():
                conn = self._idle.pop() if self._idle else await self._connect()
                cursor = await conn.execute(sql, params)
                return await cursor.fetchone()
        finally:
            if conn is not None:
                self._release(conn)
            self._slots.release()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self._conninfo, **self._kwargs)

    def _release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # Back to the pool only when idle and healthy: a failed, cancelled (still ACTIVE) or closed
        # connection is closed instead, and the next checkout opens a fresh one.
        if (
            conn.closed
            or conn.info.transaction_status != TransactionStatus.IDLE
            or len(self._idle) >= self._keep
        ):
            task = asyncio.get_running_loop().create_task(self._close(conn))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        else:
            self._idle.append(conn)

    @staticmethod
    async def _close(conn: psycopg.AsyncConnection[Any]) -> None:
        with suppress(Exception):  # closing a broken connection may fail; it is gone either way
            await conn.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._close(conn)
