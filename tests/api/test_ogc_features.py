"""OGC API - Features - Part 1, grouped by the requirement classes we claim: core, geojson, html, oas30."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from search.settings import DbSettings
from tests.api.public_fixtures import app_settings, client_for, load_sample

pytestmark = pytest.mark.anyio

FUJISAWA_BBOX = "139.45,35.30,139.52,35.36"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(db_settings: DbSettings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    load_sample(engine)
    settings = app_settings(
        db_settings, cors_origins=["https://www.pref.kanagawa.jp"], max_items_limit=50, default_items_limit=10
    )
    async for c in client_for(settings):
        yield c


def rels(body: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for link in body["links"]:
        out.setdefault(link["rel"], []).append(link)
    return out


# --- core: /req/core/root-op, root-success -------------------------------------------------------


async def test_landing_page_links_to_api_conformance_and_data(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    links = rels(r.json())
    for rel in ("self", "service-desc", "conformance", "data"):
        assert rel in links, rel
    assert (await client.get(links["service-desc"][0]["href"])).status_code == 200


async def test_plain_browser_root_is_left_to_the_page_and_f_html_gives_landing(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "conformance" not in page.text  # the family page, not the OGC landing
    landing = await client.get("/?f=html")
    assert landing.status_code == 200 and "/conformance" in landing.text


# --- core: /req/core/conformance-op, conformance-success ---------------------------------------


async def test_conformance_declares_the_classes_we_claim(client: httpx.AsyncClient) -> None:
    body = (await client.get("/conformance")).json()
    assert CORE in body["conformsTo"]
    assert {c.rsplit("/", 1)[-1] for c in body["conformsTo"]} == {"core", "geojson", "html", "oas30"}


# --- core: /req/core/fc-md-op, fc-md-success, fc-md-links, fc-md-items, sfc-md-op ---------------


async def test_collections_describe_shops_with_items_link_and_extent(client: httpx.AsyncClient) -> None:
    body = (await client.get("/collections")).json()
    assert "self" in rels(body)
    (shops,) = body["collections"]
    assert shops["id"] == "shops" and shops["itemType"] == "feature"
    assert any(link["type"] == "application/geo+json" for link in rels(shops)["items"])
    minx, miny, maxx, maxy = shops["extent"]["spatial"]["bbox"][0]
    assert 136 < minx < maxx < 140 and 34 < miny < maxy < 36
    one = (await client.get("/collections/shops")).json()
    assert one["id"] == "shops"
    missing = await client.get("/collections/nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


# --- core: /req/core/fc-op, fc-bbox-*, fc-limit-*, fc-response, fc-links, fc-timeStamp, numbers ---


async def test_items_in_a_fujisawa_bbox_are_geojson_inside_the_box(client: httpx.AsyncClient) -> None:
    r = await client.get("/collections/shops/items", params={"bbox": FUJISAWA_BBOX})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and "timeStamp" in body
    assert body["numberReturned"] == len(body["features"]) > 0
    assert body["numberMatched"] == body["numberReturned"]
    for feat in body["features"]:
        lon, lat = feat["geometry"]["coordinates"]
        assert 139.45 <= lon <= 139.52 and 35.30 <= lat <= 35.36  # lon/lat order
        assert feat["properties"]["municipality_code"] == "14205"
        assert "crs" not in feat and "crs" not in body


async def test_limit_and_next_prev_links_walk_every_item_once(client: httpx.AsyncClient) -> None:
    all_ids = [f["id"] for f in (await client.get("/collections/shops/items?limit=50")).json()["features"]]
    assert all_ids == sorted(all_ids) and len(all_ids) > 10
    seen: list[int] = []
    url: str | None = "/collections/shops/items?limit=4"
    pages = 0
    while url and pages < 20:
        body = (await client.get(url)).json()
        assert body["numberReturned"] <= 4
        seen += [f["id"] for f in body["features"]]
        nxt = rels(body).get("next")
        if pages > 0:
            assert "prev" in rels(body)
        url = nxt[0]["href"] if nxt else None
        pages += 1
    assert seen == all_ids


async def test_next_link_keeps_every_filter_and_moves_only_the_offset(client: httpx.AsyncClient) -> None:
    query = (("programme", "kanagawa"), ("category", "discount"), ("category", "discount"), ("limit", "2"))
    body = (await client.get("/collections/shops/items", params=query)).json()
    links = rels(body)
    assert links["self"][0]["href"].startswith("http://test/collections/shops/items?")
    assert links["collection"][0]["href"] == "http://test/collections/shops"
    nxt = httpx.URL(links["next"][0]["href"])
    assert sorted(nxt.params.multi_items()) == sorted([*query, ("offset", "2"), ("f", "json")])
    second = (await client.get(str(nxt))).json()
    prev = httpx.URL(rels(second)["prev"][0]["href"])
    assert sorted(prev.params.multi_items()) == sorted([*query, ("offset", "0"), ("f", "json")])
    alternate = httpx.URL(rels(second)["alternate"][0]["href"])
    assert alternate.params["f"] == "html" and alternate.params["offset"] == "2"
    assert {f["id"] for f in body["features"]}.isdisjoint(f["id"] for f in second["features"])


async def test_limit_above_the_maximum_returns_the_maximum(
    client: httpx.AsyncClient, db_settings: DbSettings
) -> None:
    async for small in client_for(app_settings(db_settings, max_items_limit=5, default_items_limit=5)):
        body = (await small.get("/collections/shops/items", params={"limit": 100_000})).json()
        assert body["numberReturned"] == 5 and "next" in rels(body)
    three_d = await client.get("/collections/shops/items", params={"bbox": "139.45,35.30,0,139.52,35.36,100"})
    assert three_d.status_code == 200 and three_d.json()["features"]


async def test_property_filters(client: httpx.AsyncClient) -> None:
    async def ids(**params: Any) -> set[int]:
        r = await client.get("/collections/shops/items", params={"limit": 50, **params})
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    every = await ids()
    aichi = await ids(programme="aichi")
    kanagawa = await ids(programme="kanagawa")
    assert aichi and kanagawa and aichi | kanagawa == every and not aichi & kanagawa
    body = (await client.get("/collections/shops/items", params={"category": "facility", "limit": 50})).json()
    assert body["features"] and all("facility" in f["properties"]["categories"] for f in body["features"])
    nursing = (await client.get("/collections/shops/items", params={"amenity": "nursing_room"})).json()
    assert nursing["features"]
    assert all("nursing_room" in f["properties"]["amenities"] for f in nursing["features"])
    fujisawa = await ids(municipality="14205")
    assert fujisawa and fujisawa < kanagawa


async def test_pages_are_the_same_whether_the_matches_fit_under_the_count_cap_or_not(
    client: httpx.AsyncClient, db_settings: DbSettings
) -> None:
    # The page is cut from the counted ids when they are all of the matches, and from a second
    # ordered scan when there are more than the cap: both must give the same pages in the same order.
    params: dict[str, Any] = {"bbox": FUJISAWA_BBOX, "limit": 3}
    counted = (await client.get("/collections/shops/items", params=params)).json()
    assert counted["numberMatched"] > 4
    async for capped in client_for(app_settings(db_settings, count_cap=2, default_items_limit=3)):
        for offset in (0, 3):
            full = (await client.get("/collections/shops/items", params={**params, "offset": offset})).json()
            over = (await capped.get("/collections/shops/items", params={**params, "offset": offset})).json()
            assert [f["id"] for f in over["features"]] == [f["id"] for f in full["features"]]
            assert len(over["features"]) == 3 and "numberMatched" not in over
            assert "next" in rels(over)
        filtered = {**params, "category": "discount", "limit": 50}
        full_ids = [
            f["id"]
            for f in (await client.get("/collections/shops/items", params=filtered)).json()["features"]
        ]
        over_ids = [
            f["id"]
            for f in (await capped.get("/collections/shops/items", params=filtered)).json()["features"]
        ]
        assert over_ids == full_ids and len(full_ids) > 2


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "139,35,138,36"},
        {"bbox": "139,95,140,96"},
        {"bbox": "100,10,160,60"},
        {"limit": 0},
        {"limit": "ten"},
        {"bbox": "139,35,nan,36"},
        {"colour": "red"},
        {"category": "cheap"},
        {"municipality": "abc"},
        {"offset": -1},
        {"limit": "1.5"},
        {"limit": "1_0"},
        {"limit": "٣"},  # a digit, but not an ASCII one
        {"offset": "9" * 30},
        {"municipality": "14205\n"},
        {"amenity": ["nursing_room"] * 11},
        {"category": ["discount"] * 4},
        {"f": "xml"},
    ],
)
async def test_bad_item_queries_are_problem_json(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    r = await client.get("/collections/shops/items", params=params)
    assert r.status_code == 400, r.text  # /req/core/query-param-invalid and -unknown
    assert r.headers["content-type"] == "application/problem+json"


# --- core: /req/core/f-op, f-success ---------------------------------------------------------------


async def test_one_feature_by_id_and_404_for_unknown(client: httpx.AsyncClient) -> None:
    first = (await client.get("/collections/shops/items?limit=1")).json()["features"][0]
    r = await client.get(f"/collections/shops/items/{first['id']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feat = r.json()
    assert feat["type"] == "Feature" and feat["id"] == first["id"]
    assert {"self", "collection"} <= set(rels(feat))
    missing = await client.get("/collections/shops/items/99999999")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_queryables_list_the_filters(client: httpx.AsyncClient) -> None:
    body = (await client.get("/collections/shops/queryables")).json()
    assert set(body["properties"]) == {"category", "amenity", "programme", "municipality"}


# --- geojson: /req/geojson/content: coordinates have at most 7 decimals -------------------------


async def test_coordinates_have_at_most_seven_decimals(client: httpx.AsyncClient) -> None:
    r = await client.get("/collections/shops/items", params={"limit": 50})
    for feat in r.json()["features"]:
        for value in feat["geometry"]["coordinates"]:
            assert len(repr(value).partition(".")[2]) <= 7


# --- html: /req/html/definition, content ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/?f=html", "/conformance", "/collections", "/collections/shops", "/collections/shops/items"]
)
async def test_every_resource_has_an_html_view(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text


# --- a map page on another site loads items directly (CORS + GeoJSON) ------------------------------


async def test_a_leaflet_page_on_an_allowed_site_can_fetch_items(client: httpx.AsyncClient) -> None:
    origin = "https://www.pref.kanagawa.jp"
    r = await client.get(
        "/collections/shops/items", params={"bbox": FUJISAWA_BBOX}, headers={"Origin": origin}
    )
    assert r.headers["access-control-allow-origin"] == origin
    assert r.headers["cache-control"].startswith("public")
    assert r.headers["x-request-id"]
    # Leaflet's L.geoJSON needs exactly this shape.
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert all(f["geometry"]["type"] == "Point" for f in body["features"])
    other = await client.get("/collections/shops/items", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
