"""Readiness: the database answers and its schema is migrated (liveness is /healthz)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import Conn
from api.errors import problem_responses
from search.db import db_errors
from search.errors import DatabaseUnavailable
from search.migrate import code_heads

router = APIRouter(tags=["health"], responses=problem_responses(503))


class Ready(BaseModel):
    status: str
    migrations: list[str]


@router.get("/readyz", response_model=Ready, summary="Ready to serve: database reachable and migrated")
async def readyz(conn: Conn) -> Ready:
    async with db_errors():
        present = (await conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL"))).scalar()
        heads = (
            list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
            if present
            else []
        )
    if not heads:
        raise DatabaseUnavailable("the database has no schema yet; run `kosodate db migrate`")
    if set(heads) != code_heads():
        raise DatabaseUnavailable("the database schema is behind this version; run `kosodate db migrate`")
    return Ready(status="ready", migrations=sorted(heads))
