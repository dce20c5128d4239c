"""The PostgreSQL backend: runs the pure builders on an async connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from search.errors import NotFound
from search.queries import ShopQuery, search_params, shop_detail, shop_search


async def search(conn: AsyncConnection, query: ShopQuery) -> list[dict[str, Any]]:
    result = await conn.execute(shop_search(query), search_params(query))
    return [dict(row._mapping) for row in result]


async def get_shop(conn: AsyncConnection, shop_id: int) -> dict[str, Any]:
    row = (await conn.execute(shop_detail(), {"shop_id": shop_id})).first()
    if row is None:
        raise NotFound(f"no shop with id {shop_id}")
    return dict(row._mapping)
