"""The application factory. Settings come in; nothing is read from the environment here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse

from api import errors
from api.routes import health, shops
from api.routes import taxonomy as taxonomy_routes
from api.settings import AppSettings
from search.db import async_engine

_INDEX = """<!doctype html>
<html lang="ja"><meta charset="utf-8"><title>kosodate</title>
<h1>kosodate</h1>
<p>子育て支援パスポート協賛店の検索 API / Search API for child-rearing passport shops.</p>
<ul><li><a href="/docs">API documentation (OpenAPI)</a></li>
<li><a href="/v1/shops?lat=35.3387&amp;lng=139.4871&amp;radius_m=3000">Shops near Fujisawa station</a></li>
<li><a href="/healthz">Health</a></li></ul>
</html>"""


def create_app(settings: AppSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = async_engine(settings.db)
        app.state.engine = engine
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="kosodate",
        version="0.1.0",
        summary="Search the shops that sponsor Japan's child-rearing support passports",
        lifespan=lifespan,
    )
    app.state.settings = settings
    errors.install(app)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
        )
    app.include_router(health.router)
    app.include_router(shops.router)
    app.include_router(taxonomy_routes.router)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def index() -> str:
        return _INDEX

    return app
