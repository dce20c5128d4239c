"""The ``kosodate`` command as a user runs it (subprocesses, real clusters)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from search.settings import DbSettings
from tests.conftest import SAMPLE, free_port

KOSODATE = [sys.executable, "-m", "kosodate"]


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KOSODATE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_db_up_status_down_with_the_embedded_cluster() -> None:
    root = Path(tempfile.mkdtemp(prefix="kosodate-cli-"))
    root.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env |= {"KOSODATE_DB_DATA_DIR": str(root / "data"), "KOSODATE_DB_PORT": str(free_port())}
    try:
        status = _run(["db", "status"], env)
        assert status.returncode == 3 and "not created" in status.stdout
        up = _run(["db", "up"], env)
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip().startswith("postgresql://postgres@127.0.0.1:")
        status = _run(["db", "status"], env)
        assert status.returncode == 0 and "embedded: running" in status.stdout
        again = _run(["db", "up"], env)  # idempotent
        assert again.returncode == 0, again.stderr
        migrate = _run(["db", "migrate"], env)
        assert migrate.returncode == 0, migrate.stderr
        down = _run(["db", "down"], env)
        assert down.returncode == 0, down.stderr
        status = _run(["db", "status"], env)
        assert status.returncode == 3 and "stopped" in status.stdout
    finally:
        _run(["db", "down"], env)
        shutil.rmtree(root, ignore_errors=True)


def test_ingest_command_prints_json_summary_and_is_idempotent(db_settings: DbSettings) -> None:
    assert db_settings.url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = db_settings.url.get_secret_value()
    args = ["ingest", str(SAMPLE / "sample_kanagawa.csv"), "--programme", "kanagawa", "--json"]
    first = _run(args, env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["rows"] == 23
    assert summary["loaded"] + summary["handed_off"] + summary["pending_geocode"] == 23
    assert summary["profile"] == "kosodate"
    second = json.loads(_run(args, env).stdout)
    assert (second["loaded"], second["updated"], second["unchanged"]) == (0, 0, 18)
    table = _run(args[:-1], env)
    assert "handed_off" in table.stdout and "rows" in table.stdout


def test_ingest_reports_a_clear_error_for_a_missing_file(db_settings: DbSettings) -> None:
    assert db_settings.url is not None
    env = dict(os.environ, KOSODATE_DATABASE_URL=db_settings.url.get_secret_value())
    done = _run(["ingest", "/no/such/file.csv", "--programme", "kanagawa"], env)
    assert done.returncode == 1
    assert "no such file" in done.stderr and "Traceback" not in done.stderr
