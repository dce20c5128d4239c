"""`kosodate serve --workers N`: several processes serve the same API, each built from the environment."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from search.settings import DbSettings
from tests.conftest import PROJECT, cli_env, free_port

pytestmark = pytest.mark.db


def test_serve_with_two_workers_answers_items(db_settings: DbSettings) -> None:
    port = free_port()
    env = cli_env(db_settings) | {"KOSODATE_API_RATE_LIMIT_PER_MINUTE": "0"}
    cmd = [sys.executable, "-m", "kosodate", "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        cmd, env=env, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        ok = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/collections/shops/items?limit=1", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert ok is not None, "the server did not come up"
        assert ok.status_code == 200 and ok.json()["type"] == "FeatureCollection"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert out.count("Started server process") == 2, out
