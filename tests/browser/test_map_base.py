"""The map's base layer: our municipal boundaries from /tiles when the server has them, else plain."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine, text

from tests.browser.conftest import LiveServer, screenshot

# A square around Fujisawa station with a square hole, as PostGIS encodes it into a tile.
TILE = (14, 14540, 6473)  # the zoom-14 tile that holds Fujisawa station
POLYGON = (
    "POLYGON((139.47 35.33,139.50 35.33,139.50 35.35,139.47 35.35,139.47 35.33),"
    "(139.48 35.335,139.49 35.335,139.49 35.34,139.48 35.34,139.48 35.335))"
)


def _postgis_tile(server: LiveServer) -> tuple[bytes, Any]:
    engine = create_engine(server.db.sqlalchemy_url())
    try:
        with engine.connect() as conn:
            params = {"z": TILE[0], "x": TILE[1], "y": TILE[2], "wkt": POLYGON}
            geom = """ST_AsMVTGeom(ST_Transform(ST_GeomFromText(:wkt, 4326), 3857),
                                    ST_TileEnvelope(:z, :x, :y), 4096, 0, false)"""
            tile = conn.execute(
                text(f"SELECT ST_AsMVT(q, 'boundaries') FROM (SELECT 'x' AS code, {geom} AS geom) q"),
                params,
            ).scalar_one()
            rings = conn.execute(
                text(
                    f"""SELECT ST_NRings(g), ST_NPoints(g), ST_XMin(g), ST_YMax(g)
                        FROM (SELECT {geom} AS g) s"""
                ),
                params,
            ).one()
    finally:
        engine.dispose()
    return bytes(tile), rings


def test_tile_reader_decodes_postgis_polygons(live_server: LiveServer, page: Page) -> None:
    tile, (n_rings, n_points, xmin, ymax) = _postgis_tile(live_server)
    page.goto(live_server.base + "/")
    page.wait_for_selector(".k-item")
    decoded = page.evaluate(
        "(bytes) => window.Kosodate.tileRings(new Uint8Array(bytes), 'boundaries')", list(tile)
    )
    assert decoded["extent"] == 4096
    rings = decoded["rings"]
    assert len(rings) == n_rings == 2
    # MVT drops each ring's closing point; PostGIS counts it.
    assert sum(len(r) for r in rings) == n_points - n_rings
    xs = [p[0] for r in rings for p in r]
    ys = [p[1] for r in rings for p in r]
    assert min(xs) == xmin
    # Tile y grows downwards, geometry y upwards: PostGIS's ST_AsMVTGeom already flipped it.
    assert max(ys) == ymax
    assert (
        page.evaluate("(b) => window.Kosodate.tileRings(new Uint8Array(b), 'shops').rings.length", list(tile))
        == 0
    )


def test_base_layer_follows_what_the_server_offers(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.base + "/")
    page.wait_for_selector(".leaflet-marker-icon")
    has_tiles = any(path.startswith("/tiles/") for path in _paths(live_server))
    if has_tiles:
        page.wait_for_selector(".k-map[data-base='boundaries'] canvas")
        screenshot(page, "page-boundaries")
    else:
        page.wait_for_timeout(300)
        assert page.locator(".k-map").get_attribute("data-base") is None
        assert page.locator(".leaflet-tile").count() == 0  # plain background, no tiles fetched
        pytest.skip("this build serves no /tiles (issue 7's vector tiles): plain background checked only")


def _paths(server: LiveServer) -> list[str]:
    """The paths the server documents (included routers do not all show in ``app.routes``)."""
    from api import create_app  # noqa: PLC0415
    from api.settings import AppSettings  # noqa: PLC0415

    return list(create_app(AppSettings(db=server.db)).openapi()["paths"])
