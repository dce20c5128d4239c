"""Shared fixtures for the public API tests: sample data through the real pipeline, an in-process app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlalchemy import Engine

from api import create_app
from api.settings import ApiSettings, AppSettings
from geo.boundaries import merge_areas, read_n03
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.geostore import store_boundaries
from search.settings import DbSettings
from tests.conftest import SAMPLE, SHARED_DATA

KANAGAWA_BOUNDARIES = SHARED_DATA / "boundaries" / "N03-21_14_210101_s0010.geojson"


def load_sample(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))


def load_boundaries(engine: Engine, path: Path = KANAGAWA_BOUNDARIES) -> int:
    """Municipal polygons from the shared N03 file, through the project's loader (0 when absent)."""
    if not path.exists():
        return 0
    with engine.begin() as conn:
        return store_boundaries(conn, merge_areas(read_n03(path)), source=path.name)


async def client_for(settings: AppSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def app_settings(db: DbSettings, **api: object) -> AppSettings:
    return AppSettings(db=db, api=ApiSettings(**api))  # type: ignore[arg-type]
