"""No secret leaves the server: the operator token and the database passwords never reach a log line,
a response or an export, whatever happens (start-up, an authorised upload and run, failed logins, errors).

The server is ``kosodate serve`` in a subprocess, configured from the environment as in production, with
every logger at DEBUG (the drivers', the pool's and uvicorn's included) and everything it prints captured.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from api.settings import ApiSettings, AppSettings
from search.settings import DbSettings
from tests.api.public_fixtures import load_sample
from tests.conftest import PROJECT, SAMPLE, free_port

TOKEN = "op-9f3c1a7e5b2d4c6e8a0b1c2d3e4f5a6b"  # noqa: S105 - a made-up secret to look for
HANDOFF = "ho-1b2c3d4e5f60718293a4b5c6d7e8f901"
DB_PASSWORD = "pw-db-5e6f7a8b9c0d"  # noqa: S105 - a made-up secret to look for
READER_PASSWORD = "pw-reader-0d9c8b7a6f5e"  # noqa: S105 - a made-up secret to look for
SECRETS = (TOKEN, HANDOFF, DB_PASSWORD, READER_PASSWORD)

# Everything at DEBUG on the root logger, then the real CLI entry point (which configures uvicorn on top).
LAUNCH = (
    "import logging, sys; "
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr); "
    "[logging.getLogger(n).setLevel(logging.DEBUG) for n in ('sqlalchemy', 'psycopg', 'asyncio', 'httpx')]; "
    "from kosodate.cli import main; main(['serve'])"
)


def _with_password(db: DbSettings, user: str, password: str, name: str | None = None) -> str:
    rest = db.sqlalchemy_url().split("@", 1)[1]
    if name is not None:
        rest = rest.rsplit("/", 1)[0] + f"/{name}"
    return f"postgresql://{user}:{password}@{rest}"


@contextmanager
def serve(env_extra: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env |= env_extra | {"KOSODATE_API_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    assert proc.poll() is None, log.read_text(errors="replace")
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.slow
def test_no_secret_in_logs_responses_or_exports(db_settings: DbSettings, tmp_path: Path) -> None:
    engine = create_engine(db_settings.sqlalchemy_url())
    load_sample(engine)
    engine.dispose()
    env = {
        "KOSODATE_DATABASE_URL": _with_password(db_settings, "postgres", DB_PASSWORD),
        "KOSODATE_API_READ_ONLY_DATABASE_URL": _with_password(
            db_settings, "kosodate_reader", READER_PASSWORD
        ),
        "KOSODATE_API_OPERATOR_TOKEN": TOKEN,
        "KOSODATE_API_HANDOFF_TOKEN": HANDOFF,
        "KOSODATE_API_UPLOAD_DIR": str(tmp_path / "uploads"),
        "KOSODATE_API_INGEST_COMMAND": f'["{sys.executable}", "-m", "kosodate"]',
    }
    seen: list[str] = []  # every response: status line, headers and body
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def keep(r: httpx.Response) -> httpx.Response:
        seen.append(f"{r.status_code} {r.headers!r}\n{r.text}")
        return r

    good_log = tmp_path / "good.log"
    with serve(env, good_log) as base, httpx.Client(base_url=base, timeout=120) as c:
        for path in ("/", "/openapi.json", "/readyz", "/healthz", "/v1/exports", "/collections"):
            assert keep(c.get(path)).status_code == 200, path
        csv_export = keep(c.get("/v1/exports/shops.csv"))
        geojson_export = keep(c.get("/v1/exports/shops.geojson"))
        assert csv_export.status_code == geojson_export.status_code == 200
        assert csv_export.text.count("\n") > 10
        for bad in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {TOKEN[:-1]}"}):
            assert keep(c.get("/v1/operator/runs/1", headers=bad)).status_code == 401
        up = keep(
            c.post(
                "/v1/operator/uploads?filename=aichi.csv",
                content=(SAMPLE / "sample_aichi.csv").read_bytes(),
                headers=auth,
            )
        )
        assert up.status_code == 201, up.text
        run = keep(
            c.post(
                "/v1/operator/runs",
                json={"upload_id": up.json()["upload_id"], "programme": "aichi"},
                headers=auth,
            )
        )
        assert run.status_code == 201, run.text
        assert keep(c.get(f"/v1/operator/runs/{run.json()['run_id']}", headers=auth)).status_code == 200
        assert (
            keep(c.get("/v1/handoffs?to=hamahug", headers={"Authorization": f"Bearer {HANDOFF}"})).status_code
            == 200
        )
        assert keep(c.get("/collections/nope")).status_code == 404

    # The same server with both databases unreachable: reads fail (503), a run fails (its error is shown).
    broken = env | {
        "KOSODATE_DATABASE_URL": _with_password(db_settings, "postgres", DB_PASSWORD, name="no_such_db"),
        "KOSODATE_API_READ_ONLY_DATABASE_URL": _with_password(
            db_settings, "kosodate_reader", READER_PASSWORD, name="no_such_db"
        ),
    }
    bad_log = tmp_path / "bad.log"
    with serve(broken, bad_log) as base, httpx.Client(base_url=base, timeout=120) as c:
        assert keep(c.get("/collections/shops/items")).status_code == 503
        assert keep(c.get("/readyz")).status_code == 503
        assert keep(c.get("/v1/exports/shops.csv")).status_code == 503
        up = keep(c.post("/v1/operator/uploads?filename=a.csv", content=b"name,address\nx,y\n", headers=auth))
        run = keep(
            c.post(
                "/v1/operator/runs",
                json={"upload_id": up.json()["upload_id"], "programme": "aichi"},
                headers=auth,
            )
        )
        assert run.status_code == 422, run.text

    logs = good_log.read_text(errors="replace") + bad_log.read_text(errors="replace")
    # the capture saw the driver's debug lines, uvicorn's access lines and the error warnings
    assert "DEBUG:sqlalchemy.pool" in logs and '"POST /v1/operator/uploads?filename=aichi.csv' in logs
    assert "WARNING:kosodate.api:DatabaseUnavailable" in logs
    assert _leaks(logs) == [], "a secret reached the log"
    for response in seen:
        assert _leaks(response) == [], response[:300]
        assert "'server'" not in response.split("\n", 1)[0], "the Server header names the software"


def test_settings_dumps_and_display_urls_hide_secrets(db_settings: DbSettings) -> None:
    settings = AppSettings(
        db=DbSettings(url=_with_password(db_settings, "postgres", DB_PASSWORD)),
        api=ApiSettings(
            operator_token=TOKEN,
            handoff_token=HANDOFF,
            read_only_database_url=_with_password(db_settings, "kosodate_reader", READER_PASSWORD),
        ),
    )
    for dump in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert _leaks(dump) == [], dump[:200]
    assert _leaks(settings.db.display_url()) == []
    assert _leaks(settings.public_db().display_url()) == []


def test_the_export_command_prints_no_secret(db_settings: DbSettings, tmp_path: Path) -> None:
    engine = create_engine(db_settings.sqlalchemy_url())
    load_sample(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    out = tmp_path / "shops.csv"
    for url in (
        _with_password(db_settings, "postgres", DB_PASSWORD),
        _with_password(db_settings, "postgres", DB_PASSWORD, name="no_such_db"),  # and when it fails
    ):
        done = subprocess.run(
            [sys.executable, "-m", "kosodate", "export", "--format", "csv", "--out", str(out)],
            env=env | {"KOSODATE_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert _leaks(done.stdout + done.stderr) == [], done.stderr[-500:]
    assert done.returncode != 0
    assert out.exists() and _leaks(out.read_text(encoding="utf-8-sig")) == []
