"""The read-only role the public API uses, and ``kosodate export`` as a user runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from search.settings import DbSettings
from tests.api.public_fixtures import app_settings, client_for, load_sample

READER = "kosodate_reader"


def reader_url(db: DbSettings) -> str:
    url = db.sqlalchemy_url()
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{READER}@{rest.split('@', 1)[1]}"


def test_the_read_only_role_reads_but_cannot_write(db_settings: DbSettings, engine: Engine) -> None:
    load_sample(engine)
    ro = create_engine(reader_url(db_settings))
    try:
        with ro.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM shops")).scalar_one() > 0
        for statement in (
            "UPDATE shops SET name = 'x'",
            "DELETE FROM shop_changes",
            "DELETE FROM municipalities",
            "CREATE TABLE sneaky (id int)",
        ):
            with ro.connect() as conn, pytest.raises(DBAPIError):
                conn.execute(text(statement))
        with ro.connect() as conn, pytest.raises(DBAPIError):
            # even with the session's read-only default turned off, the grants stop it
            conn.execute(text("SET default_transaction_read_only = off"))
            conn.execute(text("BEGIN READ WRITE"))
            conn.execute(text("UPDATE shops SET name = 'x'"))
    finally:
        ro.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def ro_client(db_settings: DbSettings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    load_sample(engine)
    url = reader_url(db_settings).replace("+psycopg", "")
    async for c in client_for(app_settings(db_settings, read_only_database_url=url)):
        yield c


@pytest.mark.anyio
async def test_the_public_api_serves_through_the_read_only_url(ro_client: httpx.AsyncClient) -> None:
    items = await ro_client.get("/collections/shops/items")
    assert items.status_code == 200 and items.json()["features"]
    assert (await ro_client.get("/v1/exports/shops.csv")).status_code == 200
    assert (await ro_client.get("/v1/changes")).status_code == 200
    who = await ro_client.get("/readyz")
    assert who.status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_kosodate_export_writes_the_file_atomically(
    db_settings: DbSettings, engine: Engine, tmp_path: Path, fmt: str
) -> None:
    load_sample(engine)
    out = tmp_path / f"shops.{fmt}"
    out.write_text("previous version", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = db_settings.sqlalchemy_url().replace("+psycopg", "")
    done = subprocess.run(
        [sys.executable, "-m", "kosodate", "export", "--format", fmt, "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temp file left behind
    with engine.connect() as conn:
        live = conn.execute(
            text("SELECT count(*) FROM shops WHERE status = 'active' AND location IS NOT NULL")
        ).scalar_one()
    if fmt == "csv":
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert len(rows) == live + 1
    else:
        body = json.loads(out.read_text(encoding="utf-8"))
        assert len(body["features"]) == live and body["license"]
    bad = subprocess.run(
        [sys.executable, "-m", "kosodate", "export", "--format", fmt, "--out", str(out)],
        capture_output=True,
        text=True,
        env={**env, "KOSODATE_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
        timeout=120,
        check=False,
    )
    assert bad.returncode != 0
    assert out.read_bytes()[:3] in (b"\xef\xbb\xbf", b'{"t')  # the previous good file is still there
