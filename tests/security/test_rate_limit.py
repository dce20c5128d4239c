"""Per-client rate limiting: the bucket arithmetic, who the client is, and the real app's 429s."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from api import create_app
from api.ratelimit import ClientAddress, TokenBuckets
from search.settings import DbSettings
from tests.api.public_fixtures import app_settings, load_sample


def test_a_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    buckets = TokenBuckets(per_minute=60, burst=3, max_clients=10)
    assert [buckets.take("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = buckets.take("a", 100.0)
    assert wait == pytest.approx(1.0)  # one token a second
    assert buckets.take("b", 100.0) == 0.0  # another client has its own bucket
    assert buckets.take("a", 100.5) == pytest.approx(0.5)  # half a token back, half to go
    assert buckets.take("a", 101.0) == 0.0
    assert buckets.take("a", 1000.0) == 0.0  # a long pause refills only up to the burst
    assert [buckets.take("a", 1000.0) for _ in range(3)][-1] > 0


def test_the_number_of_tracked_clients_is_capped() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, max_clients=100)
    for i in range(10_000):
        buckets.take(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(buckets) == 100
    # the most recent clients are still tracked (their bucket is empty), the oldest were forgotten
    assert buckets.take("10.0.39.15", 0.0) > 0
    assert buckets.take("10.0.0.0", 0.0) == 0.0


def _scope(peer: str, forwarded: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 5000), "headers": headers}


def test_x_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    none_trusted = ClientAddress([])
    assert none_trusted.of(_scope("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    proxies = ClientAddress(["10.0.0.0/8", "192.0.2.7"])
    assert proxies.of(_scope("203.0.113.9", "198.51.100.1")) == "203.0.113.9"  # not a proxy: header ignored
    assert proxies.of(_scope("192.0.2.7", "198.51.100.1")) == "198.51.100.1"
    # the right-most untrusted hop is the client; what the client wrote further left is ignored
    assert proxies.of(_scope("10.1.2.3", "1.1.1.1, 198.51.100.1, 10.9.9.9")) == "198.51.100.1"
    assert proxies.of(_scope("10.1.2.3", "not-an-address")) == "10.1.2.3"
    assert proxies.of(_scope("10.1.2.3")) == "10.1.2.3"
    # entries with a port, as some proxies write them
    assert proxies.of(_scope("10.1.2.3", "198.51.100.1:41234")) == "198.51.100.1"
    assert proxies.of(_scope("10.1.2.3", "[2001:db8:5::1]:443")) == "2001:db8:5::/64"


def test_ipv6_clients_are_grouped_by_their_64() -> None:
    clients = ClientAddress([])
    a = clients.of(_scope("2001:db8:1:2:aaaa::1"))
    b = clients.of(_scope("2001:db8:1:2:bbbb::2"))
    c = clients.of(_scope("2001:db8:1:3::1"))
    assert a == b == "2001:db8:1:2::/64"
    assert c != a


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def limited(db_settings: DbSettings, engine: Engine) -> AsyncIterator[FastAPI]:
    load_sample(engine)
    settings = app_settings(
        db_settings, rate_limit_per_minute=120, rate_limit_burst=5, cors_origins=["https://city.example.jp"]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.anyio
async def test_over_the_limit_is_a_429_problem_and_others_are_unaffected(limited: FastAPI) -> None:
    async with _client(limited, "198.51.100.20") as noisy, _client(limited, "198.51.100.21") as quiet:
        statuses = [(await noisy.get("/collections/shops/items?limit=1")).status_code for _ in range(5)]
        assert statuses == [200] * 5
        over = await noisy.get("/v1/shops", headers={"Origin": "https://city.example.jp"})
        assert over.status_code == 429
        assert over.headers["content-type"] == "application/problem+json"
        body = over.json()
        assert (
            body["status"] == 429 and body["title"] == "Too Many Requests" and body["instance"] == "/v1/shops"
        )
        retry = int(over.headers["retry-after"])
        assert retry == 1  # 2 tokens a second: the next one is under a second away
        assert over.headers["ratelimit-policy"] == '"per-client";q=120;w=60'
        assert over.headers["cache-control"] == "no-store"
        assert over.headers["x-request-id"]
        # a browser on an allowlisted site can read the 429 (CORS headers are on it)
        assert over.headers["access-control-allow-origin"] == "https://city.example.jp"
        # another address is not affected, and probes are never limited
        assert (await quiet.get("/collections/shops/items?limit=1")).status_code == 200
        assert (await noisy.get("/healthz")).status_code == 200
        assert (await noisy.get("/readyz")).status_code == 200
        # the token-protected endpoints count too (a limit slows token guessing)
        assert (await noisy.get("/v1/operator/runs/1")).status_code == 429
        await asyncio.sleep(retry)
        assert (await noisy.get("/collections/shops/items?limit=1")).status_code == 200


@pytest.mark.anyio
async def test_zero_turns_the_limit_off(db_settings: DbSettings) -> None:
    app = create_app(app_settings(db_settings, rate_limit_per_minute=0, rate_limit_burst=1))
    async with app.router.lifespan_context(app), _client(app, "198.51.100.30") as c:
        statuses = {(await c.get("/v1/taxonomy")).status_code for _ in range(20)}
    assert statuses == {200}
    assert "429" not in app.openapi()["paths"]["/v1/taxonomy"]["get"]["responses"]


def test_a_bad_trusted_proxy_entry_is_refused_at_start() -> None:
    from api.settings import ApiSettings  # noqa: PLC0415

    with pytest.raises(ValueError, match="trusted_proxies"):
        ApiSettings(trusted_proxies=["10.0.0.0/8", "proxy.example"])


@pytest.mark.anyio
async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(
    db_settings: DbSettings,
) -> None:
    settings = app_settings(
        db_settings, rate_limit_per_minute=60, rate_limit_burst=2, trusted_proxies=["192.0.2.10"]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with _client(app, "192.0.2.10") as proxy:

            async def via_proxy(client: str) -> int:
                r = await proxy.get("/v1/taxonomy", headers={"X-Forwarded-For": client})
                return r.status_code

            assert [await via_proxy("203.0.113.1") for _ in range(3)] == [200, 200, 429]
            assert await via_proxy("203.0.113.2") == 200  # another family behind the same proxy
        async with _client(app, "198.51.100.50") as direct:
            # not a trusted proxy: a made-up X-Forwarded-For does not buy a fresh bucket
            statuses = [
                (await direct.get("/v1/taxonomy", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
                for i in range(10, 13)
            ]
            assert statuses == [200, 200, 429]
