"""The change feed: what was added, changed or removed (tombstones) since a time or a cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import Conn, Settings
from api.errors import PROBLEM_RESPONSES
from api.paging import feed_page_size
from search.db import db_errors
from search.errors import InvalidQuery
from search.features import changes

router = APIRouter(prefix="/v1", tags=["changes"], responses=PROBLEM_RESPONSES)


def encode_cursor(change_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{change_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("c"):
            raise ValueError(raw)
        value = int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery("cursor is not one this server gave out") from None
    if not 0 <= value < 2**63:
        raise InvalidQuery("cursor is not one this server gave out")
    return value


class Change(BaseModel):
    cursor: str = Field(description="Resume after this change")
    change: str = Field(description="added, changed or removed")
    id: int = Field(description="The shop's id (the OGC feature id)")
    changed_at: datetime
    run_id: int | None
    programme: str
    tombstone: bool = Field(description="True when the shop is no longer listed (withdrawn or closed)")
    status: str | None = Field(description="The shop's status now")
    feature: dict[str, Any] | None = Field(description="The shop as it is now (GeoJSON), unless a tombstone")


class Link(BaseModel):
    href: str
    rel: str
    type: str = "application/json"


class ChangeFeed(BaseModel):
    changes: list[Change]
    next_cursor: str | None = Field(description="Pass as cursor= to continue (unchanged when nothing new)")
    links: list[Link]


@router.get("/changes", response_model=ChangeFeed, summary="Shops added, changed and removed, oldest first")
async def list_changes(
    request: Request,
    conn: Conn,
    settings: Settings,
    since: Annotated[
        AwareDatetime | None, Query(description="Changes after this time (ISO 8601 with zone)")
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description="Opaque, from next_cursor")
    ] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> ChangeFeed:
    after_id = decode_cursor(cursor) if cursor else 0
    params: dict[str, object] = {"after_id": after_id, "limit": feed_page_size(limit, settings, default=100)}
    if since is not None:
        params["since"] = since
    async with db_errors():
        rows = (await conn.execute(changes(with_since=since is not None), params)).mappings().all()
    out = []
    for row in rows:
        live = row["status"] == "active"
        tombstone = row["change"] == "removed" or not live
        out.append(
            Change(
                cursor=encode_cursor(row["id"]),
                change=row["change"],
                id=row["shop_id"],
                changed_at=row["changed_at"],
                run_id=row["run_id"],
                programme=row["programme"],
                tombstone=tombstone,
                status=row["status"],
                feature=None if tombstone or row["feature"] is None else json.loads(row["feature"]),
            )
        )
    next_cursor = out[-1].cursor if out else None
    links = [Link(href=str(request.url), rel="self")]
    if next_cursor:
        nxt = request.url.remove_query_params("since").include_query_params(cursor=next_cursor)
        links.append(Link(href=str(nxt), rel="next"))
    return ChangeFeed(changes=out, next_cursor=next_cursor or cursor, links=links)
