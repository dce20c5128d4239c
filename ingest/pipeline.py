"""Run a registry file through read -> normalise -> geocode -> tag -> load, in one transaction."""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from itertools import islice
from pathlib import Path

import psycopg
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from geo.prefectures import PREFECTURES
from geo.settings import GeocoderSettings
from geo.text import search_key
from ingest.errors import IngestError
from ingest.jurisdiction import Jurisdiction
from ingest.lifecycle import standing
from ingest.load import Loader, LockedCache
from ingest.locate import Locator
from ingest.models import GeocodedShop, NormalizedShop, RawRow, Rejection
from ingest.normalize import AddressDefaults, normalize
from ingest.overrides import apply_overrides
from ingest.profile import Profile
from ingest.programmes import Programme
from ingest.read import Opened, open_registry, read_rows
from ingest.report import RunSummary
from ingest.seen import FirstLines, digest64
from ingest.tag import tag
from search.index_sync import after_ingest_run
from search.tables import ingest_runs, programmes

Progress = Callable[[int], None]
OnOpen = Callable[[Opened], None]
OnStage = Callable[[str], None]  # "reading", "geocoding", "loading", "indexing": where a run is
MODES = ("delta", "snapshot")
# A run allocates a few container objects per row (rows, tuples, lists), nearly all freed by reference
# counting; with the default thresholds the cyclic collector runs every 700 of them and often walks
# the run's large, long-lived tables (gazetteer, caches). Rarer collections during a run: ~1 s less
# Python CPU per 100,000 rows (bench/results/ingest_bench.md). Memory is still bounded: cyclic
# garbage waits for at most this many allocations.
RUN_GC_THRESHOLDS = (50_000, 20, 20)
# Rows go through the stages a chunk at a time (normalise and check every row of the chunk, then
# place them, then tag and stage them), not one row through every stage: each stage's code and data
# stay warm in the CPU's caches: 183 against 220 us of Python CPU a row (bench/ingest_python_cost.py,
# bench/results/ingest_bench.md). The outcome is the same, row for row.
CHUNK = 128


def _line(rejection: Rejection) -> int:
    return rejection.line


_gc_lock = threading.Lock()
_gc_runs: list[tuple[int, ...]] = []  # the thresholds before the first run still going, once per run


@contextmanager
def _rarer_collections() -> Iterator[None]:
    """The run's collector thresholds while any run is going (runs may overlap on a server's
    threads): the first to start sets them, the last to end puts the earlier ones back."""
    with _gc_lock:
        _gc_runs.append(_gc_runs[0] if _gc_runs else gc.get_threshold())
        gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        with _gc_lock:
            before = _gc_runs.pop()
            if not _gc_runs:
                gc.set_threshold(*before)


def sync_programme(engine: Engine, programme: Programme) -> int:
    """Upsert the programme's configuration into the database; return its id."""
    insert = pg_insert(programmes).values(
        code=programme.code,
        name=programme.name,
        name_en=programme.name_en,
        prefecture_codes=list(programme.prefectures),
        config=programme.raw,
    )
    stmt = insert.on_conflict_do_update(
        index_elements=[programmes.c.code],
        set_={
            "name": insert.excluded.name,
            "name_en": insert.excluded.name_en,
            "prefecture_codes": insert.excluded.prefecture_codes,
            "config": insert.excluded.config,
            "updated_at": func.now(),
        },
    ).returning(programmes.c.id)
    with engine.begin() as conn:
        return int(conn.execute(stmt).scalar_one())


def address_defaults(profile: Profile, programme: Programme) -> AddressDefaults | None:
    """What to put in front of addresses that leave it out: the profile's, else the programme's home."""
    if profile.defaults.get("prefecture"):
        return AddressDefaults(profile.defaults["prefecture"], profile.defaults.get("municipality"))
    home = programme.raw.get("home_prefecture")
    if home is None and len(programme.prefectures) == 1:
        home = programme.prefectures[0]
    return AddressDefaults(PREFECTURES[int(home)]) if home is not None else None


