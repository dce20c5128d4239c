"""Tiles, exports, the change feed, hand-off and operator endpoints, in-process against a real PostGIS."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Engine, text

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.exports import COLUMNS
from search.migrate import code_heads
from search.settings import DbSettings
from tests.api.public_fixtures import app_settings, client_for, load_boundaries, load_sample
from tests.conftest import SAMPLE

pytestmark = pytest.mark.anyio
HANDOFF_TOKEN = "handoff-secret-token"  # noqa: S105 - test value
OPERATOR_TOKEN = "operator-secret-token"  # noqa: S105 - test value


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(db_settings: DbSettings, engine: Engine, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    load_sample(engine)
    load_boundaries(engine)
    settings = app_settings(
        db_settings,
        handoff_token=HANDOFF_TOKEN,
        operator_token=OPERATOR_TOKEN,
        upload_dir=tmp_path / "uploads",
        max_upload_bytes=100_000,
        ingest_command=[sys.executable, "-m", "kosodate"],
    )
    async for c in client_for(settings):
        yield c


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# --- vector tiles -----------------------------------------------------------------------------------


async def test_a_fujisawa_tile_decodes_to_shop_features_and_boundaries(client: httpx.AsyncClient) -> None:
    x, y = tile_of(139.4871, 35.3387, 14)
    r = await client.get(f"/tiles/14/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(r.content)
    names = {f["properties"]["name"] for f in tile["shops"]["features"]}
    assert "カフェ ミルクティー 藤沢店" in names
    assert all(f["properties"]["municipality_code"] == "14205" for f in tile["shops"]["features"])
    assert all(f["geometry"]["type"] == "Point" for f in tile["shops"]["features"])
    if "boundaries" not in tile:
        pytest.skip("shared boundaries file absent; the shop layer was checked")
    assert "14205" in {f["properties"]["code"] for f in tile["boundaries"]["features"]}


async def test_low_zoom_tiles_cluster_and_filters_apply(client: httpx.AsyncClient) -> None:
    x, y = tile_of(139.4871, 35.3387, 5)
    tile = mapbox_vector_tile.decode((await client.get(f"/tiles/5/{x}/{y}.mvt")).content)
    clusters = tile["shops"]["features"]
    total = sum(f["properties"]["point_count"] for f in clusters)
    assert len(clusters) < total  # shops close together became one point with a count
    x, y = tile_of(139.4871, 35.3387, 14)
    filtered = await client.get(f"/tiles/14/{x}/{y}.mvt", params={"amenity": "nursing_room"})
    feats = mapbox_vector_tile.decode(filtered.content)["shops"]["features"]
    assert feats and all("nursing_room" in f["properties"]["amenities"] for f in feats)
    aichi_only = await client.get(f"/tiles/14/{x}/{y}.mvt", params={"programme": "aichi"})
    assert "shops" not in mapbox_vector_tile.decode(aichi_only.content)


@pytest.mark.parametrize("path", ["/tiles/3/8/0.mvt", "/tiles/30/0/0.mvt", "/tiles/-1/0/0.mvt"])
async def test_impossible_tiles_are_problems(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code in (400, 422) and r.headers["content-type"] == "application/problem+json"


# --- exports ------------------------------------------------------------------------------------------


async def test_csv_opens_as_excel_would(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/exports/shops.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS and len(set(rows[0])) == len(rows[0])
    by_name = {row[2]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    milk = by_name["カフェ ミルクティー 藤沢店"]
    assert milk["全国地方公共団体コード"] == "142051"
    assert milk["名称_カナ"] == "カフェ ミルクティー フジサワテン"
    assert milk["建物名等(方書)"] == "湘南ビル2F"
    assert set(milk["特典区分"].split(";")) == {"お得", "こころ配り", "設備"}
    assert float(milk["緯度"]) == pytest.approx(35.3372) and float(milk["経度"]) == pytest.approx(139.4858)
    assert milk["事業名"] and milk["位置精度"]
    quoted = next(v for v in by_name.values() if "," in v["特典内容"])  # "3,000円" survives quoting
    assert "3,000円" in quoted["特典内容"]
    assert '"' in raw.decode("utf-8-sig")
    assert r.headers["etag"] and r.headers["last-modified"]
    assert 'rel="license"' in r.headers["link"]


async def test_csv_cells_cannot_smuggle_formulas(client: httpx.AsyncClient, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE shops SET perk_text = '=HYPERLINK(\"http://x\")' WHERE source_id = 'KSMP-001'")
        )
    raw = (await client.get("/v1/exports/shops.csv")).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in raw and ",=HYPERLINK" not in raw


async def test_geojson_export_is_valid_rfc7946_with_licence(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/exports/shops.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and "crs" not in body
    assert body["license"] == "CC BY 4.0" and "国土交通省" in body["attribution"]
    csv_rows = (await client.get("/v1/exports/shops.csv")).content.decode("utf-8-sig").count("\r\n") - 1
    assert len(body["features"]) == csv_rows > 0
    for feat in body["features"]:
        assert feat["type"] == "Feature" and feat["geometry"]["type"] == "Point"
        lon, lat = feat["geometry"]["coordinates"]
        assert 122 < lon < 154 and 20 < lat < 46  # lon/lat order, inside Japan
        assert isinstance(feat["properties"], dict)


async def test_conditional_get_and_a_new_etag_after_a_change(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    first = await client.get("/v1/exports/shops.csv")
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    again = await client.get("/v1/exports/shops.csv", headers={"If-None-Match": tag})
    assert again.status_code == 304 and not again.content and again.headers["etag"] == tag
    since = await client.get("/v1/exports/shops.csv", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    other = await client.get("/v1/exports/shops.geojson", headers={"If-None-Match": tag})
    assert other.status_code == 200  # a different representation has its own tag
    _withdraw_one(engine)
    changed = await client.get("/v1/exports/shops.csv", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


def _withdraw_one(engine: Engine, source_id: str = "KSMP-004") -> None:
    """Withdraw a shop the way the pipeline does: a snapshot file that no longer lists it."""
    src = (SAMPLE / "sample_kanagawa.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in src if not line.startswith(source_id + ",")]
    assert len(kept) == len(src) - 1
    path = Path(engine.url.database or "x").with_suffix(".csv")
    tmp = Path("/tmp") / f"kosodate-{path.name}"  # noqa: S108 - a per-test database name
    tmp.write_text("".join(kept), encoding="utf-8")
    try:
        summary = ingest_file(engine, tmp, load_programme("kanagawa"), mode="snapshot")
        assert summary.withdrawn == 1
    finally:
        tmp.unlink()


# --- change feed -------------------------------------------------------------------------------------


async def test_changes_show_a_withdrawn_shop_as_a_tombstone(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    start = (await client.get("/v1/changes", params={"limit": 1000})).json()
    assert start["changes"] and {c["change"] for c in start["changes"]} == {"added"}
    assert all(c["feature"]["type"] == "Feature" for c in start["changes"])
    cursor = start["next_cursor"]
    _withdraw_one(engine)
    later = (await client.get("/v1/changes", params={"cursor": cursor})).json()
    (removed,) = later["changes"]
    assert removed["change"] == "removed" and removed["tombstone"] is True and removed["feature"] is None
    assert removed["status"] == "withdrawn"
    nothing = (await client.get("/v1/changes", params={"cursor": later["next_cursor"]})).json()
    assert nothing["changes"] == []
    by_time = (await client.get("/v1/changes", params={"since": start["changes"][-1]["changed_at"]})).json()
    assert [c["id"] for c in by_time["changes"]] == [removed["id"]]


async def test_change_feed_pages_with_cursors(client: httpx.AsyncClient) -> None:
    every = (await client.get("/v1/changes", params={"limit": 1000})).json()["changes"]
    seen, cursor = [], None
    for _ in range(50):
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/changes", params=params)).json()
        if not page["changes"]:
            break
        seen += page["changes"]
        cursor = page["next_cursor"]
    assert [c["cursor"] for c in seen] == [c["cursor"] for c in every]
    bad = await client.get("/v1/changes", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"


# --- hand-off ----------------------------------------------------------------------------------------


async def test_handoff_needs_the_token(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {HANDOFF_TOKEN}"}):
        r = await client.get("/v1/handoffs", params={"to": "hamahug"}, headers=headers)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert r.headers["cache-control"] == "no-store"
    ok = await client.get(
        "/v1/handoffs", params={"to": "hamahug"}, headers={"Authorization": f"Bearer {HANDOFF_TOKEN}"}
    )
    assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
    records = ok.json()["handoffs"]
    assert records and all(h["to_programme"] == "hamahug" for h in records)
    assert all(h["municipality_code"].startswith("141") for h in records)
    operator_token = await client.get(
        "/v1/handoffs", params={"to": "hamahug"}, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert operator_token.status_code == 401


# --- operator -----------------------------------------------------------------------------------------


async def test_operator_uploads_runs_and_reads_the_report(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    data = (SAMPLE / "sample_aichi.csv").read_bytes()
    assert (await client.post("/v1/operator/uploads?filename=a.csv", content=data)).status_code == 401
    up = await client.post("/v1/operator/uploads?filename=a.csv", content=data, headers=auth)
    assert up.status_code == 201, up.text
    run = await client.post(
        "/v1/operator/runs", json={"upload_id": up.json()["upload_id"], "programme": "aichi"}, headers=auth
    )
    assert run.status_code == 201, run.text
    summary = run.json()
    assert summary["rows"] > 0 and summary["unchanged"] + summary["rejected"] + summary["handed_off"] > 0
    report = await client.get(f"/v1/operator/runs/{summary['run_id']}", headers=auth)
    assert report.status_code == 200 and report.json()["rows"] == summary["rows"]
    rejections = await client.get(f"/v1/operator/runs/{summary['run_id']}/rejections", headers=auth)
    assert rejections.status_code == 200
    assert len(rejections.json()["rejections"]) == summary["rejected"]
    missing = await client.get("/v1/operator/runs/999999", headers=auth)
    assert missing.status_code == 404


async def test_operator_upload_is_capped_and_bad_runs_are_problems(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    big = await client.post("/v1/operator/uploads?filename=a.csv", content=b"x" * 200_000, headers=auth)
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    exe = await client.post("/v1/operator/uploads?filename=a.exe", content=b"x", headers=auth)
    assert exe.status_code == 400
    junk = await client.post(
        "/v1/operator/uploads?filename=j.csv", content="名前\n壊れた".encode(), headers=auth
    )
    run = await client.post(
        "/v1/operator/runs", json={"upload_id": junk.json()["upload_id"], "programme": "aichi"}, headers=auth
    )
    assert run.status_code == 422 and run.json()["detail"]


# --- behaviour -----------------------------------------------------------------------------------------


async def test_readyz_request_ids_and_cache_headers(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["migrations"]) == code_heads()
    r = await client.get("/conformance", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert r.headers["cache-control"] == "public, max-age=60"
    spoofed = await client.get("/conformance", headers={"X-Request-ID": "bad id\nx"})
    assert spoofed.headers["x-request-id"] != "bad id\nx"
    err = await client.get("/collections/nope")
    assert err.headers["cache-control"] == "no-store"


async def test_openapi_lists_what_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/",
        "/conformance",
        "/collections",
        "/collections/{collection_id}/items",
        "/collections/{collection_id}/items/{feature_id}",
        "/tiles/{z}/{x}/{y}.mvt",
        "/v1/exports/shops.csv",
        "/v1/changes",
        "/v1/handoffs",
        "/readyz",
    ):
        assert path in spec["paths"], path
    assert json.dumps(spec)  # serialisable


async def test_gazetteer_credit_appears_only_when_the_gazetteer_placed_a_shop(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    before = (await client.get("/v1/exports")).json()
    assert "Geolonia" not in before["attribution"] and "国土交通省" in before["attribution"]
    tag = (await client.get("/v1/exports/shops.geojson")).headers["etag"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE shops SET geocode_source = 'gazetteer' WHERE source_id = 'KSMP-001'"))
    after = (await client.get("/v1/exports")).json()
    assert "Geolonia" in after["attribution"]
    r = await client.get("/v1/exports/shops.geojson", headers={"If-None-Match": tag})
    assert r.status_code == 200 and "Geolonia" in r.json()["attribution"]
