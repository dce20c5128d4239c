"""Pure query builders: each returns a statement; the caller (sync CLI or async API) runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from geo.text import search_key
from search.cards import card_clause
from search.tables import ShopStatus, programmes, shops


@dataclass(frozen=True, slots=True)
class ShopQuery:
    """What a caller may ask for. Bounds are checked by the caller (the API's settings)."""

    lat: float | None = None
    lng: float | None = None
    radius_m: float | None = None
    q: str | None = None
    categories: tuple[str, ...] = ()
    amenities: tuple[str, ...] = ()
    programme: str | None = None
    card: str | None = None
    multi_child: bool = False
    limit: int = 20

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lng is not None


def query_point() -> ColumnElement[object]:
    return func.kosodate_point(bindparam("lat"), bindparam("lng"))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# One small function per filter; each returns a clause or None.


def live() -> ColumnElement[bool]:
    return shops.c.status == ShopStatus.ACTIVE.value


def within_radius(query: ShopQuery) -> ColumnElement[bool] | None:
    if not query.has_point or query.radius_m is None:
        return None
    return func.ST_DWithin(shops.c.location, query_point(), bindparam("radius_m"))


def keyword(query: ShopQuery) -> ColumnElement[bool] | None:
    key = search_key(query.q) if query.q else ""
    if not key:
        return None
    pattern: BindParameter[str] = bindparam("q_like", f"%{_escape_like(key)}%")
    return or_(shops.c.name_key.like(pattern, escape="\\"), shops.c.kana_key.like(pattern, escape="\\"))


def in_categories(query: ShopQuery) -> ColumnElement[bool] | None:
    if not query.categories:
        return None
    return shops.c.categories.contains(bindparam("categories", list(query.categories), type_=ARRAY(Text)))


def with_amenities(query: ShopQuery) -> ColumnElement[bool] | None:
    if not query.amenities:
        return None
    return shops.c.amenities.contains(bindparam("amenities", list(query.amenities), type_=ARRAY(Text)))


def in_programme(query: ShopQuery) -> ColumnElement[bool] | None:
    if not query.programme:
        return None
    return programmes.c.code == bindparam("programme", query.programme)


def for_family(query: ShopQuery) -> ColumnElement[bool] | None:
    if not query.card:
        return None
    return card_clause(query.card, query.multi_child)


FILTERS = (within_radius, keyword, in_categories, with_amenities, in_programme, for_family)


def _hit_columns(*, with_distance: bool) -> list[ColumnElement[Any]]:
    distance = (
        func.ST_Distance(shops.c.location, query_point()) if with_distance else literal(None, type_=Text)
    )
    return [
        shops.c.id,
        shops.c.name,
        shops.c.name_kana,
        shops.c.address,
        func.ST_Y(func.geometry(shops.c.location)).label("lat"),
        func.ST_X(func.geometry(shops.c.location)).label("lng"),
        distance.label("distance_m"),
        shops.c.categories,
        shops.c.amenities,
        programmes.c.code.label("programme"),
        shops.c.municipality_code,
        shops.c.geocode_precision.label("precision"),
        shops.c.perk_text,
        shops.c.source,
    ]


def shop_search(query: ShopQuery) -> Select[Any]:
    """Nearest first when a point is given (radius-capped KNN), otherwise best keyword match first."""
    clauses = [c for c in (f(query) for f in FILTERS) if c is not None]
    base = shops.join(programmes, programmes.c.id == shops.c.programme_id)
    where = and_(live(), shops.c.location.is_not(None), *clauses)
    if query.has_point:
        knn = (
            select(*_hit_columns(with_distance=True))
            .select_from(base)
            .where(where)
            .order_by(shops.c.location.op("<->")(query_point()), shops.c.id)
            .limit(bindparam("limit", query.limit))
            .subquery("knn")
        )
        # KNN orders on the sphere; the final order uses the spheroid distance we report.
        return select(knn).order_by(knn.c.distance_m, knn.c.id)
    stmt = select(*_hit_columns(with_distance=False)).select_from(base).where(where)
    key = search_key(query.q) if query.q else ""
    if key:
        exact = case(
            (shops.c.name_key == key, 0), (shops.c.name_key.startswith(key, autoescape=True), 1), else_=2
        )
        stmt = stmt.order_by(exact, func.length(shops.c.name_key), shops.c.id)
    else:
        stmt = stmt.order_by(shops.c.id)
    return stmt.limit(bindparam("limit", query.limit))


def search_params(query: ShopQuery) -> dict[str, object]:
    params: dict[str, object] = {"limit": query.limit}
    if query.has_point:
        params |= {"lat": query.lat, "lng": query.lng}
    if query.radius_m is not None and query.has_point:
        params["radius_m"] = query.radius_m
    return params


def shop_detail() -> Select[Any]:
    cols = [c for c in shops.c if c.name not in ("location", "content_hash", "name_key", "kana_key")]
    return (
        select(
            *cols,
            programmes.c.code.label("programme"),
            programmes.c.name.label("programme_name"),
            func.ST_Y(func.geometry(shops.c.location)).label("lat"),
            func.ST_X(func.geometry(shops.c.location)).label("lng"),
        )
        .select_from(shops.join(programmes, programmes.c.id == shops.c.programme_id))
        .where(shops.c.id == bindparam("shop_id"), live())
    )
