"""``kosodate tag``: see a shop's tags with their reasons, and override them (kept across re-ingest)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from search.errors import KosodateError
from search.settings import DbSettings


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def _print(tags: list[dict[str, Any]]) -> None:
    for t in tags:
        click.echo(f"  {t.get('kind', '')}:{t.get('value', '')}  <- {t.get('why', '')}")


@click.group("tag")
def tag_group() -> None:
    """Perk tags: each with its reason; operator overrides."""


@tag_group.command("show")
@click.argument("shop_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def tag_show(shop_id: int, as_json: bool) -> None:
    """A shop's tags with the reason for each, and its stored overrides."""
    from ingest.errors import IngestError  # noqa: PLC0415 - keep other commands light
    from ingest.overrides import listed  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415

    engine = sync_engine(DbSettings())
    try:
        tags, overrides = listed(engine, shop_id)
    except (IngestError, KosodateError) as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        click.echo(
            json.dumps({"tags": tags, "overrides": [o.__dict__ for o in overrides]}, ensure_ascii=False)
        )
        return
    click.echo(f"shop {shop_id}")
    _print(tags)
    for o in overrides:
        click.echo(f"  override: {o.action} {o.kind}:{o.value} ({o.reason})")


@tag_group.command("override")
@click.argument("shop_id", type=int)
@click.option("--add", "add", multiple=True, metavar="KIND:VALUE", help="e.g. amenity:nursing_room")
@click.option("--remove", "remove", multiple=True, metavar="KIND:VALUE", help="e.g. category:discount")
@click.option("--reason", required=True, help="Why (shown with the tag)")
@click.option("--by", "created_by", default=None, help="Who is overriding")
@click.option("--clear", "clear_all", is_flag=True, help="Forget this shop's overrides first")
def tag_override(
    shop_id: int,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    reason: str,
    created_by: str | None,
    clear_all: bool,
) -> None:
    """Add or remove a shop's categories/amenities; stored, and re-applied after every ingest."""
    from ingest.errors import IngestError  # noqa: PLC0415
    from ingest.overrides import clear, override  # noqa: PLC0415
    from search.db import sync_engine  # noqa: PLC0415

    engine = sync_engine(DbSettings())
    try:
        if clear_all:
            tags = clear(engine, shop_id)
        if add or remove or not clear_all:
            tags = override(engine, shop_id, add=add, remove=remove, reason=reason, created_by=created_by)
    except (IngestError, KosodateError) as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    click.echo(f"shop {shop_id}: tags now")
    _print(tags)
