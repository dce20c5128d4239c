"""``kosodate gazetteer``, ``kosodate boundaries`` and ``kosodate handoff``: geocoding data and hand-offs."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from kosodate.files import not_written, write_atomically
from search.errors import KosodateError
from search.settings import DbSettings


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def _prefs(value: str | None) -> set[int] | None:
    if not value:
        return None
    try:
        codes = {int(p) for p in value.split(",") if p.strip()}
    except ValueError:
        raise click.BadParameter("use prefecture codes like 14,23") from None
    if any(not 1 <= c <= 47 for c in codes):  # noqa: PLR2004
        raise click.BadParameter("prefecture codes run from 1 to 47")
    return codes


def _load_file(path: Path, prefectures: set[int] | None) -> str:
    """Store one gazetteer file (master or towns); return a one-line summary."""
    from geo.gazetteer_files import file_format, read_municipalities, read_towns  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415
    from search.geostore import counts, load_gazetteer, store_municipalities, store_towns  # noqa: PLC0415

    kind = file_format(path)
    engine = sync_engine(DbSettings())
    try:
        with engine.begin() as conn:
            if kind == "localgov":
                n = store_municipalities(conn, read_municipalities(path))
                return f"{path.name}: {n} municipalities (municipality master)"
            master = load_gazetteer(conn, prefectures=[0])  # municipalities only, to resolve names
            if not master.municipalities and kind != "mlit_oaza":
                click.echo("note: no municipality master loaded; rows without a code are skipped", err=True)
            n = store_towns(conn, read_towns(path, master.code_for_name, prefectures), source=path.name)
            total = counts(conn)
            return (
                f"{path.name}: {n} {kind} rows stored "
                f"({total.towns} towns, {total.blocks} blocks in the database)"
            )
    finally:
        engine.dispose()


@click.group()
def gazetteer() -> None:
    """The offline gazetteer: the municipality master and town (町丁目/大字) points."""


@gazetteer.command("load")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--pref", "pref", default=None, help="Only these prefectures' towns, e.g. 14,23")
def gazetteer_load(files: tuple[Path, ...], pref: str | None) -> None:
    """Load gazetteer FILES: municipalities_localgovjp.csv, towns_geolonia.csv, MLIT 位置参照情報 CSV.

    Load the municipality master first (or in the same call: it is loaded before the towns).
    """
    from geo.gazetteer_files import GazetteerFileError, file_format  # noqa: PLC0415

    prefectures = _prefs(pref)
    try:
        ordered = sorted(files, key=lambda p: file_format(p) != "localgov")
        for path in ordered:
            click.echo(_load_file(path, prefectures))
    except (GazetteerFileError, KosodateError, OSError) as exc:
        _fail(str(exc))


@gazetteer.command("download")
@click.option("--pref", "pref", required=True, help="Prefecture codes, e.g. 14,23")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Keep the CSV here")
@click.option("--no-load", is_flag=True, help="Only download; do not load into the database")
def gazetteer_download(pref: str, out: Path | None, no_load: bool) -> None:
    """Fetch the public town tables for some prefectures (needs internet) and load them.

    The base URL is KOSODATE_GEOCODER_GAZETTEER_URL.
    """
    from geo.download import DownloadError, download_towns  # noqa: PLC0415
    from geo.gazetteer_files import GazetteerFileError  # noqa: PLC0415
    from geo.settings import GeocoderSettings  # noqa: PLC0415

    settings = GeocoderSettings()
    prefectures = _prefs(pref) or set()
    target = out or Path(tempfile.mkdtemp(prefix="kosodate-gazetteer-")) / "towns.csv"
    try:
        rows = download_towns(
            settings.gazetteer_url, sorted(prefectures), target, user_agent=settings.user_agent
        )
        click.echo(f"downloaded {rows} towns to {target}")
        if not no_load:
            click.echo(_load_file(target, prefectures))
    except (DownloadError, GazetteerFileError, KosodateError, OSError) as exc:
        _fail(str(exc))


@click.group("boundaries")
def boundaries_group() -> None:
    """Municipal boundaries (N03 GeoJSON) for point-in-polygon jurisdiction."""


@boundaries_group.command("load")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def boundaries_load(files: tuple[Path, ...]) -> None:
    """Load N03 GeoJSON FILES (one polygon set per municipality code; re-loading replaces)."""
    from geo.boundaries import BoundaryFileError, merge_areas, read_n03  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415
    from search.geostore import store_boundaries  # noqa: PLC0415

    engine = sync_engine(DbSettings())
    try:
        for path in files:
            areas = merge_areas(read_n03(path))
            with engine.begin() as conn:
                n = store_boundaries(conn, areas, source=path.name)
            click.echo(f"{path.name}: {n} municipalities")
    except (BoundaryFileError, KosodateError) as exc:
        _fail(str(exc))
    finally:
        engine.dispose()


@click.group()
def handoff() -> None:
    """Shops handed to another programme (e.g. Yokohama's HamaHug)."""


@handoff.command("export")
@click.option("--to", "to_programme", required=True, help="Receiving programme, e.g. hamahug")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="File (default stdout)")
def handoff_export(to_programme: str, fmt: str, output: Path | None) -> None:
    """Export the hand-offs to one programme, with reason and evidence, for its office."""
    from search.db import sync_engine  # noqa: PLC0415
    from search.handoff_export import handoff_rows, to_csv, to_json  # noqa: PLC0415

    engine = sync_engine(DbSettings())
    try:
        with engine.connect() as conn:
            rows = handoff_rows(conn, to_programme)
    except KosodateError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    body = to_csv(rows) if fmt == "csv" else to_json(rows, to_programme)
    if output is None:
        click.echo(body, nl=False)
    else:
        try:
            write_atomically(output, body)
        except OSError as exc:  # a full or read-only disk: the previous file stays
            _fail(not_written(output, exc))
    click.echo(f"{len(rows)} hand-off(s) to {to_programme}", err=True)
