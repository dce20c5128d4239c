"""Geocoding data in PostGIS: the municipality master, gazetteer towns, boundaries and the geocode cache.

Writers replace what a file covers (re-loading is idempotent); readers build the in-memory
``Gazetteer`` and ``Boundaries`` an ingest run uses, limited to the prefectures it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from geoalchemy2 import Geometry
from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import Connection, cast, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo.boundaries import Area, Boundaries
from geo.gazetteer import Gazetteer, Municipality, Town
from geo.geocoding import GeocodeResult
from geo.municipality import lg_code
from search.tables import boundaries, gazetteer_towns, geocode_cache, municipalities

_BATCH = 5000


def store_municipalities(conn: Connection, items: Iterable[Municipality]) -> int:
    rows = [
        {
            "code": m.code, "lg_code": lg_code(m.code), "prefecture_code": m.prefecture_code, "name": m.name,
            "parent_code": m.parent, "lat": m.lat, "lng": m.lng,
        }
        for m in items
    ]  # fmt: skip
    if not rows:
        return 0
    stmt = pg_insert(municipalities)
    stmt = stmt.on_conflict_do_update(
        index_elements=[municipalities.c.code],
        set_={
            c: stmt.excluded[c] for c in ("lg_code", "prefecture_code", "name", "parent_code", "lat", "lng")
        },
    )
    conn.execute(stmt, rows)
    return len(rows)


def store_towns(conn: Connection, towns: Iterable[Town], source: str) -> int:
    """Replace the towns of every municipality (and level) the file covers."""
    items = list(towns)
    covered = {(t.code, t.level) for t in items}
    for code, level in covered:
        conn.execute(
            delete(gazetteer_towns).where(
                gazetteer_towns.c.municipality_code == code, gazetteer_towns.c.level == level
            )
        )
    unique: dict[tuple[str, str, str, str], Town] = {}
    for t in items:
        unique.setdefault((t.code, t.name, t.koaza, t.level), t)
    rows = [
        {
            "municipality_code": t.code, "town": t.name, "koaza": t.koaza, "level": t.level,
            "lat": t.lat, "lng": t.lng, "source": source,
        }
        for t in unique.values()
    ]  # fmt: skip
    for start in range(0, len(rows), _BATCH):
        conn.execute(gazetteer_towns.insert(), rows[start : start + _BATCH])
    return len(rows)


def store_boundaries(conn: Connection, areas: Iterable[Area], source: str) -> int:
    count = 0
    for area in areas:
        geom = area.geometry
        if isinstance(geom, Polygon):
            geom = MultiPolygon([geom])
        stmt = pg_insert(boundaries).values(
            code=area.code,
            prefecture=area.prefecture,
            name=area.name,
            geom=func.ST_Multi(func.ST_GeomFromWKB(geom.wkb, 4326)),
            source=source,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[boundaries.c.code],
            set_={c: stmt.excluded[c] for c in ("prefecture", "name", "geom", "source")},
        )
        conn.execute(stmt)
        count += 1
    return count


def _pref_filter(column: object, prefectures: Iterable[int]) -> object | None:
    codes = [f"{p:02d}" for p in prefectures]
    return func.left(column, 2).in_(codes) if codes else None


def load_gazetteer(conn: Connection, prefectures: Iterable[int] = ()) -> Gazetteer:
    """All municipalities, and the towns of ``prefectures`` (all towns when none are given)."""
    gaz = Gazetteer()
    gaz.add_municipalities(
        Municipality(r.code, r.prefecture_code, r.name, r.lat, r.lng, r.parent_code)
        for r in conn.execute(select(municipalities))
    )
    query = select(
        gazetteer_towns.c.municipality_code, gazetteer_towns.c.town, gazetteer_towns.c.lat,
        gazetteer_towns.c.lng, gazetteer_towns.c.koaza, gazetteer_towns.c.level,
    )  # fmt: skip
    where = _pref_filter(gazetteer_towns.c.municipality_code, prefectures)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    gaz.add_towns(Town(*row) for row in conn.execute(query))
    return gaz


def load_boundaries(conn: Connection, prefectures: Iterable[int] = ()) -> Boundaries | None:
    query = select(
        boundaries.c.code, boundaries.c.prefecture, boundaries.c.name, func.ST_AsBinary(boundaries.c.geom)
    )
    where = _pref_filter(boundaries.c.code, prefectures)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    areas = [Area(code, pref, name, wkb.loads(bytes(geom))) for code, pref, name, geom in conn.execute(query)]
    return Boundaries(areas) if areas else None


@dataclass(frozen=True, slots=True)
class GeoDataCounts:
    municipalities: int
    towns: int
    blocks: int
    boundaries: int


def counts(conn: Connection) -> GeoDataCounts:
    row = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM municipalities), "
            "(SELECT count(*) FROM gazetteer_towns WHERE level = 'town'), "
            "(SELECT count(*) FROM gazetteer_towns WHERE level = 'block'), "
            "(SELECT count(*) FROM boundaries)"
        )
    ).one()
    return GeoDataCounts(*(int(v) for v in row))


class PgGeocodeCache:
    """The geocode cache keyed by the normalised address (see ``geo.geocoding.address_key``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # An empty cache (no online geocoder ever used) costs no query per shop.
        self.empty = not conn.execute(
            select(func.count()).select_from(geocode_cache.select().limit(1).subquery())
        ).scalar()

    def get(self, key: str) -> GeocodeResult | None:
        if self.empty:
            return None
        row = self.conn.execute(
            select(
                func.ST_Y(cast(geocode_cache.c.location, Geometry)),
                func.ST_X(cast(geocode_cache.c.location, Geometry)),
                geocode_cache.c.precision,
                geocode_cache.c.geocoder,
                geocode_cache.c.geocoded_at,
                geocode_cache.c.municipality_code,
                geocode_cache.c.matched,
            ).where(geocode_cache.c.address_key == key, geocode_cache.c.location.is_not(None))
        ).first()
        if row is None:
            return None
        return GeocodeResult(float(row[0]), float(row[1]), row[2], row[3], row[4], row[5], row[6])

    def put(self, key: str, address: str, result: GeocodeResult) -> None:
        stmt = pg_insert(geocode_cache).values(
            address_key=key,
            address=address,
            location=func.kosodate_point(result.lat, result.lng),
            precision=result.precision,
            geocoder=result.geocoder,
            municipality_code=result.municipality_code,
            matched=result.matched,
            geocoded_at=result.geocoded_at,
        )
        self.empty = False
        stmt = stmt.on_conflict_do_update(
            index_elements=[geocode_cache.c.address_key],
            set_={c: stmt.excluded[c] for c in ("address", "location", "precision", "geocoder",
                                                 "municipality_code", "matched", "geocoded_at")},
        )  # fmt: skip
        self.conn.execute(stmt)
