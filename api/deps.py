"""Typed dependencies: the connection and settings reach routes through these aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.settings import AppSettings
from search.db import db_errors


def get_settings(request: Request) -> AppSettings:
    settings: AppSettings = request.app.state.settings
    return settings


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    async with db_errors(), engine.connect() as conn:
        yield conn


Settings = Annotated[AppSettings, Depends(get_settings)]
Conn = Annotated[AsyncConnection, Depends(get_conn)]
