"""One contract suite, run against every backend through the HTTP API.

PostgreSQL always; Meilisearch when ``KOSODATE_MEILI_URL`` points to a server (the index is rebuilt
from the test database first). There is no stand-in for Meilisearch: without a server those cases
skip and say why. The Japanese query set lives in ``tests/search/query_set.toml``.
"""

from __future__ import annotations

import os
import socket
import time
import tomllib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from api import create_app
from api.settings import ApiSettings, AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.contract import Backend
from search.search_settings import MeiliSettings, SearchSettings
from search.settings import DbSettings
from tests.conftest import SAMPLE, TEMPLATE, Cluster, shared_file

HERE = Path(__file__).parent
QUERIES: list[dict[str, Any]] = tomllib.loads((HERE / "query_set.toml").read_text(encoding="utf-8"))["query"]
MEILI_URL = os.environ.get("KOSODATE_MEILI_URL")

pytestmark = pytest.mark.anyio

BACKENDS = [
    pytest.param(Backend.POSTGRES, id="postgres"),
    pytest.param(
        Backend.MEILISEARCH,
        id="meilisearch",
        marks=[
            pytest.mark.meili,
            pytest.mark.skipif(
                MEILI_URL is None, reason="no Meilisearch server: set KOSODATE_MEILI_URL to run this backend"
            ),
        ],
    ),
]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def search_db(pg_cluster: Cluster) -> Iterator[DbSettings]:
    """One database for the module: Ishikawa 2017, the samples and the test shops, loaded once."""
    name = f"t_search_{uuid.uuid4().hex[:8]}"
    pg_cluster.cluster.create_database(name, template=TEMPLATE)
    settings = pg_cluster.db_settings(name)
    engine = create_engine(settings.sqlalchemy_url())
    try:
        ingest_file(
            engine, shared_file("shops", "ishikawa_prepass_2017_shared.csv"), load_programme("ishikawa")
        )
        ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
        ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
        ingest_file(engine, HERE / "data" / "search_extra.csv", load_programme("kanagawa"))
        if MEILI_URL:
            from search.meili import rebuild  # noqa: PLC0415

            rebuild(engine, MeiliSettings(index=f"test_{name}"))
        yield settings
    finally:
        engine.dispose()
        pg_cluster.cluster.drop_database(name)


def _search_settings(backend: Backend, db: DbSettings) -> SearchSettings:
    if backend is Backend.MEILISEARCH:
        name = db.sqlalchemy_url().rsplit("/", 1)[-1]
        return SearchSettings(backend=backend, meili=MeiliSettings(index=f"test_{name}", timeout_s=5))
    return SearchSettings(backend=backend)


