"""The load stage: stream tagged shops into staging tables with COPY and merge them batch by batch."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import cache
from importlib.resources import files
from typing import Any

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo.geocoding import GeocodeCache, GeocodeResult
from ingest.lifecycle import Standing
from ingest.models import Rejection, TaggedShop
from ingest.staging import (
    SHOP_COLUMNS,
    STAGING_COLUMNS,
    content_hash,
    new_shop_row,
    search_keys,
    staging_row,
)
from search.tables import handoffs, rejected_rows

BATCH = 5000
# The first batch is smaller and each next one twice as large, up to BATCH: the database starts
# work after a few hundred rows rather than after the reading side has made a whole batch.
FIRST_BATCH = 500
QUEUED_BATCHES = 4  # tasks waiting for the writer (a batch of rows and its ids are two): bounds memory
# The run's transaction may use more memory per operation: a GIN index's pending list is merged into
# the index by the statement that fills it, and with more room it is done in fewer passes (measured:
# 7-10% less database CPU per batch, 5,000 rows; bench/results/ingest_bench.md).
WORK_MEM = "64MB"
# How large the run lets a GIN index's pending list grow before merging it into the index (the
# default is 4MB). Each merge then handles four times the rows, and keys common to many of them
# (address trigrams and codes) are written once per merge: 12% less database CPU on a 100,000-row
# first load (bench/results/ingest_bench.md). The run empties the lists before it commits
# (clean_gin_pending.sql); while it runs, keyword searches scan up to this much unmerged list.
PENDING_LIST_LIMIT = "16MB"


_INCLUDE = re.compile(r"^\s*-- include: ([a-z_]+\.sql)\s*$", re.M)


@cache
def _sql(name: str) -> str:
    """A statement from ingest/sql; a line ``-- include: other.sql`` stands for that file's text."""
    body = (files("ingest") / "sql" / name).read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: _sql(m.group(1)), body)


def _storable(text: str | None) -> str | None:
    """PostgreSQL text and jsonb cannot hold NUL: a rejected row's cells keep it as a visible ␀."""
    return text.replace("\x00", "\u2400") if text else text


