"""Run a registry file through read -> normalise -> geocode -> tag -> load, in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from geo.settings import GeocoderSettings
from ingest.errors import IngestError
from ingest.load import Loader
from ingest.locate import Locator
from ingest.models import Rejection
from ingest.normalize import normalize
from ingest.overrides import apply_overrides
from ingest.profile import Profile
from ingest.programmes import Programme
from ingest.read import Opened, open_registry, read_rows
from ingest.report import RunSummary
from ingest.tag import tag
from search.index_sync import after_ingest_run
from search.tables import ingest_runs, programmes

Progress = Callable[[int], None]
MODES = ("delta", "snapshot")


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


def ingest_file(
    engine: Engine,
    path: Path,
    programme: Programme,
    *,
    profile: Profile | None = None,
    mode: str = "delta",
    progress: Progress | None = None,
    geocoding: GeocoderSettings | None = None,
) -> RunSummary:
    if mode not in MODES:
        raise IngestError(f"mode must be one of {', '.join(MODES)}")
    opened = open_registry(path, profile)
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
        _run(engine, opened, programme, programme_id, summary, mode, progress, geocoding)
    except (SQLAlchemyError, OSError, IngestError) as exc:
        with engine.begin() as conn:
            conn.execute(
                update(ingest_runs)
                .where(ingest_runs.c.id == run_id)
                .values(status="failed", finished_at=func.now(), error=str(exc)[:2000])
            )
        if isinstance(exc, IngestError):
            raise
        raise IngestError(f"run {run_id} failed and changed nothing: {exc}") from exc
    after_ingest_run(engine, run_id)  # push the run's changes to the search index, if one is configured
    return summary


def _run(
    engine: Engine,
    opened: Opened,
    programme: Programme,
    programme_id: int,
    summary: RunSummary,
    mode: str,
    progress: Progress | None,
    geocoding: GeocoderSettings | None = None,
) -> None:
    flags_seen: Counter[str] = Counter()
    first_line: dict[str, int] = {}
    with engine.begin() as conn:
        loader = Loader(conn, summary.run_id)
        locator = Locator.for_run(conn, programme, geocoding)  # gazetteer, boundaries, cache: once
        rejections: list[Rejection] = []
        for raw in read_rows(opened):
            summary.rows += 1
            if progress and summary.rows % 1000 == 0:
                progress(summary.rows)
            shop = normalize(raw)
            if isinstance(shop, Rejection):
                rejections.append(shop)
                continue
            if shop.source_id in first_line:
                rejections.append(
                    Rejection(
                        shop.line,
                        f"duplicate source_id: the same shop is on line {first_line[shop.source_id]}",
                        "source_id",
                        shop.source_id,
                        raw.original,
                    )
                )
                continue
            first_line[shop.source_id] = shop.line
            located = locator.geocode(shop)
            where = locator.decide(located, programme)
            if isinstance(where, Rejection):
                rejections.append(Rejection(where.line, where.reason, where.field, where.value, raw.original))
                loader.seen(shop.source_id)
                continue
            tagged = tag(located, programme, programme_id, raw.flags, where)
            flags_seen.update(located.location_flags)
            if tagged.handoff is not None:
                loader.hand_off(tagged, programme_id)
                summary.handed_off += 1
                continue
            loader.stage(tagged)
        if progress:
            progress(summary.rows)
        loaded, updated, withdrawn = loader.finish(
            programme_id=programme_id, snapshot=mode == "snapshot", default_source=opened.profile.source
        )
        apply_overrides(conn, programme_id=programme_id)  # the operator's word outlives re-ingest
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
