"""Geocoding and jurisdiction through the real pipeline and CLI: gazetteer, boundaries, HamaHug hand-off."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from search.settings import DbSettings
from tests.conftest import PROJECT, shared_file

FIXTURE = PROJECT / "tests" / "data" / "kanagawa_jurisdiction.csv"
KOSODATE = [sys.executable, "-m", "kosodate"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KOSODATE, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture
def cli_env(db_settings: DbSettings) -> dict[str, str]:
    assert db_settings.url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = db_settings.url.get_secret_value()
    return env


def _load_kanagawa_geodata(env: dict[str, str]) -> None:
    master = shared_file("gazetteer", "municipalities_localgovjp.csv")
    towns = shared_file("gazetteer", "towns_geolonia.csv")
    n03 = shared_file("boundaries", "N03-21_14_210101_s0010.geojson")
    loaded = _run(["gazetteer", "load", str(towns), str(master), "--pref", "14"], env)
    assert loaded.returncode == 0, loaded.stderr
    assert "1916 municipalities" in loaded.stdout
    assert "4892 geolonia rows" in loaded.stdout  # Kanagawa has 4,950 rows; 58 come without a point
    bounds = _run(["boundaries", "load", str(n03)], env)
    assert bounds.returncode == 0, bounds.stderr
    assert "58 municipalities" in bounds.stdout


@pytest.mark.slow
def test_kanagawa_file_loads_fujisawa_and_yokosuka_and_hands_yokohama_to_hamahug(
    cli_env: dict[str, str], engine: Engine
) -> None:
    _load_kanagawa_geodata(cli_env)
    done = _run(["ingest", str(FIXTURE), "--programme", "kanagawa", "--json"], cli_env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == 7
    assert (summary["loaded"], summary["handed_off"], summary["rejected"], summary["pending_geocode"]) == (
        5, 1, 1, 0,
    )  # fmt: skip
    with engine.connect() as conn:
        rows = {
            r.source_id: r
            for r in conn.execute(
                text(
                    "SELECT source_id, municipality_code, lg_code, geocode_precision, geocode_source, "
                    "location_flags, ST_Y(location::geometry) AS lat FROM shops"
                )
            )
        }
        rejected = conn.execute(text("SELECT reason FROM rejected_rows")).scalars().all()
    assert set(rows) == {"KJ-001", "KJ-002", "KJ-003", "KJ-004", "KJ-007"}
    assert {k: r.municipality_code for k, r in rows.items()} == {
        "KJ-001": "14205", "KJ-002": "14205", "KJ-003": "14201", "KJ-004": "14201", "KJ-007": "14205",
    }  # fmt: skip
    assert rows["KJ-001"].lg_code == "142051"
    # Source points are kept; addresses without one are placed at town level by the gazetteer.
    assert (rows["KJ-001"].geocode_precision, rows["KJ-001"].geocode_source) == ("source", "source")
    assert (rows["KJ-002"].geocode_precision, rows["KJ-002"].geocode_source) == ("town", "gazetteer")
    assert rows["KJ-003"].geocode_precision == "town"
    # A 藤沢 address whose point lies in 横須賀 is not silently trusted.
    assert "municipality_mismatch" in rows["KJ-007"].location_flags
    assert "point_municipality:14201" in rows["KJ-007"].location_flags
    assert rows["KJ-007"].geocode_precision == "town"  # replaced by the address's town point
    assert any("東京都" in r and "outside the programme's area" in r for r in rejected)

    exported = _run(["handoff", "export", "--to", "hamahug", "--format", "csv"], cli_env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("\ufeff")
    lines = list(csv.DictReader(io.StringIO(exported.stdout.lstrip("\ufeff"))))
    assert len(lines) == 1
    assert lines[0]["source_id"] == "KJ-005"
    assert lines[0]["municipality_code"] == "14104"
    assert lines[0]["lg_code"] == "141046"
    assert "HamaHug" in lines[0]["reason"]
    assert lines[0]["matched"].startswith("address")
    assert lines[0]["lat"]  # placed by the gazetteer (山下町) even though the file had no point
    as_json = json.loads(_run(["handoff", "export", "--to", "hamahug", "--format", "json"], cli_env).stdout)
    assert as_json["count"] == 1 and as_json["handoffs"][0]["evidence"]["municipality_code"] == "14104"


def test_without_geodata_the_foundation_behaviour_stays(engine: Engine, tmp_path: Path) -> None:
    """Nothing loaded: source points are used, the rest waits; Yokohama is still handed off by text."""
    from ingest.pipeline import ingest_file  # noqa: PLC0415
    from ingest.programmes import load_programme  # noqa: PLC0415

    summary = ingest_file(engine, FIXTURE, load_programme("kanagawa"))
    assert summary.handed_off == 1
    assert summary.pending_geocode == 2  # KJ-002 and KJ-003 have no point and no gazetteer
    assert summary.accounted == summary.rows
