"""What a CDN in front of the API may cache, and how it revalidates (tiles and exports)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine, text

from search.settings import DbSettings
from tests.api.public_fixtures import app_settings, client_for, load_sample

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(db_settings: DbSettings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    load_sample(engine)
    async for c in client_for(app_settings(db_settings)):
        yield c


def tile_of(lat: float, lng: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lng + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def shop_tile(engine: Engine, z: int) -> str:
    with engine.connect() as conn:
        lng, lat = conn.execute(
            text(
                "SELECT ST_X(location::geometry), ST_Y(location::geometry) FROM shops"
                " WHERE location IS NOT NULL LIMIT 1"
            )
        ).one()
    x, y = tile_of(lat, lng, z)
    return f"/tiles/{z}/{x}/{y}.mvt"


async def test_tiles_are_public_for_a_minute_and_revalidate_by_etag(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    path = shop_tile(engine, 14)
    first = await client.get(path)
    assert first.status_code == 200 and first.content
    assert first.headers["cache-control"] == "public, max-age=60"
    tag = first.headers["etag"]
    again = await client.get(path)
    assert again.headers["etag"] == tag  # same data, same tag
    same = await client.get(path, headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
    other = await client.get("/tiles/14/0/0.mvt")
    assert other.headers["etag"] != tag
    changed = await client.get(path, headers={"If-None-Match": other.headers["etag"]})
    assert changed.status_code == 200 and changed.content == first.content


async def test_exports_revalidate_and_errors_are_never_cached(client: httpx.AsyncClient) -> None:
    full = await client.get("/v1/exports/shops.csv")
    assert full.status_code == 200
    assert full.headers["cache-control"] == "public, max-age=60, must-revalidate"
    assert full.headers["etag"] and full.headers["last-modified"]
    again = await client.get("/v1/exports/shops.csv", headers={"If-None-Match": full.headers["etag"]})
    assert again.status_code == 304
    bad = await client.get("/tiles/30/0/0.mvt")
    assert bad.status_code in (400, 422) and bad.headers["cache-control"] == "no-store"
    private = await client.get("/v1/operator/runs/1")
    assert private.headers["cache-control"] == "no-store"
