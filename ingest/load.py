"""The load stage: stream tagged shops into a staging table with COPY, then merge in one statement."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo.prefectures import PREFECTURES, split_prefecture
from geo.reading import reading
from geo.text import search_key
from ingest.models import Rejection, TaggedShop
from search.keys import name_romaji_key
from search.tables import handoffs, rejected_rows

STAGING_COLUMNS = (
    "line", "programme_id", "source", "source_id", "name", "name_kana", "name_key", "kana_key", "address",
    "prefecture", "building", "postal_code", "phone", "url", "hours", "closed_days", "perk_text",
    "categories", "amenities", "tags", "card_required", "cards", "multi_child", "municipality_code",
    "lg_code", "lat", "lng", "geocode_precision", "geocode_source", "location_flags", "registered_on",
    "expires_on", "nationwide", "content_hash", "romaji_key",
)  # fmt: skip


BATCH = 5000


def _sql(name: str) -> str:
    return (files("ingest") / "sql" / name).read_text(encoding="utf-8")


def content_hash(values: Sequence[Any]) -> str:
    payload = json.dumps(values, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def staging_row(t: TaggedShop) -> tuple[Any, ...]:
    g = t.geocoded
    s = g.shop
    pref_code, _ = split_prefecture(s.address)
    if pref_code is None and t.municipality_code:
        pref_code = int(t.municipality_code[:2])
    tags = [{"kind": tag.kind, "value": tag.value, "why": tag.why} for tag in t.tags]
    # The source's reading when it has one; otherwise one made from the name.
    kana = s.name_kana or reading(s.name) or None
    body = [
        t.programme_id, s.source, s.source_id, s.name, kana, search_key(s.name),
        search_key(kana) or None, s.address, PREFECTURES.get(pref_code) if pref_code else None,
        s.building, s.postal_code, s.phone, s.url, s.hours, s.closed_days, s.perk_text,
        list(t.categories), list(t.amenities), tags, t.card_required, list(t.cards), t.multi_child,
        t.municipality_code, t.lg_code, g.lat, g.lng, g.precision, g.geocoder, list(g.location_flags),
        s.registered_on, t.expires_on, t.nationwide,
    ]  # fmt: skip
    digest = content_hash(body)
    body[18] = Jsonb(tags)
    return (s.line, *body, digest, name_romaji_key(s.name, kana) or None)


class Loader:
    """Holds one transaction's staging tables; call ``finish`` to merge them into ``shops``."""

    def __init__(self, conn: Connection, run_id: int) -> None:
        self.conn = conn
        self.run_id = run_id
        self.sources: set[str] = set()
        for statement in _sql("create_staging.sql").split(";"):
            if statement.strip():
                conn.execute(text(statement))
        self._buffer: list[tuple[Any, ...]] = []
        self._seen: list[str] = []
        self._handoffs: list[tuple[TaggedShop, int]] = []
        self.staged = 0
        self.staged_pending = 0

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """COPY a bounded batch; the stream is closed before any other statement runs."""
        raw = self.conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("the database connection is closed")
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _flush(self) -> None:
        if self._buffer:
            self._copy("staging_shops", STAGING_COLUMNS, self._buffer)
            self._buffer.clear()

    def stage(self, shop: TaggedShop) -> None:
        self._buffer.append(staging_row(shop))
        if len(self._buffer) >= BATCH:
            self._flush()
        self.sources.add(shop.geocoded.shop.source)
        self._seen.append(shop.geocoded.shop.source_id)
        self.staged += 1
        if not shop.geocoded.placed:
            self.staged_pending += 1

    def seen(self, source_id: str) -> None:
        """A source id the file mentions even though the row was not loaded (kept from withdrawal)."""
        self._seen.append(source_id)

    def reject(self, rejections: Sequence[Rejection]) -> None:
        """Store the run's rejections."""
        if not rejections:
            return
        self.conn.execute(
            rejected_rows.insert(),
            [
                {
                    "run_id": self.run_id,
                    "line": r.line,
                    "field": r.field,
                    "reason": r.reason,
                    "value": r.value,
                    "raw": {k: v for k, v in r.raw.items() if v},
                }
                for r in rejections
            ],
        )

    def hand_off(self, shop: TaggedShop, from_programme_id: int) -> None:
        """Queue a hand-off; written in ``finish``."""
        self._handoffs.append((shop, from_programme_id))
        self._seen.append(shop.geocoded.shop.source_id)

    def _write_handoff(self, shop: TaggedShop, from_programme_id: int) -> None:
        if shop.handoff is None:
            raise ValueError("not a hand-off")
        g = shop.geocoded
        s = g.shop
        record = {
            "name": s.name, "address": s.address, "building": s.building, "postal_code": s.postal_code,
            "phone": s.phone, "url": s.url, "hours": s.hours, "closed_days": s.closed_days,
            "perk_text": s.perk_text, "categories": list(shop.categories), "amenities": list(shop.amenities),
            "lat": g.lat, "lng": g.lng, "precision": g.precision,
        }  # fmt: skip
        digest = content_hash([record, shop.handoff.reason, shop.handoff.evidence])
        location = func.kosodate_point(g.lat, g.lng) if g.placed else None
        stmt = pg_insert(handoffs).values(
            from_programme_id=from_programme_id,
            to_programme=shop.handoff.to_programme,
            source=s.source,
            source_id=s.source_id,
            name=s.name,
            address=s.address,
            municipality_code=shop.municipality_code,
            location=location,
            reason=shop.handoff.reason,
            evidence=shop.handoff.evidence,
            record=record,
            content_hash=digest,
            first_run_id=self.run_id,
            last_run_id=self.run_id,
        )
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            constraint="handoffs_source",
            set_={
                "name": excluded.name,
                "address": excluded.address,
                "municipality_code": excluded.municipality_code,
                "location": excluded.location,
                "reason": excluded.reason,
                "evidence": excluded.evidence,
                "record": excluded.record,
                "content_hash": excluded.content_hash,
                "last_run_id": excluded.last_run_id,
                "updated_at": text("now()"),
            },
            where=handoffs.c.content_hash != excluded.content_hash,
        )
        self.conn.execute(stmt)

    def finish(self, *, programme_id: int, snapshot: bool, default_source: str) -> tuple[int, int, int]:
        """Merge staged rows; return (loaded, updated, withdrawn)."""
        self._flush()
        self._copy("staging_seen", ("source_id",), [(sid,) for sid in self._seen])
        for shop, from_programme_id in self._handoffs:
            self._write_handoff(shop, from_programme_id)
        self.conn.execute(text("ANALYZE staging_shops"))
        loaded, updated = self.conn.execute(text(_sql("merge_shops.sql")), {"run_id": self.run_id}).one()
        withdrawn = 0
        if snapshot:
            sources = sorted(self.sources | {default_source})
            withdrawn = self.conn.execute(
                text(_sql("withdraw_missing.sql")),
                {"run_id": self.run_id, "programme_id": programme_id, "sources": sources},
            ).scalar_one()
        return int(loaded), int(updated), int(withdrawn)
