"""Hand-written hostile requests (besides schemathesis): every answer is a 4xx problem+json, or a 200 with a
correct answer where the input is legal; never a 5xx, never a file from outside the static folder.

Most cases run through httpx's ASGITransport against the real app and a real PostGIS. Path traversal
also runs against a real uvicorn server over a raw socket, because a client library or the ASGI
transport normalises ``..`` and percent-encodings differently from what an attacker sends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn

from api import create_app
from api.settings import AppSettings
from search.settings import DbSettings
from tests.conftest import Cluster, free_port, kanagawa_sample_database

pytestmark = [pytest.mark.anyio, pytest.mark.fault, pytest.mark.db]
PROBLEM = "application/problem+json"
LONG = "ab" * 6_000  # 12,000 characters
LONG_KANA = "すし" * 2_500  # 5,000 characters, 45,000 once percent-encoded
SECRET_MARKERS = (b"[build-system]", b"root:x:0:0", b"import ", b"KOSODATE_")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def abuse_db(pg_cluster: Cluster) -> Iterator[DbSettings]:
    with kanagawa_sample_database(pg_cluster) as settings:
        yield settings


@pytest.fixture(scope="module")
async def client(abuse_db: DbSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AppSettings(db=abuse_db))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
            yield c


NEAR = "lat=35.3387&lng=139.4871"
HOSTILE = [
    # coordinates out of range, not numbers, not finite
    "/v1/shops?lat=91&lng=139.4871&radius_m=100",
    "/v1/shops?lat=35&lng=181&radius_m=100",
    "/v1/shops?lat=-90.0000001&lng=0&radius_m=100",
    "/v1/shops?lat=NaN&lng=139&radius_m=100",
    "/v1/shops?lat=35&lng=inf&radius_m=100",
    "/v1/shops?lat=-Infinity&lng=139&radius_m=100",
    "/v1/shops?lat=1e309&lng=139&radius_m=100",
    "/v1/shops?lat=35.3387",
    "/v1/shops?lat=abc&lng=139",
    "/v1/shops?lat=35%00&lng=139",
    # radius
    f"/v1/shops?{NEAR}&radius_m=1e12",
    f"/v1/shops?{NEAR}&radius_m=-5",
    f"/v1/shops?{NEAR}&radius_m=0",
    f"/v1/shops?{NEAR}&radius_m=NaN",
    f"/v1/shops?{NEAR}&radius_m=inf",
    f"/v1/shops?{NEAR}&radius_m=40075017",
    # bbox: huge, inverted, antimeridian, malformed
    "/v1/shops?bbox=-180,-90,180,90",
    "/v1/shops?bbox=139.5,35.4,139.4,35.3",
    "/v1/shops?bbox=170,-10,-170,10",
    "/v1/shops?bbox=1,2,3",
    "/v1/shops?bbox=a,b,c,d",
    "/v1/shops?bbox=NaN,NaN,NaN,NaN",
    "/v1/shops?bbox=" + ",".join(["1"] * 1000),
    "/collections/shops/items?bbox=-180,-90,180,90",
    "/collections/shops/items?bbox=139.5,35.4,139.4,35.3",
    "/collections/shops/items?bbox=170,-10,-170,10",
    "/collections/shops/items?bbox=inf,0,1,1",
    "/collections/shops/items?bbox=1,2,3,4,5",
    # limits and paging
    "/v1/shops?q=a&limit=0",
    "/v1/shops?q=a&limit=-1",
    "/v1/shops?q=a&limit=1000000000",
    "/v1/shops?q=a&limit=99999999999999999999999",
    "/v1/shops?q=a&limit=ten",
    "/v1/shops?q=a&limit=1.5",
    "/collections/shops/items?limit=0",
    "/collections/shops/items?limit=-1",
    "/collections/shops/items?limit=1000000000",
    "/collections/shops/items?limit=x",
    "/collections/shops/items?offset=-1",
    "/collections/shops/items?offset=1000000000000",
    "/v1/changes?limit=0",
    "/v1/changes?limit=1000000000",
    "/v1/changes?limit=abc",
    # cursors
    "/v1/shops?q=a&cursor=garbage",
    "/v1/shops?q=a&cursor=" + "A" * 5000,
    "/v1/shops?q=a&cursor=%00%FF",
    "/v1/shops?q=a&cursor=eyJhIjoxfQ",
    "/v1/changes?cursor=garbage",
    "/v1/changes?cursor=eyJhIjoxfQ==",
    "/v1/changes?cursor=" + "%ED%A0%80" * 3,
    "/v1/changes?since=not-a-date",
    "/v1/changes?since=99999-01-01T00:00:00Z",
    "/v1/changes?since=0001-01-01T00:00:00Z",
    # very long and odd Unicode queries
    f"/v1/shops?q={LONG}",
    f"/v1/shops?q={LONG_KANA}",
    f"/collections/shops/items?q={LONG}",
    f"/v1/shops?q={LONG}&{NEAR}&radius_m=3000",
    "/v1/shops?q=%00",
    "/v1/shops?q=a%00b",
    "/v1/shops?q=%ED%A0%80",
    "/v1/shops?q=%FF%FE",
    "/v1/shops?q=%E2%80%AE%E2%80%8Fすし",
    "/v1/shops?q=👨‍👩‍👧🍣",
    "/v1/shops?q=か%CC%81%CC%81%CC%81%CC%81",
    "/v1/shops?q=ＳＵＳＨＩ",
    "/v1/shops?q=%20%20%20",
    "/v1/shops?q=%25%5F%5C",
    "/v1/shops?q=" + "%" * 50,
    "/collections/shops/items?q=%ED%A0%80",
    # SQL injection attempts
    "/v1/shops?q=' OR 1=1 --",
    "/v1/shops?q='; DROP TABLE shops; --",
    '/v1/shops?q=" UNION SELECT * FROM pg_shadow --',
    "/v1/shops?programme=kanagawa' OR '1'='1",
    "/v1/shops?municipality=14205' OR 1=1",
    "/v1/shops?category=discount' OR 1=1 --",
    "/v1/shops?amenity=x' OR 1=1 --",
    "/v1/shops?sort=name; DROP TABLE shops",
    "/v1/shops?facets=category,'; DROP TABLE shops; --",
    "/collections/shops/items?programme=' OR 1=1 --",
    "/collections/shops/items?sortby=id;DROP TABLE shops",
    # one shop
    "/v1/shops/0",
    "/v1/shops/-1",
    "/v1/shops/99999999999999999999",
    "/v1/shops/abc",
    "/v1/shops/1%20OR%201=1",
    "/v1/shops/1e3",
    "/v1/shops/%ED%A0%80",
    "/collections/shops/items/0",
    "/collections/shops/items/' OR 1=1 --",
    "/collections/shops/items/99999999999999999999",
    "/collections/nope/items",
    # tiles
    "/tiles/-1/0/0.mvt",
    "/tiles/99/0/0.mvt",
    "/tiles/25/0/0.mvt",
    "/tiles/3/8/0.mvt",
    "/tiles/3/0/8.mvt",
    "/tiles/3/99999999999999999999/0.mvt",
    "/tiles/a/b/c.mvt",
    "/tiles/3/1/1.png",
    "/tiles/0/0/0.mvt?municipality=x",
    # exports with odd conditional headers are below; odd query strings here
    "/v1/exports/shops.csv?%00=1",
    "/v1/exports/shops.xlsx",
    "/v1/exports/../../pyproject.toml",
]


def _assert_sane(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith(PROBLEM), f"{what}: {r.headers['content-type']}"
        body = r.json()
        assert body["status"] == r.status_code and body["title"], what
    for marker in SECRET_MARKERS[:2]:
        assert marker not in r.content, f"{what} leaked {marker!r}"


@pytest.mark.parametrize("path", HOSTILE)
async def test_hostile_request(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    _assert_sane(r, path)


async def test_answers_that_must_be_refused(client: httpx.AsyncClient) -> None:
    """Spot checks that the refusals are refusals (not a 200 that ignored the parameter)."""
    refused = [
        "/v1/shops?lat=91&lng=139&radius_m=100",
        "/v1/shops?lat=NaN&lng=139&radius_m=100",
        f"/v1/shops?{NEAR}&radius_m=-5",
        "/v1/shops?q=a&limit=0",
        "/v1/shops?q=a&limit=ten",
        "/v1/shops?q=a&cursor=garbage",
        "/v1/shops?bbox=a,b,c,d",
        "/collections/shops/items?bbox=170,-10,-170,10",
        "/v1/changes?cursor=garbage",
        "/tiles/99/0/0.mvt",
        "/tiles/3/8/0.mvt",
        "/v1/shops/abc",
    ]
    for path in refused:
        r = await client.get(path)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])


async def test_legal_but_odd_input_gets_a_correct_answer(client: httpx.AsyncClient) -> None:
    wide = await client.get("/v1/shops", params={"q": "ミルク"})
    assert wide.status_code == 200 and wide.json()["hits"]
    full_width = await client.get("/v1/shops", params={"q": "ミルク" + "\u200f"})
    assert full_width.status_code == 200
    injection = await client.get("/v1/shops", params={"q": "' OR 1=1 --"})
    assert injection.status_code == 200 and injection.json()["hits"] == []  # matched as text: nothing
    capped = await client.get(f"/v1/shops?{NEAR}&radius_m=3000&limit=1000000000")
    assert capped.status_code in {200, 400, 422}
    if capped.status_code == 200:
        assert len(capped.json()["hits"]) <= 1000
    assert (await client.get("/v1/shops/1")).status_code in {200, 404}
    still_there = await client.get(f"/v1/shops?{NEAR}&radius_m=3000")
    assert still_there.status_code == 200 and len(still_there.json()["hits"]) == 6  # no table dropped


async def test_hostile_headers_on_exports_and_changes(client: httpx.AsyncClient) -> None:
    for headers in (
        {"If-None-Match": "\x00" * 10},
        {"If-None-Match": '"' * 5000},
        {"If-Modified-Since": "not a date"},
        {"If-Modified-Since": "Mon, 99 Foo 99999 99:99:99 GMT"},
        {"Accept": "application/json;q=NaN, */*;q=-1"},
        {"Range": "bytes=999999999-"},
    ):
        for path in (
            "/v1/exports/shops.csv",
            "/v1/exports/shops.geojson",
            "/v1/changes",
            "/collections/shops/items",
        ):
            r = await client.get(path, headers=headers)
            _assert_sane(r, f"{path} {headers}")


TRAVERSAL = [
    "/static/../pyproject.toml",
    "/static/../../pyproject.toml",
    "/static/%2e%2e/pyproject.toml",
    "/static/%2e%2e%2fpyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/static/%252e%252e%252fpyproject.toml",
    "/static/..%2fpyproject.toml",
    "/static/..%5cpyproject.toml",
    "/static/..\\..\\pyproject.toml",
    "/static/....//....//pyproject.toml",
    "/static/%c0%ae%c0%ae/pyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/../../../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/vendor/../../routes/web.py",
    "/static/index.html%00.js",
    "/static/" + "a/" * 150 + "x.js",
]


@pytest.mark.parametrize("path", TRAVERSAL)
async def test_traversal_through_asgi(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    _assert_sane(r, path)
    assert r.status_code in {400, 404, 422}, (path, r.status_code)
    assert not any(m in r.content for m in SECRET_MARKERS), path


@pytest.fixture(scope="module")
def server(abuse_db: DbSettings) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(
        create_app(AppSettings(db=abuse_db)), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def _raw_get(port: int, target: str) -> tuple[int, bytes]:
    """Send the request line exactly as written (no client-side normalisation)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body


@pytest.mark.parametrize("path", TRAVERSAL)
def test_traversal_through_a_real_server(server: int, path: str) -> None:
    status, body = _raw_get(server, path)
    assert 400 <= status < 500, (path, status, body[:200])
    assert not any(m in body for m in SECRET_MARKERS), (path, body[:200])


def test_a_real_static_file_is_still_served(server: int) -> None:
    status, body = _raw_get(server, "/static/page.js")
    assert status == 200 and body
