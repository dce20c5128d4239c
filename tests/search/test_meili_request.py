"""How a request becomes Meilisearch parameters (pure translation; the server suite is in the contract)."""

from __future__ import annotations

from datetime import time

from search.backends.meili import filters, params, query_text
from search.contract import BBox, Facet, SearchRequest, Sort


def test_filters_cover_place_and_family() -> None:
    request = SearchRequest(
        lat=35.3, lng=139.4, radius_m=1500, municipality="142051", categories=("discount",),
        card="aichi", multi_child=False, card_required=False, open_at=time(10, 30),
    )  # fmt: skip
    assert filters(request) == [
        "_geoRadius(35.3, 139.4, 1500)",
        'municipality_code = "14205"',
        'categories = "discount"',
        'card_needed = false OR ((cards = "aichi" OR nationwide = true) AND multi_child = false)',
        "card_needed = false",
        "open_from <= 630 AND open_until > 630",
    ]


def test_bbox_is_top_right_then_bottom_left() -> None:
    request = SearchRequest(bbox=BBox(139.4, 35.3, 139.5, 35.4))
    assert filters(request) == ["_geoBoundingBox([35.4, 139.5], [35.3, 139.4])"]


def test_sorting_and_facets() -> None:
    near = params(SearchRequest(q="すし", lat=35.0, lng=139.0, radius_m=100, sort=Sort.DISTANCE))
    assert near["sort"] == ["_geoPoint(35.0, 139.0):asc", "id:asc"]
    relevant = params(
        SearchRequest(q="すし", lat=35.0, lng=139.0, radius_m=100, facets=(Facet.MUNICIPALITY,))
    )
    assert relevant["sort"] == ["_geoPoint(35.0, 139.0):asc"] and relevant["facets"] == ["municipality_code"]


def test_query_words_are_folded_like_the_keys() -> None:
    assert query_text(SearchRequest(q="ｽｼﾛｰ SUSHIROO")) == "すしろー sushiro"
