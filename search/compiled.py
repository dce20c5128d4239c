"""Keyword-free searches (a point and radius, a map area, filters) compiled once per shape.

Without a keyword, the statements of ``search.queries`` differ between requests only in which filters are
present and in their bound values; every value is a named bind. So the SQL of a shape is compiled once and
a request only supplies its values (``bind_values``), as the OGC items page does (``search.features``).
Building and compiling the SQLAlchemy statements and wrapping their results was most of a radius search's
server time (py-spy, bench/results/api_bench.md).

A shape's first request checks the mapping: each bind of the compiled statement must either get exactly
its compiled value from ``bind_values`` or be a constant. ``tests/search/test_compiled.py`` checks, over
many requests of every shape, that the SQL and values are the ones the builders produce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from search.contract import SearchRequest
from search.keys import query_tokens
from search.queries import count_and_facets, search_params, shop_search

Shape = tuple[Any, ...]


def keyword_free(request: SearchRequest) -> bool:
    return not query_tokens(request.q)


def shape(request: SearchRequest) -> Shape:
    """What decides a keyword-free statement's text: which filters are present, the order, the facets."""
    return (
        request.has_point,
        request.radius_m is not None,
        request.bbox is not None,
        bool(request.municipality),
        bool(request.categories),
        bool(request.amenities),
        bool(request.programme),
        bool(request.card),
        request.card_required,
        request.open_at is not None,
        request.sort,
        request.facets,
    )


def bind_values(request: SearchRequest, cap: int) -> dict[str, Any]:
    """Every value a keyword-free statement may bind, by bind name (unused ones are ignored)."""
    values: dict[str, Any] = {
        "limit": request.limit,
        "offset": request.offset,
        "window": request.offset + request.limit,
        "cap": cap + 1,
        "lat": request.lat,
        "lng": request.lng,
        "radius_m": request.radius_m,
        "municipality": request.municipality[:5] if request.municipality else None,
        "categories": list(request.categories),
        "amenities": list(request.amenities),
        "programme": request.programme,
        "card_list": [request.card] if request.card else None,
        "family_multi_child": request.multi_child,
        "open_at": request.open_at,
    }
    box = request.bbox
    if box is not None:
        values |= {
            "bbox_w": box.west,
            "bbox_s": box.south,
            "bbox_e": box.east,
            "bbox_n": box.north,
            "mid_lat": (box.south + box.north) / 2,
            "mid_lng": (box.west + box.east) / 2,
        }
    return values


class ShapeMismatch(RuntimeError):
    """A compiled bind that ``bind_values`` maps to another value: the mapping is out of date."""


def _compile(statement: Any, request: SearchRequest, cap: int) -> tuple[str, dict[str, Any]]:
    compiled = statement.compile(dialect=PGDialect_psycopg())  # type: ignore[no-untyped-call]
    params = {**compiled.params, **search_params(request)}  # as the statement is run (search.backends)
    given = bind_values(request, cap)
    constants = {}
    for name, value in params.items():
        if name not in given:
            constants[name] = value
        elif given[name] != value:
            raise ShapeMismatch(f"bind {name!r}: compiled {value!r}, mapped {given[name]!r}")
    return str(compiled), constants


_MAX_SHAPES = 1024  # shapes are few (filters present x order x facets); beyond this, compile per call
_hits: dict[Shape, tuple[str, dict[str, Any]]] = {}
_counts: dict[Shape, tuple[str, dict[str, Any]]] = {}


def _cached(
    cache: dict[Shape, tuple[str, dict[str, Any]]], request: SearchRequest, cap: int, build: Callable[[], Any]
) -> tuple[str, dict[str, Any]]:
    key = shape(request)
    entry = cache.get(key)
    if entry is None:  # the shape's first request: compiled, and its mapping checked
        entry = _compile(build(), request, cap)
        if len(cache) < _MAX_SHAPES:
            cache[key] = entry
    sql, constants = entry
    return sql, {**bind_values(request, cap), **constants}


def hits_sql(request: SearchRequest) -> tuple[str, dict[str, Any]]:
    """The hits statement of a keyword-free request: psycopg SQL and its values."""
    return _cached(_hits, request, 0, lambda: shop_search(request))


def count_sql(request: SearchRequest, cap: int) -> tuple[str, dict[str, Any]]:
    """The count-and-facets statement of a keyword-free request: psycopg SQL and its values."""
    wanted = tuple(f.value for f in request.facets)
    return _cached(_counts, request, cap, lambda: count_and_facets(request, wanted, cap))