class _Writer:
    """The database side of a load, on its own thread, so PostgreSQL merges one batch (its index
    maintenance is most of a load's cost) while Python reads, normalises and tags the next.

    Work arrives through a short queue, so at most a few batches are in memory whatever the file's
    size. The run's one connection is shared with the reading side only under ``lock``.
    """

    def __init__(self, work: Callable[[str, Any], None], lock: threading.Lock) -> None:
        self._work = work
        self.lock = lock
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue(maxsize=QUEUED_BATCHES)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="kosodate-load", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (task := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain without working: the run has failed and will roll back
            try:
                with self.lock:
                    self._work(*task)
            except BaseException as exc:  # handed to the reading side, which raises it
                self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, kind: str, payload: Any) -> None:
        self._raise()
        self._queue.put((kind, payload))

    def close(self) -> None:
        """Wait for the queued work; raise what it raised."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise()


class Loader:
    """Holds one transaction's staging tables. Staged rows are merged into ``shops`` batch by batch on
    a writer thread; ``finish`` merges the last of them and settles what needs the whole file."""

    def __init__(
        self, conn: Connection, run_id: int, programme_id: int | None = None, *, snapshot: bool = True
    ) -> None:
        self.conn = conn
        self.run_id = run_id
        self.programme_id = programme_id
        # A programme's first load: every row is new, so the reading side makes the search keys as
        # it stages (sharing the Python work out between the two threads) instead of the writer,
        # and each batch is COPYed into shops as it is (then logged: log_new_shops.sql), with no merge.
        self.first_load = (
            programme_id is not None
            and not conn.execute(
                text("SELECT EXISTS (SELECT FROM shops WHERE programme_id = :p)"), {"p": programme_id}
            ).scalar()
        )
        self.keys_first = self.first_load
        # A first load's rows go straight into shops; each batch's are then found by the run's id and
        # their ids, which only grow (the last one logged so far), and logged (log_new_shops.sql).
        self._after_id, self._placed_at = 0, ""
        if self.first_load:
            self._after_id, self._placed_at = conn.execute(
                text("SELECT coalesce(max(id), 0), now()::text FROM shops")
            ).one()
        self._snapshot = snapshot
        conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        conn.execute(text(f"SET LOCAL gin_pending_list_limit = '{PENDING_LIST_LIMIT}'"))
        self.wrote = False  # a batch inserted or merged shops
        self.sources: set[str] = set()
        for statement in _sql("create_staging.sql").split(";"):
            if statement.strip():
                conn.execute(text(statement))
        self._buffer: list[tuple[Any, ...]] = []
        self._batch = FIRST_BATCH
        self._seen: list[str] = []
        self._handoffs: list[tuple[TaggedShop, int]] = []
        self.staged = 0
        self.staged_pending = 0
        self.duplicates: list[Rejection] = []
        self._merged = [0, 0, 0]  # loaded, updated, left search
        self.lock = threading.Lock()
        # Held by the writer while it runs Python on the critical path (formatting COPY rows, making
        # readings), not while it waits for the database: the reading side waits at its next row
        # instead of splitting the GIL with it (measured: a batch's COPY took ~1 s beside a busy
        # reading side and ~0.1 s alone).
        self._pause = threading.Lock()
        self._writer = _Writer(self._work, self.lock)

    def close(self) -> None:
        """Stop the writer thread (after a failure too: the transaction then rolls back)."""
        self._writer.close()

    def _work(self, kind: str, payload: Any) -> None:
        if kind == "rows" and self.first_load:
            self._copy("shops", SHOP_COLUMNS, payload, pause=True)
            self._log_new_shops()
        elif kind == "rows":
            self._copy("staging_shops", STAGING_COLUMNS, payload, pause=True)
            self._merge_batch(hold=True)
        elif kind == "seen":
            self._copy("staging_seen", ("source_id",), [(sid,) for sid in payload])
        else:
            for shop, from_programme_id in payload:
                self._write_handoff(shop, from_programme_id)

    def _copy(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], *, pause: bool = False
    ) -> None:
        """COPY a bounded batch; the stream is closed before any other statement runs. The rows are
        formatted on this thread and sent by psycopg's queued writer on another, so ``pause`` (the
        reading side waits while the rows are formatted) ends when the formatting does, not when
        the database has read them: sending a batch lasts as long as the database takes to parse
        and store it, ~0.1 s for 5,000 rows, and the reading side waited 2.3 s of a 24 s load."""
        raw = self.conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("the database connection is closed")
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        held = self._pause if pause else nullcontext()
        # Left in reverse order: the pause first, then the copy (which waits for the database).
        with raw.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy, held:
            for row in rows:
                copy.write_row(row)

    def _merge_batch(self, *, hold: bool) -> None:
        """Merge what is in staging_shops, then empty it. ``hold``: first set aside the rows that may
        duplicate a shop loaded under another id (settled in ``finish``, once the file is read)."""
        # Statistics first: without them the joins against shops are planned as nested loops.
        self.conn.execute(text("ANALYZE staging_shops (programme_id, source_id, name_key, address)"))
        if hold:
            self.conn.execute(text(_sql("hold_possible_duplicates.sql")))
        self.conn.execute(text(_sql("drop_unchanged.sql")))
        if self.conn.execute(text("SELECT EXISTS (SELECT FROM staging_shops)")).scalar():
            if not self.keys_first:
                self._fill_readings()
            self._add(self.conn.execute(text(_sql("merge_shops.sql")), {"run_id": self.run_id}).one())
            self.wrote = True
        # else every row of the batch was unchanged: nothing to merge
        self.conn.execute(text("TRUNCATE staging_shops, staging_kana"))

    def _log_new_shops(self) -> None:
        """Log a first load's batch, just copied into shops (nothing to hold, drop or merge against:
        the programme had no shops, and the pipeline rejects a row whose source id or name + address
        an earlier row of the file had), and count it."""
        *counts, last_id = self.conn.execute(
            text(_sql("log_new_shops.sql")),
            {"run_id": self.run_id, "programme_id": self.programme_id, "after_id": self._after_id},
        ).one()
        self._add(counts)
        self._after_id = max(self._after_id, last_id or 0)
        self.wrote = True

    def _add(self, counts: Sequence[Any]) -> None:
        """Count a batch's (loaded, updated, left search)."""
        self._merged = [done + int(n) for done, n in zip(self._merged, counts, strict=True)]

    def _flush(self) -> None:
        if self._buffer:
            self._writer.put("rows", self._buffer)
            self._buffer = []
            self._batch *= 2

    def stage(self, shop: TaggedShop, standing: Standing | None = None) -> None:
        with self._pause:  # free at once unless the writer is copying or making readings
            pass
        row = staging_row(shop, standing, keys=self.keys_first)
        self._buffer.append(new_shop_row(row, self._placed_at, self.run_id) if self.first_load else row)
        if len(self._buffer) >= min(self._batch, BATCH):
            self._flush()
        self.sources.add(shop.geocoded.shop.source)
        self.seen(shop.geocoded.shop.source_id)
        self.staged += 1
        if not shop.geocoded.placed:
            self.staged_pending += 1

    def seen(self, source_id: str) -> None:
        """A source id the file mentions (kept from snapshot withdrawal); written in bounded batches."""
        if self.first_load and not self._snapshot:
            # Which ids the file mentions matters to held rows (duplicates across files: a first
            # load holds none) and to a snapshot's withdrawals; a first load in delta mode keeps none.
            return
        self._seen.append(source_id)
        if len(self._seen) >= BATCH:
            self._flush_seen()

    def _flush_seen(self) -> None:
        if self._seen:
            self._writer.put("seen", self._seen)
            self._seen = []

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
                    "field": _storable(r.field),
                    "reason": _storable(r.reason),
                    "value": _storable(r.value),
                    "raw": {_storable(k): _storable(v) for k, v in r.raw.items() if v},
                }
                for r in rejections
            ],
        )

    def hand_off(self, shop: TaggedShop, from_programme_id: int) -> None:
        """Queue a hand-off; written by the writer in batches."""
        self._handoffs.append((shop, from_programme_id))
        if len(self._handoffs) >= BATCH:
            self._writer.put("handoffs", self._handoffs)
            self._handoffs = []
        self.seen(shop.geocoded.shop.source_id)

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

    def _known_duplicates(self) -> list[Rejection]:
        """Take out staged rows that duplicate a live shop loaded under another id (by name + address)."""
        found = self.conn.execute(text(_sql("reject_known_duplicates.sql"))).all()
        out = []
        for row in found:
            self.staged -= 1
            self.staged_pending -= int(bool(row.pending))
            out.append(
                Rejection(
                    row.line,
                    f"duplicate: the same name and address as shop {row.dup_source}:{row.dup_source_id} "
                    f"(loaded by run {row.dup_run_id})",
                    "name",
                    row.name,
                    {"source_id": row.source_id, "name": row.name, "address": row.address},
                )
            )
        return sorted(out, key=lambda r: r.line)

    def _fill_readings(self) -> None:
        """Search keys for the staged rows (those the merge writes): a reading when the source gave
        none, the romaji key, and the gram codes of the names and of the address (search.keys)."""
        staged = self.conn.execute(
            text(
                "SELECT line, name, name_kana, name_key, prefecture, municipality, address FROM staging_shops"
            )
        ).all()
        with self._pause:  # the reading side waits while the keys are made
            rows = [(line, *search_keys(*keys)) for line, *keys in staged]
        self._copy(
            "staging_kana",
            ("line", "name_kana", "kana_key", "romaji_key", "name_codes", "address_codes"),
            rows,
            pause=True,
        )
        self.conn.execute(
            text(
                "UPDATE staging_shops AS st "
                "SET name_kana = k.name_kana, kana_key = k.kana_key, romaji_key = k.romaji_key, "
                "name_codes = k.name_codes, address_codes = k.address_codes "
                "FROM staging_kana AS k WHERE k.line = st.line"
            )
        )

    def finish(self, *, programme_id: int, snapshot: bool, default_source: str) -> tuple[int, int, int]:
        """Merge what is left; return (loaded, updated, withdrawn); ``duplicates``: what was taken out."""
        self._flush()
        self._flush_seen()
        if self._handoffs:
            self._writer.put("handoffs", self._handoffs)
            self._handoffs = []
        self._writer.close()
        self.conn.execute(text("ANALYZE staging_seen"))
        self.duplicates = self._known_duplicates()
        self.conn.execute(text("INSERT INTO staging_shops SELECT * FROM staging_held"))
        self._merge_batch(hold=False)
        loaded, updated, withdrawn = self._merged
        if snapshot:
            sources = sorted(self.sources | {default_source})
            withdrawn += self.conn.execute(
                text(_sql("withdraw_missing.sql")),
                {"run_id": self.run_id, "programme_id": programme_id, "sources": sources},
            ).scalar_one()
        if self.wrote or withdrawn:
            self.conn.execute(text(_sql("clean_gin_pending.sql")))
        return loaded, updated, int(withdrawn)


class LockedCache:
    """A geocode cache used under the loader's lock (it shares the run's connection)."""

    def __init__(self, cache: GeocodeCache, lock: threading.Lock) -> None:
        self._cache = cache
        self._lock = lock

    def get(self, key: str) -> GeocodeResult | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: str, address: str, result: GeocodeResult) -> None:
        with self._lock:
            self._cache.put(key, address, result)
