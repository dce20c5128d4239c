"""``kosodate ingest`` / ``rejections`` / ``lifecycle`` as an operator runs them, and a kill -9 mid-run."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from search.settings import DbSettings
from tests.conftest import Cluster, cli_env, fresh_database, shared_file

KOSODATE = [sys.executable, "-m", "kosodate"]


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KOSODATE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def test_ishikawa_2014_must_show(db_settings: DbSettings) -> None:
    """No profile given: the right one is chosen, the swapped points are repaired and flagged, the
    counts add up to the 1,585 data rows, and a second run reports everything unchanged."""
    env = cli_env(db_settings)
    path = str(shared_file("shops", "ishikawa_prepass_2014_raw_shared.csv"))
    table = _run(["ingest", path, "--programme", "ishikawa"], env)
    assert table.returncode == 0, table.stderr
    assert "ishikawa_prepass_2014_raw" in table.stderr and "detected from the header" in table.stderr
    assert "1585 of 1585 read" in table.stdout
    assert "flagged swapped_latlng: 3" in table.stdout
    again = json.loads(_run(["ingest", path, "--programme", "ishikawa", "--json"], env).stdout)
    assert set(again) >= {
        "rows", "loaded", "updated", "unchanged", "rejected", "handed_off", "pending_geocode", "withdrawn",
        "profile", "run_id",
    }  # fmt: skip
    assert (again["rows"], again["unchanged"], again["loaded"], again["updated"]) == (1585, 1585, 0, 0)
    assert again["profile"] == "ishikawa_prepass_2014_raw"


def test_rejections_export_as_csv_and_json(db_settings: DbSettings, tmp_path: Path) -> None:
    env = cli_env(db_settings)
    path = tmp_path / "bad.csv"
    path.write_text(
        "source_id,name,address,lat,lng,categories\n"
        "A,良い店,石川県金沢市1-1,36.5,136.6,\n"
        "B,,石川県金沢市1-2,36.5,136.6,\n"
        "C,悪い分類,石川県金沢市1-3,36.5,136.6,bargain\n",
        encoding="utf-8",
    )
    run = json.loads(_run(["ingest", str(path), "--programme", "ishikawa", "--json"], env).stdout)
    assert (run["loaded"], run["rejected"]) == (1, 2)
    out = _run(["rejections", "--run", str(run["run_id"]), "--format", "csv"], env)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["line"], r["field"]) for r in rows] == [("3", "name"), ("4", "categories")]
    assert json.loads(rows[1]["raw"])["categories"] == "bargain"
    as_json = json.loads(_run(["rejections", "--run", str(run["run_id"]), "--format", "json"], env).stdout)
    assert as_json[0]["reason"] == "the shop has no name"
    saved = tmp_path / "rejections.csv"
    _run(["rejections", "--run", str(run["run_id"]), "--output", str(saved)], env)
    assert saved.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Japanese
    missing = _run(["rejections", "--run", "999", "--format", "csv"], env)
    assert missing.returncode == 1 and "no ingest run 999" in missing.stderr


def test_lifecycle_apply_command(db_settings: DbSettings, tmp_path: Path) -> None:
    env = cli_env(db_settings)
    path = tmp_path / "r.csv"
    path.write_text(
        "source_id,name,address,lat,lng,closed_on\nA,店,愛知県名古屋市中区1,35.17,136.9,2099-01-01\n",
        encoding="utf-8",
    )
    assert _run(["ingest", str(path), "--programme", "aichi"], env).returncode == 0
    done = _run(["lifecycle", "apply", "--today", "2099-01-01", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"today": "2099-01-01", "closed": 1}


def _write_registry(path: Path, n: int, *, changed_every: int = 0) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source_id", "name", "name_kana", "address", "phone", "lat", "lng"])
        for i in range(n):
            perk = "改" if changed_every and i % changed_every == 0 else ""
            writer.writerow(
                [f"S{i:06d}", f"テスト店{i}{perk}", "てすとてん",
                 f"石川県金沢市広岡{i % 3 + 1}丁目{i % 50 + 1}-1",
                 f"076-2{i % 100:02d}-{i % 10000:04d}", f"{36.5 + (i % 1000) / 10000:.5f}",
                 f"{136.6 + (i % 777) / 10000:.5f}"]
            )  # fmt: skip


def _state(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT source_id, content_hash, status, name FROM shops ORDER BY source_id")
                )
            ]
    finally:
        engine.dispose()


@pytest.fixture
def second_db(pg_cluster: Cluster) -> Iterator[DbSettings]:
    with fresh_database(pg_cluster) as settings:
        yield settings


@pytest.mark.slow
def test_kill_9_mid_run_loses_nothing_and_a_rerun_completes(  # noqa: PLR0915 - one story, told in order
    db_settings: DbSettings, second_db: DbSettings, tmp_path: Path
) -> None:
    env = cli_env(db_settings)
    base, big = tmp_path / "base.csv", tmp_path / "big.csv"
    _write_registry(base, 2000)
    _write_registry(big, 20000, changed_every=7)  # base's shops (some changed) and 18,000 new ones
    assert _run(["ingest", str(base), "--programme", "ishikawa", "--json"], env).returncode == 0
    url = db_settings.sqlalchemy_url()
    before = _state(url)
    assert len(before) == 2000

    proc = subprocess.Popen(
        [*KOSODATE, "ingest", str(big), "--programme", "ishikawa", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 120
        running = False
        while time.monotonic() < deadline and proc.poll() is None:
            with engine.connect() as conn:
                running = bool(
                    conn.execute(text("SELECT count(*) FROM ingest_runs WHERE status = 'running'")).scalar()
                )
            if running:
                break
            time.sleep(0.05)
        assert running, "the run never started"
        time.sleep(1.0)  # well into reading and staging the 20,000 rows
        assert proc.poll() is None, "the run finished before it could be killed: make the file bigger"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        with engine.connect() as conn:
            status = conn.execute(
                text("SELECT status FROM ingest_runs ORDER BY id DESC LIMIT 1")
            ).scalar_one()
        assert status == "running"  # it never got to say anything else
    finally:
        engine.dispose()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    # The data as it was before the killed run, to the byte.
    assert _state(url) == before

    rerun = _run(["ingest", str(big), "--programme", "ishikawa", "--json"], env)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["rows"] == 20000 and summary["loaded"] == 18000
    assert summary["updated"] == len(range(0, 2000, 7)) and summary["rejected"] == 0
    # ... and ends where a clean run of the same two files ends: nothing lost, nothing doubled.
    clean = cli_env(second_db)
    assert _run(["ingest", str(base), "--programme", "ishikawa", "--json"], clean).returncode == 0
    assert _run(["ingest", str(big), "--programme", "ishikawa", "--json"], clean).returncode == 0
    assert _state(url) == _state(second_db.sqlalchemy_url())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            grouped = conn.execute(text("SELECT status, count(*) FROM ingest_runs GROUP BY status")).all()
            runs = {str(status): int(n) for status, n in grouped}
    finally:
        engine.dispose()
    assert runs == {"succeeded": 2, "abandoned": 1}
