"""Operator commands around ingest: the run table and progress bar, rejection export, lifecycle.

``kosodate rejections --run N --format csv|json`` exports what a run refused so an operator can fix it;
``kosodate lifecycle apply`` (run daily, e.g. from cron or a systemd timer) takes shops whose
registration ended out of search on their effective date and records it in the change history.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geo.settings import GeocoderSettings
from kosodate.files import not_written, write_atomically
from search.errors import KosodateError
from search.exports import safe_cell
from search.settings import DbSettings

if TYPE_CHECKING:
    from ingest.read import Opened
    from ingest.report import RunSummary

SUMMARY_KEYS = (
    "rows", "loaded", "updated", "unchanged", "rejected", "handed_off", "pending_geocode", "withdrawn",
)  # fmt: skip
_PROGRESS_FROM_LINES = 5000  # a bar only for files this long
_SHOWN_REJECTIONS = 20


def _estimate_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def run_ingest(
    file: Path,
    programme_name: str,
    profile_name: str | None,
    mode: str,
    *,
    as_json: bool,
    geocoding: GeocoderSettings | None = None,
) -> None:
    """The body of ``kosodate ingest``: run the pipeline with a progress bar, then print the summary."""
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    from ingest.formats import describe  # noqa: PLC0415
    from ingest.pipeline import ingest_file  # noqa: PLC0415
    from ingest.profile import load_profile  # noqa: PLC0415
    from ingest.programmes import load_programme  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415

    err = Console(stderr=True, soft_wrap=True)
    programme = load_programme(programme_name)
    profile = load_profile(profile_name) if profile_name else None

    def said(opened: Opened) -> None:
        how = "detected from the header" if opened.detected else "as given"
        err.print(
            f"profile: [bold]{opened.profile.name}[/bold] ({opened.profile.title}; {how}), "
            f"file: {describe(opened.sniffed)}, header on line {opened.header_line or '-'}",
            highlight=False,
        )

    total = _estimate_lines(file) if file.is_file() and not file.suffix.lower().startswith(".xls") else 0
    engine = sync_engine(DbSettings())
    try:
        show_bar = total >= _PROGRESS_FROM_LINES and not as_json
        columns = (TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True, disable=not show_bar) as bar:
            task = bar.add_task("rows", total=total)
            summary = ingest_file(
                engine,
                file,
                programme,
                profile=profile,
                mode=mode,
                geocoding=geocoding,
                on_open=None if as_json else said,
                on_stage=None if as_json else (lambda name: err.print(f"stage: {name}", highlight=False)),
                progress=(lambda n: bar.update(task, completed=min(n, total))) if show_bar else None,
            )
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(summary_object(summary), ensure_ascii=False))
        return
    print_summary(summary)


def summary_object(summary: RunSummary) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(summary, key) for key in SUMMARY_KEYS}
    out |= {"profile": summary.profile, "run_id": summary.run_id, "programme": summary.programme}
    out |= {"mode": summary.mode, "location_flags": summary.location_flags}
    return out


def print_summary(summary: RunSummary) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=True)
    table = Table(
        title=f"run {summary.run_id}: {summary.programme} ({summary.mode}, profile {summary.profile})"
    )
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for key in SUMMARY_KEYS[1:7]:
        table.add_row(key, str(getattr(summary, key)))
    table.add_row("[bold]total[/bold]", f"[bold]{summary.accounted}[/bold] of {summary.rows} read")
    table.add_row("withdrawn (shops left search)", str(summary.withdrawn))
    console.print(table)
    for flag, count in sorted(summary.location_flags.items()):
        console.print(f"flagged {flag}: {count}")
    for rejection in summary.rejections[:_SHOWN_REJECTIONS]:
        field = f" [{rejection.field}]" if rejection.field else ""
        console.print(f"rejected line {rejection.line}{field}: {rejection.reason}", markup=False)
    if len(summary.rejections) > _SHOWN_REJECTIONS:
        more = len(summary.rejections) - _SHOWN_REJECTIONS
        console.print(f"... and {more} more: kosodate rejections --run {summary.run_id} --format csv")


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


REJECTION_COLUMNS = ("run_id", "line", "field", "reason", "value", "raw")


@click.command()
@click.option("--run", "run_id", required=True, type=int, help="The ingest run (its id is in the summary)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--output", type=click.Path(path_type=Path), default=None, help="Write to this file (CSV gets a BOM)"
)
def rejections(run_id: int, fmt: str, output: Path | None) -> None:
    """Export the rows a run rejected, with line, field, reason, value and the original row."""
    from sqlalchemy import select  # noqa: PLC0415

    from search.db import sync_engine  # noqa: PLC0415
    from search.tables import ingest_runs, rejected_rows  # noqa: PLC0415

    engine = sync_engine(DbSettings())
    try:
        with engine.connect() as conn:
            if conn.execute(select(ingest_runs.c.id).where(ingest_runs.c.id == run_id)).first() is None:
                _fail(f"no ingest run {run_id}")
            rows = conn.execute(
                select(*(rejected_rows.c[c] for c in REJECTION_COLUMNS))
                .where(rejected_rows.c.run_id == run_id)
                .order_by(rejected_rows.c.line, rejected_rows.c.id)
            ).all()
    except KosodateError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    records = [dict(row._mapping) for row in rows]
    out = io.StringIO()
    if fmt == "json":
        json.dump(records, out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        writer = csv.writer(out, lineterminator="\r\n" if output else "\n")
        writer.writerow(REJECTION_COLUMNS)
        for record in records:
            raw = json.dumps(record["raw"], ensure_ascii=False, sort_keys=True)
            cells = [record[c] for c in REJECTION_COLUMNS[:-1]]  # values straight from the file:
            cells = [safe_cell(c) if isinstance(c, str) else c for c in cells]  # no formulas
            writer.writerow([*cells, raw])
    if output is None:
        sys.stdout.write(out.getvalue())
        return
    try:
        write_atomically(output, out.getvalue(), encoding="utf-8-sig")
    except OSError as exc:  # a full or read-only disk: the previous file stays
        _fail(not_written(output, exc))
    click.echo(f"{len(records)} rejections written to {output}", err=True)


@click.group()
def lifecycle() -> None:
    """Registration lifecycle: expiries, automatic extensions, withdrawals and closures."""


@lifecycle.command("apply")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Default: today")
@click.option("--programme", default=None, help="Only this programme (default: all)")
@click.option("--json", "as_json", is_flag=True)
def lifecycle_apply(today: Any, programme: str | None, as_json: bool) -> None:
    """Take shops whose registration ended out of search (run daily); extend renewing registrations."""
    from ingest.lifecycle import apply  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415

    day = today.date() if today is not None else date.today()
    engine = sync_engine(DbSettings())
    try:
        counts = apply(engine, day, programme)
    except KosodateError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps({"today": day.isoformat(), **counts}))
        return
    click.echo(
        f"lifecycle on {day.isoformat()}: "
        + (", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing due")
    )
