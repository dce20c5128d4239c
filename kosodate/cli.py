"""``kosodate``: the one command. Settings are built here and passed down."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import click

from api.settings import ApiSettings, AppSettings
from search.embedded import EmbeddedCluster
from search.errors import KosodateError
from search.migrate import upgrade
from search.settings import DbSettings

SAMPLE_FILES = (("sample_kanagawa.csv", "kanagawa"), ("sample_aichi.csv", "aichi"))


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def _ensure_database(settings: DbSettings) -> str:
    """Start the embedded cluster when no URL is configured; apply migrations; return the URL."""
    if settings.embedded:
        cluster = EmbeddedCluster(settings)
        cluster.start()
        cluster.create_database()
    upgrade(settings.sqlalchemy_url())
    return settings.display_url()


@click.group()
def main() -> None:
    """Search service for child-rearing passport shops (子育て支援パスポート)."""


@main.group()
def db() -> None:
    """The database: the embedded PostGIS cluster, or KOSODATE_DATABASE_URL when set."""


@db.command("up")
def db_up() -> None:
    """Start the embedded cluster, create the database, apply migrations, print the URL."""
    settings = DbSettings()
    try:
        url = _ensure_database(settings)
    except KosodateError as exc:
        _fail(str(exc))
    click.echo(url)


@db.command("down")
def db_down() -> None:
    """Stop the embedded cluster (data stays under the data directory)."""
    settings = DbSettings()
    if not settings.embedded:
        _fail("KOSODATE_DATABASE_URL is set: that server is not ours to stop")
    try:
        EmbeddedCluster(settings).stop()
    except KosodateError as exc:
        _fail(str(exc))
    click.echo("stopped")


@db.command("status")
def db_status() -> None:
    """Say whether the database is up, and where."""
    settings = DbSettings()
    if not settings.embedded:
        click.echo(f"external: {settings.display_url()}")
        return
    status = EmbeddedCluster(settings).status()
    state = "running" if status.running else ("stopped" if status.initialised else "not created")
    click.echo(f"embedded: {state}\ndata: {status.data_dir}\nurl: {status.url}")
    if not status.running:
        sys.exit(3)


@db.command("migrate")
def db_migrate() -> None:
    """Apply migrations to whichever database is configured."""
    settings = DbSettings()
    try:
        upgrade(settings.sqlalchemy_url())
    except Exception as exc:
        _fail(f"migration failed: {exc}")
    click.echo(f"migrated {settings.display_url()}")


@db.command("url")
def db_url() -> None:
    """Print the database URL (without a password)."""
    click.echo(DbSettings().display_url())


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--programme", "programme_name", required=True, help="Programme code or a programme TOML file")
@click.option(
    "--profile", "profile_name", default=None, help="Source profile (detected from the header if omitted)"
)
@click.option("--mode", type=click.Choice(["delta", "snapshot"]), default="delta", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as one JSON object")
def ingest(file: Path, programme_name: str, profile_name: str | None, mode: str, as_json: bool) -> None:
    """Load a registry FILE into the database; every row is accounted for."""
    from geo.settings import GeocoderSettings  # noqa: PLC0415
    from ingest.errors import IngestError  # noqa: PLC0415 - keep `kosodate serve` light
    from kosodate.cmd_ingest_tools import run_ingest  # noqa: PLC0415

    try:
        run_ingest(file, programme_name, profile_name, mode, as_json=as_json, geocoding=GeocoderSettings())
    except (IngestError, KosodateError, ValueError) as exc:  # ValueError: bad KOSODATE_GEOCODER_* settings
        _fail(str(exc))


def _serve(settings: AppSettings) -> None:
    import uvicorn  # noqa: PLC0415

    from api import create_app  # noqa: PLC0415

    if settings.api.workers > 1:
        # Worker processes each build the app from the environment (kosodate.asgi), as uvicorn needs
        # an import string to start more than one.
        uvicorn.run(
            "kosodate.asgi:app",
            factory=True,
            workers=settings.api.workers,
            host=settings.api.host,
            port=settings.api.port,
            log_level="info",
            server_header=False,
        )
        return
    from api.app import settle_heap  # noqa: PLC0415

    app = create_app(settings)
    settle_heap()
    uvicorn.run(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_level="info",
        server_header=False,  # say nothing about the server software
    )


@main.command()
@click.option("--host", default=None, help="Bind address (default 127.0.0.1)")
@click.option("--port", default=None, type=int, help="Port (default 8000)")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes (default 1, or KOSODATE_API_WORKERS); each has its own rate-limit counters",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API."""
    api = ApiSettings()
    given = {"host": host, "port": port, "workers": workers}
    api = api.model_copy(update={k: v for k, v in given.items() if v is not None})
    _serve(AppSettings(db=DbSettings(), api=api))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and load the sample data, then exit")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Start the database, load the (fictional) sample data and serve the API."""
    from ingest.pipeline import ingest_file  # noqa: PLC0415
    from ingest.programmes import load_programme  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415

    settings = DbSettings()
    try:
        click.echo(f"database: {_ensure_database(settings)}")
        engine = sync_engine(settings)
        for name, programme in SAMPLE_FILES:
            path = Path(str(files("ingest") / "sample_data" / name))
            summary = ingest_file(engine, path, load_programme(programme))
            click.echo(
                f"sample data {name}: {summary.rows} rows, {summary.loaded} new, "
                f"{summary.unchanged} unchanged, {summary.handed_off} handed off, "
                f"{summary.pending_geocode} waiting for geocoding"
            )
        engine.dispose()
    except KosodateError as exc:
        _fail(str(exc))
    if no_serve:
        return
    click.echo(f"serving on http://{host}:{port}/  (try /v1/shops?lat=35.3387&lng=139.4871&radius_m=3000)")
    _serve(AppSettings(db=settings, api=ApiSettings(host=host, port=port)))


# Commands that live in their own modules register here, one line each (kosodate/cmd_*.py).
from kosodate.cmd_tag import tag_group  # noqa: E402

main.add_command(tag_group)

from kosodate.cmd_geo import boundaries_group, gazetteer, handoff  # noqa: E402

main.add_command(gazetteer)
main.add_command(boundaries_group)
main.add_command(handoff)

from kosodate.cmd_export import export  # noqa: E402

main.add_command(export)

from kosodate.cmd_index import index as _index  # noqa: E402

main.add_command(_index)

from kosodate.cmd_ingest_tools import lifecycle, rejections  # noqa: E402

main.add_command(rejections)
main.add_command(lifecycle)
