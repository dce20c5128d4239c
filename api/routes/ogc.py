"""OGC API - Features - Part 1: Core, for the one collection ``shops``.

Conformance classes claimed: core, geojson, html, oas30. The landing page lives at ``/`` for JSON
clients (``Accept: application/json`` or ``?f=json``) and as HTML at ``/?f=html``; a browser's plain
``GET /`` is left to the family web page (whatever other route the app serves at ``/``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import StringConstraints
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from api.deps import Conn
from api.errors import PROBLEM_RESPONSES
from api.negotiate import GEOJSON, HTML, JSON, OPENAPI, Format, dumps, html_page, wants
from api.params import QueryParam, openapi_parameters, read_params
from search.db import db_errors
from search.errors import InvalidQuery, NotFound
from search.features import ItemsQuery, extent, item, items_page_sql


class OgcRoute(APIRoute):
    """OGC API Features asks for 400 on unknown or invalid query parameters (/req/core/query-param-*)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        extra = (self.openapi_extra or {}).get("parameters", [])
        allowed = {p.alias for p in self.dependant.query_params} | {
            p["name"] for p in extra if p["in"] == "query"
        }
        check_unknown = self.path != "/"  # the root is shared with the family page

        async def handle(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - allowed) if check_unknown else []
            if unknown:
                raise InvalidQuery(f"unknown query parameter(s): {', '.join(unknown)[:200]}")
            try:
                return await handler(request)
            except RequestValidationError as exc:
                where = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', 'invalid')}"
                    for e in exc.errors()
                )
                raise InvalidQuery(where[:500] or "some parameters are not valid") from exc

        return handle


router = APIRouter(tags=["OGC API Features"], responses=PROBLEM_RESPONSES, route_class=OgcRoute)

COLLECTION = "shops"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
_EXTENT_TTL_S = 60.0

FParam = Annotated[Format | None, Query(description="Response format (overrides Accept)")]


class CategoryParam(StrEnum):
    discount = "discount"
    consideration = "consideration"
    facility = "facility"


def _json_or_html(
    request: Request, f: Format | None, title: str, body: dict[str, Any], media: str = JSON
) -> Response:
    if wants(request, f) is Format.html:
        return html_page(title, body)
    return Response(dumps(body), media_type=media)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _self_links(request: Request, path: str, media: str, title: str) -> list[dict[str, str]]:
    base = _base(request)
    alt = HTML if media != HTML else media
    return [
        {"href": f"{base}{path}?f=json", "rel": "self", "type": media, "title": title},
        {"href": f"{base}{path}?f=html", "rel": "alternate", "type": alt, "title": f"{title} (HTML)"},
    ]


def _content(*media: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {m: {"schema": {"type": "object"}} for m in media}}}


