"""``kosodate index``: the Meilisearch index, rebuilt or synced from the database (the source of truth)."""

from __future__ import annotations

import sys

import click

from search.db import sync_engine
from search.errors import KosodateError
from search.search_settings import MeiliSettings
from search.settings import DbSettings


@click.group("index")
def index() -> None:
    """Build and sync the Meilisearch index from PostGIS."""


def _meili() -> MeiliSettings:
    settings = MeiliSettings()
    if settings.url is None:
        click.echo("error: KOSODATE_MEILI_URL is not set (PostgreSQL search needs no index)", err=True)
        sys.exit(2)
    return settings


@index.command("rebuild")
def rebuild_cmd() -> None:
    """Build a fresh index from the database, then swap it in (searches never see a partial index)."""
    import meilisearch.errors  # noqa: PLC0415

    from search.meili import rebuild  # noqa: PLC0415

    settings = _meili()
    engine = sync_engine(DbSettings())
    try:
        count = rebuild(engine, settings)
    except (KosodateError, meilisearch.errors.MeilisearchError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    click.echo(f"index {settings.index!r} rebuilt with {count} shops and swapped in")


@index.command("sync")
@click.option("--run", "run_id", type=int, required=True, help="The ingest run whose changes to push")
def sync_cmd(run_id: int) -> None:
    """Push one ingest run's changes (as ingest does at the end of a run)."""
    from search.index_sync import after_ingest_run  # noqa: PLC0415

    settings = _meili()
    engine = sync_engine(DbSettings())
    try:
        outcome = after_ingest_run(engine, run_id, settings)
    finally:
        engine.dispose()
    click.echo(outcome)
    if "NOT updated" in outcome:
        sys.exit(1)
