"""Vector tiles: fixed SQL (``sql/tile.sql``) with named binds, built by ``ST_AsMVT``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import TextClause, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Boolean, Float, Integer, Text

from search.exports import sql

CLUSTER_GRID = 64  # tile units (1/64 of a 4096 tile): about 4 screen pixels at 256 px per tile


@dataclass(frozen=True, slots=True)
class TileQuery:
    z: int
    x: int
    y: int
    cluster: bool
    programme: str | None = None
    categories: tuple[str, ...] = ()
    amenities: tuple[str, ...] = ()
    municipality: str | None = None


def tile_statement() -> TextClause:
    return sql("tile.sql").bindparams(
        bindparam("z", type_=Integer),
        bindparam("x", type_=Integer),
        bindparam("y", type_=Integer),
        bindparam("cluster", type_=Boolean),
        bindparam("grid", type_=Float),
        bindparam("programme", type_=Text),
        bindparam("categories", type_=ARRAY(Text)),
        bindparam("amenities", type_=ARRAY(Text)),
        bindparam("municipality", type_=Text),
    )


def tile_params(query: TileQuery) -> dict[str, object]:
    return {
        "z": query.z,
        "x": query.x,
        "y": query.y,
        "cluster": query.cluster,
        "grid": float(CLUSTER_GRID),
        "programme": query.programme,
        "categories": list(query.categories),
        "amenities": list(query.amenities),
        "municipality": query.municipality,
    }