class _Delegate(Response):
    """Hands the request to the next route that serves the same path (the family page at ``/``)."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        self.request = request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app_routes = self.request.app.router.routes
        for route in app_routes:
            if (
                getattr(route, "endpoint", None) is landing
                or getattr(route, "original_router", None) is router
            ):
                continue
            match, child = route.matches(scope)
            if match is Match.FULL:
                await route.handle({**scope, **child}, receive, send)
                return
        await html_page("kosodate", _landing_body(self.request))(scope, receive, send)


def _landing_body(request: Request) -> dict[str, Any]:
    base = _base(request)
    return {
        "title": "kosodate: child-rearing passport shops",
        "description": "子育て支援パスポート協賛店 / shops sponsoring child-rearing support passports",
        "links": [
            {"href": f"{base}/?f=json", "rel": "self", "type": JSON, "title": "This document"},
            {"href": f"{base}/?f=html", "rel": "alternate", "type": HTML, "title": "This document (HTML)"},
            {"href": f"{base}/openapi.json", "rel": "service-desc", "type": OPENAPI, "title": "OpenAPI"},
            {"href": f"{base}/docs", "rel": "service-doc", "type": HTML, "title": "API documentation"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": JSON, "title": "Conformance"},
            {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "Collections"},
        ],
    }


@router.get(
    "/",
    summary="Landing page (OGC API Features); browsers get the family page",
    responses=_content(JSON, HTML),
    response_class=Response,
)
async def landing(request: Request, f: FParam = None) -> Response:
    # `/` is the family page for anyone who does not ask for JSON by name (browsers, curl's */*);
    # OGC clients send Accept: application/json (or ?f=json) and get the landing document.
    accept = request.headers.get("accept", "")
    names_json = any(media in accept for media in ("application/json", "application/geo+json"))
    if f is None and (not names_json or wants(request, None) is Format.html):
        return _Delegate(request)
    return _json_or_html(request, f, "kosodate", _landing_body(request))


@router.get("/conformance", summary="Conformance classes claimed", responses=_content(JSON, HTML))
async def conformance(request: Request, f: FParam = None) -> Response:
    return _json_or_html(request, f, "Conformance", {"conformsTo": CONFORMANCE})


async def _extent(request: Request, conn: Conn) -> dict[str, Any]:
    cached = getattr(request.app.state, "ogc_extent", None)
    if cached and cached[0] > time.monotonic():
        return dict(cached[1])
    async with db_errors():
        row = (await conn.execute(extent())).mappings().one()
    bbox = [row["minx"], row["miny"], row["maxx"], row["maxy"]]
    spatial = [[round(v, 7) for v in bbox]] if None not in bbox else [[-180.0, -90.0, 180.0, 90.0]]
    first = row["first"].isoformat() if isinstance(row["first"], date) else None
    last = row["last"].isoformat() if isinstance(row["last"], datetime) else None
    body = {
        "spatial": {"bbox": spatial, "crs": CRS84},
        "temporal": {
            "interval": [[first, last]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        },
    }
    request.app.state.ogc_extent = (time.monotonic() + _EXTENT_TTL_S, body)
    return body


def _collection_body(request: Request, ext: dict[str, Any]) -> dict[str, Any]:
    base = _base(request)
    path = f"/collections/{COLLECTION}"
    return {
        "id": COLLECTION,
        "title": "子育て支援パスポート協賛店 (shops)",
        "description": "Live shops of every programme, placed on the map (WGS84 lon/lat).",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": ext,
        "links": [
            *_self_links(request, path, JSON, "This collection"),
            {"href": f"{base}{path}/items?f=json", "rel": "items", "type": GEOJSON, "title": "Shops"},
            {"href": f"{base}{path}/items?f=html", "rel": "items", "type": HTML, "title": "Shops (HTML)"},
            {
                "href": f"{base}{path}/queryables",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "title": "Queryables",
            },
            {"href": f"{base}/v1/exports/shops.csv", "rel": "enclosure", "type": "text/csv", "title": "CSV"},
            {
                "href": f"{base}/v1/exports/shops.geojson",
                "rel": "enclosure",
                "type": GEOJSON,
                "title": "GeoJSON (all shops)",
            },
            {
                "href": f"{base}/v1/exports",
                "rel": "license",
                "type": JSON,
                "title": "Licence and attribution",
            },
        ],
    }


@router.get("/collections", summary="The feature collections", responses=_content(JSON, HTML))
async def collections(request: Request, conn: Conn, f: FParam = None) -> Response:
    ext = await _extent(request, conn)
    body = {
        "links": _self_links(request, "/collections", JSON, "Collections"),
        "collections": [_collection_body(request, ext)],
    }
    return _json_or_html(request, f, "Collections", body)


def _check_collection(collection_id: str) -> None:
    if collection_id != COLLECTION:
        raise NotFound(f"no collection named {collection_id!r}; the only one is {COLLECTION!r}")


AmenityStr = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
CollectionId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Collection id")]


@router.get("/collections/{collection_id}", summary="One collection", responses=_content(JSON, HTML))
async def collection(request: Request, conn: Conn, collection_id: CollectionId, f: FParam = None) -> Response:
    _check_collection(collection_id)
    ext = await _extent(request, conn)
    return _json_or_html(request, f, "Shops", _collection_body(request, ext))


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Properties that items can be filtered by",
    responses={200: {"content": {"application/schema+json": {"schema": {"type": "object"}}, HTML: {}}}},
)
async def queryables(request: Request, collection_id: CollectionId, f: FParam = None) -> Response:
    _check_collection(collection_id)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{COLLECTION}/queryables",
        "type": "object",
        "title": "Shops",
        "properties": {
            "category": {"type": "string", "enum": [c.value for c in CategoryParam], "title": "特典区分"},
            "amenity": {"type": "string", "pattern": "^[a-z_]{1,40}$", "title": "設備"},
            "programme": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,39}$", "title": "事業"},
            "municipality": {"type": "string", "pattern": "^[0-9]{5}$", "title": "市区町村コード"},
        },
        "additionalProperties": False,
    }
    return _json_or_html(request, f, "Queryables", body, media="application/schema+json")


def parse_bbox(raw: str | None, max_area: float) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise InvalidQuery("bbox must be minLon,minLat,maxLon,maxLat (or six numbers with heights)")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidQuery("bbox must be numbers: minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(v) for v in numbers):
        raise InvalidQuery("bbox must be finite numbers")
    # Six numbers carry heights (minLon,minLat,minH,maxLon,maxLat,maxH); shops are 2D, so heights are ignored.
    minx, miny, maxx, maxy = numbers if len(numbers) == 4 else [numbers[i] for i in (0, 1, 3, 4)]  # noqa: PLR2004
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):  # noqa: PLR2004
        raise InvalidQuery("bbox is outside lon -180..180, lat -90..90 (CRS84)")
    if miny > maxy:
        raise InvalidQuery("bbox: minLat must not exceed maxLat")
    if minx > maxx:
        raise InvalidQuery("bbox crossing the antimeridian is not supported")
    if (maxx - minx) * (maxy - miny) > max_area:
        raise InvalidQuery(f"bbox is larger than {max_area:g} square degrees; zoom in or use the exports")
    return minx, miny, maxx, maxy


_BBOX_NUMBER = r"[-+0-9.eE]+"
ITEMS_PARAMS = (
    QueryParam(
        "bbox",
        "minLon,minLat,maxLon,maxLat (CRS84)",
        pattern=rf"^{_BBOX_NUMBER}(,{_BBOX_NUMBER}){{3}}(,{_BBOX_NUMBER},{_BBOX_NUMBER})?$",
        max_length=200,
    ),
    QueryParam(
        "limit",
        "Items per page; above the server's maximum, the maximum is used",
        kind="integer",
        minimum=1,
    ),
    QueryParam("offset", "Items to skip (from the next/prev links)", kind="integer", minimum=0),
    QueryParam(
        "category",
        "Perk categories (all must match)",
        enum=tuple(c.value for c in CategoryParam),
        many=True,
        max_items=3,
    ),
    QueryParam("amenity", "Amenities (all must match)", pattern=r"^[a-z_]{1,40}$", many=True, max_items=10),
    QueryParam("programme", "Programme id", pattern=r"^[a-z][a-z0-9_-]{0,39}$"),
    QueryParam("municipality", "5-digit code", pattern=r"^[0-9]{5}$"),
    QueryParam("f", "Response format (overrides Accept)", enum=tuple(f.value for f in Format)),
)


@router.get(
    "/collections/{collection_id}/items",
    summary="Shops as GeoJSON features: bbox, property filters, paging",
    responses=_content(GEOJSON, HTML),
    response_class=Response,
    openapi_extra=openapi_parameters(ITEMS_PARAMS),
)
async def get_items(request: Request, collection_id: CollectionId) -> Response:
    # The busiest public route reads its query itself (api/params.py): same checks, same document.
    _check_collection(collection_id)
    api = request.app.state.settings.api
    pairs = request.query_params.multi_items()
    got = read_params(ITEMS_PARAMS, pairs)
    limit: int = (
        min(got["limit"], api.max_items_limit) if got["limit"] is not None else api.default_items_limit
    )
    offset: int = got["offset"] or 0
    if offset > api.max_offset:
        raise InvalidQuery(f"offset must be at most {api.max_offset}; use the exports for everything")
    query = ItemsQuery(
        bbox=parse_bbox(got["bbox"], api.max_bbox_area_deg2),
        categories=tuple(sorted(set(got["category"] or ()))),
        amenities=tuple(sorted(set(got["amenity"] or ()))),
        programme=got["programme"],
        municipality=got["municipality"],
        limit=limit,
        offset=offset,
    )
    sql, params = items_page_sql(query, api.count_cap)
    row = await request.app.state.items_pool.fetch_one(sql, params)
    if row is None:  # an aggregate always returns one row
        raise RuntimeError("the items statement returned no row")
    features_json: str = row[0]
    returned: int = row[1]
    matched: int | None = row[2] if row[2] is not None and row[2] <= api.count_cap else None
    more = returned == query.limit and (matched is None or query.offset + returned < matched)
    links = _items_links(request, pairs, query, returned if more else None)
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    head = {"type": "FeatureCollection", "timeStamp": stamp, "numberReturned": returned, "links": links}
    if matched is not None:
        head["numberMatched"] = matched
    f = got["f"]
    if wants(request, Format(f) if f else None) is Format.html:
        import json  # noqa: PLC0415 - the HTML view is the rare path

        return html_page("Shops", {**head, "features": json.loads(f"[{features_json}]")})
    body = dumps(head)[:-1] + ',"features":[' + features_json + "]}"
    return Response(body, media_type=GEOJSON)


def _items_links(
    request: Request, pairs: list[tuple[str, str]], query: ItemsQuery, next_after: int | None
) -> list[dict[str, str]]:
    """self, alternate, collection, and next/prev: this page's own query with ``f`` (and ``offset``) set."""
    page = str(request.url).partition("?")[0]
    kept = urlencode([(k, v) for k, v in pairs if k != "f"])
    here = f"{page}?{kept}&f=" if kept else f"{page}?f="
    links = [
        {"href": f"{here}json", "rel": "self", "type": GEOJSON, "title": "This page"},
        {"href": f"{here}html", "rel": "alternate", "type": HTML, "title": "This page (HTML)"},
        {"href": page.removesuffix("/items"), "rel": "collection", "type": JSON, "title": "Shops"},
    ]
    if next_after is None and query.offset == 0:
        return links
    unpaged = urlencode([(k, v) for k, v in pairs if k not in ("f", "offset")])
    paged = f"{page}?{unpaged}&offset=" if unpaged else f"{page}?offset="
    if next_after is not None:
        after = query.offset + next_after
        links.append({"href": f"{paged}{after}&f=json", "rel": "next", "type": GEOJSON, "title": "Next page"})
    if query.offset > 0:
        before = max(0, query.offset - query.limit)
        links.append(
            {"href": f"{paged}{before}&f=json", "rel": "prev", "type": GEOJSON, "title": "Previous page"}
        )
    return links


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One shop as a GeoJSON feature",
    responses=_content(GEOJSON, HTML),
    response_class=Response,
)
async def get_item(
    request: Request,
    conn: Conn,
    collection_id: CollectionId,
    feature_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    f: FParam = None,
) -> Response:
    _check_collection(collection_id)
    async with db_errors():
        found = (await conn.execute(item(), {"shop_id": feature_id})).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no live shop with id {feature_id}")
    base = _base(request)
    links = [
        {
            "href": f"{base}/collections/{COLLECTION}/items/{feature_id}?f=json",
            "rel": "self",
            "type": GEOJSON,
        },
        {
            "href": f"{base}/collections/{COLLECTION}/items/{feature_id}?f=html",
            "rel": "alternate",
            "type": HTML,
        },
        {"href": f"{base}/collections/{COLLECTION}", "rel": "collection", "type": JSON},
    ]
    if wants(request, f) is Format.html:
        import json  # noqa: PLC0415

        return html_page("Shop", {**json.loads(found), "links": links})
    return Response(found[:-1] + ',"links":' + dumps(links) + "}", media_type=GEOJSON)
