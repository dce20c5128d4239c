"""Tokens, CORS, security headers, upload caps and the read-only public engine (real app, real PostGIS)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from api import create_app
from api.settings import AppSettings
from search.settings import DbSettings
from tests.api.public_fixtures import app_settings, load_sample
from tests.api.test_read_only_and_export_cli import reader_url
from tests.conftest import free_port

TOKEN = "op-7d1e0c2b9a8f4e3d6c5b4a3928170605"  # noqa: S105 - a made-up secret to look for
HANDOFF = "ho-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
CITY = "https://www.city.example.lg.jp"
CAP = 1000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _settings(db: DbSettings, uploads: Path, **extra: object) -> AppSettings:
    return app_settings(
        db,
        operator_token=TOKEN,
        handoff_token=HANDOFF,
        cors_origins=[CITY],
        upload_dir=uploads,
        max_upload_bytes=CAP,
        rate_limit_per_minute=0,
        **extra,
    )


@pytest.fixture
async def app(db_settings: DbSettings, engine: Engine, tmp_path: Path) -> AsyncIterator[FastAPI]:
    load_sample(engine)
    application = create_app(_settings(db_settings, tmp_path / "uploads"))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


def _is_401_problem(r: httpx.Response) -> bool:
    return (
        r.status_code == 401
        and r.headers["content-type"] == "application/problem+json"
        and r.headers["www-authenticate"].startswith("Bearer")
        and r.headers["cache-control"] == "no-store"
        and r.json()["status"] == 401
    )


NEAR_MISSES = [
    None,
    "Bearer ",
    "Bearer wrong",
    f"Bearer {TOKEN[:-1]}",  # one character short
    f"Bearer {TOKEN}x",  # one character more
    f"Bearer {TOKEN[:-1]}{chr(ord(TOKEN[-1]) + 1)}",  # the last character off by one
    f"Bearer {TOKEN.upper()}",
    f"Bearer {TOKEN[:10]}{'0' if TOKEN[10] != '0' else '1'}{TOKEN[11:]}",  # one character in the middle
    f"Basic {TOKEN}",
    TOKEN,
    f"Bearer {HANDOFF}",  # the other endpoint's token
]


@pytest.mark.anyio
@pytest.mark.parametrize("authorization", NEAR_MISSES)
async def test_operator_endpoints_need_the_exact_token(
    client: httpx.AsyncClient, tmp_path: Path, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (
        ("GET", "/v1/operator/runs/1"),
        ("GET", "/v1/operator/runs/1/rejections"),
        ("POST", "/v1/operator/uploads?filename=a.csv"),
        ("POST", "/v1/operator/runs"),
    ):
        r = await client.request(method, path, headers=headers, content=b"name\n")
        assert _is_401_problem(r), (method, path, r.status_code, r.text)
    assert _parts(tmp_path / "uploads") == []  # a refused upload leaves nothing behind


@pytest.mark.anyio
async def test_the_right_token_passes_and_unset_tokens_lock_the_door(
    client: httpx.AsyncClient, db_settings: DbSettings, tmp_path: Path
) -> None:
    ok = await client.get("/v1/operator/runs/999999", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 404  # past the door, and no such run
    handoff = await client.get("/v1/handoffs?to=hamahug", headers={"Authorization": f"Bearer {TOKEN}"})
    assert _is_401_problem(handoff)  # each endpoint family has its own token
    closed = create_app(app_settings(db_settings, upload_dir=tmp_path / "u"))  # no tokens configured
    transport = httpx.ASGITransport(app=closed)
    async with (
        closed.router.lifespan_context(closed),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        for token in ("", "None", "null"):
            r = await c.get("/v1/operator/runs/1", headers={"Authorization": f"Bearer {token}"})
            assert _is_401_problem(r)


@pytest.mark.anyio
async def test_cors_allows_the_allowlist_only(client: httpx.AsyncClient) -> None:
    allowed = await client.get("/v1/taxonomy", headers={"Origin": CITY})
    assert allowed.headers["access-control-allow-origin"] == CITY
    assert "access-control-allow-credentials" not in allowed.headers
    other = await client.get("/v1/taxonomy", headers={"Origin": "https://evil.example.com"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    lookalike = await client.get("/v1/taxonomy", headers={"Origin": CITY + ".evil.example.com"})
    assert "access-control-allow-origin" not in lookalike.headers

    def preflight(origin: str, method: str = "GET") -> dict[str, str]:
        return {"Origin": origin, "Access-Control-Request-Method": method}

    ok = await client.options("/v1/shops", headers=preflight(CITY))
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == CITY
    assert "GET" in ok.headers["access-control-allow-methods"]
    refused = await client.options("/v1/shops", headers=preflight("https://evil.example.com"))
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    # the API is read-only to browsers: a cross-site POST (say, to the operator upload) is not allowed
    post = await client.options("/v1/operator/uploads", headers=preflight(CITY, "POST"))
    assert post.status_code == 400


@pytest.mark.anyio
async def test_without_an_allowlist_no_origin_is_allowed(db_settings: DbSettings) -> None:
    app = create_app(app_settings(db_settings))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        r = await c.get("/v1/taxonomy", headers={"Origin": CITY})
        assert "access-control-allow-origin" not in r.headers
        pre = await c.options("/v1/shops", headers={"Origin": CITY, "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in pre.headers


@pytest.mark.anyio
async def test_page_and_widget_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    for path, ancestors in (("/", "'none'"), ("/widget-demo", "'none'"), ("/embed", f"'self' {CITY}")):
        r = await client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert f"frame-ancestors {ancestors}" in csp, (path, csp)
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "server" not in r.headers and "x-powered-by" not in r.headers
    for path in ("/widget.js", "/static/ui.js", "/v1/taxonomy", "/collections/shops/items?limit=1"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["x-content-type-options"] == "nosniff", path


def _parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


@pytest.mark.anyio
async def test_uploads_over_the_cap_are_413_and_leave_nothing(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    folder = tmp_path / "uploads"
    big = await client.post("/v1/operator/uploads?filename=a.csv", content=b"x" * (CAP + 1), headers=auth)
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    assert _parts(folder) == []

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked, counted as it arrives
        for _ in range(10):
            yield b"y" * 300

    chunked = await client.post("/v1/operator/uploads?filename=a.csv", content=chunks(), headers=auth)
    assert chunked.status_code == 413 and chunked.json()["status"] == 413
    assert _parts(folder) == []
    exact = await client.post("/v1/operator/uploads?filename=a.csv", content=b"z" * CAP, headers=auth)
    assert exact.status_code == 201
    assert _parts(folder) == [exact.json()["upload_id"]]


@pytest.fixture
def served(db_settings: DbSettings, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The app under a real uvicorn on loopback, for what only a real HTTP parser shows."""
    folder = tmp_path / "uploads"
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(_settings(db_settings, folder)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield port, folder
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _raw(port: int, head: str, body: bytes = b"", *, wait: float = 5) -> bytes:
    """Send bytes as they are (no client library to fix them up); read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


def _head(length: str | None = None, *, chunked: bool = False) -> str:
    lines = [
        "POST /v1/operator/uploads?filename=a.csv HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {TOKEN}",
        "Content-Type: text/csv",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    lines.append("Connection: close")
    return "\n".join(lines) + "\n"


def test_lying_content_lengths_cannot_get_past_the_cap(served: tuple[int, Path]) -> None:
    port, folder = served
    # claims to be huge: refused before the body is read
    started = time.monotonic()
    claimed = _raw(port, _head(str(10**12)), b"a,b\n")
    assert claimed.startswith(b"HTTP/1.1 413") and b"application/problem+json" in claimed
    assert time.monotonic() - started < 4
    # claims to be small but sends far more: only the declared bytes are the body, never over the cap
    small = _raw(port, _head("8"), b"name,a\n1" + b"x" * 50_000)
    assert small.startswith(b"HTTP/1.1 201")
    assert [p.stat().st_size for p in folder.iterdir()] == [8]
    for p in folder.iterdir():
        p.unlink()
    # chunked, over the cap, with no length at all
    chunk = b"x" * 600
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    over = _raw(port, _head(chunked=True), body)
    assert over.startswith(b"HTTP/1.1 413")
    assert _parts(folder) == []


@pytest.mark.anyio
async def test_the_public_engine_cannot_write(
    db_settings: DbSettings, engine: Engine, tmp_path: Path
) -> None:
    load_sample(engine)
    reader = reader_url(db_settings).replace("+psycopg", "")
    # through the read-only role, and through the main role too: every public session is read-only
    for settings in (
        _settings(db_settings, tmp_path, read_only_database_url=reader),
        _settings(db_settings, tmp_path),
    ):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            public: AsyncEngine = app.state.engine
            async with public.connect() as conn:
                assert (await conn.execute(text("SELECT count(*) FROM shops"))).scalar_one() > 0
            for statement in (
                "UPDATE shops SET name = 'x'",
                "DELETE FROM shop_changes",
                "CREATE TABLE t (i int)",
            ):
                async with public.connect() as conn:
                    with pytest.raises(DBAPIError, match=r"read-only|permission denied"):
                        await conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM shops WHERE name = 'x'")).scalar_one() == 0
    await asyncio.sleep(0)
