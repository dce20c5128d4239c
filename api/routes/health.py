from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import Conn
from api.errors import PROBLEM_RESPONSES
from api.schemas import Health
from search.db import db_errors

router = APIRouter(tags=["health"], responses={503: PROBLEM_RESPONSES[503]})


@router.get("/healthz", response_model=Health, summary="Liveness and database check")
async def healthz(conn: Conn) -> Health:
    async with db_errors():
        version = (await conn.execute(text("SELECT postgis_lib_version()"))).scalar_one()
    return Health(status="ok", database="ok", postgis=str(version))