@pytest.fixture(scope="module", params=BACKENDS)
async def client(request: pytest.FixtureRequest, search_db: DbSettings) -> AsyncIterator[httpx.AsyncClient]:
    backend: Backend = request.param
    settings = AppSettings(
        db=search_db, api=ApiSettings(max_limit=100), search=_search_settings(backend, search_db)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            c.headers["x-expect-backend"] = backend.value
            yield c


async def _get(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/shops", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["backend"] == client.headers["x-expect-backend"], body.get("fallback")
    return body


@pytest.mark.parametrize("case", QUERIES, ids=[f"{q['kind']}:{q['q']}" for q in QUERIES])
async def test_query_set(client: httpx.AsyncClient, case: dict[str, Any]) -> None:
    params = {k: case[k] for k in ("q", "lat", "lng", "radius_m") if k in case}
    body = await _get(client, limit=10, **params)
    names = [h["name"] for h in body["hits"]]
    missing = [n for n in case["expect"] if n not in names]
    assert not missing, f"{case['q']!r} did not find {missing}; got {names}"


async def test_must_show_sushiro_near_fujisawa(client: httpx.AsyncClient) -> None:
    for q in ("すしろー", "ｽｼﾛｰ", "sushiro"):
        body = await _get(client, q=q, lat=35.3387, lng=139.4871, facets="category,municipality")
        top = body["hits"][0]
        assert top["name"] == "スシロー 藤沢店"
        assert 0 < top["distance_m"] < 200
        assert body["facets"]["category"]["discount"] >= 1
        assert body["facets"]["municipality"] == {"14205": body["total"]}


async def test_radius_hits_nearest_first_with_facets(client: httpx.AsyncClient) -> None:
    body = await _get(
        client, lat=36.5781, lng=136.6480, radius_m=2000, sort="distance", limit=50,
        facets="category,municipality,programme",
    )  # fmt: skip
    distances = [h["distance_m"] for h in body["hits"]]
    assert distances and distances == sorted(distances) and distances[-1] <= 2000 * 1.003
    assert body["total"] >= len(body["hits"])
    assert body["facets"]["programme"] == {"ishikawa": body["total"]}
    assert sum(body["facets"]["municipality"].values()) <= body["total"]  # codes come with tagging
    for key in ("id", "name", "address", "lat", "lng", "distance_m", "categories", "programme"):
        assert key in body["hits"][0]


async def test_bbox_and_municipality(client: httpx.AsyncClient) -> None:
    bbox = "139.40,35.30,139.52,35.36"  # Fujisawa
    body = await _get(client, bbox=bbox, facets="municipality", limit=100)
    assert body["hits"] and all(
        139.40 <= h["lng"] <= 139.52 and 35.30 <= h["lat"] <= 35.36 for h in body["hits"]
    )
    counts = body["facets"]["municipality"]
    assert counts == {
        code: sum(1 for h in body["hits"] if h["municipality_code"] == code)
        for code in {h["municipality_code"] for h in body["hits"]}
    }
    by_code = await _get(client, municipality="14205", limit=100)
    assert {h["id"] for h in by_code["hits"]} >= {
        h["id"] for h in body["hits"] if h["municipality_code"] == "14205"
    }
    assert all(h["municipality_code"] == "14205" for h in by_code["hits"])


async def test_cursor_pages_the_same_list(client: httpx.AsyncClient) -> None:
    params = {"q": "金沢", "limit": 7}
    first = await _get(client, **params)
    assert first["next_cursor"]
    second = await _get(client, cursor=first["next_cursor"], **params)
    both = await _get(client, q="金沢", limit=14)
    assert [h["id"] for h in first["hits"] + second["hits"]] == [h["id"] for h in both["hits"]]


async def test_filters_perk_kind_and_open_at(client: httpx.AsyncClient) -> None:
    ouen = await _get(client, programme="kanagawa", perk="ouen", limit=100)
    tokuten = await _get(client, programme="kanagawa", perk="tokuten", limit=100)
    everything = await _get(client, programme="kanagawa", limit=100)
    assert {h["id"] for h in ouen["hits"]}.isdisjoint({h["id"] for h in tokuten["hits"]})
    assert len(ouen["hits"]) + len(tokuten["hits"]) == len(everything["hits"])
    late = await _get(client, q="藤沢", open_at="22:30", limit=100)
    names = {h["name"] for h in late["hits"]}
    assert "スシロー 藤沢店" in names  # 11:00〜23:00
    assert "湘南ラーメン 潮" not in names  # 11:30〜15:00


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "139.5,35.3,139.4,35.4"},
        {"lat": 35.3, "lng": 139.4, "bbox": "139.4,35.3,139.5,35.4", "radius_m": 500},
        {"q": "x", "sort": "distance"},
        {"q": "x", "facets": "colour"},
        {"q": "x", "cursor": "not-a-cursor"},
        {"municipality": "12"},
    ],
)
async def test_bad_parameters_are_problems(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    r = await client.get("/v1/shops", params=params)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_cursor_of_another_search_is_refused(client: httpx.AsyncClient) -> None:
    first = await _get(client, q="金沢", limit=5)
    r = await client.get("/v1/shops", params={"q": "小松", "limit": 5, "cursor": first["next_cursor"]})
    assert r.status_code == 400


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.mark.fault  # with tests/reliability/test_meili_faults.py: unreachable, slow, garbage
async def test_unreachable_meilisearch_falls_back_to_postgres(search_db: DbSettings) -> None:
    meili = MeiliSettings(url=f"http://127.0.0.1:{_closed_port()}", timeout_s=2)
    settings = AppSettings(db=search_db, search=SearchSettings(backend=Backend.MEILISEARCH, meili=meili))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            started = time.monotonic()
            r = await c.get("/v1/shops", params={"q": "すしろー"})
            elapsed = time.monotonic() - started
    assert r.status_code == 200
    body = r.json()
    assert body["backend"] == "postgres"
    assert "meilisearch unavailable" in body["fallback"]
    assert body["hits"][0]["name"] == "スシロー 藤沢店"
    assert elapsed < 2 + 1.5  # bounded by the Meilisearch deadline
