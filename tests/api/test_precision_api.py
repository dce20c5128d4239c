"""The API reports how each shop was placed, truthfully: source, town (gazetteer) or municipality only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from api import create_app
from api.settings import ApiSettings, AppSettings
from geo.gazetteer_files import read_municipalities, read_towns
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.geostore import store_municipalities, store_towns
from search.settings import DbSettings
from tests.conftest import shared_file

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_precision_in_list_and_detail(db_settings: DbSettings, engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        store_municipalities(
            conn, read_municipalities(shared_file("gazetteer", "municipalities_localgovjp.csv"))
        )
        store_towns(conn, read_towns(shared_file("gazetteer", "towns_geolonia.csv"), prefectures={14}), "t")
    path = tmp_path / "shops.csv"
    path.write_text(
        "source_id,name,address,lat,lng\n"
        "S,ソースの店,神奈川県藤沢市南藤沢2-1,35.3387,139.4875\n"
        "T,町の店,神奈川県藤沢市鵠沼石上1-7-2,,\n"
        "M,市だけの店,神奈川県藤沢市知らない町1,,\n",
        encoding="utf-8",
    )
    ingest_file(engine, path, load_programme("kanagawa"))
    app = create_app(AppSettings(db=db_settings, api=ApiSettings()))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            r = await client.get("/v1/shops", params={"lat": 35.3387, "lng": 139.4875, "radius_m": 5000})
            assert r.status_code == 200
            by_name = {h["name"]: h for h in r.json()["hits"]}
            assert {n: h["precision"] for n, h in by_name.items()} == {
                "ソースの店": "source", "町の店": "town", "市だけの店": "municipality",
            }  # fmt: skip
            detail = (await client.get(f"/v1/shops/{by_name['町の店']['id']}")).json()
    assert detail["precision"] == "town"
    assert detail["geocode_source"] == "gazetteer"
    assert detail["geocoded_at"] is not None
