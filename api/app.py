"""The application factory. Settings come in; nothing is read from the environment here."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.middleware import RequestContext
from api.ratelimit import RateLimit
from api.routes import changes, exports, handoffs, health, ogc, operator, ready, shops, tiles, web
from api.routes import taxonomy as taxonomy_routes
from api.settings import AppSettings
from search.db import ReadPool, async_engine


def create_app(settings: AppSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Public reads: the read-only role when configured, and autocommit, which saves the BEGIN and
        # ROLLBACK round trips of every request (measured: about half the time of an items page).
        base = async_engine(settings.public_db(), read_only=True, pre_ping=False)
        engine = base.execution_options(isolation_level="AUTOCOMMIT")
        app.state.engine = engine
        # The OGC items page has its own plain psycopg pool whose statements are planned once (generic
        # plans); everything else keeps per-call plans (search plans depend on the values).
        app.state.items_pool = ReadPool(settings.public_db())
        try:
            yield
        finally:
            await base.dispose()
            await app.state.items_pool.close()

    app = FastAPI(
        title="kosodate",
        version="0.1.0",
        summary="Search the shops that sponsor Japan's child-rearing support passports",
        lifespan=lifespan,
        responses=errors.problem_responses(429) if settings.api.rate_limit_per_minute else None,
    )
    app.state.settings = settings
    errors.install(app)
    if settings.api.rate_limit_per_minute:  # inside CORS and the request context: a 429 gets their headers
        app.add_middleware(
            RateLimit,
            per_minute=settings.api.rate_limit_per_minute,
            burst=settings.api.rate_limit_burst,
            max_clients=settings.api.rate_limit_max_clients,
            trusted_proxies=settings.api.trusted_proxies,
        )
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
            expose_headers=["ETag", "Last-Modified", "Link", "X-Request-ID"],
        )
    app.add_middleware(RequestContext, cache_max_age_s=settings.api.cache_max_age_s)
    # The busiest route first: a request is matched against the routers in this order.
    app.include_router(ogc.router)  # JSON (and ?f=html) at `/`; a browser's plain `/` falls through to web
    app.include_router(health.router)
    app.include_router(shops.router)
    app.include_router(taxonomy_routes.router)
    app.include_router(tiles.router)
    app.include_router(exports.router)
    app.include_router(changes.router)
    app.include_router(handoffs.router)
    app.include_router(operator.router)
    app.include_router(ready.router)
    app.include_router(web.router)

    return app


def settle_heap() -> None:
    """For server processes, once the app is built: start-up objects leave the cyclic collector's view.

    The collector's full passes otherwise walk every module, route and SQLAlchemy object on each run,
    a pause that lands on whichever requests are in flight (measured: bbox page p99 26 ms with this,
    29-39 ms without, bench/results/api_bench.md). Not for tests, which build many apps in one process.
    """
    gc.collect()
    gc.freeze()