def _name_address_key(shop: NormalizedShop) -> int:
    return digest64(f"{shop.name_key or search_key(shop.name)}|{search_key(shop.address)}")


def _duplicate_of(
    shop: NormalizedShop,
    original: dict[str, str],
    first_line: FirstLines,
    first_by_name: FirstLines,
) -> Rejection | None:
    """A rejection when the file already had this shop (same source id, or same name and address)."""
    earlier = first_line.first(digest64(shop.source_id), shop.line)
    if earlier is not None:
        reason = f"duplicate source_id: the same shop is on line {earlier}"
        return Rejection(shop.line, reason, "source_id", shop.source_id, original)
    earlier = first_by_name.first(_name_address_key(shop), shop.line)
    if earlier is not None:
        reason = f"duplicate: the same name and address as line {earlier}"
        return Rejection(shop.line, reason, "name", shop.name, original)
    return None


def ingest_file(
    engine: Engine,
    path: Path,
    programme: Programme,
    *,
    profile: Profile | None = None,
    mode: str = "delta",
    progress: Progress | None = None,
    geocoding: GeocoderSettings | None = None,
    today: date | None = None,
    on_open: OnOpen | None = None,
    on_stage: OnStage | None = None,
) -> RunSummary:
    if mode not in MODES:
        raise IngestError(f"mode must be one of {', '.join(MODES)}")
    stage = on_stage or (lambda _name: None)
    stage("reading")
    opened = open_registry(path, profile)
    if on_open is not None:
        on_open(opened)
    programme_id = sync_programme(engine, programme)
    with engine.begin() as conn:
        # A run still marked running was killed: it left nothing behind (its transaction died with it).
        conn.execute(
            update(ingest_runs)
            .where(ingest_runs.c.status == "running", ingest_runs.c.programme_id == programme_id)
            .values(status="abandoned", finished_at=func.now())
        )
        run_id = int(
            conn.execute(
                ingest_runs.insert()
                .values(
                    programme_id=programme_id,
                    source_file=str(path),
                    file_sha256=opened.sha256,
                    profile=opened.profile.name,
                    mode=mode,
                    status="running",
                )
                .returning(ingest_runs.c.id)
            ).scalar_one()
        )
    summary = RunSummary(run_id=run_id, programme=programme.code, profile=opened.profile.name, mode=mode)
    try:
        run_day = today or date.today()
        with _rarer_collections():
            _run(engine, opened, programme, programme_id, summary, mode, progress, run_day, geocoding, stage)
    except (SQLAlchemyError, psycopg.Error, OSError, IngestError) as exc:  # psycopg: the COPY stream
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(ingest_runs)
                    .where(ingest_runs.c.id == run_id)
                    .values(status="failed", finished_at=func.now(), error=str(exc)[:2000])
                )
        except SQLAlchemyError:
            pass  # the database is still unwell (full, restarting): the next run marks this one abandoned
        if isinstance(exc, IngestError):
            raise
        raise IngestError(f"run {run_id} failed and changed nothing: {exc}") from exc
    stage("indexing")  # committed: the search index, if one is configured, catches up
    after_ingest_run(engine, run_id)  # push the run's changes to the search index, if one is configured
    return summary


