"""Keyword-free searches compiled once per shape (search/compiled.py) run exactly what the builders build.

For many random requests of every shape, the cached SQL is the text the builders compile for that very
request, and the values sent are the values the builders bind. A value that the mapping failed to carry
(frozen at the shape's first request) would show up here as a mismatch on a later request.
"""

from __future__ import annotations

import random
from datetime import time
from typing import Any

import pytest
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from search import compiled
from search.contract import BBox, Facet, SearchRequest, Sort
from search.queries import count_and_facets, search_params, shop_search

CATEGORIES = ("discount", "consideration", "facility")
AMENITIES = ("nursing_room", "diaper_changing", "hot_water", "kids_space")


def random_request(rng: random.Random) -> SearchRequest:
    point = rng.random() < 0.6
    lat, lng = (rng.uniform(30, 45), rng.uniform(128, 145)) if point else (None, None)
    radius = round(rng.uniform(50, 20_000), 1) if point and rng.random() < 0.8 else None
    bbox = None
    if radius is None and rng.random() < 0.6:
        west, south = rng.uniform(130, 140), rng.uniform(30, 40)
        bbox = BBox(west, south, west + rng.uniform(0.001, 1), south + rng.uniform(0.001, 1))
    card = rng.choice([None, "aichi", "kanagawa", "ishikawa"])
    return SearchRequest(
        q=rng.choice([None, "", "   ", "\u3000"]),
        lat=lat,
        lng=lng,
        radius_m=radius,
        bbox=bbox,
        municipality=rng.choice([None, "14205", "231002", "17201"]),
        categories=tuple(rng.sample(CATEGORIES, rng.randint(0, 2))),
        amenities=tuple(rng.sample(AMENITIES, rng.randint(0, 2))),
        programme=rng.choice([None, "aichi", "kanagawa"]),
        card=card,
        multi_child=bool(card) and rng.random() < 0.5,
        card_required=rng.choice([None, True, False]),
        open_at=rng.choice([None, time(rng.randint(0, 23), rng.randint(0, 59))]),
        sort=Sort.DISTANCE if point and rng.random() < 0.3 else Sort.RELEVANCE,
        facets=tuple(rng.sample(list(Facet), rng.randint(0, 2))),
        limit=rng.randint(1, 50),
        offset=rng.randint(0, 300),
    )


def built(statement: Any, request: SearchRequest) -> tuple[str, dict[str, Any]]:
    done = statement.compile(dialect=PGDialect_psycopg())  # type: ignore[no-untyped-call]
    return str(done), {**done.params, **search_params(request)}


@pytest.mark.parametrize("seed", range(2))
def test_cached_sql_and_values_are_what_the_builders_make(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    shapes = set()
    for _ in range(400):
        request = random_request(rng)
        assert compiled.keyword_free(request)
        shapes.add(compiled.shape(request))
        cap = rng.choice([100, 10_000])

        sql, values = compiled.hits_sql(request)
        want_sql, want_values = built(shop_search(request), request)
        assert sql == want_sql
        assert {name: values[name] for name in want_values} == want_values

        sql, values = compiled.count_sql(request, cap)
        wanted = tuple(f.value for f in request.facets)
        want_sql, want_values = built(count_and_facets(request, wanted, cap), request)
        assert sql == want_sql
        assert {name: values[name] for name in want_values} == want_values
    assert len(shapes) > 100  # many requests share each shape, and many shapes are covered


def test_a_keyword_is_never_taken_for_a_shape() -> None:
    assert not compiled.keyword_free(SearchRequest(q="すし"))
    assert not compiled.keyword_free(SearchRequest(q="a b"))
    assert compiled.keyword_free(SearchRequest(q=" ", programme="aichi"))


def test_a_mapping_that_disagrees_with_the_builders_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    request = SearchRequest(lat=35.3, lng=139.5, radius_m=900, limit=7, offset=3)
    real = compiled.bind_values

    def off_by_one(req: SearchRequest, cap: int) -> dict[str, Any]:
        return {**real(req, cap), "window": req.offset + req.limit + 1}

    monkeypatch.setattr(compiled, "bind_values", off_by_one)
    monkeypatch.setattr(compiled, "_hits", {})
    with pytest.raises(compiled.ShapeMismatch, match="window"):
        compiled.hits_sql(request)
