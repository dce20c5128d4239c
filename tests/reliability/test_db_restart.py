"""The database restarts while the API serves: 503 problem+json, never a hang or a 500, and recovery
without restarting the API. Uses its own cluster so stopping it disturbs no other test."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from api import create_app
from api.settings import AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.db import sync_engine
from search.embedded import EmbeddedCluster
from search.migrate import upgrade
from search.settings import DbSettings
from tests.conftest import SAMPLE, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.db, pytest.mark.fault]
NEAR = "/v1/shops?lat=35.3387&lng=139.4871&radius_m=3000"
ITEMS = "/collections/shops/items?bbox=139.45,35.30,139.52,35.36"  # its own pool (search.db.ReadPool)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def own_cluster() -> Iterator[tuple[EmbeddedCluster, DbSettings]]:
    root = Path(tempfile.mkdtemp(prefix="kosodate-fault-"))
    root.chmod(0o755)
    settings = DbSettings(data_dir=root, port=free_port(), name="faults", statement_timeout_ms=3000)
    cluster = EmbeddedCluster(settings, fast=True)
    cluster.start()
    cluster.create_database()
    upgrade(settings.sqlalchemy_url())
    engine = sync_engine(settings)
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    engine.dispose()
    try:
        yield cluster, settings
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_restart_gives_503_then_recovers(own_cluster: tuple[EmbeddedCluster, DbSettings]) -> None:
    cluster, settings = own_cluster
    app = create_app(AppSettings(db=settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as client:
            ok = await client.get(NEAR)
            assert ok.status_code == 200 and len(ok.json()["hits"]) == 6
            items = await client.get(ITEMS)
            assert items.status_code == 200 and items.json()["numberReturned"] == 6

            cluster.stop()
            for path in (NEAR, ITEMS, ITEMS, "/healthz", "/v1/shops/1"):
                started = time.monotonic()
                down = await client.get(path)
                elapsed = time.monotonic() - started
                assert down.status_code == 503, (path, down.text)
                assert down.headers["content-type"] == "application/problem+json"
                assert down.headers.get("retry-after")
                assert elapsed < 10, f"{path} took {elapsed:.1f}s while the database was down"

            cluster.start()
            deadline = time.monotonic() + 20
            status = 0
            while time.monotonic() < deadline:
                status = (await client.get(NEAR)).status_code
                if status == 200:
                    break
                await anyio.sleep(0.2)
            assert status == 200, "the API did not recover after the database came back"
            again = await client.get(NEAR)
            assert again.status_code == 200 and len(again.json()["hits"]) == 6
            for _ in range(3):  # every pooled connection that died was dropped, not handed out again
                items = await client.get(ITEMS)
                assert items.status_code == 200 and items.json()["numberReturned"] == 6
