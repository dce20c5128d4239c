"""The application factory. Settings come in; nothing is read from the environment here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.routes import health, shops, web
from api.routes import taxonomy as taxonomy_routes
from api.settings import AppSettings
from search.db import async_engine


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
    app.include_router(web.router)

    return app
