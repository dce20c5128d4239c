from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query

from api.deps import Conn, Settings
from api.errors import PROBLEM_RESPONSES
from api.schemas import SearchResponse, ShopDetail, ShopHit
from search import service
from search.backends import postgres
from search.contract import BBox, Facet, SearchRequest, Sort
from search.db import db_errors
from search.errors import InvalidQuery
from search.taxonomy import builtin_taxonomy

router = APIRouter(prefix="/v1", tags=["shops"], responses=PROBLEM_RESPONSES)
JST = ZoneInfo("Asia/Tokyo")
CODE = r"^[a-z][a-z0-9_-]{0,39}$"


class CategoryParam(StrEnum):
    discount = "discount"
    consideration = "consideration"
    facility = "facility"


class PerkParam(StrEnum):
    tokuten = "tokuten"  # 特典: the card must be shown
    ouen = "ouen"  # 応援: for every family


def _facets(value: str | None) -> tuple[Facet, ...]:
    if not value:
        return ()
    try:
        return tuple(dict.fromkeys(Facet(v.strip()) for v in value.split(",") if v.strip()))
    except ValueError as exc:
        allowed = ", ".join(f.value for f in Facet)
        raise InvalidQuery(f"facets must be a comma-separated list of: {allowed}") from exc


@router.get("/shops", response_model=SearchResponse, summary="Search shops by keyword, place and filters")
async def search_shops(
    conn: Conn,
    settings: Settings,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude (WGS84)")] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180, description="Longitude (WGS84)")] = None,
    radius_m: Annotated[float | None, Query(gt=0, description="Search radius in metres")] = None,
    bbox: Annotated[str | None, Query(description="Map area: west,south,east,north (WGS84)")] = None,
    municipality: Annotated[
        str | None, Query(pattern=r"^[0-9]{5,6}$", description="Municipality code (5 or 6 digits)")
    ] = None,
    q: Annotated[
        str | None, Query(description="Keyword: name in kanji, kana or romaji, and/or a place")
    ] = None,
    category: Annotated[
        list[CategoryParam] | None, Query(description="Perk categories (all must match)")
    ] = None,
    amenity: Annotated[
        list[str] | None, Query(description="Amenities (all must match); see /v1/taxonomy")
    ] = None,
    programme: Annotated[str | None, Query(pattern=CODE)] = None,
    card: Annotated[str | None, Query(pattern=CODE, description="The family's card (e.g. aichi)")] = None,
    multi_child: Annotated[bool, Query(description="The family also holds the multi-child card")] = False,
    perk: Annotated[PerkParam | None, Query(description="tokuten (特典) or ouen (応援) only")] = None,
    open_now: Annotated[bool, Query(description="Only shops open now (JST) whose hours are known")] = False,
    open_at: Annotated[time | None, Query(description="Only shops open at this JST time (HH:MM)")] = None,
    sort: Annotated[Sort, Query(description="relevance (default) or distance")] = Sort.RELEVANCE,
    facets: Annotated[
        str | None, Query(description="Facet counts wanted: category,municipality,programme,amenity")
    ] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> SearchResponse:
    api = settings.api
    if radius_m is not None and radius_m > api.max_radius_m:
        raise InvalidQuery(f"radius_m must be at most {api.max_radius_m:g}")
    if limit is not None and limit > api.max_limit:
        raise InvalidQuery(f"limit must be at most {api.max_limit}")
    if q is not None and len(q) > api.max_query_length:
        raise InvalidQuery(f"q must be at most {api.max_query_length} characters")
    if any(a not in builtin_taxonomy().amenities for a in amenity or ()):
        raise InvalidQuery("unknown amenity; the known ones are listed at /v1/taxonomy")
    if lat is None and lng is None and not q and not programme and not bbox and not municipality:
        raise InvalidQuery("give a point (lat, lng), a bbox, a municipality, a keyword (q) or a programme")
    box = BBox.parse(bbox) if bbox else None
    if open_now:
        open_at = datetime.now(JST).time()
    point_given = lat is not None and lng is not None
    request = SearchRequest(
        q=q,
        lat=lat,
        lng=lng,
        radius_m=(radius_m or api.default_radius_m) if point_given and box is None else radius_m,
        bbox=box,
        municipality=municipality,
        categories=tuple(c.value for c in category or ()),
        amenities=tuple(amenity or ()),
        programme=programme,
        card=card,
        multi_child=multi_child,
        card_required=None if perk is None else perk is PerkParam.tokuten,
        open_at=open_at.replace(tzinfo=None) if open_at else None,
        sort=sort,
        facets=_facets(facets),
        limit=limit or api.default_limit,
    ).at_cursor(cursor, max_offset=settings.search.max_offset)
    async with db_errors():
        result = await service.search(conn, request, settings.search)
    return SearchResponse(
        hits=[ShopHit.model_validate(r) for r in result.hits],
        total=result.total,
        total_exact=result.total_exact,
        facets=result.facets,
        next_cursor=request.next_cursor(len(result.hits), result.total if result.total_exact else None),
        backend=result.backend.value,
        fallback=result.fallback_reason,
    )


@router.get("/shops/{shop_id}", response_model=ShopDetail, summary="One shop with its tags and their reasons")
async def get_shop(conn: Conn, shop_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> ShopDetail:
    async with db_errors():
        row = await postgres.get_shop(conn, shop_id)
    return ShopDetail.model_validate(row)
