from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Conn, Settings
from api.errors import PROBLEM_RESPONSES
from api.schemas import SearchResponse, ShopDetail, ShopHit
from search.backends import postgres
from search.db import db_errors
from search.errors import InvalidQuery
from search.queries import ShopQuery
from search.taxonomy import builtin_taxonomy

router = APIRouter(prefix="/v1", tags=["shops"], responses=PROBLEM_RESPONSES)


class CategoryParam(StrEnum):
    discount = "discount"
    consideration = "consideration"
    facility = "facility"


@router.get("/shops", response_model=SearchResponse, summary="Search shops, nearest first")
async def search_shops(
    conn: Conn,
    settings: Settings,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude (WGS84)")] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180, description="Longitude (WGS84)")] = None,
    radius_m: Annotated[float | None, Query(gt=0, description="Search radius in metres")] = None,
    q: Annotated[str | None, Query(description="Keyword: name in kanji, kana or romaji")] = None,
    category: Annotated[
        list[CategoryParam] | None, Query(description="Perk categories (all must match)")
    ] = None,
    amenity: Annotated[
        list[str] | None, Query(description="Amenities (all must match); see /v1/taxonomy")
    ] = None,
    programme: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{0,39}$")] = None,
    card: Annotated[
        str | None, Query(pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="The family's card (e.g. aichi)")
    ] = None,
    multi_child: Annotated[bool, Query(description="The family also holds the multi-child card")] = False,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> SearchResponse:
    api = settings.api
    if (lat is None) != (lng is None):
        raise InvalidQuery("give both lat and lng, or neither")
    if lat is None and radius_m is not None:
        raise InvalidQuery("radius_m needs a point (lat and lng)")
    if radius_m is not None and radius_m > api.max_radius_m:
        raise InvalidQuery(f"radius_m must be at most {api.max_radius_m:g}")
    if limit is not None and limit > api.max_limit:
        raise InvalidQuery(f"limit must be at most {api.max_limit}")
    if q is not None and len(q) > api.max_query_length:
        raise InvalidQuery(f"q must be at most {api.max_query_length} characters")
    if any(a not in builtin_taxonomy().amenities for a in amenity or ()):
        raise InvalidQuery("unknown amenity; the known ones are listed at /v1/taxonomy")
    if multi_child and not card:
        raise InvalidQuery("multi_child needs card (the family's programme card)")
    if lat is None and not q and not programme:
        raise InvalidQuery("give a point (lat, lng), a keyword (q) or a programme")
    query = ShopQuery(
        lat=lat,
        lng=lng,
        radius_m=(radius_m or api.default_radius_m) if lat is not None else None,
        q=q,
        categories=tuple(c.value for c in category or ()),
        amenities=tuple(amenity or ()),
        programme=programme,
        card=card,
        multi_child=multi_child,
        limit=limit or api.default_limit,
    )
    async with db_errors():
        rows = await postgres.search(conn, query)
    return SearchResponse(hits=[ShopHit.model_validate(r) for r in rows])


@router.get("/shops/{shop_id}", response_model=ShopDetail, summary="One shop with its tags and their reasons")
async def get_shop(conn: Conn, shop_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> ShopDetail:
    async with db_errors():
        row = await postgres.get_shop(conn, shop_id)
    return ShopDetail.model_validate(row)
