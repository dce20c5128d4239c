"""Meilisearch slow or broken: search falls back to PostgreSQL within ``KOSODATE_MEILI_TIMEOUT_S`` and the
response says so.

The faults are loopback TCP servers the test starts: one accepts connections and never answers (a
black hole), others answer with garbage (an HTTP 500 with an HTML page, a 200 that is not JSON, a 200
whose JSON is not a search result, a connection closed mid-response). None stands in for Meilisearch:
each is a broken peer. The third case, Meilisearch unreachable (a closed port), lives with the search
contract tests: ``tests/search/test_search_contract.py::test_unreachable_meilisearch_falls_back_to_postgres``,
marked ``fault`` too, so ``pytest -m fault`` runs all three.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import anyio
import httpx
import pytest

from api import create_app
from api.settings import AppSettings
from search.contract import Backend
from search.search_settings import MeiliSettings, SearchSettings
from search.settings import DbSettings
from tests.conftest import Cluster, kanagawa_sample_database

pytestmark = [pytest.mark.anyio, pytest.mark.fault, pytest.mark.db]
TIMEOUT_S = 1.0
SLACK_S = 1.5  # the PostgreSQL answer and the test's own overhead on a shared machine


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def _http(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


GARBAGE = {
    "http_500_html": _http("500 Internal Server Error", b"<html><h1>upstream broke</h1></html>", "text/html"),
    "http_500_json": _http("500 Internal Server Error", b'{"message":"internal","code":"internal"}'),
    "http_200_not_json": _http("200 OK", b"\x00\xff garbage \xfe"),
    "http_200_wrong_shape": _http("200 OK", b'{"hits": "none", "estimatedTotalHits": "many"}'),
    "http_200_json_list": _http("200 OK", b"[1, 2, 3]"),
    "hits_without_geo": _http("200 OK", b'{"hits": [{"id": 1, "name": "x"}], "estimatedTotalHits": 1}'),
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    b'{"hits": [',
    "not_http": b"SSH-2.0-OpenSSH_9.2\r\n",
}


@contextmanager
def tcp_fault(answer: bytes | None) -> Iterator[int]:
    """A loopback server: reads the request, then sends ``answer`` and closes, or (None) never answers."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            if answer is None:
                continue  # accept, read nothing, say nothing: a black hole
            conn.settimeout(2)
            try:
                conn.recv(65536)
                conn.sendall(answer)
            except OSError:
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        for conn in held:
            conn.close()


@pytest.fixture(scope="module")
def loaded_db(pg_cluster: Cluster) -> Iterator[DbSettings]:
    with kanagawa_sample_database(pg_cluster) as settings:
        yield settings


async def _client_for(db: DbSettings, port: int) -> AsyncIterator[httpx.AsyncClient]:
    meili = MeiliSettings(url=f"http://127.0.0.1:{port}", timeout_s=TIMEOUT_S)
    app = create_app(AppSettings(db=db, search=SearchSettings(backend=Backend.MEILISEARCH, meili=meili)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as client:
            yield client


QUERIES = (
    {"q": "ミルク"},
    {"lat": "35.3387", "lng": "139.4871", "radius_m": "3000"},
)


async def _check_fallback(client: httpx.AsyncClient, budget: float) -> None:
    for params in QUERIES:
        started = time.monotonic()
        r = await client.get("/v1/shops", params=params)
        elapsed = time.monotonic() - started
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["backend"] == "postgres"
        assert "meilisearch unavailable" in body["fallback"], body.get("fallback")
        assert body["hits"], f"postgres found nothing for {params}"
        assert elapsed < budget, f"{params} took {elapsed:.2f}s (bound {budget:.1f}s)"


async def test_meilisearch_that_never_answers(loaded_db: DbSettings) -> None:
    with tcp_fault(None) as port:
        async for client in _client_for(loaded_db, port):
            await _check_fallback(client, TIMEOUT_S + SLACK_S)
            # Several at once: each waits out its own deadline, none waits for the others.
            started = time.monotonic()
            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(_check_fallback, client, TIMEOUT_S + SLACK_S + 1.0)
            assert time.monotonic() - started < 2 * (TIMEOUT_S + SLACK_S) + 2


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_meilisearch_that_answers_garbage(loaded_db: DbSettings, kind: str) -> None:
    with tcp_fault(GARBAGE[kind]) as port:
        async for client in _client_for(loaded_db, port):
            await _check_fallback(client, TIMEOUT_S + SLACK_S)