def _run(  # noqa: PLR0915 - the stages in order, one statement each
    engine: Engine,
    opened: Opened,
    programme: Programme,
    programme_id: int,
    summary: RunSummary,
    mode: str,
    progress: Progress | None,
    today: date,
    geocoding: GeocoderSettings | None = None,
    stage: OnStage | None = None,
) -> None:
    stage = stage or (lambda _name: None)
    flags_seen: Counter[str] = Counter()
    # Duplicate detection keeps one small entry per row (a digest and a line number), not the rows.
    first_line, first_by_name = FirstLines(), FirstLines()
    defaults = address_defaults(opened.profile, programme)
    with engine.begin() as conn:
        stage("geocoding")  # rows are read, normalised, placed, tagged and staged, CHUNK at a time
        loader = Loader(conn, summary.run_id, programme_id, snapshot=mode == "snapshot")
        try:
            locator = Locator.for_run(conn, programme, geocoding)  # gazetteer, boundaries, cache: once
            if locator.chain is not None and locator.chain.cache is not None:
                # The geocode cache reads and writes on the run's connection, which the loader's
                # writer thread uses too: one at a time.
                locator.chain.cache = LockedCache(locator.chain.cache, loader.lock)
            rejections: list[Rejection] = []
            rows = read_rows(opened)
            while chunk := list(islice(rows, CHUNK)):
                counted, summary.rows = summary.rows, summary.rows + len(chunk)
                if progress and summary.rows // 1000 > counted // 1000:
                    progress(summary.rows)
                refused: list[Rejection] = []
                shops: list[tuple[RawRow, NormalizedShop]] = []
                for raw in chunk:
                    shop = normalize(raw, defaults)
                    if isinstance(shop, Rejection):
                        refused.append(shop)
                        continue
                    duplicate = _duplicate_of(shop, raw.original, first_line, first_by_name)
                    if duplicate is not None:
                        refused.append(duplicate)
                        continue
                    shops.append((raw, shop))
                placed: list[tuple[RawRow, NormalizedShop, GeocodedShop, Jurisdiction]] = []
                for raw, shop in shops:
                    located = locator.geocode(shop)
                    where = locator.decide(located, programme)
                    if isinstance(where, Rejection):
                        refused.append(
                            Rejection(where.line, where.reason, where.field, where.value, raw.original)
                        )
                        loader.seen(shop.source_id)
                        continue
                    placed.append((raw, shop, located, where))
                for raw, shop, located, where in placed:
                    tagged = tag(located, programme, programme_id, raw.flags, where, today=today)
                    flags_seen.update(located.location_flags)
                    if tagged.handoff is not None:
                        loader.hand_off(tagged, programme_id)
                        summary.handed_off += 1
                        continue
                    loader.stage(tagged, standing(shop, tagged.expires_on, programme.lifecycle, today))
                rejections += sorted(refused, key=_line)  # in file order, as if read row by row
            if progress:
                progress(summary.rows)
            stage("loading")  # the last batches, duplicates and withdrawals, in this run's one transaction
            loaded, updated, withdrawn = loader.finish(
                programme_id=programme_id, snapshot=mode == "snapshot", default_source=opened.profile.source
            )
        finally:
            loader.close()  # a no-op after finish; after a failure, stops the writer before rollback
        apply_overrides(conn, programme_id=programme_id)  # the operator's word outlives re-ingest
        rejections.extend(loader.duplicates)
        loader.reject(rejections)
        summary.rejected = len(rejections)
        summary.rejections = rejections
        summary.loaded, summary.updated, summary.withdrawn = loaded, updated, withdrawn
        summary.pending_geocode = loader.staged_pending
        summary.unchanged = loader.staged - loader.staged_pending - loaded - updated
        summary.location_flags = dict(flags_seen)
        summary.check()
        conn.execute(
            update(ingest_runs)
            .where(ingest_runs.c.id == summary.run_id)
            .values(
                status="succeeded",
                finished_at=func.now(),
                rows=summary.rows,
                loaded=summary.loaded,
                updated=summary.updated,
                unchanged=summary.unchanged,
                rejected=summary.rejected,
                handed_off=summary.handed_off,
                pending_geocode=summary.pending_geocode,
                withdrawn=summary.withdrawn,
            )
        )


def programme_id_of(engine: Engine, code: str) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(select(programmes.c.id).where(programmes.c.code == code)).scalar_one_or_none()
    return int(value) if value is not None else None
