"""The Meilisearch backend: the same request, answered from the index that ``search.meili`` builds."""

from __future__ import annotations

import json
from typing import Any

import meilisearch.errors

from search.contract import Backend, SearchRequest, SearchResult, Sort
from search.keys import is_latin, query_tokens, romaji_key
from search.meili import client
from search.search_settings import MeiliSettings

HIT_FIELDS = (
    "id", "name", "name_kana", "address", "categories", "amenities", "programme", "municipality_code",
    "municipality", "geocode_precision", "perk_text", "card_required", "hours", "source", "_geo",
)  # fmt: skip


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def filters(request: SearchRequest) -> list[str | list[str]]:
    """Meilisearch filter expressions (an outer list is ANDed, an inner list ORed)."""
    out: list[str | list[str]] = []
    if request.has_point and request.radius_m is not None:
        out.append(f"_geoRadius({request.lat}, {request.lng}, {round(request.radius_m)})")
    if request.bbox is not None:
        b = request.bbox
        out.append(f"_geoBoundingBox([{b.north}, {b.east}], [{b.south}, {b.west}])")
    if request.municipality:
        out.append(f"municipality_code = {_quote(request.municipality[:5])}")
    out += [f"categories = {_quote(c)}" for c in request.categories]
    out += [f"amenities = {_quote(a)}" for a in request.amenities]
    if request.programme:
        out.append(f"programme = {_quote(request.programme)}")
    if request.card:
        family = "" if request.multi_child else " AND multi_child = false"
        out.append(f"card_needed = false OR ((cards = {_quote(request.card)} OR nationwide = true){family})")
    if request.card_required is not None:
        out.append(f"card_needed = {'true' if request.card_required else 'false'}")
    if request.open_at is not None:
        minute = request.open_at.hour * 60 + request.open_at.minute
        out.append(f"open_from <= {minute} AND open_until > {minute}")
    return out


def query_text(request: SearchRequest) -> str:
    """The words folded like the indexed keys; latin words also as folded romaji."""
    words: list[str] = []
    for token in query_tokens(request.q):
        words.append(romaji_key(token) if is_latin(token) else token)
    return " ".join(words)


def params(request: SearchRequest) -> dict[str, Any]:
    p: dict[str, Any] = {
        "filter": filters(request),
        "limit": request.limit,
        "offset": request.offset,
        "attributesToRetrieve": list(HIT_FIELDS),
        "facets": [_FACET_FIELDS[f.value] for f in request.facets],
        "matchingStrategy": "all",
    }
    if request.has_point:
        point = f"_geoPoint({request.lat}, {request.lng}):asc"
        # Relevance with a point: text rules first, then nearest; distance: nearest, then id.
        p["sort"] = [point, "id:asc"] if request.sort is Sort.DISTANCE or not request.q else [point]
    elif not request.q:
        p["sort"] = ["id:asc"]
    return p


_FACET_FIELDS = {"category": "categories", "amenity": "amenities", "municipality": "municipality_code",
                 "programme": "programme"}  # fmt: skip
_FIELD_FACETS = {v: k for k, v in _FACET_FIELDS.items()}


def search(settings: MeiliSettings, request: SearchRequest) -> SearchResult:
    """Blocking (the client is synchronous): the caller runs it in a thread with a deadline."""
    answer = client(settings).index(settings.index).search(query_text(request), params(request))
    try:
        return _result(answer, request)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadAnswer(f"the answer is not a search result ({type(exc).__name__}: {exc})") from exc


class BadAnswer(meilisearch.errors.MeilisearchError):
    """Something answered on Meilisearch's port, but not with a search result (the caller falls back)."""


def _result(answer: Any, request: SearchRequest) -> SearchResult:
    hits = []
    for h in answer["hits"]:
        geo = h.pop("_geo")
        h["lat"], h["lng"] = geo["lat"], geo["lng"]
        h["precision"] = h.pop("geocode_precision", None)
        h["distance_m"] = h.pop("_geoDistance", None) if request.has_point else None
        hits.append(h)
    facets = {
        _FIELD_FACETS[field]: dict(counts)
        for field, counts in (answer.get("facetDistribution") or {}).items()
    }
    total = int(answer.get("estimatedTotalHits", answer.get("totalHits", len(hits))))
    return SearchResult(hits=hits, total=total, total_exact=False, facets=facets, backend=Backend.MEILISEARCH)
