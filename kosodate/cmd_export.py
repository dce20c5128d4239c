"""``kosodate export``: the open-data files from the command line, written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from api.settings import ApiSettings
from search.db import db_errors_sync, sync_engine
from search.errors import KosodateError
from search.exports import Licence, csv_chunks, export_query, geojson_chunks, version_query
from search.settings import DbSettings

BATCH = 1000


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), required=True)
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True)
def export(fmt: str, out: Path) -> None:
    """Write every live shop to OUT (CSV: UTF-8 with BOM, CRLF; or GeoJSON), replacing it atomically."""
    api = ApiSettings()
    engine = sync_engine(DbSettings())
    out = out.resolve()
    count = 0
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        with (
            db_errors_sync(),
            engine.connect() as conn,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as fh,
        ):
            version = (
                conn.execute(version_query(), {"gazetteer_sources": api.gazetteer_sources}).mappings().one()
            )
            credits = tuple(api.extra_credits) + (
                (api.gazetteer_credit,) if version["gazetteer_used"] else ()
            )
            licence = Licence(code=api.data_licence, attribution=api.attribution, credits=credits)
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(export_query())

            def counted() -> Iterator[dict[str, Any]]:
                nonlocal count
                for row in result.mappings():
                    count += 1
                    yield dict(row)

            chunks = csv_chunks(counted()) if fmt == "csv" else geojson_chunks(counted(), licence)
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except KosodateError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    except OSError as exc:  # a full or read-only disk: the previous file stays as it was
        click.secho(
            f"error: could not write {out}: {exc.strerror or exc}; {out.name} was not changed",
            fg="red",
            err=True,
        )
        sys.exit(1)
    finally:
        engine.dispose()
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    click.echo(f"wrote {count} shops to {out} ({licence.notice()})")
