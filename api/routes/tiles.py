"""Vector tiles for map widgets: ``/tiles/{z}/{x}/{y}.mvt`` (layers ``shops`` and ``boundaries``)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.conditional import etag_matches
from api.deps import Conn, Settings
from api.errors import PROBLEM_RESPONSES
from api.routes.ogc import AmenityStr, CategoryParam
from search.db import db_errors
from search.errors import InvalidQuery
from search.tiles import TileQuery, tile_params, tile_statement

MVT = "application/vnd.mapbox-vector-tile"

router = APIRouter(tags=["tiles"], responses=PROBLEM_RESPONSES)


@router.get(
    "/tiles/{z}/{x}/{y}.mvt",
    summary="A Mapbox Vector Tile (Web Mercator, 4096 units): shops, clustered at low zoom, and boundaries",
    responses={
        200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
        304: {"description": "Not modified (the ETag still holds)"},
    },
    response_class=Response,
)
async def tile(
    request: Request,
    conn: Conn,
    settings: Settings,
    z: Annotated[int, Path(ge=0, le=24)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    category: Annotated[list[CategoryParam] | None, Query()] = None,
    amenity: Annotated[list[AmenityStr] | None, Query()] = None,
    programme: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{0,39}$")] = None,
    municipality: Annotated[str | None, Query(pattern=r"^[0-9]{5}$")] = None,
) -> Response:
    api = settings.api
    if z > api.max_tile_zoom:
        raise InvalidQuery(f"z must be at most {api.max_tile_zoom}")
    if x >= 2**z or y >= 2**z:
        raise InvalidQuery(f"x and y must be below {2**z} at zoom {z}")
    if len(amenity or ()) > 10:  # noqa: PLR2004
        raise InvalidQuery("too many amenity values")
    query = TileQuery(
        z=z,
        x=x,
        y=y,
        cluster=z < api.tile_cluster_below_zoom,
        programme=programme,
        categories=tuple(sorted({c.value for c in category or ()})),
        amenities=tuple(sorted(set(amenity or ()))),
        municipality=municipality,
    )
    async with db_errors():
        body = bytes((await conn.execute(tile_statement(), tile_params(query))).scalar_one() or b"")
    # A validator for caches and CDNs: a revalidation whose tile did not change costs no transfer.
    tag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    if etag_matches(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type=MVT, headers={"ETag": tag})
