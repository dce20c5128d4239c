"""Typed dependencies: the connection and settings reach routes through these aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.settings import AppSettings
from search.db import db_errors


async def get_settings(request: Request) -> AppSettings:
    settings: AppSettings = request.app.state.settings
    return settings


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    async with db_errors(), engine.connect() as conn:
        yield conn


Settings = Annotated[AppSettings, Depends(get_settings)]
# "function" scope: the connection goes back to the pool when the route returns, before the response is
# sent. With the default ("request") it stayed checked out until the client had the bytes, so the next
# request on a keep-alive connection found the pool empty and opened (then closed) an overflow connection:
# a fresh backend per request, measured at about half the bbox page's database time (bench/api_bench.py).
# Streaming routes (exports) open their own connection inside the stream, not this one.
Conn = Annotated[AsyncConnection, Depends(get_conn, scope="function")]
