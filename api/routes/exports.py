"""Open-data downloads: the whole list as CSV or GeoJSON, streamed, with conditional GET."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.conditional import not_modified
from api.deps import Conn, Settings
from api.errors import PROBLEM_RESPONSES
from api.settings import AppSettings
from search.db import db_errors
from search.exports import (
    GEOJSON_TAIL,
    Licence,
    csv_batch,
    csv_head,
    etag,
    export_query,
    geojson_batch,
    geojson_head,
    version_query,
)

router = APIRouter(prefix="/v1/exports", tags=["exports"], responses=PROBLEM_RESPONSES)
BATCH = 1000


def licence_of(settings: AppSettings, *, gazetteer_used: bool = False) -> Licence:
    api = settings.api
    credits = (*api.extra_credits, api.gazetteer_credit) if gazetteer_used else tuple(api.extra_credits)
    return Licence(code=api.data_licence, attribution=api.attribution, credits=credits)


async def _version_and_licence(conn: AsyncConnection, settings: AppSettings) -> tuple[RowMapping, Licence]:
    """The data's version (for the validators) and the licence the files carry."""
    async with db_errors():
        version = (
            (await conn.execute(version_query(), {"gazetteer_sources": settings.api.gazetteer_sources}))
            .mappings()
            .one()
        )
    return version, licence_of(settings, gazetteer_used=bool(version["gazetteer_used"]))


@router.get("", summary="The downloads, their licence and the credits they carry")
async def exports_index(request: Request, conn: Conn, settings: Settings) -> dict[str, Any]:
    _, lic = await _version_and_licence(conn, settings)
    base = str(request.base_url).rstrip("/")
    return {
        "license": lic.name,
        "license_url": lic.url,
        "attribution": lic.notice(),
        "files": [
            {"href": f"{base}/v1/exports/shops.csv", "type": "text/csv", "encoding": "UTF-8 with BOM"},
            {"href": f"{base}/v1/exports/shops.geojson", "type": "application/geo+json"},
        ],
    }


async def _rows(engine: AsyncEngine, render: Callable[[list[Any], bool], str]) -> AsyncIterator[bytes]:
    """Stream the export query through a server-side cursor on a connection of its own."""
    first = True
    async with db_errors(), engine.connect() as auto:
        # A server-side cursor needs a transaction; REPEATABLE READ also makes the file one snapshot.
        conn = await auto.execution_options(isolation_level="REPEATABLE READ")
        result = await conn.stream(export_query().execution_options(yield_per=BATCH))
        async for batch in result.mappings().partitions(BATCH):
            chunk = render(list(batch), first)
            first = False
            if chunk:
                yield chunk.encode()


async def _download(request: Request, conn: Conn, settings: AppSettings, fmt: str, media: str) -> Response:
    version, lic = await _version_and_licence(conn, settings)
    tag = etag(dict(version), fmt, lic)
    last_modified = version["last_modified"]
    headers = {
        "ETag": tag,
        "Link": lic.link_header(),
        "Cache-Control": f"public, max-age={settings.api.cache_max_age_s}, must-revalidate",
    }
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    if not_modified(request, tag, last_modified):
        return Response(status_code=304, headers=headers)
    engine: AsyncEngine = request.app.state.engine
    headers["Content-Disposition"] = f'attachment; filename="shops.{fmt}"'

    async def body() -> AsyncIterator[bytes]:
        if fmt == "csv":
            yield csv_head().encode()
            async for chunk in _rows(engine, lambda rows, _first: csv_batch(rows)):
                yield chunk
        else:
            yield geojson_head(lic).encode()
            async for chunk in _rows(engine, lambda rows, first: geojson_batch(rows, first=first)):
                yield chunk
            yield GEOJSON_TAIL.encode()

    return StreamingResponse(body(), media_type=media, headers=headers)


def _http_date(moment: Any) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (the ETag or Last-Modified still holds)"},
}


@router.get(
    "/shops.csv",
    summary="Every live shop as CSV (UTF-8 with BOM, CRLF; 自治体標準オープンデータセット style)",
    response_class=Response,
    responses={**_EXPORT_RESPONSES, 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_csv(request: Request, conn: Conn, settings: Settings) -> Response:
    return await _download(request, conn, settings, "csv", "text/csv; charset=utf-8")


@router.get(
    "/shops.geojson",
    summary="Every live shop as one GeoJSON FeatureCollection (RFC 7946), with licence and attribution",
    response_class=Response,
    responses={
        **_EXPORT_RESPONSES,
        200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}},
    },
)
async def export_geojson(request: Request, conn: Conn, settings: Settings) -> Response:
    return await _download(request, conn, settings, "geojson", "application/geo+json")
