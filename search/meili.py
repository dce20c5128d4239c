"""The Meilisearch index: settings, documents built from the database row, rebuild-and-swap, sync.

PostGIS is the source of truth. Documents are made from ``shops`` rows only (never from ingest
objects), so the index can always be rebuilt. Every write waits for its task and fails loudly if
Meilisearch reports the task failed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import meilisearch
from sqlalchemy import Connection, Engine, func, select

from search.errors import KosodateError
from search.search_settings import MeiliSettings
from search.tables import ShopStatus, programmes, shop_changes, shops

BATCH = 5_000

INDEX_SETTINGS: dict[str, Any] = {
    # Order matters for the "attribute" ranking rule: the name before its reading before the place.
    "searchableAttributes": ["name", "name_key", "kana_key", "romaji_key", "name_kana", "place", "address"],
    "filterableAttributes": [
        "_geo",
        "categories",
        "amenities",
        "programme",
        "municipality_code",
        "cards",
        "nationwide",
        "multi_child",
        "card_needed",
        "open_from",
        "open_until",
    ],
    "sortableAttributes": ["_geo", "id"],
    "displayedAttributes": ["*"],
    # Kanji-only names would otherwise be detected as Chinese and segmented with the wrong dictionary.
    "localizedAttributes": [
        {
            "attributePatterns": ["name", "name_key", "kana_key", "name_kana", "place", "address"],
            "locales": ["jpn"],
        }
    ],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 9}},
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness", "id:asc"],
    "faceting": {"maxValuesPerFacet": 200, "sortFacetValuesBy": {"*": "count"}},
    "pagination": {"maxTotalHits": 10_000},
}

_HOURS = re.compile(r"([0-2]?[0-9])[:：時]([0-5][0-9])?\s*[~〜～\-－ー]\s*([0-2]?[0-9])[:：時]([0-5][0-9])?")


class SearchIndexError(KosodateError):
    title = "Search index problem"


def opening_minutes(hours: str | None) -> tuple[int, int] | None:
    """Minutes after midnight when a simple ``10:00〜20:00`` opening time starts and ends."""
    m = _HOURS.search(hours or "")
    if m is None:
        return None
    start = min(int(m[1]), 23) * 60 + int(m[2] or 0)
    end = 24 * 60 if int(m[3]) >= 24 else int(m[3]) * 60 + int(m[4] or 0)  # noqa: PLR2004
    return start, end


def client(settings: MeiliSettings) -> meilisearch.Client:
    if settings.url is None:
        raise SearchIndexError("KOSODATE_MEILI_URL is not set")
    key = settings.key.get_secret_value() if settings.key else None
    return meilisearch.Client(settings.url, key, timeout=max(1, round(settings.timeout_s)))


def wait(c: meilisearch.Client, task: Any, settings: MeiliSettings) -> None:
    """Wait for a write to be applied; a failed task is an error, never ignored."""
    done = c.wait_for_task(task.task_uid, timeout_in_ms=int(settings.task_timeout_s * 1000))
    if done.status != "succeeded":
        raise SearchIndexError(f"Meilisearch task {task.task_uid} {done.status}: {done.error}")


def _document_query() -> Any:
    return (
        select(
            shops.c.id,
            shops.c.name,
            shops.c.name_kana,
            shops.c.name_key,
            shops.c.kana_key,
            shops.c.romaji_key,
            shops.c.address,
            func.concat(shops.c.prefecture, shops.c.municipality).label("place"),
            func.ST_Y(func.geometry(shops.c.location)).label("lat"),
            func.ST_X(func.geometry(shops.c.location)).label("lng"),
            shops.c.categories,
            shops.c.amenities,
            programmes.c.code.label("programme"),
            shops.c.municipality_code,
            shops.c.municipality,
            shops.c.geocode_precision,
            shops.c.perk_text,
            shops.c.card_required,
            shops.c.cards,
            shops.c.nationwide,
            shops.c.multi_child,
            shops.c.hours,
            shops.c.source,
        )
        .select_from(shops.join(programmes, programmes.c.id == shops.c.programme_id))
        .where(shops.c.status == ShopStatus.ACTIVE.value, shops.c.location.is_not(None))
    )


def document(row: Mapping[str, Any]) -> dict[str, Any]:
    """A search document from one ``shops`` row (as selected by ``_document_query``)."""
    doc = {k: v for k, v in row.items() if k not in ("lat", "lng")}
    doc["_geo"] = {"lat": row["lat"], "lng": row["lng"]}
    doc["card_needed"] = row["card_required"] is not False
    opening = opening_minutes(row["hours"])
    if opening is not None:
        doc["open_from"], doc["open_until"] = opening
    return doc


def documents(conn: Connection, ids: Iterable[int] | None = None) -> Iterator[list[dict[str, Any]]]:
    """Batches of documents for all live shops, or for the given ids."""
    stmt = _document_query().order_by(shops.c.id)
    if ids is not None:
        stmt = stmt.where(shops.c.id.in_(list(ids)))
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
    for part in result.mappings().partitions(BATCH):
        yield [document(dict(r)) for r in part]


def rebuild(engine: Engine, settings: MeiliSettings) -> int:
    """Build a fresh index from the database and swap it in; searches never see a half-built index."""
    c = client(settings)
    live_uid = settings.index
    staging_uid = f"{live_uid}_build_{int(time.time())}"
    wait(c, c.create_index(staging_uid, {"primaryKey": "id"}), settings)
    index = c.index(staging_uid)
    try:
        wait(c, index.update_settings(INDEX_SETTINGS), settings)
        count = 0
        with engine.connect() as conn:
            for batch in documents(conn):
                wait(c, index.add_documents(batch, primary_key="id"), settings)
                count += len(batch)
        try:
            c.get_index(live_uid)
        except meilisearch.errors.MeilisearchApiError:
            wait(c, c.create_index(live_uid, {"primaryKey": "id"}), settings)
        wait(c, c.swap_indexes([{"indexes": [live_uid, staging_uid]}]), settings)
    finally:
        # After the swap the staging uid holds the old index (or the failed build): drop it.
        wait(c, c.delete_index(staging_uid), settings)
    return count


def sync_run(engine: Engine, settings: MeiliSettings, run_id: int) -> tuple[int, int]:
    """Push one ingest run's changes (from ``shop_changes``) to the index: upserts and deletions."""
    with engine.connect() as conn:
        changed = [
            int(i)
            for i in conn.execute(
                select(shop_changes.c.shop_id).where(shop_changes.c.run_id == run_id).distinct()
            ).scalars()
        ]
        if not changed:
            return 0, 0
        c = client(settings)
        index = c.index(settings.index)
        upserted: set[int] = set()
        for start in range(0, len(changed), BATCH):
            for batch in documents(conn, changed[start : start + BATCH]):
                wait(c, index.add_documents(batch, primary_key="id"), settings)
                upserted.update(int(d["id"]) for d in batch)
    gone: list[str | int] = [i for i in changed if i not in upserted]
    if gone:
        wait(c, index.delete_documents(gone), settings)
    return len(upserted), len(gone)
