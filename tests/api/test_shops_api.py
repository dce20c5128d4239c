"""The HTTP API in-process (httpx ASGITransport) against a real PostGIS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from api import create_app
from api.settings import ApiSettings, AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.settings import DbSettings
from tests.conftest import SAMPLE

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(db_settings: DbSettings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    app = create_app(AppSettings(db=db_settings, api=ApiSettings(max_limit=50)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def test_radius_search_near_fujisawa(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shops", params={"lat": 35.3387, "lng": 139.4871, "radius_m": 3000})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert len(hits) == 6
    distances = [h["distance_m"] for h in hits]
    assert distances == sorted(distances) and distances[-1] <= 3000
    for key in ("id", "name", "address", "lat", "lng", "distance_m", "categories", "programme", "precision"):
        assert key in hits[0]


async def test_detail_shows_tags_with_reasons(client: httpx.AsyncClient) -> None:
    hits = (await client.get("/v1/shops", params={"q": "ミルクティー"})).json()["hits"]
    assert len(hits) == 1
    detail = (await client.get(f"/v1/shops/{hits[0]['id']}")).json()
    assert detail["name"] == "カフェ ミルクティー 藤沢店"
    assert {"kind": "amenity", "value": "nursing_room", "why": "declared in the file"} in detail["tags"]
    assert detail["lg_code"] == "142051"
    assert detail["precision"] == "source"


async def test_category_and_programme_filters(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/shops", params={"programme": "aichi", "category": "facility", "limit": 50})
    hits = r.json()["hits"]
    assert hits and all(h["programme"] == "aichi" and "facility" in h["categories"] for h in hits)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"lat": 100, "lng": 139}, 422),
        ({"lat": "abc", "lng": 139}, 422),
        ({"lat": 35.3}, 400),
        ({"radius_m": 100}, 400),
        ({"lat": 35.3, "lng": 139.4, "radius_m": 10_000_000}, 400),
        ({"lat": 35.3, "lng": 139.4, "radius_m": -5}, 422),
        ({"lat": 35.3, "lng": 139.4, "limit": 100_000}, 400),
        ({"lat": 35.3, "lng": 139.4, "limit": 0}, 422),
        ({"lat": 35.3, "lng": 139.4, "category": "cheap"}, 422),
        ({"q": "x" * 500}, 400),
        ({}, 400),
        ({"q": "'; DROP TABLE shops; --"}, 200),
    ],
)
async def test_bad_parameters_get_problem_json(
    client: httpx.AsyncClient, params: dict[str, Any], status: int
) -> None:
    r = await client.get("/v1/shops", params=params)
    assert r.status_code == status, r.text
    if status != 200:
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["status"] == status and body["title"] and body["detail"]


async def test_unknown_shop_is_404_problem(client: httpx.AsyncClient) -> None:
    for path in ("/v1/shops/999999", "/v1/shops/0", "/v1/shops/abc", "/no/such/path"):
        r = await client.get(path)
        assert r.status_code in (404, 422), path
        assert r.headers["content-type"] == "application/problem+json"


async def test_healthz_checks_the_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/v1/shops" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_database_down_is_503_problem(pg_cluster: object) -> None:
    dead = DbSettings(url="postgresql://postgres@127.0.0.1:1/nothing")
    app = create_app(AppSettings(db=dead))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            for path in ("/healthz", "/v1/shops?lat=35.3&lng=139.4"):
                r = await c.get(path)
                assert r.status_code == 503, r.text
                assert r.headers["content-type"] == "application/problem+json"
