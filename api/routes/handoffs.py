"""Hand-off for a receiving programme (e.g. Yokohama's HamaHug): the shops another programme passed on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.auth import HandoffAccess
from api.deps import Conn, Settings
from api.errors import problem_responses
from api.paging import feed_page_size
from search.db import db_errors
from search.features import handoff_records

router = APIRouter(
    prefix="/v1",
    tags=["hand-off"],
    responses=problem_responses(400, 401, 422, 503),
    dependencies=[HandoffAccess],
)


class Handoff(BaseModel):
    id: int
    to_programme: str
    from_programme: str
    source: str
    source_id: str
    name: str
    address: str
    municipality_code: str | None
    lat: float | None
    lng: float | None
    reason: str
    evidence: dict[str, Any]
    record: dict[str, Any]
    updated_at: datetime


class HandoffPage(BaseModel):
    to: str
    handoffs: list[Handoff]
    next_after: int | None


@router.get("/handoffs", response_model=HandoffPage, summary="Shops handed to a programme (bearer token)")
async def list_handoffs(
    conn: Conn,
    settings: Settings,
    to: Annotated[str, Query(pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="Receiving programme")],
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="Continue after this id")] = 0,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> HandoffPage:
    n = feed_page_size(limit, settings, default=500)
    async with db_errors():
        rows = (await conn.execute(handoff_records(), {"to": to, "after_id": after, "limit": n})).mappings()
        items = [Handoff.model_validate(dict(r)) for r in rows]
    return HandoffPage(to=to, handoffs=items, next_after=items[-1].id if len(items) == n else None)
