"""Must-show behaviour over HTTP on real PostGIS: amenity/category filters, the family card filter,
tag reasons in the detail, and the taxonomy labels."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from api import create_app
from api.settings import ApiSettings, AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.settings import DbSettings
from tests.conftest import SAMPLE, shared_file

pytestmark = pytest.mark.anyio
KANAZAWA: dict[str, Any] = {"lat": 36.5781, "lng": 136.6480}  # 金沢駅


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(db_settings: DbSettings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    ingest_file(engine, SAMPLE / "sample_aichi.csv", load_programme("aichi"))
    ingest_file(engine, shared_file("shops", "ishikawa_prepass_2017_shared.csv"), load_programme("ishikawa"))
    app = create_app(AppSettings(db=db_settings, api=ApiSettings(max_limit=500)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def _feed_space_ids() -> dict[str, bool]:
    with shared_file("shops", "ishikawa_prepass_2017_shared.csv").open(encoding="utf-8") as f:
        return {f"{r['company_id']}-{r['shop_id']}": r["is_feed_space"] == "true" for r in csv.DictReader(f)}


async def test_facility_nursing_room_returns_only_shops_with_one(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    params = {**KANAZAWA, "radius_m": 3000, "category": "facility", "amenity": "nursing_room", "limit": 500}
    r = await client.get("/v1/shops", params=params)
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert hits
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, source_id FROM shops")).all()
        source_ids: dict[int, str] = {int(i): str(s) for i, s in rows}
        near = conn.execute(
            text(
                "SELECT source_id FROM shops WHERE ST_DWithin(location, kosodate_point(:lat, :lng), 3000)"
                " AND status = 'active'"
            ),
            KANAZAWA,
        ).scalars()
        near_ids = set(near)
    flags = _feed_space_ids()
    got = {source_ids[h["id"]] for h in hits}
    # exactly the nearby shops whose registry row says it has a nursing room (授乳室)
    assert got == {sid for sid in near_ids if flags.get(sid)}
    for h in hits:
        assert "nursing_room" in h["amenities"] and "facility" in h["categories"]


async def test_family_card_filter_keeps_perks_that_apply(client: httpx.AsyncClient) -> None:
    async def names(**params: Any) -> set[str]:
        r = await client.get("/v1/shops", params={"programme": "aichi", "limit": 100, **params})
        assert r.status_code == 200
        return {h["name"] for h in r.json()["hits"]}

    everything = await names()
    assert len(everything) == 10
    multi = await names(card="aichi", multi_child="true")
    single = await names(card="aichi")
    assert multi == everything  # an Aichi multi-child family: every perk applies
    assert single == everything - {"勝川ドラッグストア"}  # its 特典 is for 多子世帯 only
    # Gifu's card is accepted in Aichi (mutual acceptance)
    assert await names(card="gifu") == single
    # a Kanagawa card holder: only the shops with an 応援 (for every family, card or not)
    assert await names(card="kanagawa", multi_child="true") == {
        "栄キッズカフェ ひよこ", "覚王山こども写真館", "豊田ファミリーレストラン さくら",
        "豊橋こども広場 ゆうゆう", "金山ファミリー眼科",
    }  # fmt: skip


async def test_ishikawa_three_children_perks_need_a_multi_child_family(client: httpx.AsyncClient) -> None:
    base = {**KANAZAWA, "radius_m": 1500, "limit": 500, "programme": "ishikawa"}
    one = {
        h["id"] for h in (await client.get("/v1/shops", params={**base, "card": "ishikawa"})).json()["hits"]
    }
    many = {
        h["id"]
        for h in (
            await client.get("/v1/shops", params={**base, "card": "ishikawa", "multi_child": "true"})
        ).json()["hits"]
    }
    assert len(many) < 500
    assert one < many  # shops with only a 3-children perk drop out for a smaller family


async def test_detail_shows_every_tag_with_its_reason(client: httpx.AsyncClient) -> None:
    hit = (await client.get("/v1/shops", params={"q": "勝川ドラッグストア"})).json()["hits"][0]
    detail = (await client.get(f"/v1/shops/{hit['id']}")).json()
    assert detail["multi_child"] is True and detail["card_required"] is True
    assert detail["cards"] == ["aichi", "nagoya", "gifu", "mie"]
    for tag in detail["tags"]:
        assert tag["why"].strip(), tag
    rules = {t["value"]: t["why"] for t in detail["tags"] if t["kind"] == "card_rule"}
    assert "多子世帯" in rules["multi_child_only"]
    assert "特典" in rules["card_required"]


async def test_taxonomy_labels(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/taxonomy")).json()
    cats = {c["key"]: c["ja"] for c in body["categories"]}
    assert cats == {"discount": "お得", "consideration": "こころ配り", "facility": "設備"}
    amenities = {a["key"]: a for a in body["amenities"]}
    assert amenities["nursing_room"]["ja"] == "授乳室" and amenities["nursing_room"]["category"] == "facility"
    assert amenities["baby_station"]["ja"] == "赤ちゃんの駅"
