"""The family page (``/``), the embeddable widget (``/widget.js``, ``/embed``) and their static files.

Everything the browser runs comes from this server (the map library is vendored at build time from npm),
so the Content-Security-Policy allows only 'self' (plus the GSI tile host when those tiles are on).
"""

from __future__ import annotations

import gzip
import html
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel

from api.conditional import etag_matches
from api.deps import Conn, Settings
from api.settings import AppSettings
from geo.address import split_address
from search.db import db_errors
from search.errors import NotFound
from search.places import municipality_choices, programme_choices

router = APIRouter(include_in_schema=False)

STATIC = Path(str(files("api") / "static"))
# Only these kinds of file are served from the static folder, each with its media type.
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def _csp(settings: AppSettings, *, frame_ancestors: str) -> str:
    img = "'self' data:"
    if settings.web.gsi_tiles:
        img += f" {settings.web.tile_origin()}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {img}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def _page_headers(settings: AppSettings, *, embeddable: bool = False) -> dict[str, str]:
    ancestors = "'none'"
    if embeddable:
        ancestors = " ".join(["'self'", *settings.api.cors_origins])
    return {
        "Content-Security-Policy": _csp(settings, frame_ancestors=ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
        "Cache-Control": "no-cache",
    }


def _page(name: str, settings: AppSettings, *, embeddable: bool = False) -> FileResponse:
    return FileResponse(
        STATIC / name,
        media_type=MEDIA_TYPES[".html"],
        headers=_page_headers(settings, embeddable=embeddable),
    )


def _map_config(settings: AppSettings) -> MapConfig:
    web = settings.web
    return MapConfig(
        center=(web.center_lat, web.center_lng),
        zoom=web.zoom,
        radius_m=web.radius_m,
        max_radius_m=settings.api.max_radius_m,
        gsi_url=web.gsi_url if web.gsi_tiles else None,
    )


@lru_cache(maxsize=4)
def _index_html(map_json: str) -> str:
    """index.html with the map defaults in a data attribute: the first search starts without a round trip."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    return page.replace('<main id="kosodate">', f'<main id="kosodate" data-map="{html.escape(map_json)}">', 1)


@router.api_route("/", methods=["GET", "HEAD"])
async def index(settings: Settings) -> HTMLResponse:
    """The family page (HTML)."""
    body = _index_html(_map_config(settings).model_dump_json())
    return HTMLResponse(body, headers=_page_headers(settings))


@router.get("/embed")
async def embed(settings: Settings) -> FileResponse:
    """The widget as a page of its own, for hosts that prefer an iframe to a script tag."""
    return _page("embed.html", settings, embeddable=True)


@router.get("/widget-demo")
async def widget_demo(settings: Settings) -> FileResponse:
    """A host page that embeds the widget with one script tag, as a city site would."""
    return _page("widget-demo.html", settings)


COMPRESSIBLE = {".js", ".css", ".html", ".svg"}


@lru_cache(maxsize=64)
def _gzipped(path: Path, mtime_ns: int) -> bytes:  # noqa: ARG001 - the mtime keys the cache
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


def _asset(request: Request, target: Path, cache: str) -> Response:
    """A static file, gzip-compressed (once, then from memory) when the browser accepts it."""
    media_type = MEDIA_TYPES[target.suffix]
    stat = target.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    headers = {
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        "ETag": etag,
    }
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if target.suffix in COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", ""):
        body = _gzipped(target, stat.st_mtime_ns)
        return Response(body, media_type=media_type, headers=headers | {"Content-Encoding": "gzip"})
    return FileResponse(target, media_type=media_type, headers=headers)


@router.get("/widget.js")
async def widget_js(request: Request) -> Response:
    return _asset(request, STATIC / "widget.js", "public, max-age=300")


@router.get("/static/{path:path}")
async def static_file(request: Request, path: Annotated[str, PathParam(max_length=200)]) -> Response:
    root = STATIC.resolve()
    try:
        target = (STATIC / path).resolve()
    except (ValueError, OSError):  # a NUL byte (%00) or a name the filesystem refuses
        raise NotFound(f"no static file {path!r}") from None
    if target.suffix not in MEDIA_TYPES or not target.is_relative_to(root) or not target.is_file():
        raise NotFound(f"no static file {path!r}")
    vendored = "vendor" in target.relative_to(root).parts
    return _asset(request, target, "public, max-age=86400" if vendored else "no-cache")


class MapConfig(BaseModel):
    center: tuple[float, float]
    zoom: int
    radius_m: int
    max_radius_m: float
    gsi_url: str | None


class Choice(BaseModel):
    code: str
    name: str
    name_en: str | None = None


class Municipality(BaseModel):
    code: str
    prefecture: str | None
    name: str | None
    shops: int
    lat: float
    lng: float


class WebConfig(BaseModel):
    map: MapConfig
    programmes: list[Choice]
    municipalities: list[Municipality]


def _municipality(row: dict[str, Any]) -> Municipality:
    """Older rows may lack the split address; the first shop's address still names the place."""
    if not row.get("name") or not row.get("prefecture"):
        parts = split_address(row.get("sample_address"))
        row["name"] = row.get("name") or parts.municipality
        row["prefecture"] = row.get("prefecture") or parts.prefecture
    return Municipality.model_validate(row)


@router.get("/web/config.json", response_model=WebConfig)
async def web_config(conn: Conn, settings: Settings) -> WebConfig:
    """What the page offers to choose from: the card programmes, municipalities with shops, the map."""
    async with db_errors():
        programme_rows: list[Any] = list((await conn.execute(programme_choices())).mappings())
        muni_rows: list[Any] = list((await conn.execute(municipality_choices())).mappings())
    return WebConfig(
        map=_map_config(settings),
        programmes=[Choice.model_validate(dict(r)) for r in programme_rows],
        municipalities=[_municipality(dict(r)) for r in muni_rows],
    )
