"""Radius search on real PostGIS, checked against geodesic distances computed by geopy."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic
from sqlalchemy import Engine

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.queries import ShopQuery, search_params, shop_search
from tests.conftest import SAMPLE, shared_file

FUJISAWA = (35.3387, 139.4871)


def _run(engine: Engine, query: ShopQuery) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(shop_search(query), search_params(query))]


@pytest.fixture
def ishikawa(engine: Engine) -> Engine:
    ingest_file(engine, shared_file("shops", "ishikawa_prepass_2017_shared.csv"), load_programme("ishikawa"))
    return engine


def test_radius_matches_independent_geodesic_distances(ishikawa: Engine) -> None:
    centre = (36.5780, 136.6480)  # Kanazawa station
    radius = 2000.0
    hits = _run(ishikawa, ShopQuery(lat=centre[0], lng=centre[1], radius_m=radius, limit=1000))
    assert len(hits) > 50
    for hit in hits:
        expected = geodesic(centre, (hit["lat"], hit["lng"])).meters
        assert abs(float(hit["distance_m"]) - expected) < 0.5, hit  # type: ignore[arg-type]
        assert expected <= radius + 0.5
    distances = [float(h["distance_m"]) for h in hits]  # type: ignore[arg-type]
    assert distances == sorted(distances)


def test_radius_returns_every_shop_inside_it(ishikawa: Engine) -> None:
    centre = (36.5780, 136.6480)
    radius = 1500.0
    everything = _run(ishikawa, ShopQuery(lat=centre[0], lng=centre[1], radius_m=50_000, limit=5000))
    inside = {h["id"] for h in everything if geodesic(centre, (h["lat"], h["lng"])).meters <= radius - 0.5}
    found = {
        h["id"] for h in _run(ishikawa, ShopQuery(lat=centre[0], lng=centre[1], radius_m=radius, limit=5000))
    }
    assert inside <= found
    assert len(found - inside) <= 2  # only shops within half a metre of the edge may differ


def test_limit_keeps_the_nearest(ishikawa: Engine) -> None:
    centre = (36.5610, 136.6560)
    all_hits = _run(ishikawa, ShopQuery(lat=centre[0], lng=centre[1], radius_m=5000, limit=5000))
    top = _run(ishikawa, ShopQuery(lat=centre[0], lng=centre[1], radius_m=5000, limit=10))
    assert [h["id"] for h in top] == [h["id"] for h in all_hits[:10]]


def test_sample_near_fujisawa_nearest_first_with_filters(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    hits = _run(engine, ShopQuery(lat=FUJISAWA[0], lng=FUJISAWA[1], radius_m=3000, limit=50))
    names = [h["name"] for h in hits]
    assert names[0] == "ベーカリー こむぎの森"
    assert len(hits) == 6
    assert all(h["programme"] == "kanagawa" for h in hits)
    facility = _run(
        engine, ShopQuery(lat=FUJISAWA[0], lng=FUJISAWA[1], radius_m=3000, categories=("facility",), limit=50)
    )
    assert facility and all("facility" in h["categories"] for h in facility)  # type: ignore[operator]
    assert len(facility) < len(hits)


def test_keyword_matches_however_kana_is_typed(engine: Engine) -> None:
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    for typed in ("はまなす", "ハマナス", "ﾊﾏﾅｽ"):
        hits = _run(engine, ShopQuery(q=typed, limit=5))
        assert [h["name"] for h in hits] == ["スーパーマーケット ハマナス 藤沢本町店"], typed
    # a LIKE wildcard typed by a user is a literal character, not a pattern
    assert _run(engine, ShopQuery(q="%", limit=5)) == []
