"""Response formats for the OGC resources: ``f=`` wins, then the Accept header; JSON by default."""

from __future__ import annotations

import html
import json
from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


class Format(StrEnum):
    json = "json"
    html = "html"


def wants(request: Request, f: Format | None) -> Format:
    if f is not None:
        return f
    accept = request.headers.get("accept", "")
    best_html = best_json = -1.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media == HTML:
            best_html = max(best_html, q)
        elif media in (JSON, GEOJSON, "application/*"):
            best_json = max(best_json, q)
    return Format.html if best_html > best_json and best_html > 0 else Format.json


def json_response(
    body: bytes | str, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, media_type=media_type, headers=headers)


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def _links(links: list[dict[str, Any]]) -> str:
    items = "".join(
        f'<li><a href="{html.escape(str(link["href"]))}">'
        f"{html.escape(str(link.get('title') or link['rel']))}"
        f"</a> <small>({html.escape(str(link['rel']))}, "
        f"{html.escape(str(link.get('type', '')))})</small></li>"
        for link in links
    )
    return f"<ul>{items}</ul>"


def _features_table(features: list[dict[str, Any]]) -> str:
    rows = []
    for feat in features:
        props = feat.get("properties") or {}
        coords = (feat.get("geometry") or {}).get("coordinates") or ["", ""]
        fid = html.escape(str(feat.get("id")))
        rows.append(
            "<tr>"
            f'<td><a href="/collections/shops/items/{fid}?f=html">{fid}</a></td>'
            f"<td>{html.escape(str(props.get('name') or ''))}</td>"
            f"<td>{html.escape(str(props.get('address') or ''))}</td>"
            f"<td>{html.escape(', '.join(props.get('categories') or []))}</td>"
            f"<td>{coords[1]}, {coords[0]}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>id</th><th>名称</th><th>所在地</th><th>特典区分</th><th>lat, lon</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def html_page(title: str, body: dict[str, Any]) -> HTMLResponse:
    """A plain, accessible HTML view of a JSON resource: its links, its features, then the data itself."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if body.get("description"):
        parts.append(f"<p>{html.escape(str(body['description']))}</p>")
    if body.get("links"):
        parts.append(_links(body["links"]))
    if body.get("type") == "FeatureCollection":
        parts.append(_features_table(body.get("features") or []))
    elif body.get("type") == "Feature":
        parts.append(_features_table([body]))
    parts.append(f"<pre>{html.escape(json.dumps(body, ensure_ascii=False, indent=2, default=str))}</pre>")
    page = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>{''.join(parts)}</body></html>"
    )
    return HTMLResponse(page)
