"""Geocode cache, online geocoders in the pipeline, gazetteer download, programme areas (real PostGIS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from geo.gazetteer_files import read_municipalities, read_towns
from geo.settings import GeocoderSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.geostore import store_municipalities, store_towns
from search.settings import DbSettings
from tests.conftest import shared_file
from tests.geo.loopback import serve

KOSODATE = [sys.executable, "-m", "kosodate"]
HEADER = "source_id,name,address,lat,lng\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "shops.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _load_master(engine: Engine, prefectures: set[int]) -> None:
    with engine.begin() as conn:
        store_municipalities(
            conn, read_municipalities(shared_file("gazetteer", "municipalities_localgovjp.csv"))
        )
        store_towns(
            conn, read_towns(shared_file("gazetteer", "towns_geolonia.csv"), prefectures=prefectures), "test"
        )


def test_online_result_is_cached_so_no_address_is_geocoded_twice(engine: Engine, tmp_path: Path) -> None:
    hit = json.dumps(
        [{"geometry": {"coordinates": [139.48, 35.33]}, "properties": {"title": "神奈川県藤沢市南藤沢"}}],
        ensure_ascii=False,
    )
    path = _write(tmp_path, "G1,オンラインの店,神奈川県藤沢市南藤沢2-1,,\n")
    with serve(lambda _path, _q, _n: (200, hit)) as server:
        settings = GeocoderSettings(online="gsi", gsi_url=f"{server.url}/gsi", min_delay_s=0)
        first = ingest_file(engine, path, load_programme("kanagawa"), geocoding=settings)
        second = ingest_file(engine, path, load_programme("kanagawa"), geocoding=settings, mode="snapshot")
    assert (first.loaded, second.unchanged) == (1, 1)
    assert len(server.seen) == 1  # the second run read the cache
    with engine.connect() as conn:
        shop = conn.execute(text("SELECT geocode_precision, geocode_source, geocoded_at FROM shops")).one()
        cached = conn.execute(text("SELECT address_key, precision, geocoder FROM geocode_cache")).one()
    assert (shop.geocode_precision, shop.geocode_source) == ("town", "gsi")
    assert shop.geocoded_at is not None
    assert cached.precision == "town" and cached.geocoder == "gsi"
    assert cached.address_key == "神奈川県藤沢市南藤沢2-1"


def test_municipality_only_is_stored_and_reported_as_such(engine: Engine, tmp_path: Path) -> None:
    _load_master(engine, {14})
    path = _write(tmp_path, "M1,町名のない店,神奈川県藤沢市どこにもない町99,,\n")
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    assert summary.loaded == 1
    assert summary.location_flags.get("municipality_precision_only") == 1
    with engine.connect() as conn:
        row = conn.execute(text("SELECT geocode_precision, municipality_code, lg_code FROM shops")).one()
    assert tuple(row) == ("municipality", "14205", "142051")


def test_aichi_includes_nagoya_and_rejects_other_prefectures(engine: Engine, tmp_path: Path) -> None:
    _load_master(engine, {23})
    path = _write(
        tmp_path,
        "A1,栄の店,愛知県名古屋市中区栄3-4-5,,\nA2,豊田の店,豊田市元城町1-1,,\nA3,岐阜の店,岐阜県岐阜市金町1-1,,\n",
    )
    summary = ingest_file(engine, path, load_programme("aichi"))
    assert (summary.loaded, summary.rejected, summary.handed_off) == (2, 1, 0)
    assert "岐阜県" in summary.rejections[0].reason
    with engine.connect() as conn:
        codes = {r[0]: r[1] for r in conn.execute(text("SELECT source_id, municipality_code FROM shops"))}
    assert codes == {"A1": "23106", "A2": "23211"}


def test_yokohama_point_without_address_city_is_handed_off_by_point(engine: Engine, tmp_path: Path) -> None:
    """No municipality in the file or readable from the address: the point decides (PostGIS boundaries)."""
    from geo.boundaries import merge_areas, read_n03  # noqa: PLC0415
    from search.geostore import store_boundaries  # noqa: PLC0415

    with engine.begin() as conn:
        store_boundaries(
            conn, merge_areas(read_n03(shared_file("boundaries", "N03-21_14_210101_s0010.geojson"))), "t"
        )
    path = _write(tmp_path, "P1,関内の店,港町1-1,35.4437,139.6380\n")
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    assert summary.handed_off == 1
    with engine.connect() as conn:
        row = conn.execute(text("SELECT municipality_code, evidence FROM handoffs")).one()
    assert row.municipality_code == "14104"
    assert row.evidence["matched"] == "point-in-polygon"


def test_gazetteer_download_over_http(db_settings: DbSettings, engine: Engine, tmp_path: Path) -> None:
    index = {"神奈川県": ["藤沢市", "足柄下郡箱根町"], "愛知県": ["豊田市"]}
    towns = {
        "/ja/神奈川県/藤沢市.json": [{"town": "南藤沢", "koaza": "", "lat": 35.337, "lng": 139.487}],
        "/ja/神奈川県/足柄下郡箱根町.json": [{"town": "湯本", "koaza": "", "lat": 35.232, "lng": 139.104}],
    }

    def respond(path: str, q: object, n: int) -> tuple[int, str]:
        if path == "/ja.json":
            return 200, json.dumps(index, ensure_ascii=False)
        if path in towns:
            return 200, json.dumps(towns[path], ensure_ascii=False)
        return 404, "{}"

    assert db_settings.url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = db_settings.url.get_secret_value()
    master = shared_file("gazetteer", "municipalities_localgovjp.csv")
    with serve(respond) as server:
        env["KOSODATE_GEOCODER_GAZETTEER_URL"] = f"{server.url}/ja"
        run = [*KOSODATE, "gazetteer", "load", str(master)]
        assert subprocess.run(run, env=env, capture_output=True, timeout=120, check=False).returncode == 0
        out = tmp_path / "towns.csv"
        done = subprocess.run(
            [*KOSODATE, "gazetteer", "download", "--pref", "14", "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "downloaded 2 towns" in done.stdout
        assert {s.path for s in server.seen} == {"/ja.json", *towns}
        assert all(s.headers["User-Agent"].startswith("kosodate/") for s in server.seen)
        missing = subprocess.run(
            [*KOSODATE, "gazetteer", "download", "--pref", "23"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr and "Traceback" not in missing.stderr
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT municipality_code, town FROM gazetteer_towns ORDER BY 1")).all()
    assert [tuple(r) for r in rows] == [("14205", "南藤沢"), ("14382", "湯本")]


def test_file_code_that_disagrees_with_the_address_is_flagged(engine: Engine, tmp_path: Path) -> None:
    _load_master(engine, {14})
    path = tmp_path / "coded.csv"
    path.write_text(
        "source_id,name,address,lat,lng,municipality_code\nC1,コードの店,神奈川県藤沢市南藤沢2-1,,,14201\n",
        encoding="utf-8",
    )
    summary = ingest_file(engine, path, load_programme("kanagawa"))
    assert summary.location_flags.get("municipality_code_disagrees_with_address") == 1
    assert summary.location_flags.get("address_municipality:14205") == 1
