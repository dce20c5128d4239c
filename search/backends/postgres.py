"""The PostgreSQL backend (the default): runs the pure builders on an async connection."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from search.compiled import count_sql, hits_sql, keyword_free
from search.contract import Backend, SearchRequest, SearchResult
from search.db import driver_rows
from search.errors import NotFound
from search.queries import (
    FUZZY_BELOW,
    count_and_facets,
    estimated_count,
    few_matches,
    has_fuzzy_words,
    search_params,
    shop_detail,
    shop_search,
)


def _tally(request: SearchRequest, rows: Iterable[Any]) -> tuple[int, dict[str, dict[str, int]]]:
    """The count-and-facets rows ``(facet, value, n)`` as the total and each facet's counts."""
    facets: dict[str, dict[str, int]] = {f.value: {} for f in request.facets}
    total = 0
    for facet, value, n in rows:
        if facet == "":
            total = int(n)
        else:
            facets[facet][str(value)] = int(n)
    for name, counts in facets.items():
        facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return total, facets


async def _count_and_facets(
    conn: AsyncConnection, request: SearchRequest, cap: int, *, fuzzy: bool
) -> tuple[int, bool, dict[str, dict[str, int]]]:
    wanted = tuple(f.value for f in request.facets)
    stmt = count_and_facets(request, wanted, cap, fuzzy=fuzzy)
    total, facets = _tally(request, await conn.execute(stmt, search_params(request)))
    return await _exact_or_estimated(conn, request, cap, total, facets)


async def _exact_or_estimated(
    conn: AsyncConnection, request: SearchRequest, cap: int, total: int, facets: dict[str, dict[str, int]]
) -> tuple[int, bool, dict[str, dict[str, int]]]:
    if total <= cap:
        return total, True, facets
    # More than the cap: say so, and give the planner's estimate rather than counting on.
    compiled = estimated_count(request).compile(dialect=conn.dialect)
    params = {**compiled.params, **search_params(request)}
    plan = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), params)
    raw = plan.scalar_one()
    doc = json.loads(raw) if isinstance(raw, str) else raw
    estimate = int(doc[0]["Plan"]["Plans"][0]["Plan Rows"]) if doc[0]["Plan"].get("Plans") else cap + 1
    return max(estimate, cap + 1), False, facets


async def search(conn: AsyncConnection, request: SearchRequest, *, count_cap: int = 10_000) -> SearchResult:
    """Exact words first; when they find fewer than ``FUZZY_BELOW`` shops and a word has 4+
    characters, the whole search (every page of it) allows one typo per word."""
    if keyword_free(request):  # compiled once per shape, run on the driver together (search.compiled)
        (names, rows), (_, counted) = await driver_rows(
            conn, hits_sql(request), count_sql(request, count_cap)
        )
        hits = [dict(zip(names, row, strict=True)) for row in rows]
        total, facets = _tally(request, counted)
        total, is_exact, facets = await _exact_or_estimated(conn, request, count_cap, total, facets)
        return SearchResult(
            hits=hits, total=total, total_exact=is_exact, facets=facets, backend=Backend.POSTGRES
        )
    fuzzy = False
    if has_fuzzy_words(request):
        exact = await conn.execute(few_matches(request, FUZZY_BELOW), search_params(request))
        # Candidates come by trigram word similarity, with the low bar set on every connection
        # (search.db; short words share few trigrams after one edit); a one-edit regex then decides.
        fuzzy = int(exact.scalar_one()) < FUZZY_BELOW
    rows = (await conn.execute(shop_search(request, fuzzy=fuzzy), search_params(request))).all()
    total, is_exact, facets = await _count_and_facets(conn, request, count_cap, fuzzy=fuzzy)
    hits = [dict(r._mapping) for r in rows]
    return SearchResult(hits=hits, total=total, total_exact=is_exact, facets=facets, backend=Backend.POSTGRES)


async def get_shop(conn: AsyncConnection, shop_id: int) -> dict[str, Any]:
    row = (await conn.execute(shop_detail(), {"shop_id": shop_id})).first()
    if row is None:
        raise NotFound(f"no shop with id {shop_id}")
    return dict(row._mapping)
